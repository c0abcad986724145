"""Issue 13: a finished plan applied again does nothing, its temporary bridges included ("0 steps run, N already
true"), and a run killed between a deallocate and its start still starts the VM (a group is skipped as a whole
only when its goals and the power states it leaves are live)."""

from __future__ import annotations

import json

import pytest

from refit.cli import main
from refit.plan.model import Plan
from snapshots import fleet_documents

SEC = "properties.virtualMachineProfile.securityProfile.securityType"
IMG = "properties.virtualMachineProfile.storageProfile.imageReference.id"


def refit(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture
def env(server, monkeypatch, tmp_path):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REFIT_ENDPOINT", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))


def test_seed_000_applied_twice_runs_nothing_the_second_time(env, session, capsys, tmp_path):
    session.control("POST", "scenario", {"name": "deadlock"})
    base = f"/subscriptions/{session.subscription}/resourceGroups/rg-app/providers/Microsoft.Compute"
    goal = tmp_path / "goal.json"
    goal.write_text(json.dumps({"goals": [{"resource": f"{base}/virtualMachineScaleSets/vmss-app", "properties": {
        SEC: "TrustedLaunch", IMG: f"{base}/galleries/galProd/images/app-tl"}}]}))
    plan = tmp_path / "plan.json"
    assert refit(capsys, "plan", str(goal), "--out", str(plan))[0] == 0
    p = Plan.read(plan)
    assert [(g["group"], [x["resource"] for x in g["goals"]], g["power"]) for g in p.groups] == [
        (1, [f"{base}/virtualMachineScaleSets/vmss-app"], {})]
    code, out, err = refit(capsys, "-o", "json", "apply", str(plan), "--yes", "--cleanup")
    first = json.loads(out)
    assert (code, first["ok"], first["done"], first["skipped"]) == (0, True, [1, 1, 2, 2, 3, 4, 5, 6], [])
    before = fleet_documents(session)
    assert f"{base}/galleries/galProd/images/app-tl-tls-bridge" not in {k for k in before}  # cleaned up

    code, out, err = refit(capsys, "-o", "json", "apply", str(plan), "--yes", "--cleanup")
    again = json.loads(out)
    assert (code, again["ok"], again["done"], again["skipped"]) == (0, True, [], [1, 1, 2, 2, 3, 4, 5, 6])
    finished = [json.loads(line) for line in err.splitlines() if '"finished"' in line]
    assert finished[-1]["status"] == "completed"
    assert fleet_documents(session) == before  # nothing written: no bridge re-created, the set not moved back onto it


def test_a_vm_left_deallocated_by_a_killed_run_is_started(env, session, sub, capsys, tmp_path):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    vm = f"/subscriptions/{sub}/resourceGroups/rg-fleet-01/providers/Microsoft.Compute/virtualMachines/vm-00001"
    plan = tmp_path / "plan.json"
    code, _, err = refit(capsys, "plan", "--resource", vm, "--set", "properties.securityProfile.securityType="
                         "TrustedLaunch", "--out", str(plan))
    assert code == 0, err
    p = Plan.read(plan)
    assert [s.op for s in p.steps] == ["deallocate", "patch", "start"]
    assert p.groups[0]["power"] == {vm: "running"}
    # What a run killed after its PATCH leaves: the goal met, the VM deallocated.
    compute = session.compute
    compute.virtual_machines.begin_deallocate("rg-fleet-01", "vm-00001").result()
    body = {"properties": {"securityProfile": {"securityType": "TrustedLaunch",
                                              "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}}}
    from refit.azure.fleet import execute

    execute(session, "PATCH", vm, "2024-07-01", body)
    code, out, _ = refit(capsys, "-o", "json", "apply", str(plan), "--yes")
    report = json.loads(out)
    assert (code, report["done"], report["skipped"]) == (0, [3], [1, 2])  # started, not skipped as a whole
    view = compute.virtual_machines.instance_view("rg-fleet-01", "vm-00001")
    assert [s.code for s in view.statuses if s.code.startswith("PowerState/")] == ["PowerState/running"]
