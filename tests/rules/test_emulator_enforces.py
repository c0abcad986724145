"""The emulator answers with the catalog: the real SDK over HTTPS, Azure's status, code and message.

Seed 000's shortcuts are refused and its bridge is accepted; a VM's in-place Trusted Launch upgrade needs
deallocation; an OS disk owned by another VM fails the operation (asynchronously) and leaves both VMs as
they were; capacity reservations and delete order; and every built-in scenario loads without a violation.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm

from refit.emulator import scenario
from refit.emulator.core import Emulator
from refit.platform.rules import validate_write

S2_MSG = ("Use of TrustedLaunch setting is not supported for the provided image. Please select Trusted Launch Supported "
          "Gen2 OS Image. For more information, see https://aka.ms/TrustedLaunch-FAQ.")
TL = cm.SecurityProfile(security_type="TrustedLaunch", uefi_settings=cm.UefiSettings(secure_boot_enabled=True,
                                                                                       v_tpm_enabled=True))


def _rid(sub: str, rg: str, kind: str, *names: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}/" + "/".join(names)


def _vmss_update(c, profile: cm.VirtualMachineScaleSetUpdateVMProfile):
    return c.virtual_machine_scale_sets.begin_update("rg-app", "vmss-app", cm.VirtualMachineScaleSetUpdate(
        virtual_machine_profile=profile)).result()


def _image(image_id: str) -> cm.VirtualMachineScaleSetUpdateStorageProfile:
    return cm.VirtualMachineScaleSetUpdateStorageProfile(image_reference=cm.ImageReference(id=image_id))


def test_seed_000_shortcuts_are_refused_and_the_bridge_is_accepted(session, sub):
    session.control("POST", "scenario", {"name": "deadlock"})
    c = session.compute
    app_tl = _rid(sub, "rg-app", "galleries", "galProd", "images", "app-tl")
    vm_deploy = _rid(sub, "rg-app", "virtualMachines", "vm-deploy")
    managed = _rid(sub, "rg-app", "images", "img-app-2026-01")

    # securityType first: the image is a Standard managed image (S2).
    with pytest.raises(HttpResponseError) as e:
        _vmss_update(c, cm.VirtualMachineScaleSetUpdateVMProfile(security_profile=TL))
    assert (e.value.status_code, e.value.error.code, e.value.error.message) == (400, "BadRequest", S2_MSG)
    # image first: the TrustedLaunch definition boots TrustedLaunch scale sets only (S3).
    with pytest.raises(HttpResponseError) as e:
        _vmss_update(c, cm.VirtualMachineScaleSetUpdateVMProfile(storage_profile=_image(app_tl)))
    assert (e.value.status_code, e.value.error.code) == (400, "BadRequest")
    assert e.value.error.message == ("The provided gallery image only supports creation of VMs and VM Scale Sets with "
                                     "'TrustedLaunch' security type.")
    # both at once, to the TrustedLaunch definition: the upgrade needs a TrustedLaunchSupported image (V1).
    with pytest.raises(HttpResponseError) as e:
        _vmss_update(c, cm.VirtualMachineScaleSetUpdateVMProfile(security_profile=TL, storage_profile=_image(app_tl)))
    assert (e.value.status_code, e.value.error.code, e.value.error.message) == (400, "BadRequest", S2_MSG)
    # a managed image from the Trusted Launch VM (S8).
    with pytest.raises(HttpResponseError) as e:
        c.images.begin_create_or_update("rg-app", "img-from-tl", cm.Image(
            location="eastus", source_virtual_machine=cm.SubResource(id=vm_deploy))).result()
    assert (e.value.status_code, e.value.error.code) == (409, "OperationNotAllowed")
    assert e.value.error.message == ("Creation of managed images are not supported for virtual machine with "
                                     "TrustedLaunch security type.")

    # The bridge: a TrustedLaunchSupported definition ...
    c.gallery_images.begin_create_or_update("rg-app", "galProd", "app-tls", cm.GalleryImage(
        location="eastus", os_type="Linux", os_state="Generalized", hyper_v_generation="V2",
        identifier=cm.GalleryImageIdentifier(publisher="contoso", offer="app", sku="app-tls"),
        features=[cm.GalleryImageFeature(name="SecurityType", value="TrustedLaunchSupported")])).result()
    # ... whose version cannot come from the VM (S9) ...
    with pytest.raises(HttpResponseError) as e:
        c.gallery_image_versions.begin_create_or_update("rg-app", "galProd", "app-tls", "1.0.0", cm.GalleryImageVersion(
            location="eastus", storage_profile=cm.GalleryImageVersionStorageProfile(
                source=cm.GalleryArtifactVersionFullSource(id=vm_deploy)))).result()
    assert (e.value.status_code, e.value.error.code) == (400, "InvalidParameter")
    assert e.value.error.message.startswith("The security type 'TrustedLaunchSupported' is not supported for the source id")
    # ... but can from the managed image.
    v = c.gallery_image_versions.begin_create_or_update("rg-app", "galProd", "app-tls", "1.0.0", cm.GalleryImageVersion(
        location="eastus", storage_profile=cm.GalleryImageVersionStorageProfile(
            source=cm.GalleryArtifactVersionFullSource(id=managed)))).result()
    assert v.provisioning_state == "Succeeded"
    bridge = _rid(sub, "rg-app", "galleries", "galProd", "images", "app-tls")
    # Image and securityType in the same PATCH (V1), then the TrustedLaunch image.
    got = _vmss_update(c, cm.VirtualMachineScaleSetUpdateVMProfile(security_profile=TL, storage_profile=_image(bridge)))
    assert got.virtual_machine_profile.security_profile.security_type == "TrustedLaunch"
    got = _vmss_update(c, cm.VirtualMachineScaleSetUpdateVMProfile(storage_profile=_image(app_tl)))
    assert got.virtual_machine_profile.storage_profile.image_reference.id.lower() == app_tl.lower()

    # Clean-up of the bridge: the version before its definition (G12).
    with pytest.raises(HttpResponseError) as e:
        c.gallery_images.begin_delete("rg-app", "galProd", "app-tls").result()
    assert (e.value.status_code, e.value.error.code) == (409, "CannotDeleteResource")
    c.gallery_image_versions.begin_delete("rg-app", "galProd", "app-tls", "1.0.0").result()
    c.gallery_images.begin_delete("rg-app", "galProd", "app-tls").result()
    assert [d.name for d in c.gallery_images.list_by_gallery("rg-app", "galProd")] == ["app-tl"]


def test_vm_trusted_launch_in_place_needs_deallocation(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    c = session.compute
    rg, name = "rg-fleet-01", "vm-00001"
    with pytest.raises(HttpResponseError) as e:  # running (U1; the text is U3's, INFERRED)
        c.virtual_machines.begin_update(rg, name, cm.VirtualMachineUpdate(security_profile=TL)).result()
    assert (e.value.status_code, e.value.error.code) == (409, "OperationNotAllowed")
    assert e.value.error.message == ("Changing property 'securityProfile.securityType' is not allowed while the VM is "
                                     "running. Deallocate the VM and try again.")
    c.virtual_machines.begin_deallocate(rg, name).result()
    got = c.virtual_machines.begin_update(rg, name, cm.VirtualMachineUpdate(security_profile=TL)).result()
    assert got.security_profile.security_type == "TrustedLaunch"
    c.virtual_machines.begin_start(rg, name).result()
    with pytest.raises(HttpResponseError) as e:  # the rollback too (U4)
        c.virtual_machines.begin_update(rg, name, cm.VirtualMachineUpdate(
            security_profile=cm.SecurityProfile(security_type="Standard"))).result()
    assert (e.value.status_code, e.value.error.code) == (409, "OperationNotAllowed")
    with pytest.raises(HttpResponseError) as e:  # never ConfidentialVM in place (U8)
        c.virtual_machines.begin_update(rg, name, cm.VirtualMachineUpdate(
            security_profile=cm.SecurityProfile(security_type="ConfidentialVM"),
            hardware_profile=cm.HardwareProfile(vm_size="Standard_DC2as_v5"))).result()
    assert (e.value.status_code, e.value.error.code) == (409, "PropertyChangeNotAllowed")


def test_gen1_vm_upgrade_is_accepted_by_azure(session, sub):
    """U5 is planner-only: Azure's API cannot see the guest, so a deallocated Gen1 VM is accepted."""
    from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

    c = session.compute
    session.resources.resource_groups.create_or_update("rg-legacy", ResourceGroup(location="eastus"))
    nic = f"/subscriptions/{sub}/resourceGroups/rg-legacy/providers/Microsoft.Network/networkInterfaces/gen1-nic"
    session.resources.resources.begin_create_or_update_by_id(
        nic, GenericResource(location="eastus", properties={}), api_version="2024-05-01").result()
    c.virtual_machines.begin_create_or_update("rg-legacy", "gen1", cm.VirtualMachine(
        location="eastus", hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(publisher="Canonical", offer="0001-com-ubuntu-server-jammy",
                                              sku="22_04-lts", version="latest"),
            os_disk=cm.OSDisk(create_option="FromImage", name="gen1-os")),
        os_profile=cm.OSProfile(computer_name="gen1", admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic)]))).result()
    assert c.disks.get("rg-legacy", "gen1-os").hyper_v_generation == "V1"
    c.virtual_machines.begin_deallocate("rg-legacy", "gen1").result()
    got = c.virtual_machines.begin_update("rg-legacy", "gen1", cm.VirtualMachineUpdate(security_profile=TL)).result()
    assert got.security_profile.security_type == "TrustedLaunch"


