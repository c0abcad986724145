"""The rest of the refresh surface: capacity (AllocationFailed retried, then rollback), rollback on demand,
prune, status, the critical-VM warning and `refit reserve`, selection and Resource Graph paging."""

from __future__ import annotations

import itertools

from refresh_helpers import RG, disks, fleet, version

from refit.run.journal import Journal


def _seed_next(session, sub, refit_json, vms, scenario="disk-swap", **params):
    session.control("POST", "scenario", {"name": scenario, "params": {"vms": vms, **params}})
    refit_json("refresh", "disks", "--image", version(sub, "2026.11.0"), "--suffix", "2026-11", "--yes")
    refit_json("refresh", "tag", "--suffix", "2026-11", "--yes")


def test_allocation_failed_on_start_is_retried_with_backoff(session, sub, refit_json):
    _seed_next(session, sub, refit_json, 2)
    session.control("PUT", "faults", {"allocation_failed": {"remaining": 2, "vms": ["vm-01"]}})
    out = refit_json("refresh", "swap", "--start-backoff", "30", "--yes")
    assert out["status"] == "completed"
    j = Journal()
    try:
        vm = session.compute.virtual_machines.get(RG, "vm-01").id
        starts = [(s["status"], s["detail"][:38]) for s in j.steps(out["run"], vm) if s["step"] == "start"]
        gaps = [s["at"] for s in j.steps(out["run"], vm) if s["step"] == "start" and s["status"] == "started"]
    finally:
        j.close()
    assert starts == [("started", "attempt 1"), ("failed", "(ZonalAllocationFailed) Allocation fai"),
                      ("backoff", "30 s"), ("started", "attempt 2"),
                      ("failed", "(ZonalAllocationFailed) Allocation fai"), ("backoff", "60 s"),
                      ("started", "attempt 3"), ("done", "")]
    # each retry waited its backoff (30 s, then 60 s of simulated time) after the failed start's 40 s
    assert [b - a >= want for (a, b), want in zip(itertools.pairwise(gaps), (70, 100), strict=True)] == [True, True]
    assert fleet(session) == {"vm-01": ("vm-01-2026-11", "running"), "vm-02": ("vm-02-2026-11", "running")}


def test_no_capacity_for_the_new_image_rolls_back_and_never_leaves_a_vm_deallocated(session, sub, refit_json):
    _seed_next(session, sub, refit_json, 3, scenario="refresh-health", no_capacity="2026.11.0")
    out = refit_json("refresh", "swap", "--start-retries", "2", "--start-backoff", "10", "--yes", code=1)
    assert out["status"] == "halted"
    canary = next(r for r in out["vms"] if r["vm"] == "vm-01")
    assert canary["state"] == "rolled-back"
    assert canary["detail"].startswith("start failed 3 times for capacity: (ZonalAllocationFailed) Allocation failed.")
    assert fleet(session) == {f"vm-0{i}": (f"vm-0{i}-2026-10", "running") for i in (1, 2, 3)}


def test_rollback_by_name_and_by_run_then_prune(session, sub, refit_json):
    _seed_next(session, sub, refit_json, 4)
    swap = refit_json("refresh", "swap", "--yes")
    assert swap["status"] == "completed"
    # by name: the journal's previous disk; health-checked; the desired-state tags follow
    out = refit_json("refresh", "rollback", "vm-02", "--yes")
    assert out["status"] == "completed" and out["message"] == "1 of 1 VMs back on their previous OS disk"
    assert fleet(session)["vm-02"] == ("vm-02-2026-10", "running")
    assert session.compute.virtual_machines.get(RG, "vm-02").tags == {
        "AutoRefresh": "true", "OsDiskName": "vm-02-2026-10", "OsDiskPrevious": "vm-02-2026-11"}
    # by run: the others (vm-02 already went back)
    out = refit_json("refresh", "rollback", "--run", swap["run"], "--yes")
    assert sorted((f["name"], f["status"]) for f in out["findings"]) == [
        ("vm-01", "rollback"), ("vm-02", "in-sync"), ("vm-03", "rollback"), ("vm-04", "rollback")]
    assert fleet(session) == {f"vm-0{i}": (f"vm-0{i}-2026-10", "running") for i in (1, 2, 3, 4)}
    # nothing to roll back without a record
    dry = refit_json("refresh", "rollback", "vm-01", "--dry-run")
    # the previous disk of vm-01 is now the one it left: rolling "back" twice is a roll forward
    assert [(f["name"], f["status"], f["target_disk"]) for f in dry["findings"]] == [("vm-01", "rollback", "vm-01-2026-11")]

    # prune: keep 1 per VM; the current, desired and recorded previous disks are never deleted
    from refit.azure.fleet import execute

    for name in ("vm-03-2026-12", "vm-03-2027-01"):  # two more refresh disks, created after the others
        execute(session, "PUT", f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/{name}",
                "2025-01-02", {"location": "eastus", "zones": ["3"], "sku": {"name": "Premium_LRS"},
                               "properties": {"creationData": {"createOption": "FromImage", "galleryImageReference": {
                                   "id": version(sub, "2026.11.0")}}}})
    plan = refit_json("refresh", "prune", "--keep", "1", "--dry-run")
    doomed = sorted(d["name"] for d in plan["disks"] if d["action"] == "delete")
    # vm-03: 2027-01 is the newest (kept), 2026-10 runs, 2026-11 is the recorded previous: 2026-12 goes
    assert doomed == ["vm-03-2026-12"]
    before = disks(session)
    out = refit_json("refresh", "prune", "--keep", "1", "--yes")
    assert out["message"] == "1 disks deleted"
    assert disks(session) == before - {"vm-03-2026-12"}


