"""Acceptance: bad inputs are reported with the reason and the VM is left exactly as it was; the rule
catalog (refit.platform.rules) decides what is incompatible."""

from __future__ import annotations

from refresh_helpers import RG, version

from refit.azure.fleet import execute, send
from refit.platform.apis import api_version_for

FLEET_RG = "rg-fleet-01"


def _disk(session, sub, rg, name, zone, props, sku="Premium_LRS"):
    rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{name}"
    execute(session, "PUT", rid, "2025-01-02", {"location": "eastus", "zones": [zone], "sku": {"name": sku},
                                                "properties": props})


def _doc(session, rid):
    status, _, body = send(session, "GET", rid, api_version_for(rid))  # a VM's and a disk's own versions
    assert status == 200
    return body


def _state(session, rg, name):
    vm = _doc(session, f"/subscriptions/{session.subscription}/resourceGroups/{rg}/providers/Microsoft.Compute/"
                       f"virtualMachines/{name}")
    iv = session.compute.virtual_machines.instance_view(rg, name)
    disk = _doc(session, vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"])
    return vm, [s.code for s in iv.statuses], disk


def _tag(session, rg, name, value):
    vm = session.compute.virtual_machines.get(rg, name)
    status, _, _ = send(session, "PATCH", f"{vm.id}/providers/Microsoft.Resources/tags/default", "2024-11-01",
                        {"operation": "Merge", "properties": {"tags": {"OsDiskName": value}}})
    assert status == 200


def test_missing_disk_other_zone_gen1_standard_for_tl_and_nonsense_are_reported_and_untouched(session, sub, refit_json):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 6}})
    session.control("POST", "scenario", {"name": "fleet", "reset": False, "params": {"vms": 1, "resource_groups": 1}})
    v11 = version(sub, "2026.11.0")
    # vm-01: a disk that does not exist
    _tag(session, RG, "vm-01", "vm-01-2026-12")
    # vm-02 (zone 2): a disk built in zone 3
    _disk(session, sub, RG, "vm-02-zone3", "3", {"creationData": {"createOption": "FromImage",
                                                                  "galleryImageReference": {"id": v11}}})
    _tag(session, RG, "vm-02", "vm-02-zone3")
    # vm-03 (Gen2, zone 3): a Gen1 disk
    _disk(session, sub, RG, "vm-03-gen1", "3", {"osType": "Linux", "hyperVGeneration": "V1", "diskSizeGB": 30,
                                                "creationData": {"createOption": "Empty"}})
    _tag(session, RG, "vm-03", "vm-03-gen1")
    # vm-04: a nonsense tag value
    _tag(session, RG, "vm-04", "next month's disk?")
    # vm-00001 (Trusted Launch, zone 1): a Standard disk
    fleet_v = (f"/subscriptions/{sub}/resourceGroups/{FLEET_RG}/providers/Microsoft.Compute/galleries/galFleet/images/"
               "ubuntu-fleet/versions/1.0.0")
    _disk(session, sub, FLEET_RG, "vm-00001-std", "1", {"creationData": {"createOption": "FromImage",
                                                                         "galleryImageReference": {"id": fleet_v}}})
    _tag(session, FLEET_RG, "vm-00001", "vm-00001-std")
    # vm-05: a good one, so the campaign runs around the bad ones
    _disk(session, sub, RG, "vm-05-2026-11", "2", {"creationData": {"createOption": "FromImage",
                                                                    "galleryImageReference": {"id": v11}}})
    _tag(session, RG, "vm-05", "vm-05-2026-11")
    bad = [(RG, "vm-01"), (RG, "vm-02"), (RG, "vm-03"), (RG, "vm-04"), (FLEET_RG, "vm-00001")]
    before = {n: _state(session, rg, n) for rg, n in bad}

    out = refit_json("refresh", "swap", "--yes", code=1)
    found = {f["name"]: (f["status"], f["rules"], f["reason"]) for f in out["findings"]}
    d = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/disks"
    assert found["vm-01"] == ("missing-disk", [], "OsDiskName='vm-01-2026-12' names no disk in resource group rg-refresh")
    assert found["vm-02"] == ("incompatible", ["D6"], f"D6: (BadRequest) Disk {d}/vm-02-zone3 cannot be attached to the "
                              "VM because it is not in the same zone as the VM. VM zone: '2'. Disk zone: '3'.")
    assert found["vm-03"][:2] == ("incompatible", ["D3"])
    assert found["vm-03"][2].startswith("D3: (PropertyChangeNotAllowed) Swapping OS Disk is not supported since "
                                        "HyperVisor property on the OSDisk and VM do not match.")
    assert found["vm-04"] == ("invalid-name", [], "OsDiskName='next month's disk?' is not a managed disk name (1-80 "
                              "letters, digits, '_', '.', '-'; starting with a letter or digit)")
    assert found["vm-00001"] == ("incompatible", ["D4"], "D4: (BadRequest) Security type of VM is not compatible with "
                                 "the security type of attached OS Disk.")
    assert found["vm-05"][0] == "swap"
    assert {found[n][0] for n in ("vm-06",)} == {"in-sync"}
    assert out["status"] == "completed" and out["message"] == "1 of 1 VMs on their new OS disk"

    # each bad VM exactly as it was: its document (tags included), power state and OS disk document
    for rg, n in bad:
        assert _state(session, rg, n) == before[n], n
    assert session.compute.virtual_machines.get(RG, "vm-05").storage_profile.os_disk.name == "vm-05-2026-11"

    # --dry-run says the same and changes nothing
    dry = refit_json("refresh", "swap", "--dry-run")
    assert {f["name"]: f["status"] for f in dry["findings"] if f["status"] != "in-sync"} == {
        "vm-01": "missing-disk", "vm-02": "incompatible", "vm-03": "incompatible", "vm-04": "invalid-name",
        "vm-00001": "incompatible"}
