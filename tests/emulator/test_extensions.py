"""Extensions as child resources, through the official SDK (issue 11 scope 4), and the shapes of scope 8: a VM's
`resources[]`, `etag` and `dataDisks: []`, extension instance views and the guest agent's `vmAgent`, a scale set's
extensions as entries of its model, a disk's LastOwnershipUpdateTime."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

RG = "rg-ext"
UBUNTU = cm.ImageReference(publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts-gen2",
                           version="latest")


@pytest.fixture
def vm(session, sub):
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    nic = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/vm1-nic"
    session.resources.resources.begin_create_or_update_by_id(
        nic, GenericResource(location="eastus", properties={}), api_version="2024-05-01").result()
    return session.compute.virtual_machines.begin_create_or_update(RG, "vm1", cm.VirtualMachine(
        location="eastus", hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(image_reference=UBUNTU, os_disk=cm.OSDisk(create_option="FromImage")),
        os_profile=cm.OSProfile(computer_name="vm1", admin_username="azureuser", admin_password="P@ssw0rd-1234!"),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic)]))).result()


def _ext(session, name="health", publisher="Microsoft.ManagedServices", type_="ApplicationHealthLinux"):
    return session.compute.virtual_machine_extensions.begin_create_or_update(RG, "vm1", name, cm.VirtualMachineExtension(
        location="eastus", properties=cm.VirtualMachineExtensionProperties(
            publisher=publisher, type=type_, type_handler_version="2.0", settings={"port": 80},
            protected_settings={"secret": "s3cret"}))).result()


def test_a_vm_shows_an_etag_its_data_disk_list_and_its_extensions_as_resources(session, vm):
    assert (vm.etag, vm.storage_profile.data_disks) == ('"1"', [])
    _ext(session)
    got = session.compute.virtual_machines.get(RG, "vm1")
    assert [(r.name, r.type, r.properties.publisher, r.properties.protected_settings) for r in got.resources] == [
        ("health", "Microsoft.Compute/virtualMachines/extensions", "Microsoft.ManagedServices", None)]
    session.compute.virtual_machines.begin_update(RG, "vm1", cm.VirtualMachineUpdate(tags={"a": "b"})).result()
    assert session.compute.virtual_machines.get(RG, "vm1").etag == '"2"'


def test_vm_extensions_list_get_and_their_instance_view(session, vm):
    _ext(session)
    _ext(session, "script", "Microsoft.Azure.Extensions", "CustomScript")
    exts = session.compute.virtual_machine_extensions
    assert sorted(e.name for e in exts.list(RG, "vm1").value) == ["health", "script"]
    one = exts.get(RG, "vm1", "script", expand="instanceView")
    assert (one.properties.provisioning_state, one.properties.protected_settings) == ("Succeeded", None)
    iv = one.properties.instance_view
    assert (iv.name, iv.type, iv.type_handler_version, [(s.code, s.level, s.display_status) for s in iv.statuses]) == (
        "script", "Microsoft.Azure.Extensions.CustomScript", "2.0",
        [("ProvisioningState/succeeded", "Info", "Provisioning succeeded")])
    assert exts.get(RG, "vm1", "script").properties.instance_view is None


def test_the_instance_view_has_the_agent_and_the_extensions_of_a_running_vm(session, vm):
    _ext(session)
    iv = session.compute.virtual_machines.instance_view(RG, "vm1")
    assert [(e.name, e.type) for e in iv.extensions] == [("health", "Microsoft.ManagedServices.ApplicationHealthLinux")]
    agent = iv.vm_agent
    assert (agent.vm_agent_version, [(s.code, s.display_status, s.message) for s in agent.statuses]) == (
        "2.13.1.1", [("ProvisioningState/succeeded", "Ready", "GuestAgent is running and accepting new configurations.")])
    assert [(h.type, h.type_handler_version, h.status.display_status) for h in agent.extension_handlers] == [
        ("Microsoft.ManagedServices.ApplicationHealthLinux", "2.0", "Ready")]
    session.compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    assert session.compute.virtual_machines.instance_view(RG, "vm1").vm_agent is None  # no guest, no agent


def test_a_disk_says_when_its_ownership_last_changed(session, vm):
    disk_id = vm.storage_profile.os_disk.managed_disk.id
    attached = session.compute.disks.get(RG, disk_id.rsplit("/", 1)[1])
    assert attached.disk_state == "Attached" and attached.last_ownership_update_time is not None
    session.compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    reserved = session.compute.disks.get(RG, disk_id.rsplit("/", 1)[1])
    assert reserved.disk_state == "Reserved"
    assert reserved.last_ownership_update_time > attached.last_ownership_update_time


def _vmss(session, sub):
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    return session.compute.virtual_machine_scale_sets.begin_create_or_update(RG, "ss", cm.VirtualMachineScaleSet(
        location="eastus", sku=cm.Sku(name="Standard_D2s_v5", capacity=2), orchestration_mode="Uniform",
        upgrade_policy=cm.UpgradePolicy(mode="Manual"), virtual_machine_profile=cm.VirtualMachineScaleSetVMProfile(
            storage_profile=cm.VirtualMachineScaleSetStorageProfile(
                image_reference=UBUNTU, os_disk=cm.VirtualMachineScaleSetOSDisk(create_option="FromImage")),
            os_profile=cm.VirtualMachineScaleSetOSProfile(computer_name_prefix="ss", admin_username="azureuser",
                                                          admin_password="P@ssw0rd-1234!"),
            extension_profile=cm.VirtualMachineScaleSetExtensionProfile(extensions=[
                cm.VirtualMachineScaleSetExtension(name="health", properties=cm.VirtualMachineScaleSetExtensionProperties(
                    publisher="Microsoft.ManagedServices", type="ApplicationHealthLinux", type_handler_version="2.0",
                    protected_settings={"k": "v"}))])))).result()


def test_scale_set_extensions_are_the_entries_of_its_model(session, sub):
    ss = _vmss(session, sub)
    exts = session.compute.virtual_machine_scale_set_extensions
    got = exts.get(RG, "ss", "health")
    assert (got.id, got.name, got.type, got.properties.publisher, got.properties.provisioning_state,
            got.properties.protected_settings) == (
        f"{ss.id}/extensions/health", "health", "Microsoft.Compute/virtualMachineScaleSets/extensions",
        "Microsoft.ManagedServices", "Succeeded", None)
    # Writing one writes the scale set's model (its image stays), and the request follows the set's operation.
    exts.begin_create_or_update(RG, "ss", "script", cm.VirtualMachineScaleSetExtension(
        properties=cm.VirtualMachineScaleSetExtensionProperties(
            publisher="Microsoft.Azure.Extensions", type="CustomScript", type_handler_version="2.1"))).result()
    model = session.compute.virtual_machine_scale_sets.get(RG, "ss").virtual_machine_profile
    assert [e.name for e in model.extension_profile.extensions] == ["health", "script"]
    assert model.storage_profile.image_reference.offer == UBUNTU.offer
    assert sorted(e.name for e in exts.list(RG, "ss")) == ["health", "script"]
    exts.begin_delete(RG, "ss", "health").result()
    assert [e.name for e in exts.list(RG, "ss")] == ["script"]
    with pytest.raises(ResourceNotFoundError):
        exts.get(RG, "ss", "health")