def _swap(c, rg: str, vm: str, disk_id: str):
    return c.virtual_machines.begin_update(rg, vm, cm.VirtualMachineUpdate(storage_profile=cm.StorageProfile(
        os_disk=cm.OSDisk(create_option="Attach", name=disk_id.rsplit("/", 1)[-1],
                          managed_disk=cm.ManagedDiskParameters(id=disk_id))))).result()


def test_os_disk_swap_rules_over_https(session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 3}})
    c = session.compute
    rg = "rg-refresh"
    # vm-01 is in zone 1, vm-02's disk in zone 2 (D6).
    other_zone = _rid(sub, rg, "disks", "vm-02-2026-10")
    with pytest.raises(HttpResponseError) as e:
        _swap(c, rg, "vm-01", other_zone)
    assert (e.value.status_code, e.value.error.code) == (400, "BadRequest")
    assert e.value.error.message == (f"Disk {other_zone} cannot be attached to the VM because it is not in the same zone "
                                     "as the VM. VM zone: '1'. Disk zone: '2'.")
    # A Trusted Launch disk on a Standard VM (D4).
    c.disks.begin_create_or_update(rg, "tl-z1", cm.Disk(
        location="eastus", zones=["1"], sku=cm.DiskSku(name="Premium_LRS"),
        security_profile=cm.DiskSecurityProfile(security_type="TrustedLaunch"),
        creation_data=cm.CreationData(create_option="FromImage", gallery_image_reference=cm.ImageDiskReference(
            id=_rid(sub, rg, "galleries", "galRefresh", "images", "ubuntu-refresh", "versions", "2026.11.0"))))).result()
    with pytest.raises(HttpResponseError) as e:
        _swap(c, rg, "vm-01", _rid(sub, rg, "disks", "tl-z1"))
    assert (e.value.status_code, e.value.error.code) == (400, "BadRequest")
    assert e.value.error.message == "Security type of VM is not compatible with the security type of attached OS Disk."
    # A matching disk swaps, on a running VM (D1).
    c.disks.begin_create_or_update(rg, "next-z1", cm.Disk(
        location="eastus", zones=["1"], sku=cm.DiskSku(name="Premium_LRS"),
        creation_data=cm.CreationData(create_option="FromImage", gallery_image_reference=cm.ImageDiskReference(
            id=_rid(sub, rg, "galleries", "galRefresh", "images", "ubuntu-refresh", "versions", "2026.11.0"))))).result()
    got = _swap(c, rg, "vm-01", _rid(sub, rg, "disks", "next-z1"))
    assert got.storage_profile.os_disk.name == "next-z1"
    assert c.disks.get(rg, "vm-01-2026-10").disk_state == "Unattached"


