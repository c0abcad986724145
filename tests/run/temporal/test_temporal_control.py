"""Acceptance: pause, resume and abort from the CLI (`refit campaign pause|resume|abort RUN`) on a Temporal run:
the signals reach its workflow, with the exact effect on the journal and the live state.

pause: the VMs in flight finish, no new one starts, the run is `paused` (and stays where it is: nothing moves
while paused); resume: the run completes. abort (while paused, mid-campaign): the wave in flight is rolled back
as a halt does, the waves before it stay done, the VMs after it are not started, the run ends `halted`."""

from __future__ import annotations

import time

from temporal_helpers import disks, fleet, seed, set_desired

from refit.run.control import ABORTED
from refit.run.journal import Journal

VMS = 30
IN_FLIGHT = ("running", "verifying", "rolling-back", "failed", "waiting-for-capacity")


def _sync(refit_json, run_id):
    """The journal brought up to date from the workflow (one pass, detached)."""
    return refit_json("refresh", "swap", "--yes", "--resume", run_id, "--detach")


def _quiet_pause(refit_json, run_id, journal):
    """Wait until the run is paused and nothing is in flight any more; its VM rows then."""
    for _ in range(600):
        _sync(refit_json, run_id)
        rows = journal.vms(run_id)
        if journal.run(run_id).status == "paused" and not any(v.state in IN_FLIGHT for v in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError("the run did not come to rest paused")


def test_pause_resume_abort_from_the_cli(session, temporal, workers, queue, refit, refit_json):
    sub = seed(session, VMS)
    before = disks(session)
    workers(1)
    args = ("refresh", "swap", "--yes", "--soak", "30", "--max-parallel", "1", "--engine", "temporal",
            "--temporal", temporal.address, "--task-queue", queue)
    j = Journal()

    # ---- pause, then resume ------------------------------------------------------------------------------------
    run_id = refit_json(*args, "--detach")["run"]
    rc, out, err = refit("campaign", "pause", run_id, "--yes")
    assert rc == 0 and "pauses" in out, (out, err)
    rows = _quiet_pause(refit_json, run_id, j)
    done = {v.name for v in rows if v.state == "done"}
    assert len(done) < VMS  # it paused mid-campaign
    assert {v.state for v in rows} <= {"done", "pending"}
    time.sleep(1.0)  # 10,000 simulated seconds: nothing starts while paused
    _sync(refit_json, run_id)
    assert {v.name for v in j.vms(run_id) if v.state == "done"} == done
    assert j.run(run_id).status == "paused"
    live = fleet(session)
    assert live == {f"vm-{n:03d}": (f"vm-{n:03d}-{'b' if f'vm-{n:03d}' in done else 'a'}", "running")
                    for n in range(1, VMS + 1)}
    rc, out, err = refit("campaign", "resume", run_id, "--yes")
    assert rc == 0 and "resumes" in out, (out, err)
    final = refit_json("refresh", "swap", "--yes", "--resume", run_id)
    assert final["status"] == "completed", final
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-b", "running") for n in range(1, VMS + 1)}
    steps = [s for s in j.steps(run_id) if s["status"] == "started" and s["step"] == "deallocate"]
    assert len(steps) == VMS  # each VM deallocated once: resuming repeated nothing

    # ---- pause, then abort: the wave in flight rolls back --------------------------------------------------------
    # A VM's chain now takes about a real second, a wave (6 VMs, one at a time) about six: the pause, sent once the
    # first VM of wave 1 is done, lands inside that wave, not at its end (at 10,000x a whole wave can pass while
    # one `refit` command starts).
    session.control("POST", "clock", {"scale": 100})
    set_desired(session, sub, VMS, "a")
    run_id = refit_json(*args, "--detach")["run"]
    for _ in range(600):  # let it get into its first wave after the canary
        _sync(refit_json, run_id)
        if any(v.wave >= 1 and v.state == "done" for v in j.vms(run_id)):
            break
        time.sleep(0.05)
    refit("campaign", "pause", run_id, "--yes")
    rows = _quiet_pause(refit_json, run_id, j)
    waves = {w["n"]: w["status"] for w in j.waves(run_id)}
    by_wave = {}
    for v in rows:
        by_wave.setdefault(v.wave, []).append(v)
    current = [n for n, s in waves.items() if s == "running"]  # paused mid-wave, or between waves (none)
    rc, out, err = refit("campaign", "abort", run_id, "--yes")
    assert rc == 0 and "aborts" in out, (out, err)
    final = refit_json("refresh", "swap", "--yes", "--resume", run_id, code=1)
    assert final["status"] == "halted" and ABORTED in final["message"], final
    after = {v.name: v.state for v in j.vms(run_id)}
    want_state, want_disk = {}, {}
    for n, members in by_wave.items():
        for v in members:
            if waves[n] == "done":
                want_state[v.name], want_disk[v.name] = "done", "a"
            elif n in current and v.state == "done":
                want_state[v.name], want_disk[v.name] = "rolled-back", "b"
            else:
                want_state[v.name], want_disk[v.name] = "not-started", "b"
    print(f"paused with {len(done)} of {VMS} done; aborted in wave(s) {current}: "
          f"{sorted((s, list(after.values()).count(s)) for s in set(after.values()))}")
    assert after == want_state
    if current:  # the pause landed mid-wave (as it does unless the machine stalls for seconds): that wave rolled back
        assert "rolled-back" in after.values()
    assert fleet(session) == {name: (f"{name}-{d}", "running") for name, d in want_disk.items()}
    statuses = [w["status"] for w in j.waves(run_id)]
    first_halted = next(i for i, s in enumerate(statuses) if s != "done")
    assert statuses == ["done"] * first_halted + ["halted"] * (len(statuses) - first_halted)
    assert disks(session) == before
    j.close()
