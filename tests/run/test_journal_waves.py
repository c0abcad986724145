"""The journal (SQLite in the state dir, runs created atomically, the lock of a run being executed) and
the wave planner and lower bound."""

from __future__ import annotations

import subprocess
import sys

from refit.run.journal import Journal, VmRow, state_dir
from refit.run.waves import Member, Policy, lower_bound, plan_waves

TIMING = {"vm.deallocate": 45.0, "vm.update": 10.0, "vm.start": 40.0, "vm.boot": 30.0}


def test_state_dir_and_atomic_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "st"))
    assert state_dir() == tmp_path / "st"
    j = Journal()
    assert j.path == tmp_path / "st" / "journal.sqlite"
    rows = [VmRow("", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/VM-1", "VM-1", "1",
                  0, "/d/prev", "/d/next", "pending", "", 0.0, region="eastus", health=True)]
    run = j.new_run("swap", "s", "https://x", {"policy": {"canary": 1}}, 10.0, rows, [(0, "1", 1)])
    assert (run.kind, run.status, run.params, run.clock_started) == ("swap", "running", {"policy": {"canary": 1}}, 10.0)
    got = j.vms(run.id)
    assert [(r.vm, r.name, r.wave, r.previous, r.target, r.state, r.region, r.health) for r in got] == [
        ("/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm-1", "VM-1", 0, "/d/prev",
         "/d/next", "pending", "eastus", True)]
    j.step(run.id, rows[0].vm, "deallocate", "started", "", 11.0)
    j.step(run.id, rows[0].vm, "deallocate", "done", "", 56.0)
    assert [(s["step"], s["status"], s["at"]) for s in j.steps(run.id)] == [("deallocate", "started", 11.0),
                                                                            ("deallocate", "done", 56.0)]
    assert j.waves(run.id)[0] | {} == {"n": 0, "zone": "1", "size": 1, "status": "pending", "failed": 0,
                                         "started": None, "finished": None}
    # a run nobody executes is interrupted; one whose lock a live process holds is not
    assert [r.id for r in j.interrupted("s", ("swap",))] == [run.id]
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True);"
        " time.sleep(60)"), str(j.path.parent / "runs" / f"{run.id}.lock")], stdout=subprocess.PIPE, text=True)
    (j.path.parent / "runs").mkdir(exist_ok=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert j.held_elsewhere(run.id) and j.interrupted("s", ("swap",)) == []
        assert j.acquire(run.id) is False
    finally:
        holder.kill()
        holder.wait()
    assert j.acquire(run.id) is True and not j.held_elsewhere(run.id)
    j.finish_run(run.id, "completed", "1 of 1", 99.0)
    assert j.run(run.id).status == "completed" and j.interrupted("s", ("swap",)) == []
    j.close()


def _m(name, zone):
    return Member(name, name, zone)


def test_canary_then_batches_and_zone_waves():
    vms = [_m(f"vm-{i:02d}", str((i - 1) % 3 + 1)) for i in range(1, 13)] + [_m("vm-r1", ""), _m("vm-r2", "")]
    plain = plan_waves(vms, Policy())
    # 14 VMs: batches of ceil(20% * 14) = 3, natural name order
    assert [(w.n, [m.name for m in w.members]) for w in plain] == [
        (0, ["vm-01"]), (1, ["vm-02", "vm-03", "vm-04"]), (2, ["vm-05", "vm-06", "vm-07"]),
        (3, ["vm-08", "vm-09", "vm-10"]), (4, ["vm-11", "vm-12", "vm-r1"]), (5, ["vm-r2"])]
    zoned = plan_waves(vms, Policy(wave_by="zone"))
    assert [(w.n, w.zone, [m.name for m in w.members]) for w in zoned] == [
        (0, "1", ["vm-01"]), (1, "1", ["vm-04", "vm-07", "vm-10"]), (2, "2", ["vm-02", "vm-05", "vm-08"]),
        (3, "2", ["vm-11"]), (4, "3", ["vm-03", "vm-06", "vm-09"]), (5, "3", ["vm-12"]), (6, "", ["vm-r1", "vm-r2"])]
    assert all(len({m.zone for m in w.members}) == 1 for w in zoned)
    none = plan_waves(vms[:4], Policy(canary=0, batch_percent=50))
    assert [(w.n, len(w.members)) for w in none] == [(1, 2), (2, 2)]


def test_lower_bound():
    # no throttling: the chain (45 + 10 + 40 s) per wave, soaks between
    assert lower_bound([1, 2], TIMING, soak=60, throttling=False) == 95 + 60 + 95
    assert lower_bound([1], TIMING, soak=60, health=True, throttling=False) == 125
    # max_parallel 1 serialises a wave
    assert lower_bound([3], TIMING, soak=0, throttling=False, max_parallel=1) == 3 * 95
    # 100 VMs fit ARM's write burst (4 writes each: 200 at once, then 10/s); 400 do not
    assert lower_bound([100], TIMING, soak=0) == 95
    assert lower_bound([400], TIMING, soak=0) > 95 + 60