def test_disk_owned_by_another_vm_fails_the_operation(session, sub):
    """D8 arrives through the long-running operation; both VMs keep their disks."""
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 2, "zones": []}})
    c = session.compute
    rg = "rg-refresh"
    owned = _rid(sub, rg, "disks", "vm-02-2026-10")
    poller = c.virtual_machines.begin_update(rg, "vm-01", cm.VirtualMachineUpdate(storage_profile=cm.StorageProfile(
        os_disk=cm.OSDisk(create_option="Attach", name="vm-02-2026-10", managed_disk=cm.ManagedDiskParameters(id=owned)))))
    with pytest.raises(HttpResponseError) as e:
        poller.result()
    assert e.value.error.code == "ConflictingUserInput"
    assert e.value.error.message == (f"Disk '{owned}' cannot be attached as the disk is already owned by VM "
                                     f"'{_rid(sub, rg, 'virtualMachines', 'vm-02')}'.")
    vm1 = c.virtual_machines.get(rg, "vm-01")
    assert vm1.storage_profile.os_disk.name == "vm-01-2026-10"
    assert vm1.provisioning_state == "Succeeded"
    assert c.disks.get(rg, "vm-02-2026-10").managed_by.lower() == _rid(sub, rg, "virtualMachines", "vm-02").lower()
    assert c.disks.get(rg, "vm-01-2026-10").managed_by.lower() == _rid(sub, rg, "virtualMachines", "vm-01").lower()


