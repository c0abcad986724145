"""Issue 13 scope 3: plans grow with situations, not resources. Groups in one situation are searched once and the
answer renamed; the renamed steps are performed on the whole fleet like searched ones, and a group whose renamed
steps do not hold is searched again."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from refit.azure.fleet import load_world
from refit.plan import situations
from refit.plan.goal import parse
from refit.plan.planner import make_plan

sys.path.insert(0, str(Path(__file__).parent))
from plan_helpers import apply

SEC = "properties.securityProfile.securityType"


def _vm(sub: str, n: int) -> str:
    rg = f"rg-fleet-{(n - 1) % 4 + 1:02d}"
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/vm-{n:05d}"


def _goals(vms: list[str]):
    return parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}} for vm in vms]})


def _alike(step) -> dict:
    """A step without its place in the plan."""
    return {k: val for k, val in dataclasses.asdict(step).items() if k not in ("n", "group")}


def test_a_fleet_is_searched_once_per_situation(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 24, "security_type": "Standard"}})
    world = load_world(session)
    vms = [_vm(sub, n) for n in range(1, 25)]
    plan = make_plan(world, _goals(vms))
    # Resource group 01 holds the gallery (its ids name the group), zones 1-3, tier critical on every 10th VM: 5
    # situations there (zone x tier) and 4 in groups 02-04, for 24 VMs.
    assert (plan.status, plan.situations, plan.renamed_refused, plan.expansions) == ("ok", 9, 0, 27)
    assert [(s.op, s.summary, s.group) for s in plan.steps[:6]] == [
        ("deallocate", "deallocate vm-00001", 1),
        ("patch", "PATCH vm-00001: securityProfile.securityType=TrustedLaunch", 1),
        ("start", "start vm-00001", 1),
        ("deallocate", "deallocate vm-00002", 2),
        ("patch", "PATCH vm-00002: securityProfile.securityType=TrustedLaunch", 2),
        ("start", "start vm-00002", 2),
    ]
    assert [s.n for s in plan.steps] == list(range(1, 73))
    assert [g["group"] for g in plan.groups] == list(range(1, 25))
    # Every group's steps are, field for field, the steps a search of that VM alone finds.
    for i, vm in enumerate(vms):
        alone = make_plan(world, _goals([vm]))
        assert [_alike(s) for s in plan.steps[3 * i:3 * i + 3]] == [_alike(s) for s in alone.steps]
    apply(session, plan)
    assert {session.compute.virtual_machines.get(vm.split("/")[4], vm.rsplit("/", 1)[-1]).security_profile.security_type
            for vm in vms} == {"TrustedLaunch"}


def test_renamed_steps_that_miss_the_goal_are_searched_again(session, sub, monkeypatch):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 25, "security_type": "Standard"}})
    session.compute.virtual_machines.begin_deallocate("rg-fleet-01", "vm-00025").result()
    # vm-00013 and vm-00025: resource group 01, zone 1, tier standard. A situation that ignores the power state (it
    # must not) puts deallocated vm-00025 with running vm-00013.
    monkeypatch.setattr(situations, "_OWN", situations._OWN | {"extended", "diskState"})
    plan = make_plan(load_world(session), _goals([_vm(sub, 13), _vm(sub, 25)]))
    assert (plan.situations, plan.renamed_refused) == (2, 1)
    assert [(s.op, s.summary, s.group) for s in plan.steps] == [
        ("deallocate", "deallocate vm-00013", 1),
        ("patch", "PATCH vm-00013: securityProfile.securityType=TrustedLaunch", 1),
        ("start", "start vm-00013", 1),
        # vm-00013's steps, renamed: Azure accepts them, but vm-00025 must end deallocated as it started ...
        ("deallocate", "deallocate vm-00025", 2),
        ("patch", "PATCH vm-00025: securityProfile.securityType=TrustedLaunch", 2),
        ("start", "start vm-00025", 2),
        # ... so the group is searched again from there.
        ("deallocate", "deallocate vm-00025", 2),
    ]
    assert plan.groups[1]["power"] == {_vm(sub, 25): "deallocated"}


def test_a_name_is_renamed_where_it_stands_alone():
    sit = situations.Situation("", ((situations.NAME, "vm-1"), (situations.GROUP, "rg")))
    assert sit.rename('"/rg/vm-1" vm-1-os vm-12 xvm-1 rg-2') == (
        '"/{{refit:resource-group}}/{{refit:name}}" {{refit:name}}-os vm-12 xvm-1 {{refit:resource-group}}-2')
    assert sit.instantiate(sit.rename("vm-1-os in rg")) == "vm-1-os in rg"


def test_no_path_is_proven_once_per_situation(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 14, "security_type": "Standard"}})
    world = load_world(session)
    vms = [_vm(sub, 2), _vm(sub, 14)]  # resource group 02, zone 2, tier standard
    goal = {"properties.securityProfile.securityType": "ConfidentialVM"}
    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": goal} for vm in vms]}))
    assert (plan.status, plan.situations, plan.steps) == ("impossible", 1, [])
    assert [i.resource for i in plan.impossible] == vms
    for vm, imp in zip(vms, plan.impossible, strict=True):
        (alone,) = make_plan(world, parse({"goals": [{"resource": vm, "properties": goal}]})).impossible
        assert dataclasses.asdict(imp) == dataclasses.asdict(alone)
    assert [b.rule for b in plan.impossible[1].blocked_by] == ["U8"]
    # Recreating is refused too (the image allows no confidential VM), and says so for this VM.
    assert plan.impossible[1].recreate_error == (
        "the recreate path is refused too, at 'create VM vm-00014 again with the goal's properties (same NIC, same data "
        "disks, new OS disk)': (InvalidParameter) SecurityType 'ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey' "
        "is not supported by given image.")