def test_status_critical_warning_and_reserve(session, sub, refit, refit_json):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 3, "resource_groups": 1}})
    # vm-00001 is tier=critical without a capacity reservation: the swap warns and points to `refit reserve`
    plan = refit_json("refresh", "swap", "--dry-run")
    assert {f["status"] for f in plan["findings"]} == {"in-sync"} and plan["warnings"] == []
    rg = "rg-fleet-01"
    vm1 = session.compute.virtual_machines.get(rg, "vm-00001")
    from refit.azure.fleet import send

    send(session, "PATCH", f"{vm1.id}/providers/Microsoft.Resources/tags/default", "2024-11-01",
         {"operation": "Merge", "properties": {"tags": {"OsDiskName": "vm-00002-os"}}})
    plan = refit_json("refresh", "swap", "--dry-run")
    assert plan["warnings"] == []  # the swap vm-00001 asks for is refused (the disk is vm-00002's): nothing to warn
    refit_json("refresh", "disks", "--image", f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/"
               "galleries/galFleet/images/ubuntu-fleet", "--suffix", "next", "--yes")
    refit_json("refresh", "tag", "--suffix", "next", "--yes")
    plan = refit_json("refresh", "swap", "--dry-run")
    assert plan["warnings"] == ["vm-00001 is tagged tier=critical and has no capacity reservation: a deallocated VM "
                                "may not get its hardware back; protect it first with `refit reserve --vm vm-00001`"]
    _, _, err = refit("refresh", "swap", "--dry-run")
    assert "warning: vm-00001 is tagged tier=critical" in err

    res = refit_json("reserve", "--vm", "vm-00001", "--dry-run")
    assert [s["op"] for s in res["plan"]["steps"]] == ["create_capacity_reservation_group", "create_capacity_reservation",
                                                       "patch", "set_reservation_capacity"]
    assert all(s["downtime_seconds"] == 0 for s in res["plan"]["steps"])  # a running zonal VM is never stopped
    res = refit_json("reserve", "--vm", "vm-00001", "--yes")
    assert res["ok"] is True
    vm1 = session.compute.virtual_machines.get(rg, "vm-00001")
    assert vm1.capacity_reservation.capacity_reservation_group.id.lower().endswith("/capacityreservationgroups/crg-eastus")
    plan = refit_json("refresh", "swap", "--dry-run")
    assert plan["warnings"] == []
    # a VM in a zone crg-eastus does not cover (its zones are fixed, rule C1) gets a group of its own zone
    assert session.compute.capacity_reservation_groups.get(rg, "crg-eastus").zones == ["1"]
    vm3 = session.compute.virtual_machines.get(rg, "vm-00003")
    assert vm3.zones == ["3"]
    res = refit_json("reserve", "--vm", "vm-00003", "--yes")
    assert res["ok"] is True
    assert [s["op"] for s in res["plan"]["steps"]] == ["create_capacity_reservation_group", "create_capacity_reservation",
                                                       "patch", "set_reservation_capacity"]
    vm3 = session.compute.virtual_machines.get(rg, "vm-00003")
    assert vm3.capacity_reservation.capacity_reservation_group.id.lower().endswith(
        "/capacityreservationgroups/crg-eastus-z3")
    assert session.compute.capacity_reservation_groups.get(rg, "crg-eastus-z3").zones == ["3"]


def test_selection_and_graph_paging_beyond_the_first_100(session, sub, refit, refit_json):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 120}})
    dry = refit_json("refresh", "tag", "--suffix", "2026-11", "--force", "--dry-run")
    assert len(dry["vms"]) == 120 and {v["status"] for v in dry["vms"]} == {"tag"}
    vm119 = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/VM-119"
    dry = refit_json("refresh", "tag", "--suffix", "2026-11", "--force", "--dry-run", "--vm", "vm-07", "--vm", vm119)
    assert [v["name"] for v in dry["vms"]] == ["vm-07", "vm-119"]
    dry = refit_json("refresh", "tag", "--suffix", "x", "--force", "--dry-run", "--where", "OsDiskName=vm-100-2026-10")
    assert [v["name"] for v in dry["vms"]] == ["vm-100"]
    # A selection that names what is not there is refused as a whole (exit 2, one line), not half-applied.
    assert refit("refresh", "tag", "--suffix", "2026-11", "--dry-run", "--vm", "vm-07", "--vm", "nope") == (
        2, "", "error: no VM 'nope' in the subscription; `refit inventory --type microsoft.compute/virtualmachines` "
        "lists them\n")
    assert refit("refresh", "tag", "--suffix", "x", "--dry-run", "-g", "other") == (
        2, "", "error: --resource-group other: no VM in a resource group of that name; `refit inventory --type "
        "microsoft.compute/virtualmachines` lists the VMs and their groups\n")