def test_capacity_reservations_over_https(session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 2}})
    c = session.compute
    rg = "rg-refresh"
    c.capacity_reservation_groups.create_or_update(rg, "crg", cm.CapacityReservationGroup(location="eastus",
                                                                                          zones=["1", "2"]))
    crg = _rid(sub, rg, "capacityReservationGroups", "crg")
    c.capacity_reservations.begin_create_or_update(rg, "crg", "d2-z1", cm.CapacityReservation(
        location="eastus", zones=["1"], sku=cm.Sku(name="Standard_D2s_v5", capacity=0))).result()  # C3
    with pytest.raises(HttpResponseError) as e:  # one per size and zone (C4)
        c.capacity_reservations.begin_create_or_update(rg, "crg", "again-z1", cm.CapacityReservation(
            location="eastus", zones=["1"], sku=cm.Sku(name="Standard_D2s_v5", capacity=1))).result()
    assert (e.value.status_code, e.value.error.code) == (409, "Conflict")
    assoc = cm.VirtualMachineUpdate(capacity_reservation=cm.CapacityReservationProfile(
        capacity_reservation_group=cm.SubResource(id=crg)))
    # vm-02 is in zone 2: no reservation there (C6).
    with pytest.raises(HttpResponseError) as e:
        c.virtual_machines.begin_update(rg, "vm-02", assoc).result()
    assert (e.value.status_code, e.value.error.code) == (400, "InvalidParameter")
    # vm-01 runs in zone 1: associated without deallocation, overallocating the capacity-0 reservation (C7, C8).
    got = c.virtual_machines.begin_update(rg, "vm-01", assoc).result()
    assert got.capacity_reservation.capacity_reservation_group.id.lower() == crg.lower()
    assert c.virtual_machines.instance_view(rg, "vm-01").statuses[-1].code == "PowerState/running"
    with pytest.raises(HttpResponseError) as e:  # only the capacity changes (C5)
        c.capacity_reservations.begin_update(rg, "crg", "d2-z1", cm.CapacityReservationUpdate(
            sku=cm.Sku(name="Standard_D4s_v5", capacity=1))).result()
    assert (e.value.status_code, e.value.error.code) == (409, "PropertyChangeNotAllowed")
    c.capacity_reservations.begin_update(rg, "crg", "d2-z1", cm.CapacityReservationUpdate(
        sku=cm.Sku(name="Standard_D2s_v5", capacity=1))).result()
    with pytest.raises(HttpResponseError) as e:  # delete order (C10)
        c.capacity_reservations.begin_delete(rg, "crg", "d2-z1").result()
    assert (e.value.status_code, e.value.error.code) == (409, "OperationNotAllowed")


