"""`refit apply` as users run it: the journal of its runs, resuming what a killed run left half done, the
stop at a failure, and the user errors of `--resume`."""

from __future__ import annotations

import json

import pytest

from refit.cli import main
from refit.plan.model import Plan
from refit.run import apply as runner
from refit.run.journal import Journal


def vm_id(sub: str, n: int) -> str:
    rg = f"rg-fleet-{(n - 1) % 4 + 1:02d}"
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/vm-{n:05d}"


@pytest.fixture
def fleet(session, server, monkeypatch, tmp_path):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 2, "security_type": "Standard"}})
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REFIT_ENDPOINT", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    return session


def refit(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def events(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.fixture
def plan_file(fleet, sub, capsys, tmp_path):
    goal = tmp_path / "goal.json"
    goal.write_text(json.dumps({"goals": [{"resource": vm_id(sub, n), "properties": {
        "properties.securityProfile.securityType": "TrustedLaunch"}} for n in (1, 2)]}))
    out = tmp_path / "plan.json"
    code, _, err = refit(capsys, "plan", str(goal), "--out", str(out))
    assert code == 0, err
    assert [(s["n"], s["op"], s["group"]) for s in json.loads(out.read_text())["steps"]] == [
        (1, "deallocate", 1), (2, "patch", 1), (3, "start", 1), (4, "deallocate", 2), (5, "patch", 2), (6, "start", 2)]
    return out


def vms(session) -> dict[str, tuple[str, str]]:
    out = {}
    for n in (1, 2):
        vm = session.compute.virtual_machines.get(f"rg-fleet-{n:02d}", f"vm-{n:05d}", expand="instanceView")
        power = next(s.code for s in vm.instance_view.statuses if s.code.startswith("PowerState/"))
        out[vm.name] = ((vm.security_profile.security_type if vm.security_profile else None) or "Standard", power)
    return out


def test_a_killed_runs_half_done_chain_is_finished_by_a_plain_rerun(fleet, plan_file, capsys, sub):
    # What a run SIGKILLed mid-deallocate leaves: the run and its steps recorded, step 1 started, the VM
    # deallocated by then, its PATCH never sent.
    journal = Journal()
    run = runner.start_run(journal, fleet, Plan.read(plan_file), False, str(plan_file), 0.0)
    journal.set_apply_step(run.id, 0, runner.RUNNING, started=0.0)
    journal.close()
    fleet.compute.virtual_machines.begin_deallocate("rg-fleet-01", "vm-00001").result()

    code, out, err = refit(capsys, "apply", str(plan_file), "--yes", "-o", "json")
    assert code == 0, err
    assert json.loads(out) == {"ok": True, "aborted": False, "done": [2, 3, 4, 5, 6], "skipped": [1], "failed": None, "error": None,
                               "rollback": []}
    assert events(err)[0] == {"event": "run", "run": run.id, "resumed": True, "steps": 6}
    assert vms(fleet) == {"vm-00001": ("TrustedLaunch", "PowerState/running"),
                          "vm-00002": ("TrustedLaunch", "PowerState/running")}
    journal = Journal()
    assert journal.run(run.id).status == "completed"
    assert [(r.n, r.state) for r in journal.apply_steps(run.id)] == [
        (1, "skipped"), (2, "done"), (3, "done"), (4, "done"), (5, "done"), (6, "done")]
    log = [(x["step"], x["status"]) for x in journal.steps(run.id)]
    # (the second VM's chain runs beside the first: only the first VM's entries are in order)
    first_vm = [x for x in log if x[0].split(":")[0] in ("1", "2", "3")]
    assert first_vm[0] == ("1:deallocate", "skipped") and log.count(("2:patch", "started")) == 1
    rows = {r.n: r for r in journal.apply_steps(run.id)}
    assert rows[2].started <= rows[2].finished <= rows[3].started  # a VM's steps in order
    journal.close()

    # The same plan again: a new run that finds every step already true and sends no write.
    code, out, err = refit(capsys, "apply", str(plan_file), "--yes", "-o", "json")
    assert code == 0 and json.loads(out)["done"] == [] and json.loads(out)["skipped"] == [1, 2, 3, 4, 5, 6]
    assert events(err)[0]["resumed"] is False and events(err)[0]["run"] != run.id
    # --resume of a finished run says how it ended
    code, out, _ = refit(capsys, "apply", "--resume", run.id, "--yes")
    assert code == 0 and f"run {run.id} is already completed: 5 steps run, 1 already true" in out


def test_a_failure_stops_new_steps_records_everything_and_a_rerun_finishes(fleet, plan_file, capsys):
    fleet.control("PUT", "faults", {"allocation_failed": {"remaining": 1}})
    code, out, _ = refit(capsys, "apply", str(plan_file), "--yes", "-o", "json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["failed"] in (3, 6)
    assert report["error"]["code"] == "ZonalAllocationFailed"
    assert report["rollback"][0]["step"] in report["done"]  # how to undo what ran, newest first
    journal = Journal()
    (run,) = journal.runs(kinds=("apply",))
    states = {r.n: r.state for r in journal.apply_steps(run.id)}
    journal.close()
    assert run.status == "failed" and list(states.values()).count("failed") == 1
    assert set(states.values()) <= {"done", "failed", "not-started"}
    assert sorted(report["done"]) == sorted(n for n, s in states.items() if s == "done")
    code, out, _ = refit(capsys, "apply", "--resume", run.id, "--yes", "-o", "json")  # it is over: how it ended
    assert code == 1 and json.loads(out)["failed"] == report["failed"]
    assert json.loads(out)["error"]["code"] == "ZonalAllocationFailed"

    code, out, _ = refit(capsys, "apply", str(plan_file), "--yes", "-o", "json")
    assert code == 0 and sorted(json.loads(out)["done"] + json.loads(out)["skipped"]) == [1, 2, 3, 4, 5, 6]
    assert vms(fleet) == {"vm-00001": ("TrustedLaunch", "PowerState/running"),
                          "vm-00002": ("TrustedLaunch", "PowerState/running")}


def test_resume_user_errors_are_one_line_exit_2(fleet, plan_file, capsys, tmp_path):
    code, _, err = refit(capsys, "apply", "--resume", "apply-nope", "--yes")
    assert code == 2 and err.startswith("error: no apply run 'apply-nope' in the journal")
    code, _, err = refit(capsys, "apply", "--yes")
    assert code == 2 and "give a plan file" in err
    code, _, err = refit(capsys, "apply", str(plan_file), "--yes", "--max-parallel", "-1")
    assert code == 2 and "--max-parallel" in err

    journal = Journal()
    run = runner.start_run(journal, fleet, Plan.read(plan_file), False, str(plan_file), 0.0)
    other = tmp_path / "other.json"
    p = Plan.read(plan_file)
    p.steps = p.steps[:3]
    p.write(other)
    code, _, err = refit(capsys, "apply", str(other), "--resume", run.id, "--yes")
    assert code == 2 and f"run {run.id} applies another plan" in err
    assert journal.acquire(run.id)  # another refit process is executing it
    code, _, err = refit(capsys, "apply", str(plan_file), "--yes")
    assert code == 2 and f"run {run.id} of this plan is in progress in another refit process" in err
    journal.release(run.id)
    journal.close()
    assert len(err.strip().splitlines()) == 1


def test_an_abort_lets_the_chain_under_way_finish_and_starts_no_other(fleet, plan_file, monkeypatch):
    """`refit campaign abort` during an apply (one step at a time): the VM whose chain began is not left deallocated;
    the other VM's chain never starts; the run ends halted, naming the operator."""
    from refit.azure.clock import clock_for
    from refit.azure.pacing import PacedClient
    from refit.run import control

    monkeypatch.setattr(control.Gate, "POLL_REAL_SECONDS", 0.0)
    journal = Journal()
    run = runner.start_run(journal, fleet, Plan.read(plan_file), False, str(plan_file), 0.0, max_parallel=1)
    operator = Journal()
    seen: list[tuple[int, str]] = []

    def progress(step, status):
        seen.append((step.n, status))
        if (step.n, status) == (1, "done"):  # the first VM is deallocated: abort now
            control.request(operator, run.id, "abort")

    client = PacedClient(fleet, clock_for(fleet))
    try:
        out = runner.execute(client, journal, run, progress)
    finally:
        client.close()
    first, second = {1, 2, 3}, {4, 5, 6}
    assert out.aborted and not out.ok and out.failed is None
    assert {x.n for x in out.done} in (first, second) and len(out.not_started) == 3
    begun = {x.n for x in out.done}
    assert (operator.run(run.id).status, operator.run(run.id).message) == (
        "halted", "aborted by the operator: 3 steps run, 0 already true, 3 not started")
    assert {r.n: r.state for r in operator.apply_steps(run.id)} == {
        n: "done" if n in begun else "not-started" for n in range(1, 7)}
    aborted_vm, untouched_vm = ("vm-00001", "vm-00002") if begun == first else ("vm-00002", "vm-00001")
    assert vms(fleet) == {aborted_vm: ("TrustedLaunch", "PowerState/running"),
                          untouched_vm: ("Standard", "PowerState/running")}
    journal.close()
    operator.close()


def test_a_plan_applied_after_the_fleet_drifted_stops_before_its_first_write(fleet, plan_file, capsys):
    """vm-00002 was resized to a size that refuses Trusted Launch after the plan was made: the re-check names the
    step that would now be refused and sends nothing (no VM deallocated, no run recorded)."""
    vm = fleet.compute.virtual_machines.get("rg-fleet-02", "vm-00002")
    vm.hardware_profile.vm_size = "Standard_M8ms"
    fleet.compute.virtual_machines.begin_create_or_update("rg-fleet-02", "vm-00002", vm).result()
    code, out, _ = refit(capsys, "apply", str(plan_file), "--yes", "-o", "json")
    report = json.loads(out)
    assert code == 1 and report["failed"] == 5 and report["done"] == [] and report["error"]["code"] == "BadRequest"
    assert report["recheck"]["rules"] == ["S1"]
    assert report["recheck"]["message"].startswith(
        "the fleet changed since the plan was made: step 5 (PATCH vm-00002: securityProfile.securityType=TrustedLaunch)"
        " would be refused now: (BadRequest) ")
    assert report["recheck"]["message"].endswith("[rule S1]; nothing was sent: make the plan again with `refit plan`")
    assert vms(fleet) == {"vm-00001": ("Standard", "PowerState/running"), "vm-00002": ("Standard", "PowerState/running")}
    journal = Journal()
    assert journal.runs(kinds=("apply",)) == []
    journal.close()
    # Text output: one line saying so, exit 1.
    code, out, _ = refit(capsys, "apply", str(plan_file), "--yes")
    assert code == 1 and out.startswith("not applied: the fleet changed since the plan was made: step 5 ")
