"""Honest answers (issue 9 scope 3, issue 13 scope 4): a search that stopped on a budget says which budget
and how to raise it, distinctly from a proven "no path"; a goal on a resource that does not exist is named
as missing; a value the catalog refuses whatever the state is refused before any search."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from refit.arm.errors import UserError
from refit.arm.ids import id_key
from refit.arm.world import World
from refit.azure.fleet import load_world
from refit.plan import generate, search
from refit.plan.goal import parse
from refit.plan.model import Plan
from refit.plan.planner import make_plan
from refit.plan.sim import Sim

sys.path.insert(0, str(Path(__file__).parent))
from plan_helpers import steps

SEC = "properties.securityProfile.securityType"


@pytest.fixture
def fleet(session, sub) -> tuple[World, str]:
    """One running Gen2 Standard VM (vm-00001)."""
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    vm = f"/subscriptions/{sub}/resourceGroups/rg-fleet-01/providers/Microsoft.Compute/virtualMachines/vm-00001"
    return load_world(session), vm


def _search(world: World, vm: str, props: dict, **budget) -> search.SearchResult:
    sim = Sim.from_world(world)
    goals = parse({"goals": [{"resource": vm, "properties": props}]}).goals
    ctx = generate.Context(goals=goals, initial_power={id_key(vm): sim.power(vm)})
    return search.search(sim, ctx, **budget)


def test_search_says_why_it_stopped(fleet):
    world, vm = fleet
    found = _search(world, vm, {SEC: "TrustedLaunch"})
    assert (found.stopped, [op.name for op in found.path]) == (search.GOAL, ["deallocate", "patch", "start"])

    budget = _search(world, vm, {SEC: "TrustedLaunch"}, max_expansions=0)
    assert (budget.stopped, budget.path, budget.expansions) == (search.MAX_EXPANSIONS, None, 0)

    depth = _search(world, vm, {SEC: "TrustedLaunch"}, max_depth=2)  # the path needs 3 steps
    assert (depth.stopped, depth.path, depth.expansions) == (search.MAX_DEPTH, None, 2)

    proven = _search(world, vm, {SEC: "ConfidentialVM"})  # Standard_D2s_v5 is no confidential size (U8)
    assert (proven.stopped, proven.path, proven.expansions) == (search.EXHAUSTED, None, 2)


def test_budget_exhausted_is_not_no_path(fleet):
    world, vm = fleet
    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}}]}), max_expansions=0)
    assert (plan.status, plan.solved, plan.steps, plan.impossible) == ("budget_exhausted", False, [], [])
    (ex,) = plan.exhausted
    assert (ex.resources, ex.budget, ex.limit, ex.states) == ([vm], "max_expansions", 0, 0)
    assert ex.message == "search budget exhausted after 0 states (raise with --max-expansions)"
    doc = plan.to_json()
    assert doc["status"] == "budget_exhausted" and doc["impossible"] == []
    assert doc["exhausted"] == [{"resources": [vm], "goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}}],
                                 "budget": "max_expansions", "limit": 0, "states": 0,
                                 "message": "search budget exhausted after 0 states (raise with --max-expansions)"}]

    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}}]}), max_depth=2)
    assert plan.status == "budget_exhausted"
    assert [e.message for e in plan.exhausted] == [
        "search depth limit reached after 2 states: paths longer than 2 steps were not tried (raise with --max-depth)"]
    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}}]}), max_depth=1)
    assert [e.message for e in plan.exhausted] == [
        "search depth limit reached after 1 state: paths longer than 1 step were not tried (raise with --max-depth)"]

    # Raised, the same goal is planned.
    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}}]}), max_depth=3)
    assert (plan.status, [s.op for s in plan.steps]) == ("ok", ["deallocate", "patch", "start"])


def test_a_proven_no_path_names_its_rule_and_no_budget(fleet):
    world, vm = fleet
    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "ConfidentialVM"}}]}))
    assert (plan.status, plan.exhausted) == ("impossible", [])
    assert "U8" in [b.rule for b in plan.impossible[0].blocked_by]


def test_one_group_out_of_budget_does_not_hide_the_others(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 2, "security_type": "Standard"}})
    vm1, vm2 = (f"/subscriptions/{sub}/resourceGroups/rg-fleet-0{n}/providers/Microsoft.Compute/virtualMachines/vm-0000{n}"
                for n in (1, 2))
    goals = parse({"goals": [{"resource": vm1, "properties": {"tags.owner": "team-a"}},
                             {"resource": vm2, "properties": {SEC: "TrustedLaunch"}}]})
    plan = make_plan(load_world(session), goals, max_depth=1)  # the tag takes 1 step, the security type 3
    assert steps(plan) == [("patch", "PATCH vm-00001: tags.owner=team-a")]
    assert [(e.resources, e.budget) for e in plan.exhausted] == [([vm2], "max_depth")]
    assert plan.status == "budget_exhausted"


def test_missing_goal_resource_is_named(fleet):
    world, vm = fleet
    missing = vm.replace("vm-00001", "vm-00009")
    with pytest.raises(UserError) as e:
        make_plan(world, parse({"goals": [{"resource": missing, "properties": {SEC: "TrustedLaunch"}}]}))
    assert str(e.value) == (f"goal resource {missing} does not exist (check its name; refit plans changes to "
                               "existing virtual machines, it does not create them)")
    vmss = missing.replace("virtualMachines/vm-00009", "virtualMachineScaleSets/vmss-nope")
    with pytest.raises(UserError) as e:
        make_plan(world, parse({"goals": [{"resource": vmss, "properties": {
            "properties.virtualMachineProfile.securityProfile.securityType": "TrustedLaunch"}}]}))
    assert str(e.value) == (f"goal resource {vmss} does not exist (check its name; refit plans changes to "
                               "existing scale sets, it does not create them)")


def test_a_value_the_catalog_refuses_outright_is_answered_before_any_search(fleet):
    world, vm = fleet
    with pytest.raises(UserError) as e:
        make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunchX"}}]}), max_expansions=0)
    assert str(e.value) == ("goal vm-00001: properties.securityProfile.securityType = 'TrustedLaunchX' is not a "
                               "security type Azure accepts (Standard, TrustedLaunch, ConfidentialVM)")


def test_a_plan_that_ran_out_of_budget_is_not_applied(fleet, tmp_path):
    world, vm = fleet
    plan = make_plan(world, parse({"goals": [{"resource": vm, "properties": {SEC: "TrustedLaunch"}}]}), max_expansions=0)
    f = tmp_path / "plan.json"
    plan.write(f)
    assert json.loads(f.read_text())["status"] == "budget_exhausted"
    with pytest.raises(UserError) as e:
        Plan.read(f)
    assert str(e.value) == (f"'{f}' is a plan whose search ran out of budget; there is nothing to apply: "
                               "plan again with a larger --max-expansions or --max-depth")