def test_moved_structural_checks_answer_from_the_catalog(raw, sub):
    """D13 and G5 used to be provider checks; the catalog answers them now, with the same wire result."""
    api = {"api-version": "2024-03-02"}
    assert raw.put(f"/subscriptions/{sub}/resourceGroups/rg1", params={"api-version": "2024-11-01"},
                   json={"location": "eastus"}).status_code in (200, 201)
    r = raw.put(_rid(sub, "rg1", "disks", "zrs"), params=api, json={
        "location": "eastus", "zones": ["1"], "sku": {"name": "Premium_ZRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32}})
    assert r.status_code == 409
    assert r.json()["error"] == {"code": "OperationNotAllowed",
                                 "message": "A disk with sku 'Premium_ZRS' cannot be created in an availability zone."}
    gapi = {"api-version": "2023-07-03"}
    raw.put(_rid(sub, "rg1", "galleries", "g"), params=gapi, json={"location": "eastus"})
    raw.put(_rid(sub, "rg1", "galleries", "g", "images", "d"), params=gapi, json={"location": "eastus", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}})
    r = raw.put(_rid(sub, "rg1", "galleries", "g", "images", "d", "versions", "1.0"), params=gapi, json={
        "location": "eastus", "properties": {"storageProfile": {"source": {"uri": "https://sa.blob.core.windows.net/v/os.vhd"}}}})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "InvalidParameter"
    assert r.json()["error"]["target"] == "galleryImageVersionName"


class _Recording(Emulator):
    """An emulator that keeps every violation the catalog reports, planner-only rules included."""

    def __init__(self):
        super().__init__(None)
        self.seen: list = []

    def validate(self, old, new):
        self.seen += validate_write(self.world, old, new, include_unenforced=True)
        return super().validate(old, new)


VARIANTS = [(n, {}) for n in scenario.builtin_names()] + [
    ("disk-swap", {"zones": []}), ("fleet", {"vms": 12}), ("fleet", {"vms": 12, "security_type": "Standard"}),
    ("fleet", {"vms": 6, "zones": []})]


@pytest.mark.parametrize("name,params", VARIANTS, ids=[f"{n}-{'-'.join(map(str, p.values())) or 'default'}"
                                                       for n, p in VARIANTS])
def test_builtin_scenarios_load_with_zero_violations(name, params):
    emu = _Recording()
    out = scenario.apply(emu, scenario.load(name), params)
    assert out["created"] > 0
    assert [(v.rule.id, v.error.message) for v in emu.seen] == []


def test_a_version_keeps_its_source_in_the_emulator():
    """The provider passes a changed source on to the catalog (G8) instead of silently keeping the old one."""
    from refit.emulator.core import WireRequest

    emu = Emulator(None)
    scenario.apply(emu, scenario.load("deadlock"), {})
    sub = emu.subscriptions[0]["id"]
    version = _rid(sub, "rg-app", "galleries", "galProd", "images", "app-tl", "versions", "1.0.0")
    body = {"location": "eastus", "properties": {"storageProfile": {"source": {"id": _rid(sub, "rg-app", "disks",
                                                                                            "app-golden-2026-01")}}}}
    r = emu.handle(WireRequest("PUT", version, {"api-version": "2023-07-03"}, body, "https://x"))
    assert (r.status, r.body["error"]["code"], r.body["error"]["message"]) == (
        409, "PropertyChangeNotAllowed",
        "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not allowed")
    assert emu.get(version)["properties"]["storageProfile"]["source"]["id"].endswith("/virtualMachines/vm-deploy")
