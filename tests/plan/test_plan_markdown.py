"""`refit plan -o markdown`: the plan as a pull-request comment (issue 13), byte for byte for seed 000's bridge
(tests/plan/golden/seed-000.md; REFIT_UPDATE_GOLDEN=1 rewrites it after a deliberate change)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refit.cli import main
from seed_goals import seed_000_app_tl

GOLDEN = Path(__file__).parent / "golden" / "seed-000.md"


def _plan(capsys, server, *args):
    with pytest.raises(SystemExit) as e:
        main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, "plan", *args])
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_seed_000_plan_as_markdown(server, session, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    session.control("POST", "scenario", {"name": "deadlock"})
    goal = seed_000_app_tl(session, tmp_path / "goal.yaml")
    code, out, err = _plan(capsys, server, str(goal), "-o", "markdown", "--out", str(tmp_path / "plan.json"))
    assert (code, err) == (0, "")
    if os.environ.get("REFIT_UPDATE_GOLDEN"):
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()
    # the same plan in JSON, for the waves the markdown shows: steps 1-6 one after another, clean-up after
    assert [line for line in out.splitlines() if line.startswith("### ")] == [
        "### Wave 1", "### Wave 2", "### Wave 3", "### Wave 4", "### Wave 5", "### Wave 6", "### Wave 7 (clean-up)",
        "### Wave 8 (clean-up)"]


def test_no_path_and_nothing_to_do_as_markdown(server, session, capsys, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    session.control("POST", "scenario", {"name": "deadlock"})
    vmss = (f"/subscriptions/{session.subscription}/resourceGroups/rg-app/providers/Microsoft.Compute/"
            "virtualMachineScaleSets/vmss-app")
    code, out, _ = _plan(capsys, server, "--resource", vmss, "--set", "sku.name=Standard_D2s_v5", "-o", "markdown")
    assert code == 0
    assert out == ("## refit plan: nothing to do, the fleet already meets the goal\n")

    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    vm = (f"/subscriptions/{session.subscription}/resourceGroups/rg-fleet-01/providers/Microsoft.Compute/"
          "virtualMachines/vm-00001")
    code, out, _ = _plan(capsys, server, "--resource", vm, "--set", "properties.securityProfile.securityType="
                         "ConfidentialVM", "-o", "markdown")
    lines = out.splitlines()
    assert code == 1
    assert lines[:4] == ["## refit plan: no path for 1 goal(s)", "", "### No path: vm-00001", ""]
    assert lines[4] == "Goal: `properties.securityProfile.securityType` = `ConfidentialVM`"
    assert any(line.startswith("- blocked by **U8** (") for line in lines)
