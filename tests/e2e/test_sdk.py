"""Unchanged official SDKs against the emulator over HTTPS (issue 2 acceptance)."""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup, Tags, TagsPatchResource
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

RG = "rg-sdk"


def _nic(session, sub, name, location="eastus"):
    nic_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/{name}"
    session.resources.resources.begin_create_or_update_by_id(
        nic_id, GenericResource(location=location, properties={"ipConfigurations": []}), api_version="2024-05-01").result()
    return nic_id


def test_full_refresh_cycle_through_the_sdk(session, sub):
    compute, res = session.compute, session.resources
    rg = res.resource_groups.create_or_update(RG, ResourceGroup(location="eastus", tags={"team": "platform"}))
    assert rg.properties.provisioning_state == "Succeeded"

    gallery = compute.galleries.begin_create_or_update(RG, "galSdk", cm.Gallery(location="eastus")).result()
    assert gallery.provisioning_state == "Succeeded"
    definition = compute.gallery_images.begin_create_or_update(RG, "galSdk", "ubuntu", cm.GalleryImage(
        location="eastus", os_type="Linux", os_state="Generalized", hyper_v_generation="V2",
        identifier=cm.GalleryImageIdentifier(publisher="contoso", offer="app", sku="u22"),
        features=[cm.GalleryImageFeature(name="SecurityType", value="TrustedLaunchSupported")])).result()
    assert definition.hyper_v_generation == "V2"

    src = compute.disks.begin_create_or_update(RG, "golden", cm.Disk(
        location="eastus", sku=cm.DiskSku(name="Premium_LRS"), os_type="Linux", hyper_v_generation="V2",
        creation_data=cm.CreationData(create_option="Empty"), disk_size_gb=30)).result()
    assert src.disk_state == "Unattached"

    version = compute.gallery_image_versions.begin_create_or_update(RG, "galSdk", "ubuntu", "1.0.0", cm.GalleryImageVersion(
        location="eastus",
        publishing_profile=cm.GalleryImageVersionPublishingProfile(target_regions=[
            cm.TargetRegion(name="eastus", regional_replica_count=1), cm.TargetRegion(name="westus2")]),
        storage_profile=cm.GalleryImageVersionStorageProfile(source=cm.GalleryArtifactVersionFullSource(id=src.id)),
    )).result()
    assert version.provisioning_state == "Succeeded"
    # Azure names target regions by display name (GalleryImageVersion_Get.json), whatever the request sent.
    assert [(t.name, t.exclude_from_latest) for t in version.publishing_profile.target_regions] == [
        ("East US", False), ("West US 2", False)]
    expanded = compute.gallery_image_versions.get(RG, "galSdk", "ubuntu", "1.0.0", expand="ReplicationStatus")
    assert expanded.replication_status.aggregated_state == "Completed"
    assert [(s.region, s.state, s.progress) for s in expanded.replication_status.summary] == [
        ("East US", "Completed", 100), ("West US 2", "Completed", 100)]

    nic_id = _nic(session, sub, "vm1-nic")
    disk = compute.disks.begin_create_or_update(RG, "vm1-2026-11", cm.Disk(
        location="eastus", zones=["2"], sku=cm.DiskSku(name="Premium_LRS"),
        creation_data=cm.CreationData(create_option="FromImage",
                                      gallery_image_reference=cm.ImageDiskReference(id=version.id)))).result()
    assert (disk.hyper_v_generation, disk.os_type, disk.disk_size_gb, disk.zones) == ("V2", "Linux", 30, ["2"])

    vm = compute.virtual_machines.begin_create_or_update(RG, "vm1", cm.VirtualMachine(
        location="eastus", zones=["2"], tags={"AutoRefresh": "true"},
        hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(id=definition.id),
            os_disk=cm.OSDisk(create_option="FromImage", name="vm1-os",
                              managed_disk=cm.ManagedDiskParameters(storage_account_type="Premium_LRS"))),
        os_profile=cm.OSProfile(computer_name="vm1", admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic_id)]))).result()
    assert vm.provisioning_state == "Succeeded"
    assert vm.storage_profile.os_disk.name == "vm1-os"
    assert vm.storage_profile.os_disk.managed_disk.id.lower() == f"/subscriptions/{sub}/resourcegroups/{RG}/providers/microsoft.compute/disks/vm1-os".lower()
    assert vm.vm_id and vm.time_created

    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    view = compute.virtual_machines.instance_view(RG, "vm1")
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/deallocated"]
    assert compute.disks.get(RG, "vm1-os").disk_state == "Reserved"

    patched = compute.virtual_machines.begin_update(RG, "vm1", cm.VirtualMachineUpdate(storage_profile=cm.StorageProfile(
        os_disk=cm.OSDisk(create_option="FromImage", name="vm1-2026-11",
                          managed_disk=cm.ManagedDiskParameters(id=disk.id))))).result()
    assert patched.storage_profile.os_disk.name == "vm1-2026-11"
    assert patched.storage_profile.os_disk.managed_disk.id == disk.id

    compute.virtual_machines.begin_start(RG, "vm1").result()
    view = compute.virtual_machines.instance_view(RG, "vm1")
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/running"]
    new_disk, old_disk = compute.disks.get(RG, "vm1-2026-11"), compute.disks.get(RG, "vm1-os")
    assert (new_disk.disk_state, new_disk.managed_by) == ("Attached", vm.id)
    assert (old_disk.disk_state, old_disk.managed_by) == ("Unattached", None)

    res.tags.begin_update_at_scope(vm.id, TagsPatchResource(operation="Merge", properties=Tags(
        tags={"OsDiskName": "vm1-2026-11"}))).result()
    assert compute.virtual_machines.get(RG, "vm1").tags == {"AutoRefresh": "true", "OsDiskName": "vm1-2026-11"}

    result = session.graph.resources(QueryRequest(subscriptions=[sub], query=(
        'Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" '
        "| project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, "
        "newOsDiskName=tags.OsDiskName"), options=QueryRequestOptions(result_format="objectArray")))
    assert result.data == [{"id": vm.id, "name": "vm1", "location": "eastus", "resourceGroup": RG,
                            "currentOsDiskName": "vm1-2026-11", "newOsDiskName": "vm1-2026-11"}]
    assert result.total_records == 1


def test_errors_are_arm_shaped(session, sub):
    compute = session.compute
    try:
        compute.virtual_machines.get("nope", "vm")
        raise AssertionError("expected a 404")
    except ResourceNotFoundError as e:
        assert e.status_code == 404
        assert e.error.code == "ResourceGroupNotFound"
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    try:
        compute.virtual_machines.get(RG, "missing")
        raise AssertionError("expected a 404")
    except ResourceNotFoundError as e:
        assert e.error.code == "ResourceNotFound"
    try:
        compute.disks.begin_create_or_update(RG, "d", cm.Disk(location="eastus",
                                                              creation_data=cm.CreationData(create_option="Empty"))).result()
        raise AssertionError("expected a 400")
    except HttpResponseError as e:
        assert (e.status_code, e.error.code) == (400, "InvalidParameter")
        assert e.error.message == "Required parameter 'diskSizeGB' is missing (null)."
