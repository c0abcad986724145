"""Acceptance: seed 003's monthly refresh of a 50-VM fleet across 3 zones, end to end through the CLI
(`refresh disks`, `tag`, `swap`), and a bad image version stopped at the canary."""

from __future__ import annotations

import itertools

from refresh_helpers import RG, disks, fleet, version


def test_50_vm_fleet_disks_tag_swap_canary_first_zone_ordered(session, sub, refit_json):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 50}})
    names = [f"vm-{n:02d}" for n in range(1, 51)]
    zone = {name: str((n - 1) % 3 + 1) for n, name in enumerate(names, start=1)}
    before = disks(session)

    out = refit_json("refresh", "disks", "--image", version(sub, "2026.11.0"), "--suffix", "2026-11", "--yes")
    assert out["status"] == "completed" and out["message"] == "50 disks created"
    for n in names:
        d = session.compute.disks.get(RG, f"{n}-2026-11")
        # in the VM's resource group, region and zone, with its generation and SKU, from the version
        assert (d.location, d.zones, d.hyper_v_generation, d.sku.name, d.disk_state) == (
            "eastus", [zone[n]], "V2", "Premium_LRS", "Unattached")
        assert d.creation_data.gallery_image_reference.id.lower() == version(sub, "2026.11.0").lower()
        assert d.security_profile is None  # the VMs are Standard (rule D4)

    out = refit_json("refresh", "tag", "--suffix", "2026-11", "--yes")
    assert out["message"] == "50 VMs tagged"
    assert {vm.name: vm.tags["OsDiskName"] for vm in session.compute.virtual_machines.list(RG)} == {
        n: f"{n}-2026-11" for n in names}

    out = refit_json("refresh", "swap", "--wave-by", "zone", "--yes")
    assert out["status"] == "completed"
    assert out["message"] == "50 of 50 VMs on their new OS disk"
    # canary first (one VM of the first zone), then batches of 20% (10 VMs), never two zones in one wave
    waves = [(w["n"], w["zone"], w["vms"]) for w in out["waves"]]
    z1 = [n for n in names if zone[n] == "1"]
    z2 = [n for n in names if zone[n] == "2"]
    z3 = [n for n in names if zone[n] == "3"]
    assert waves == [(0, "1", z1[:1]), (1, "1", z1[1:11]), (2, "1", z1[11:]), (3, "2", z2[:10]), (4, "2", z2[10:]),
                     (5, "3", z3[:10]), (6, "3", z3[10:])]
    assert [(w["n"], w["status"], w["failed"]) for w in out["waves"] if "status" in w] == [
        (n, "done", 0) for n in range(7)]
    # the waves ran in that order: each started after the previous one finished
    starts = [(w["started"], w["finished"]) for w in sorted(out["waves"], key=lambda w: w["n"]) if "started" in w]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(starts))
    assert {r["vm"]: (r["state"], r["previous"], r["target"]) for r in out["vms"]} == {
        n: ("done", f"{n}-2026-10", f"{n}-2026-11") for n in names}

    # every VM runs its new disk; the previous one is kept (rollback) and recorded in a tag; nothing deleted
    assert fleet(session) == {n: (f"{n}-2026-11", "running") for n in names}
    for vm in session.compute.virtual_machines.list(RG):
        assert vm.tags == {"AutoRefresh": "true", "OsDiskName": f"{vm.name}-2026-11", "OsDiskPrevious": f"{vm.name}-2026-10"}
    after = disks(session)
    assert before <= after and after - before == {f"{n}-2026-11" for n in names}
    assert {session.compute.disks.get(RG, f"{n}-2026-10").disk_state for n in names} == {"Unattached"}

    # a plain re-run finds nothing to do
    again = refit_json("refresh", "swap", "--yes")
    assert {f["status"] for f in again["findings"]} == {"in-sync"} and again["waves"] == []

    st = refit_json("refresh", "status")
    assert st["run"]["kind"] == "swap" and st["run"]["status"] == "completed"
    assert st["summary"] == {"vms": 50, "in_sync": 50, "running": 50, "deallocated": 0, "states": {"done": 50}}


def test_bad_image_version_canary_fails_rolls_back_and_halts(session, sub, refit_json):
    # The health model from scenario YAML: VMs booted from 2026.11.0 report HealthState/unhealthy.
    session.control("POST", "scenario", {"name": "refresh-health", "params": {"vms": 9, "bad": "2026.11.0"}})
    assert session.control("GET", "health-model") == {"images": {"2026.11.0": {"state": "unhealthy"}, "none": {
        "allocation_failed": True}}}
    names = [f"vm-{n:02d}" for n in range(1, 10)]
    refit_json("refresh", "disks", "--image", version(sub, "2026.11.0"), "--suffix", "2026-11", "--yes")
    refit_json("refresh", "tag", "--suffix", "2026-11", "--yes")
    before = disks(session)

    out = refit_json("refresh", "swap", "--grace", "300", "--yes", code=1)
    assert out["status"] == "halted"
    assert out["message"] == ("wave 0 halted the campaign: 1 of 1 VMs failed (more than --max-unhealthy-percent 20)")
    rows = {r["vm"]: (r["state"], r["detail"]) for r in out["vms"]}
    assert rows["vm-01"] == ("rolled-back", "not healthy within the 300 s grace period: PowerState/running, "
                                            "HealthState/unhealthy")
    assert {n: rows[n] for n in names[1:]} == {n: ("not-started", "the campaign halted before its wave") for n in names[1:]}
    # 9 VMs: the canary, then 4 waves of 2 (20% of 9, rounded up)
    assert [(w["n"], w["status"], len(w["vms"])) for w in out["waves"]] == [
        (0, "halted", 1), (1, "halted", 2), (2, "halted", 2), (3, "halted", 2), (4, "halted", 2)]

    # every VM on its previous disk and running; the canary's desired state points back at its previous disk
    assert fleet(session) == {n: (f"{n}-2026-10", "running") for n in names}
    canary = session.compute.virtual_machines.get(RG, "vm-01")
    assert canary.tags == {"AutoRefresh": "true", "OsDiskName": "vm-01-2026-10", "OsDiskPrevious": "vm-01-2026-11"}
    iv = session.compute.virtual_machines.instance_view(RG, "vm-01")
    assert iv.vm_health.status.code == "HealthState/healthy"
    assert disks(session) == before  # nothing deleted
    steps = [(s["step"], s["status"]) for s in _steps(session, out["run"], "vm-01")]
    assert steps == [("record-previous", "started"), ("record-previous", "done"), ("deallocate", "started"),
                     ("deallocate", "done"), ("swap", "started"), ("swap", "done"), ("start", "started"),
                     ("start", "done"), ("health", "started"), ("health", "failed"), ("rollback-tags", "started"),
                     ("rollback-tags", "done"), ("rollback-deallocate", "started"), ("rollback-deallocate", "done"),
                     ("rollback-swap", "started"), ("rollback-swap", "done"), ("rollback-start", "started"),
                     ("rollback-start", "done"), ("rollback-health", "started"), ("rollback-health", "done")]


def _steps(session, run_id, name):
    from refit.run.journal import Journal

    j = Journal()
    try:
        key = session.compute.virtual_machines.get(RG, name).id
        return j.steps(run_id, key)
    finally:
        j.close()
