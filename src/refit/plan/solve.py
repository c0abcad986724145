"""One group of goals, solved: the cheapest accepted path (each step with why it is there), nothing to do, the
proof that no path exists (the blocking rules and the recreate alternative), or the budget that stopped the search.
An Answer is data (`to_json`): the planner renames one group's answer for another group in the same situation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from refit.arm import views as v
from refit.ops import vocabulary as voc
from refit.ops.op import Op, Request
from refit.plan import explain, generate, recreate, search
from refit.plan.goal import Goal, unmet
from refit.plan.model import Blocker, Exhausted, Impossible, Step
from refit.plan.sim import Sim
from refit.plan.temporaries import classify as classify_temporaries
from refit.platform.rules import RULES


@dataclass
class Answer:
    ops: list[Op] = field(default_factory=list)  # the path (empty: nothing to do, or no path)
    impossible: list[Impossible] = field(default_factory=list)
    exhausted: Exhausted | None = None
    expansions: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"ops": [asdict(op) for op in self.ops], "impossible": [asdict(i) for i in self.impossible],
                "exhausted": asdict(self.exhausted) if self.exhausted else None, "expansions": self.expansions}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Answer:
        ops = []
        for o in d["ops"]:
            o = dict(o)
            o["request"] = Request(**o["request"])
            o["rollback"] = Request(**o["rollback"]) if o.get("rollback") else None
            o["rules"] = tuple(o["rules"])
            ops.append(Op(**o))
        imps = [Impossible(**{**i, "blocked_by": [Blocker(**b) for b in i["blocked_by"]],
                              "recreate": [Step(**s) for s in i["recreate"]]}) for i in d["impossible"]]
        ex = Exhausted(**d["exhausted"]) if d.get("exhausted") else None
        return cls(ops, imps, ex, d.get("expansions", 0))


def solve(sub: Sim, goals: list[Goal], max_expansions: int, max_depth: int,
          ctx: generate.Context | None = None) -> Answer:
    """Search the group's neighborhood `sub` (a simulation of the documents the goals can touch); `ctx`: the goals'
    context when the group started before `sub` (steps of it already performed)."""
    ctx = ctx or generate.Context.start(sub, goals)
    if generate.satisfied(sub, ctx):
        return Answer()
    res = search.search(sub, ctx, max_expansions=max_expansions, max_depth=max_depth)
    if res.path is None and res.stopped != search.EXHAUSTED:
        # Not a proof: the search stopped on a budget with states left to try.
        return Answer(exhausted=Exhausted(
            resources=[g.resource for g in goals], goals=[g.model_dump() for g in goals], budget=res.stopped,
            limit=max_expansions if res.stopped == search.MAX_EXPANSIONS else max_depth, states=res.expansions),
            expansions=res.expansions)
    if res.path is None:
        return Answer(impossible=_impossible(sub, ctx, res), expansions=res.expansions)
    classify_temporaries(res.path, res.final)
    explain.explain(sub, res.path, ctx)
    return Answer(ops=res.path, expansions=res.expansions)


def _impossible(sim: Sim, ctx: generate.Context, res: search.SearchResult) -> list[Impossible]:
    out = []
    for g in ctx.goals:
        doc = sim.get(g.resource)
        pending = unmet(doc, g)
        if not pending:
            continue
        blockers: dict[tuple, Blocker] = {}
        direct = [a for a in res.refused if a.op.resource.lower() == g.resource.lower()]
        # Also what the direct change is refused with once the VM is deallocated (the usual enabler).
        probe = sim.fork()
        if doc is not None and doc["type"].lower() == v.VM.lower() and probe.power(doc["id"]) == "running":
            probe.run(voc.deallocate(doc["id"]))
        if doc is not None:
            attempt = voc.patch(probe.get(g.resource), pending)
            o = probe.fork().run(attempt)
            if not o.ok and o.error is not None:
                direct.append(search.Attempt(attempt, o.error, o.rules))
        for a in direct:
            if not a.rules:  # every platform refusal names its catalog rule (tests/rules/test_catalog_mechanism.py)
                raise RuntimeError(f"refusal without a catalog rule (a bug in refit.platform): {a.error}")
            for rid in a.rules:
                r = RULES[rid]
                key = (rid, a.error.code, a.error.message)
                if key not in blockers:
                    blockers[key] = Blocker(rule=rid, title=r.title, source=r.source, code=a.error.code,
                                            message=a.error.message, attempted=a.op.describe())
        imp = Impossible(resource=g.resource, goal=dict(g.properties), blocked_by=list(blockers.values()))
        if recreate.applies(sim, g):
            if doc["type"].lower() == v.VMSS.lower():  # type: ignore[index]
                ops, err, imp.recreate_note = recreate.vmss_path(sim, g)
            else:
                ops, err = recreate.vm_path(sim, g)
            if err:
                imp.recreate_error = err
            else:
                rs = sim.fork()
                steps = []
                for i, op in enumerate(ops, start=1):
                    before = rs.fork()
                    o = rs.run(op)
                    if not o.ok:
                        imp.recreate_error = (f"the recreate path is refused too, at '{op.describe()}': "
                                              f"({o.error.code}) {o.error.message}")
                        break
                    op.duration_s = o.duration
                    op.downtime_s = search.step_costs(before, rs, op, ctx, o.duration)[0] or (
                        o.duration if op.name.startswith("recreate") or op.meta.get("down_while_running") else 0.0)
                    op.why = "recreate: the only way to the goal (no in-place path)"
                    steps.append(Step.from_op(i, op, 0))
                if imp.recreate_error:
                    imp.recreate_note = ""  # no cost to a path that is not offered
                else:
                    imp.recreate = steps
                    imp.recreate_downtime_seconds = round(sum(s.downtime_seconds for s in steps), 3)
        out.append(imp)
    return out
