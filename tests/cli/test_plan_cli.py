"""`refit plan` / `refit apply` as users run them: files, dry run, stop-and-rollback report, resume, bad input."""

from __future__ import annotations

import json

import pytest

from refit.cli import main

SUB = "00000000-0000-4000-8000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-fleet-01/providers/Microsoft.Compute/virtualMachines/vm-00001"


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture
def fleet(session, server, monkeypatch, tmp_path):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))  # apply's journal
    monkeypatch.setenv("REFIT_ENDPOINT", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    return session


def test_plan_file_dry_run_apply_and_resume(fleet, capsys, tmp_path):
    plan_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "plan", "--resource", VM, "--set", "properties.securityProfile.securityType=TrustedLaunch",
                       "--out", str(plan_file))
    assert code == 0 and "plan written to" in out and plan_file.is_file()
    plan = json.loads(plan_file.read_text())
    assert [s["op"] for s in plan["steps"]] == ["deallocate", "patch", "start"]
    assert [(s["request"]["method"], s["request"]["path"].rsplit("/", 1)[-1]) for s in plan["steps"]] == [
        ("POST", "deallocate"), ("PATCH", "vm-00001"), ("POST", "start")]
    assert all(set(s) >= {"why", "downtime_seconds", "request"} for s in plan["steps"])

    code, out, _ = run(capsys, "apply", str(plan_file), "--dry-run")
    assert code == 0
    assert out.splitlines()[0] == f"1. POST {VM}/deallocate?api-version=2026-04-01"
    assert fleet.compute.virtual_machines.get("rg-fleet-01", "vm-00001").security_profile is None  # nothing changed

    # The start fails for lack of capacity: apply stops there and says how to undo what it did.
    fleet.control("PUT", "faults", {"allocation_failed": {"remaining": 1}})
    code, out, _ = run(capsys, "-o", "json", "apply", str(plan_file), "--yes")
    report = json.loads(out)
    assert code == 1
    assert report["done"] == [1, 2] and report["failed"] == 3 and report["error"]["code"] == "ZonalAllocationFailed"
    assert [(r["step"], r["request"]["method"] if r["request"] else None) for r in report["rollback"]] == [
        (2, "PATCH"), (1, "POST")]
    assert report["rollback"][1]["request"]["path"] == f"{VM}/start"

    # Re-run: the steps already true are skipped, the rest runs.
    code, out, _ = run(capsys, "-o", "json", "apply", str(plan_file), "--yes")
    assert code == 0 and json.loads(out) == {"ok": True, "aborted": False, "done": [3], "skipped": [1, 2], "failed": None,
                                             "error": None, "rollback": []}
    vm = fleet.compute.virtual_machines.get("rg-fleet-01", "vm-00001")
    assert vm.security_profile.security_type == "TrustedLaunch"


def test_bad_input_is_one_line_exit_2(fleet, capsys, tmp_path):
    code, _, err = run(capsys, "plan", str(tmp_path / "missing.yaml"))
    assert code == 2 and err.strip() == f"error: goal file '{tmp_path / 'missing.yaml'}' does not exist"
    bad = tmp_path / "goal.yaml"
    bad.write_text("goals:\n  - resource: /nope\n    properties: {a: 1}\n")
    code, _, err = run(capsys, "plan", str(bad))
    assert code == 2 and "goals.0.resource" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "plan", "--resource", VM, "--set", "no-equals-sign")
    assert code == 2 and "--set takes PATH=VALUE" in err
    other = VM.replace("rg-fleet-01", "rg-nowhere")
    code, _, err = run(capsys, "plan", "--resource", other, "--set", "tags.a=b")
    assert code == 2 and "resource group 'rg-nowhere'" in err
    junk = tmp_path / "plan.json"
    junk.write_text('{"hello": 1}')
    code, _, err = run(capsys, "apply", str(junk), "--yes")
    assert code == 2 and "is not a refit plan" in err
    code, _, err = run(capsys, "apply", str(junk))
    assert code == 2


