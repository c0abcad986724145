"""From the fleet as it is (a World) and goals, to a Plan: per independent group of goals, the cheapest
order of operations every step of which the rule catalog accepts; or, when none exists, the blocking
rules and the recreate alternative. Groups in the same situation are searched once (`plan.situations`); every
step of the plan, searched or renamed, is then performed on the whole fleet, in order."""

from __future__ import annotations

import json
import time
from typing import Any

from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan import generate, search, situations
from refit.plan.goal import GoalSet
from refit.plan.model import Plan, Step
from refit.plan.neighborhood import Index, neighborhood
from refit.plan.precheck import check_goals
from refit.plan.sim import Sim
from refit.plan.solve import Answer, solve
from refit.platform import directory


def _components(goals: GoalSet) -> list[list]:
    """Goals that reference each other (or a shared resource) are planned together."""
    idx = {id_key(g.resource): i for i, g in enumerate(goals.goals)}
    parent = list(range(len(goals.goals)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    shared: dict[str, int] = {}
    for i, g in enumerate(goals.goals):
        for val in g.properties.values():
            if isinstance(val, str) and val.lower().startswith("/subscriptions/"):
                k = id_key(val)
                if k in idx:
                    parent[find(i)] = find(idx[k])
                if k in shared:
                    parent[find(i)] = find(shared[k])
                shared.setdefault(k, i)
    groups: dict[int, list] = {}
    for i, g in enumerate(goals.goals):
        groups.setdefault(find(i), []).append(g)
    return list(groups.values())


class _Planning:
    """The state of one `make_plan`: the whole fleet (`master`), the answers of the situations seen so far."""

    def __init__(self, world: World, goals: GoalSet, max_expansions: int, max_depth: int):
        self.plan = Plan(goals=[g.model_dump() for g in goals.goals])
        self.master = Sim.from_world(world)
        self.index = Index(self.master.world)
        self.budget = (max_expansions, max_depth)
        self.templates: dict[str, str] = {}
        self.texts = situations.Texts()
        self.temporaries: list[Op] = []

    def group(self, group_no: int, comp: list) -> None:
        nb = neighborhood(self.master.world, comp, self.index)
        sit = situations.situation(nb, comp, self.texts)
        template = self.templates.get(sit.key) if sit is not None else None
        if template is not None:
            answer = Answer.from_json(json.loads(sit.instantiate(template)))
            if answer.impossible or answer.exhausted is not None:
                self.record(group_no, comp, answer, renamed=True)  # no steps: the situation's proof, or its budget
                return
            ctx = generate.Context.start(self.master, comp, nb.of_type(v.VM))
            done = self.record(group_no, comp, answer, renamed=True)
            if done == len(answer.ops) and generate.satisfied(self.master, ctx, [
                    d for d in nb.of_type(v.VMSS) if self.master.get(d["id"]) is not None]):
                return
            # The platform refused a renamed step, or the renamed steps do not reach the group's goals (the situation
            # missed a difference that matters): the steps it accepted stay, and the group is searched from the
            # state they left.
            self.plan.renamed_refused += 1
            answer = self.solve(neighborhood(self.master.world, comp, self.index), comp, ctx)
            self.record(group_no, comp, answer, renamed=False)
            return
        answer = self.solve(nb, comp)
        if sit is not None and (t := situations.template(sit, answer.to_json())) is not None:
            self.templates[sit.key] = t
        self.record(group_no, comp, answer, renamed=False)

    def solve(self, nb: World, comp: list, ctx: generate.Context | None = None) -> Answer:
        sim = Sim.from_world(nb, now=self.master.now())
        directory.carry(self.master.cloud, sim.cloud, nb.of_type(v.VM))  # the Entra devices of its VMs' hostnames
        answer = solve(sim, comp, *self.budget, ctx=ctx)
        self.plan.expansions += answer.expansions
        self.plan.situations += 1
        return answer

    def record(self, group_no: int, comp: list, answer: Answer, renamed: bool) -> int:
        """Perform the answer's steps on the whole fleet, in order, and add them to the plan; the number accepted."""
        plan = self.plan
        plan.impossible += answer.impossible
        if answer.exhausted is not None:
            plan.exhausted.append(answer.exhausted)
        vms: list[str] = []
        for i, op in enumerate(answer.ops):
            out = self.master.run(op)
            if not out.ok:
                if renamed:
                    return i
                raise RuntimeError(f"planned step refused on the full fleet: {op.describe()}: {out.error}")
            plan.steps.append(Step.from_op(len(plan.steps) + 1, op, group_no))
            if op.temporary:
                self.temporaries.append(op)
            self.index.add(self.master.get(op.creates or op.resource))
            if ResourceId.parse(op.resource).type.lower() == v.VM.lower() and op.resource not in vms:
                vms.append(op.resource)
        if answer.ops:
            # The group's end state, for `refit apply` to recognise a group already done: its goals, and the power
            # state the plan leaves each VM it touches in (a run killed between a deallocate and its start has met
            # the goals but not this).
            power = {vm: self.master.power(vm) for vm in vms}
            if plan.groups and plan.groups[-1]["group"] == group_no:
                plan.groups[-1]["power"].update(power)
            else:
                plan.groups.append({"group": group_no, "goals": [g.model_dump() for g in comp], "power": power})
        return len(answer.ops)


def make_plan(world: World, goals: GoalSet, max_expansions: int = search.DEFAULT_MAX_EXPANSIONS,
              max_depth: int = search.DEFAULT_MAX_DEPTH) -> Plan:
    t0 = time.perf_counter()
    check_goals(world, goals)
    p = _Planning(world, goals, max_expansions, max_depth)
    for group_no, comp in enumerate(_components(goals), start=1):
        p.group(group_no, comp)
    p.plan.cleanup = _cleanup(p.master, p.temporaries)
    p.plan.planning_seconds = time.perf_counter() - t0
    return p.plan


def _cleanup(sim: Sim, temporaries: list[Op]) -> list[Step]:
    """Offer to delete the temporary bridge resources, newest first, where the catalog allows it (a refused
    delete changes nothing: the catalog refuses before any effect)."""
    steps: list[Step] = []
    for i, op in enumerate(reversed(temporaries), start=1):
        d = voc.delete(op.creates or op.resource, f"delete temporary {op.resource.rsplit('/', 1)[-1]}")
        out = sim.run(d)
        if out.ok:
            d.duration_s = out.duration
            d.why = "clean-up: the temporary bridge is no longer referenced"
            steps.append(Step.from_op(i, d, 0))
    return steps


def totals(plan: Plan) -> dict[str, Any]:
    return plan.totals()
