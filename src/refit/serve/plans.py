"""Plan page data: a plan file (`refit plan ... --out plan.json`) or a goal planned afresh on the live state, as
steps grouped by wave with their dependencies (the graph `refit apply` executes, `refit.run.stepgraph`), why,
downtime per resource and rollback. The grouping is `refit.plan.markdown`'s (`refit plan -o markdown`)."""

from __future__ import annotations

from typing import Any

from refit.arm.errors import UserError
from refit.plan import markdown
from refit.plan.model import Plan, Step
from refit.run.stepgraph import dependencies
from refit.serve.context import Context, PlanSource


def load(ctx: Context, src: PlanSource) -> Plan:
    """The plan of a source: the file as `refit apply` reads it, or `refit plan GOAL`'s plan of the live state."""
    if not src.fresh:
        return Plan.read(src.path)
    from refit.plan import intents
    from refit.plan.fleet import plan_file

    spec = intents.load(src.path)
    plan, _ = plan_file(ctx.world(), spec)
    return plan


def shape(plan: Plan) -> dict[str, Any]:
    steps = [*plan.steps, *plan.cleanup]
    deps = dependencies(steps, cleanup_from=len(plan.steps) if plan.cleanup else None)
    label = {id(s): (f"c{s.n}" if i >= len(plan.steps) else str(s.n)) for i, s in enumerate(steps)}
    after = {id(s): [label[id(steps[j])] for j in sorted(d)] for s, d in zip(steps, deps, strict=True)}
    waves = []
    for k, wave in enumerate(markdown.waves(plan), 1):
        cleanup = all(s in plan.cleanup for s in wave)
        waves.append({"n": k, "cleanup": cleanup,
                      "steps": [_step(s, label[id(s)], after[id(s)]) for s in wave]})
    per_resource: dict[str, dict[str, Any]] = {}
    for s in plan.steps:
        r = per_resource.setdefault(s.resource, {"resource": s.resource, "name": markdown.short_name(s.resource),
                                                 "steps": 0, "duration": 0.0, "downtime": 0.0})
        r["steps"] += 1
        r["duration"] += s.duration_seconds
        r["downtime"] += s.downtime_seconds
    return {"headline": markdown.headline(plan),
            "status": plan.status, "totals": plan.totals(), "cleanup": len(plan.cleanup), "waves": waves,
            "resources": list(per_resource.values()),
            "impossible": [{"name": markdown.short_name(i.resource), "resource": i.resource, "goal": i.goal,
                            "blocked_by": [{"rule": b.rule, "title": b.title, "code": b.code, "message": b.message}
                                           for b in i.blocked_by],
                            "recreate": [s.summary for s in i.recreate], "recreate_error": i.recreate_error}
                           for i in plan.impossible],
            "exhausted": [e.message for e in plan.exhausted]}


def _step(s: Step, label: str, after: list[str]) -> dict[str, Any]:
    if s.rollback:
        rollback = f"{s.rollback['method']} {markdown.short_name(s.rollback['path'].split('?', 1)[0])}"
    else:
        rollback = s.rollback_note or "none"
    return {"label": label, "summary": s.summary, "why": s.why, "resource": s.resource,
            "name": markdown.short_name(s.resource), "duration": s.duration_seconds, "downtime": s.downtime_seconds,
            "irreversible": s.irreversible, "temporary": s.temporary, "rollback": rollback, "after": after,
            "rules": s.rules}


def page(ctx: Context, n: int) -> dict[str, Any]:
    """Plan source number n (from 0) as page data, or the reason it cannot be shown."""
    if not 0 <= n < len(ctx.plans):
        raise UserError(f"no plan {n}")
    src = ctx.plans[n]
    try:
        return {"source": src, "plan": shape(load(ctx, src)), "error": ""}
    except UserError as e:
        return {"source": src, "plan": None, "error": str(e)}
