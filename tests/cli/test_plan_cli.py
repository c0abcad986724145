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
def fleet(session, server, monkeypatch):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    monkeypatch.setenv("REFIT_ENDPOINT", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    return session


def test_plan_file_dry_run_apply_and_resume(fleet, capsys, tmp_path):
    plan_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "plan", "--resource", VM, "--set", "properties.securityProfile.securityType=TrustedLaunch",
                       "-o", str(plan_file))
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
    assert code == 0 and json.loads(out) == {"ok": True, "done": [3], "skipped": [1, 2], "failed": None,
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