def test_impossible_goal_exits_1_with_the_blocking_rule(fleet, capsys):
    code, out, _ = run(capsys, "-o", "json", "plan", "--resource", VM, "--set",
                       "properties.securityProfile.securityType=ConfidentialVM")
    plan = json.loads(out)
    assert code == 1 and plan["status"] == "impossible" and plan["steps"] == []
    assert "U8" in [b["rule"] for b in plan["impossible"][0]["blocked_by"]]


def test_budget_exhausted_is_said_as_such_exit_1(fleet, capsys, tmp_path):
    sec = "properties.securityProfile.securityType=TrustedLaunch"
    code, out, _ = run(capsys, "plan", "--resource", VM, "--set", sec, "--max-expansions", "0")
    assert code == 1
    assert out.splitlines() == ["", "not planned for vm-00001: properties.securityProfile.securityType = TrustedLaunch",
                                "  search budget exhausted after 0 states (raise with --max-expansions)"]
    code, out, _ = run(capsys, "-o", "json", "plan", "--resource", VM, "--set", sec, "--max-depth", "2",
                       "--out", str(tmp_path / "plan.json"))
    plan = json.loads(out)
    assert code == 1 and (plan["status"], plan["steps"], plan["impossible"]) == ("budget_exhausted", [], [])
    assert [(e["budget"], e["limit"], e["message"]) for e in plan["exhausted"]] == [(
        "max_depth", 2,
        "search depth limit reached after 2 states: paths longer than 2 steps were not tried (raise with --max-depth)")]
    code, _, err = run(capsys, "apply", str(tmp_path / "plan.json"), "--yes")
    assert code == 2 and "ran out of budget" in err
    # Raised, the same goal is planned.
    code, out, _ = run(capsys, "-o", "json", "plan", "--resource", VM, "--set", sec, "--max-depth", "3")
    assert code == 0 and [s["op"] for s in json.loads(out)["steps"]] == ["deallocate", "patch", "start"]


def test_no_path_is_said_with_its_rule_not_a_budget(fleet, capsys):
    code, out, _ = run(capsys, "plan", "--resource", VM, "--set", "properties.securityProfile.securityType=ConfidentialVM")
    assert code == 1
    lines = out.splitlines()
    assert lines[1] == "no path for vm-00001: properties.securityProfile.securityType = ConfidentialVM"
    assert any(line.startswith("  blocked by U8 ") for line in lines)
    assert "budget" not in out and "not planned" not in out


def test_missing_resource_and_refused_value_are_user_errors(fleet, capsys):
    missing = VM.replace("vm-00001", "vm-00009")
    code, out, err = run(capsys, "plan", "--resource", missing, "--set", "properties.securityProfile.securityType=TrustedLaunch")
    assert (code, out) == (2, "")
    assert err == (f"error: goal resource {missing} does not exist (check its name; refit plans changes to existing "
                   "virtual machines, it does not create them)\n")
    code, out, err = run(capsys, "plan", "--resource", VM, "--set", "properties.securityProfile.securityType=trustedlaunch")
    assert (code, out) == (2, "")
    assert err == ("error: goal vm-00001: properties.securityProfile.securityType = 'trustedlaunch' is not a security "
                   "type Azure accepts (Standard, TrustedLaunch, ConfidentialVM)\n")
    code, _, err = run(capsys, "plan", "--resource", VM, "--set", "tags.a=b", "--max-expansions", "-1")
    assert (code, err) == (2, "error: --max-expansions is a number of states, 0 or more; not -1\n")
    code, _, err = run(capsys, "plan", "--resource", VM, "--set", "tags.a=b", "--max-depth", "-2")
    assert (code, err) == (2, "error: --max-depth is a number of steps, 0 or more; not -2\n")


def test_budget_defaults_are_the_planners():
    import inspect

    from refit.cli.plan import plan
    from refit.plan import search

    params = inspect.signature(plan).parameters
    assert (params["max_expansions"].default.default, params["max_depth"].default.default) == (
        search.DEFAULT_MAX_EXPANSIONS, search.DEFAULT_MAX_DEPTH)
