"""A goal file planned: its intents expanded over the fleet, the goals planned, a fleet plan's waves numbered."""

from __future__ import annotations

from refit.arm.errors import UserError
from refit.arm.world import World
from refit.plan import flowlogs, intents, search, waves
from refit.plan.model import Plan
from refit.plan.planner import make_plan


def plan_file(world: World, spec: intents.GoalFile, max_expansions: int = search.DEFAULT_MAX_EXPANSIONS,
              max_depth: int = search.DEFAULT_MAX_DEPTH) -> tuple[Plan, intents.Expansion]:
    exp = intents.expand(world, spec)
    network = [it for it in spec.intents if it.intent in intents.NETWORK_INTENTS]
    if exp.goals is None:
        if not exp.selected and not network:
            raise UserError("the intents select no VM or scale set: check their selectors (resource groups, tags, "
                            "types, regions, subscriptions)")
        plan = Plan(goals=[])  # every resource selected already is as the intents want, or is skipped
    else:
        plan = make_plan(world, exp.goals, max_expansions=max_expansions, max_depth=max_depth)
    if network:
        m = flowlogs.add_to(plan, world, network)
        exp.selected += m.selected
        exp.skipped += m.skipped
        if not m.selected:
            raise UserError("vnet-flow-logs selects no virtual network: check its selectors (resource groups, tags, "
                            "regions, subscriptions)")
    if exp.goals is None and not plan.steps:
        return plan, exp
    policy = spec.waves or (intents.Waves() if spec.intents else None)
    if policy is not None:
        waves.assign(plan, policy.canary, policy.batch_percent)
    return plan, exp