def test_tag_names_are_configurable(session, sub, refit, refit_json):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 2}})
    refit_json("refresh", "disks", "--image", version(sub, "2026.11.0"), "--suffix", "2026-11", "--yes")
    out = refit_json("refresh", "--disk-tag", "WantedDisk", "--previous-tag", "WasDisk", "tag", "--suffix", "2026-11",
                     "--yes")
    assert out["message"] == "2 VMs tagged"
    out = refit_json("refresh", "--disk-tag", "WantedDisk", "--previous-tag", "WasDisk", "swap", "--yes")
    assert out["message"] == "2 of 2 VMs on their new OS disk"
    assert session.compute.virtual_machines.get(RG, "vm-02").tags == {
        "AutoRefresh": "true", "OsDiskName": "vm-02-2026-10", "WantedDisk": "vm-02-2026-11", "WasDisk": "vm-02-2026-10"}
    # nothing in scope under another scope tag: said, not a silent success
    assert refit("refresh", "--scope-tag", "Refresh", "swap", "--dry-run") == (
        2, "", "error: nothing selected: no VM is tagged Refresh=true; tag the VMs to refresh, or name your own scope "
        "tag with --scope-tag/--scope-value\n")


CENTRAL = """
name: central
resources:
  - id: /subscriptions/{sub}/resourceGroups/rg-central
    location: centralus
  - id: /subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Network/virtualNetworks/vnet-c
    location: centralus
    properties:
      addressSpace: {addressPrefixes: [10.30.0.0/16]}
      subnets: [{name: default, properties: {addressPrefix: 10.30.0.0/20}}]
  - id: /subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Network/networkInterfaces/vm-c1-nic
    location: centralus
    properties:
      ipConfigurations:
        - name: ipconfig1
          properties:
            subnet: {id: "/subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Network/virtualNetworks/vnet-c/subnets/default"}
  - id: /subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Compute/disks/vm-c1-os
    location: centralus
    zones: ["1"]
    sku: {name: Premium_LRS}
    properties: {osType: Linux, hyperVGeneration: V2, diskSizeGB: 30, creationData: {createOption: Empty}}
  - id: /subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Compute/virtualMachines/vm-c1
    location: centralus
    zones: ["1"]
    tags: {AutoRefresh: "true", OsDiskName: vm-c1-os}
    properties:
      hardwareProfile: {vmSize: Standard_D2s_v5}
      storageProfile:
        osDisk: {createOption: Attach, osType: Linux, managedDisk: {id: "/subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Compute/disks/vm-c1-os"}}
      networkProfile:
        networkInterfaces: [{id: "/subscriptions/{sub}/resourceGroups/rg-central/providers/Microsoft.Network/networkInterfaces/vm-c1-nic"}]
"""


def test_disks_replicate_the_version_to_the_vms_region_first_or_refuse(session, sub, refit_json):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    session.control("POST", "scenario", {"yaml": CENTRAL, "reset": False})
    v11 = version(sub, "2026.11.0")
    out = refit_json("refresh", "disks", "--image", v11, "--suffix", "next", "--no-replicate", "--dry-run")
    assert {d["name"]: (d["status"], d["reason"]) for d in out["disks"]} == {
        "vm-01": ("create", ""),
        "vm-c1": ("refused", "image version 2026.11.0 is not replicated to centralus; replicate it (drop --no-replicate) "
                             "or pick another version")}
    out = refit_json("refresh", "disks", "--image", v11, "--suffix", "next", "--vm", "vm-c1", "--dry-run")
    assert [(d["name"], d["status"], d["replicate_to"], d["reason"]) for d in out["disks"]] == [("vm-c1", "create", "centralus", "")]
    out = refit_json("refresh", "disks", "--image", v11, "--suffix", "next", "--vm", "vm-c1", "--yes")
    assert out["status"] == "completed" and out["message"] == "1 disks created"
    ver = session.compute.gallery_image_versions.get(RG, "galRefresh", "ubuntu-refresh", "2026.11.0",
                                                     expand="ReplicationStatus")
    assert sorted((s.region.replace(" ", "").lower(), s.state) for s in ver.replication_status.summary) == [
        ("centralus", "Completed"), ("eastus", "Completed")]
    d = session.compute.disks.get("rg-central", "vm-c1-next")
    assert (d.location, d.zones, d.creation_data.gallery_image_reference.id.lower()) == ("centralus", ["1"], v11.lower())
