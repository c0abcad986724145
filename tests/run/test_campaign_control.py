"""An operator's pause, resume and abort (refit.run.control, `refit campaign`): the exact effect on the journal and on
the VMs read back through the SDK. The campaign runs in a thread; the requests come through a second journal
connection, as from another process (`refit campaign` in another shell, `refit serve`)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from refit.arm.errors import UserError
from refit.azure.clock import EmulatorClock
from refit.azure.fleet import send
from refit.azure.pacing import PacedClient
from refit.cli import main
from refit.run import control
from refit.run import refresh as R
from refit.run.journal import Journal
from refit.run.waves import Policy
from snapshots import os_disks_and_power

RG = "rg-refresh"
VERSION = "/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/galleries/galRefresh/images/" \
          "ubuntu-refresh/versions/2026.11.0"
NAMES = [f"vm-{n:02d}" for n in range(1, 7)]


@pytest.fixture
def fleet(server, session, tmp_path, monkeypatch):
    """Six VMs tagged for new OS disks: a swap campaign of canary 1, then waves of 3 and 2, one VM at a time."""
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(control.Gate, "POLL_REAL_SECONDS", 0.0)  # each decision reads the journal afresh
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 6}})
    client = PacedClient(session, EmulatorClock(session))
    journal = Journal()
    world = R.load(session, client)
    items = R.plan_disks(world, R.Tags(), R.Selection(), VERSION.format(sub=session.subscription), "new")
    assert R.run_disks(client, journal, session, items, {}, 0.0).status == "completed"
    for n in NAMES:
        vm = f"/subscriptions/{session.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{n}"
        status, _, _ = send(session, "PATCH", f"{vm}/providers/Microsoft.Resources/tags/default", "2024-11-01",
                            {"operation": "Merge", "properties": {"tags": {"OsDiskName": f"{n}-new"}}})
        assert status == 200
    policy = Policy(canary=1, batch_percent=50, max_parallel=1, soak_seconds=0)
    world = R.load(session, client)
    plan = R.plan_swap(world, R.Tags(), R.Selection(), policy)
    run = R.start_swap(journal, session, plan, world, R.Tags(), policy, R.Selection(), client.clock.now())
    assert [len(w.members) for w in plan.waves] == [1, 3, 2]
    try:
        yield session, client, journal, run
    finally:
        journal.close()
        client.close()


def _disks(session) -> dict[str, tuple[str, str]]:
    return os_disks_and_power(session, RG)


def _start(client, journal, run, on_event=None):
    box: dict = {}

    def go():
        box["run"] = R.execute(client, journal, run, on_event)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box


def _until(cond, what: str, seconds: float = 120.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _states(journal, run_id) -> dict[str, str]:
    return {v.name: v.state for v in journal.vms(run_id)}


def test_pause_holds_the_next_vm_then_resume_finishes_the_run(fleet):
    session, client, journal, run = fleet
    other = Journal()  # the operator's connection
    paused_after: list[str] = []

    def on_event(kind, **kw):  # pause as soon as the first VM of wave 1 is done (the campaign's own thread)
        if kind == "vm" and kw["state"] == "done" and kw["wave"] == 1 and not paused_after:
            paused_after.append(kw["vm"])
            assert control.request(other, run.id, "pause").startswith(f"run {run.id} pauses")

    t, box = _start(client, journal, run, on_event)
    _until(lambda: (other.run(run.id).status == "paused"), "the run to pause")
    time.sleep(0.3)  # the campaign keeps looking; nothing may start meanwhile
    states = _states(other, run.id)
    assert states == {"vm-01": "done", paused_after[0]: "done",
                      **{n: "pending" for n in NAMES if n not in ("vm-01", paused_after[0])}}
    assert other.run(run.id).message == f"paused by the operator: nothing new starts until `refit campaign resume {run.id}`"
    live = _disks(session)
    assert {n: live[n] for n in NAMES if states[n] == "done"} == {n: (f"{n}-new", "running")
                                                                  for n in NAMES if states[n] == "done"}
    assert {n: live[n][1] for n in NAMES} == dict.fromkeys(NAMES, "running")  # nothing left deallocated
    assert sum(live[n][0].endswith("-new") for n in NAMES) == 2
    assert control.request(other, run.id, "resume") == f"run {run.id} resumes: the next VMs and steps start"
    t.join(120)
    assert box["run"].status == "completed"
    assert set(_states(other, run.id).values()) == {"done"}
    assert _disks(session) == {n: (f"{n}-new", "running") for n in NAMES}
    other.close()


def test_abort_mid_wave_rolls_back_the_wave_in_flight_and_starts_nothing_more(fleet):
    session, client, journal, run = fleet
    other = Journal()
    before = _disks(session)
    first: list[str] = []

    def on_event(kind, **kw):
        if kind == "vm" and kw["state"] == "done" and kw["wave"] == 1 and not first:
            first.append(kw["vm"])
            control.request(other, run.id, "abort")

    t, box = _start(client, journal, run, on_event)
    t.join(120)
    done = box["run"]
    assert (done.status, done.message) == ("halted", "wave 1 halted the campaign: aborted by the operator")
    waves = {w["n"]: w["status"] for w in other.waves(run.id)}
    assert waves == {0: "done", 1: "halted", 2: "halted"}
    vms = {v.name: (v.wave, v.state) for v in other.vms(run.id)}
    wave1 = sorted(n for n, (w, _) in vms.items() if w == 1)
    assert vms == {"vm-01": (0, "done"), first[0]: (1, "rolled-back"),
                   **{n: (1, "not-started") for n in wave1 if n != first[0]},
                   **{n: (w, "not-started") for n, (w, _) in vms.items() if w == 2}}
    # The canary keeps its new disk (its wave passed); the aborted wave's VM is back on its previous disk.
    assert _disks(session) == {**before, "vm-01": ("vm-01-new", "running")}
    steps = [s["step"] for s in other.steps(run.id) if s["vm"].endswith(first[0]) and s["status"] == "done"]
    assert steps == ["record-previous", "deallocate", "swap", "start", "health", "rollback-tags", "rollback-deallocate",
                     "rollback-swap", "rollback-start", "rollback-health"]
    # Once halted, nothing more to control.
    with pytest.raises(UserError, match=f"run {run.id} is already halted; there is nothing to resume"):
        control.request(other, run.id, "resume")
    other.close()


def test_abort_of_a_paused_run_that_no_process_executes_is_honoured_when_it_is_resumed(fleet):
    session, client, journal, run = fleet
    before = _disks(session)
    msg = control.request(journal, run.id, "pause")
    assert msg == (f"run {run.id} pauses: nothing new starts, what is in flight finishes (no refit process is "
                   "executing it now: the request is honoured when the run is resumed)")
    t, box = _start(client, journal, run)
    other = Journal()
    _until(lambda: other.run(run.id).status == "paused", "the run to pause before its canary")
    assert set(_states(other, run.id).values()) == {"pending"}
    assert control.request(other, run.id, "abort").startswith(f"run {run.id} aborts: nothing new starts; once what "
                                                              "is in flight is done, the wave in flight is rolled back")
    t.join(120)
    assert (box["run"].status, box["run"].message) == ("halted", "wave 0 halted the campaign: aborted by the operator")
    assert set(_states(other, run.id).values()) == {"not-started"}
    assert _disks(session) == before
    other.close()


def test_the_cli(fleet, server, capsys):
    _, _, journal, run = fleet

    def refit(*args):
        with pytest.raises(SystemExit) as e:
            main(["--endpoint", server.url, *args])
        out = capsys.readouterr()
        return e.value.code, out.out, out.err

    code, out, err = refit("campaign", "list", "-o", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["id"], r["kind"], r["status"], r["done"], r["total"]) for r in rows][-1] == \
        (run.id, "swap", "interrupted", 0, 6)
    assert rows[0]["kind"] == "disks" and rows[0]["status"] == "completed"
    code, out, err = refit("campaign", "pause", run.id, "--yes", "-o", "json")
    assert code == 0 and json.loads(out)["run"]["control"] == "pause"
    for args, line in [
        (("campaign", "resume", "nope", "--yes"), "error: no run 'nope' in the journal"),
        (("campaign", "abort", rows[0]["id"], "--yes"), f"error: run {rows[0]['id']} is a disks run; pause, resume"),
        (("campaign", "pause", " ", "--yes"), "error: RUN must not be empty"),
    ]:
        code, out, err = refit(*args)
        assert (code, out) == (2, "") and err.startswith(line) and err.count("\n") == 1, (args, err)
    code, out, err = refit("campaign", "resume", run.id, "--yes")
    assert code == 0 and out.startswith(f"run {run.id} resumes")
    code, out, err = refit("campaign", "resume", run.id, "--yes")
    assert (code, err) == (2, f"error: run {run.id} is not paused; there is nothing to resume\n")
    assert journal.control(run.id) is None
