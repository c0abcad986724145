"""Issue 3 acceptance: exact plans and final states, against the emulator over HTTPS."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm

sys.path.insert(0, str(Path(__file__).parent))
from plan_helpers import apply, plan_for, rid, steps

SEC = "properties.virtualMachineProfile.securityProfile.securityType"
IMG = "properties.virtualMachineProfile.storageProfile.imageReference.id"
VM_SEC = "properties.securityProfile.securityType"


def test_seed_000_bridge_through_trusted_launch_supported(session, sub):
    session.control("POST", "scenario", {"name": "deadlock"})
    vmss = rid(sub, "rg-app", "virtualMachineScaleSets", "vmss-app")
    tl = rid(sub, "rg-app", "galleries", "galProd", "images", "app-tl")
    before = session.compute.virtual_machine_scale_sets.get("rg-app", "vmss-app")
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch", IMG: tl}}])
    assert plan.status == "ok"
    assert steps(plan) == [
        ("create_image_definition", "create image definition app-tl-tls-bridge (TrustedLaunchSupported, V2)"),
        ("create_image_version", "create image version app-tl-tls-bridge/1.0.0 from images img-app-2026-01"),
        ("patch", "PATCH vmss-app: imageReference.id=app-tl-tls-bridge, securityProfile.securityType=TrustedLaunch"),
        ("await_rolling_upgrade", "rolling upgrade of vmss-app to the latest model"),
        ("patch", "PATCH vmss-app: imageReference.id=app-tl"),
        ("await_rolling_upgrade", "rolling upgrade of vmss-app to the latest model"),
    ]
    assert [s.temporary for s in plan.steps] == [True, True, False, False, False, False]
    assert all(s.downtime_seconds == 0 for s in plan.steps)  # Rolling with maxSurge: no downtime
    # The rolling upgrade is simulated: 3 instances, batches of one (20 % of 3, at least one), each a new instance
    # (maxSurge: vm.create 120 s) healthy after boot (30 s) and one probe (5 s).
    assert [s.duration_seconds for s in plan.steps if s.op == "await_rolling_upgrade"] == [3 * 155.0] * 2
    assert [s.op for s in plan.cleanup] == ["delete", "delete"]
    # Every step says why, citing the rule that forces it.
    assert "S2" in plan.steps[2].rules and "S3" in plan.steps[2].rules
    assert all(s.why for s in plan.steps)
    assert plan.to_json()["steps"][2]["request"]["method"] == "PATCH"
    assert plan.to_json()["steps"][2]["request"]["path"] == vmss

    apply(session, plan, cleanup=True)
    after = session.compute.virtual_machine_scale_sets.get("rg-app", "vmss-app")
    assert after.virtual_machine_profile.security_profile.security_type == "TrustedLaunch"
    assert after.virtual_machine_profile.security_profile.uefi_settings.v_tpm_enabled is True
    assert after.virtual_machine_profile.storage_profile.image_reference.id.lower() == tl.lower()
    assert (after.unique_id, after.time_created) == (before.unique_id, before.time_created)  # never recreated
    # Every instance runs Trusted Launch on the new image (seed 000: "instances roll out").
    instances = list(session.compute.virtual_machine_scale_set_vms.list("rg-app", "vmss-app"))
    assert len(instances) == 3
    for i in instances:
        assert i.latest_model_applied is True
        assert i.security_profile.security_type == "TrustedLaunch"
        assert i.storage_profile.image_reference.id.lower() == tl.lower()
        disk = session.compute.disks.get("rg-app", i.storage_profile.os_disk.name)
        assert disk.creation_data.gallery_image_reference.id.lower() == f"{tl}/versions/1.0.0".lower()
        assert disk.security_profile.security_type == "TrustedLaunch"
    names = [d.name for d in session.compute.gallery_images.list_by_gallery("rg-app", "galProd")]
    assert names == ["app-tl"]  # the bridge was cleaned up


def test_seed_000_naive_shortcuts_are_refused(session, sub):
    session.control("POST", "scenario", {"name": "deadlock"})
    c = session.compute
    tl = rid(sub, "rg-app", "galleries", "galProd", "images", "app-tl")
    with pytest.raises(HttpResponseError) as e:  # update the image first
        c.virtual_machine_scale_sets.begin_update("rg-app", "vmss-app", cm.VirtualMachineScaleSetUpdate(
            virtual_machine_profile=cm.VirtualMachineScaleSetUpdateVMProfile(
                storage_profile=cm.VirtualMachineScaleSetUpdateStorageProfile(
                    image_reference=cm.ImageReference(id=tl))))).result()
    assert (e.value.status_code, e.value.error.code) == (400, "BadRequest")
    with pytest.raises(HttpResponseError) as e:  # update the security type first
        c.virtual_machine_scale_sets.begin_update("rg-app", "vmss-app", cm.VirtualMachineScaleSetUpdate(
            virtual_machine_profile=cm.VirtualMachineScaleSetUpdateVMProfile(
                security_profile=cm.SecurityProfile(security_type="TrustedLaunch")))).result()
    assert (e.value.status_code, e.value.error.code) == (400, "BadRequest")
    with pytest.raises(HttpResponseError) as e:  # capture a managed image from the Trusted Launch VM
        c.images.begin_create_or_update("rg-app", "img-from-tl", cm.Image(
            location="eastus", source_virtual_machine=cm.SubResource(
                id=rid(sub, "rg-app", "virtualMachines", "vm-deploy")))).result()
    assert e.value.error.code == "OperationNotAllowed"


def test_gen2_vm_standard_to_trusted_launch(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    vm = f"/subscriptions/{sub}/resourceGroups/rg-fleet-01/providers/Microsoft.Compute/virtualMachines/vm-00001"
    plan = plan_for(session, [{"resource": vm, "properties": {VM_SEC: "TrustedLaunch"}}])
    assert steps(plan) == [
        ("deallocate", "deallocate vm-00001"),
        ("patch", "PATCH vm-00001: securityProfile.securityType=TrustedLaunch"),
        ("start", "start vm-00001"),
    ]
    assert [s.downtime_seconds for s in plan.steps] == [45.0, 10.0, 40.0]
    assert plan.totals()["downtime_seconds"] == 95.0
    assert "U1" in plan.steps[0].rules
    assert plan.steps[1].request["body"] == {"properties": {"securityProfile": {
        "securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}}}
    apply(session, plan)
    got = session.compute.virtual_machines.get("rg-fleet-01", "vm-00001")
    assert got.security_profile.security_type == "TrustedLaunch"
    statuses = [s.code for s in session.compute.virtual_machines.instance_view("rg-fleet-01", "vm-00001").statuses]
    assert statuses == ["ProvisioningState/succeeded", "PowerState/running"]
    assert session.compute.disks.get("rg-fleet-01", "vm-00001-os").security_profile.security_type == "TrustedLaunch"


def _gen1_vm(session, sub, name="vm-gen1", sku="22_04-lts", offer="0001-com-ubuntu-server-jammy", data_disk=False):
    from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

    session.resources.resource_groups.create_or_update("rg-legacy", ResourceGroup(location="eastus"))
    nic = f"/subscriptions/{sub}/resourceGroups/rg-legacy/providers/Microsoft.Network/networkInterfaces/{name}-nic"
    session.resources.resources.begin_create_or_update_by_id(
        nic, GenericResource(location="eastus", properties={}), api_version="2024-05-01").result()
    data = []
    if data_disk:
        d = session.compute.disks.begin_create_or_update("rg-legacy", f"{name}-data", cm.Disk(
            location="eastus", disk_size_gb=128, creation_data=cm.CreationData(create_option="Empty"))).result()
        data = [cm.DataDisk(lun=0, create_option="Attach", managed_disk=cm.ManagedDiskParameters(id=d.id))]
    session.compute.virtual_machines.begin_create_or_update("rg-legacy", name, cm.VirtualMachine(
        location="eastus", hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(publisher="Canonical", offer=offer, sku=sku, version="latest"),
            os_disk=cm.OSDisk(create_option="FromImage", name=f"{name}-os"), data_disks=data),
        os_profile=cm.OSProfile(computer_name=name, admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic)]))).result()
    return f"/subscriptions/{sub}/resourceGroups/rg-legacy/providers/Microsoft.Compute/virtualMachines/{name}"


def test_gen1_vm_needs_the_irreversible_guest_conversion(session, sub):
    vm = _gen1_vm(session, sub)
    assert session.compute.disks.get("rg-legacy", "vm-gen1-os").hyper_v_generation == "V1"
    plan = plan_for(session, [{"resource": vm, "properties": {VM_SEC: "TrustedLaunch"}}])
    assert steps(plan) == [
        ("guest_mbr_to_gpt", "convert vm-gen1's OS disk MBR -> GPT in the guest"),
        ("deallocate", "deallocate vm-gen1"),
        ("patch", "PATCH vm-gen1: securityProfile.securityType=TrustedLaunch"),
        ("start", "start vm-gen1"),
    ]
    assert [s.irreversible for s in plan.steps] == [True, False, False, False]
    assert plan.totals()["irreversible_steps"] == 1
    assert "U5" in plan.steps[0].rules
    assert plan.steps[0].rollback is None and "cannot be undone" in plan.steps[0].rollback_note
    apply(session, plan)
    assert session.compute.virtual_machines.get("rg-legacy", "vm-gen1").security_profile.security_type == "TrustedLaunch"
    assert session.compute.disks.get("rg-legacy", "vm-gen1-os").hyper_v_generation == "V2"


def test_confidential_vm_has_no_in_place_path_and_offers_recreate(session, sub):
    vm = _gen1_vm(session, sub, name="vm-cvm", sku="22_04-lts-cvm", offer="0001-com-ubuntu-confidential-vm-jammy",
                  data_disk=True)
    goal = {VM_SEC: "ConfidentialVM", "properties.hardwareProfile.vmSize": "Standard_DC2as_v5"}
    plan = plan_for(session, [{"resource": vm, "properties": goal}])
    assert plan.status == "impossible" and plan.steps == []
    (imp,) = plan.impossible
    assert "U8" in [b.rule for b in imp.blocked_by]
    assert [(s.op, s.summary) for s in imp.recreate] == [
        ("deallocate", "deallocate vm-cvm"),
        ("recreate_delete", "delete VM vm-cvm (NIC and disks are kept)"),
        ("recreate_create", "create VM vm-cvm again with the goal's properties (same NIC, same data disks, new OS disk)"),
    ]
    body = imp.recreate[-1].request["body"]["properties"]
    assert body["networkProfile"]["networkInterfaces"][0]["id"].endswith("/networkInterfaces/vm-cvm-nic")
    assert body["storageProfile"]["dataDisks"][0]["managedDisk"]["id"].endswith("/disks/vm-cvm-data")
    assert imp.recreate_downtime_seconds == 45.0 + 60.0 + 120.0


def test_capacity_reservation_for_running_zonal_vms(session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 3}})
    crg = f"/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/capacityReservationGroups/crg-app"
    goals = [{"resource": rid(sub, "rg-refresh", "virtualMachines", f"vm-0{i}"),
              "properties": {"properties.capacityReservation.capacityReservationGroup.id": crg}} for i in (1, 2, 3)]
    plan = plan_for(session, goals)
    ops = [s.op for s in plan.steps]
    assert [s.summary for s in plan.steps] == [
        "create capacity reservation group crg-app (zones 1,2,3)",
        "create capacity reservation Standard_D2s_v5-z1 with capacity 0 (C3: associate first, then reserve)",
        "PATCH vm-01: capacityReservationGroup.id=crg-app",
        "create capacity reservation Standard_D2s_v5-z2 with capacity 0 (C3: associate first, then reserve)",
        "PATCH vm-02: capacityReservationGroup.id=crg-app",
        "create capacity reservation Standard_D2s_v5-z3 with capacity 0 (C3: associate first, then reserve)",
        "PATCH vm-03: capacityReservationGroup.id=crg-app",
        "raise Standard_D2s_v5-z1 to capacity 1",
        "raise Standard_D2s_v5-z2 to capacity 1",
        "raise Standard_D2s_v5-z3 to capacity 1",
    ]
    assert "C6" in plan.steps[1].rules
    assert "deallocate" not in ops and plan.totals()["downtime_seconds"] == 0
    assert plan.steps[1].request["body"]["sku"]["capacity"] == 0
    apply(session, plan)
    group = session.compute.capacity_reservation_groups.get("rg-refresh", "crg-app", expand="instanceView")
    assert sorted(vm.id.rsplit("/", 1)[-1] for vm in group.virtual_machines_associated) == ["vm-01", "vm-02", "vm-03"]
    assert sorted((c.name, c.sku.capacity) for c in session.compute.capacity_reservations.list_by_capacity_reservation_group(
        "rg-refresh", "crg-app")) == [("Standard_D2s_v5-z1", 1), ("Standard_D2s_v5-z2", 1), ("Standard_D2s_v5-z3", 1)]


def test_capacity_reservation_for_regional_vms_restarts_them(session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 2, "zones": []}})
    crg = f"/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/capacityReservationGroups/crg-app"
    goals = [{"resource": rid(sub, "rg-refresh", "virtualMachines", f"vm-0{i}"),
              "properties": {"properties.capacityReservation.capacityReservationGroup.id": crg}} for i in (1, 2)]
    plan = plan_for(session, goals)
    ops = [s.op for s in plan.steps]
    assert ops.count("deallocate") == 2 and ops.count("start") == 2
    assert plan.totals()["downtime_seconds"] == 2 * (45.0 + 10.0 + 40.0)
    apply(session, plan)
    for i in (1, 2):
        vm = session.compute.virtual_machines.get("rg-refresh", f"vm-0{i}")
        assert vm.capacity_reservation.capacity_reservation_group.id.lower() == crg.lower()


def test_os_disk_swap_adds_replication_zone_and_security_type(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 2}})
    c = session.compute
    # Next month's image is built in West US 2 and replicated only there; the fleet runs in East US.
    src = c.disks.begin_create_or_update("rg-fleet-01", "golden-w2", cm.Disk(
        location="westus2", os_type="Linux", hyper_v_generation="V2", disk_size_gb=30,
        creation_data=cm.CreationData(create_option="Empty"))).result()
    c.galleries.begin_create_or_update("rg-fleet-01", "galWest", cm.Gallery(location="westus2")).result()
    c.gallery_images.begin_create_or_update("rg-fleet-01", "galWest", "ubuntu-next", cm.GalleryImage(
        location="westus2", os_type="Linux", os_state="Generalized", hyper_v_generation="V2",
        identifier=cm.GalleryImageIdentifier(publisher="contoso", offer="next", sku="u22"),
        features=[cm.GalleryImageFeature(name="SecurityType", value="TrustedLaunchSupported")])).result()
    c.gallery_image_versions.begin_create_or_update("rg-fleet-01", "galWest", "ubuntu-next", "2.0.0", cm.GalleryImageVersion(
        location="westus2", publishing_profile=cm.GalleryImageVersionPublishingProfile(target_regions=[
            cm.TargetRegion(name="westus2")]),
        storage_profile=cm.GalleryImageVersionStorageProfile(source=cm.GalleryArtifactVersionFullSource(id=src.id)))).result()
    version = rid(sub, "rg-fleet-01", "galleries", "galWest", "images", "ubuntu-next", "versions", "2.0.0")
    vm = f"/subscriptions/{sub}/resourceGroups/rg-fleet-02/providers/Microsoft.Compute/virtualMachines/vm-00002"
    disk = f"/subscriptions/{sub}/resourceGroups/rg-fleet-02/providers/Microsoft.Compute/disks/vm-00002-2026-11"
    plan = plan_for(session, [
        {"resource": vm, "properties": {"properties.storageProfile.osDisk.managedDisk.id": disk}},
        {"resource": disk, "properties": {"properties.creationData.galleryImageReference.id": version}}])
    assert [s.summary for s in plan.steps] == [
        "replicate 2.0.0 to eastus",
        "create disk vm-00002-2026-11 from 2.0.0 (zone 2, TrustedLaunch)",
        "PATCH vm-00002: managedDisk.id=vm-00002-2026-11",
    ]
    # D1: Azure swaps the OS disk of a running VM by restarting it; 30 s of downtime beats the 95 s of a
    # deallocate / swap / start cycle, so the planner does not deallocate.
    assert [s.downtime_seconds for s in plan.steps] == [0.0, 0.0, 30.0]
    assert any(r.startswith("G14") or r == "G23" for r in plan.steps[0].rules)
    apply(session, plan)
    got = c.virtual_machines.get("rg-fleet-02", "vm-00002")
    assert got.storage_profile.os_disk.managed_disk.id.lower() == disk.lower()
    d = c.disks.get("rg-fleet-02", "vm-00002-2026-11")
    assert (d.zones, d.security_profile.security_type, d.disk_state) == (["2"], "TrustedLaunch", "Attached")
    assert c.disks.get("rg-fleet-02", "vm-00002-os").disk_state == "Unattached"  # the old disk is kept


def test_a_scale_set_with_no_in_place_path_is_offered_blue_green_with_its_cost(session, sub):
    """Uniform -> Flexible cannot change in place (M1): the answer names the rule and offers a second set beside the
    first with the goal's properties (what Flexible refuses dropped: single placement group, 5 fault domains),
    then the old set's deletion; the cost says what runs twice and what happens to traffic."""
    session.control("POST", "scenario", {"name": "deadlock"})
    vmss = rid(sub, "rg-app", "virtualMachineScaleSets", "vmss-app")
    plan = plan_for(session, [{"resource": vmss, "properties": {"properties.orchestrationMode": "Flexible"}}])
    assert plan.status == "impossible" and plan.steps == []
    (imp,) = plan.impossible
    assert [(b.rule, b.code, b.message) for b in imp.blocked_by] == [
        ("M1", "PropertyChangeNotAllowed", "Changing property 'orchestrationMode' is not allowed.")]
    assert [(s.op, s.summary, s.duration_seconds, s.downtime_seconds) for s in imp.recreate] == [
        ("bluegreen_create", "create scale set vmss-app-2 beside vmss-app with the goal's properties (3 instances, "
         "same network and extensions)", 180.0, 0.0),
        ("bluegreen_delete", "delete scale set vmss-app and its instances (once vmss-app-2's are created)", 120.0,
         120.0)]
    assert imp.recreate_downtime_seconds == 120.0
    assert imp.recreate_note == (
        "3 more Standard_D2s_v5 instances run while both sets exist; no load balancer is in front of vmss-app: "
        "clients must move to vmss-app-2's instances themselves; instance disks are not kept (a scale set's "
        "instances are rebuilt from its model)")
    create = imp.recreate[0].request
    assert (create["method"], create["path"].rsplit("/", 1)[-1]) == ("PUT", "vmss-app-2")
    props = create["body"]["properties"]
    assert (props["orchestrationMode"], props["singlePlacementGroup"], props["platformFaultDomainCount"]) == (
        "Flexible", False, 1)
    assert create["body"]["sku"]["capacity"] == 3 and "uniqueId" not in props and "provisioningState" not in props
    # A goal whose new set Azure would refuse too says so, with Azure's answer, and offers nothing.
    cvm = plan_for(session, [{"resource": vmss, "properties": {SEC: "ConfidentialVM"}}])
    (imp,) = cvm.impossible
    assert imp.recreate == [] and imp.recreate_note == ""
    assert imp.recreate_error == (
        "the recreate path is refused too, at 'create scale set vmss-app-2 beside vmss-app with the goal's properties "
        "(3 instances, same network and extensions)': (InvalidParameter) SecurityType "
        "'ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey' is not supported by given image.")
