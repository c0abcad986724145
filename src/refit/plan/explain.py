"""Why each step is there, found by counterfactual: drop the step and replay the path; the rule that
then refuses a later step is the reason. No step's reason is written by hand."""

from __future__ import annotations

from refit.ops.op import Op
from refit.plan import generate as gen
from refit.plan.goal import equal
from refit.plan.sim import Sim
from refit.platform.rules import RULES


def _replay(start: Sim, path: list[Op]) -> tuple[int | None, tuple[str, ...], Sim]:
    sim = start.fork()
    for i, op in enumerate(path):
        out = sim.run(op)
        if not out.ok:
            return i, out.rules or ((out.error.code,) if out.error else ()), sim
    return None, (), sim


def _rule_text(ids: tuple[str, ...]) -> str:
    parts = []
    for rid in ids:
        r = RULES.get(rid)
        parts.append(f"{rid} ({r.title})" if r else rid)
    return ", ".join(parts)


def explain(start: Sim, path: list[Op], ctx: gen.Context) -> None:
    for i, op in enumerate(path):
        goal_bits = _goal_bits(op, ctx)
        rest = path[:i] + path[i + 1:]
        if op.name == "await_rolling_upgrade":  # waiting is never refused: it is the upgrade the step before started
            op.why = _rolling_why(op)
            continue
        failed_at, rules, end = _replay(start, rest)
        if failed_at is not None:
            j = failed_at + (1 if failed_at >= i else 0)
            need = f"without it, step {j + 1} ({path[j].describe()}) is refused by {_rule_text(rules)}"
            op.rules = tuple(dict.fromkeys([*op.rules, *rules]))
        elif not gen.satisfied(end, ctx):
            need = "without it the goal is not reached"
            if op.name == "start":
                need = "the VM was running before the change and must run after it"
            elif op.name == "set_reservation_capacity":
                need = "reserves the VMs just associated (C3: associate with capacity 0, then raise it)"
            elif op.name == "restore_upgrade_policy":
                need = "the upgrade policy the scale set had: Rolling with maxSurge was needed only for the change (V3)"
            elif op.name in ("update_instances", "manualupgrade"):
                need = "Manual upgrade mode: instances keep the old model until updated (V2)"
            elif op.name == "await_rolling_upgrade":
                need = _rolling_why(op)
        else:
            need = ""
        if goal_bits:
            together = _together(start, path, i, op, ctx)
            if need == "without it the goal is not reached":
                need = ""
            op.why = f"goal: {goal_bits}" + (f"; {together}" if together else "") + (f"; {need}" if need and not together else "")
        else:
            op.why = need or "part of the cheapest accepted order"
        if op.temporary:
            op.why = "temporary bridge: " + op.why


def _rolling_why(op: Op) -> str:
    m = op.meta
    n, size, down = m.get("batches", 0), m.get("batch_size", 0), m.get("per_batch_downtime_s", 0.0)
    per = f"{down:.0f} s of downtime per instance, one batch at a time" if down else "maxSurge: no downtime"
    return (f"Rolling mode: Azure's rolling upgrade brings the instances to the new model, {n} batch"
            f"{'es' if n != 1 else ''} of {size} ({per})")


def _goal_bits(op: Op, ctx: gen.Context) -> str:
    props = op.meta.get("props") or {}
    g = ctx.goal_for(op.resource)
    bits = []
    if g is not None:
        for p, val in props.items():
            if p in g.properties and equal(val, g.properties[p]):
                from refit.ops.vocabulary import _short

                bits.append(f"{'.'.join(p.split('.')[-2:])} = {_short(val)}")
        if op.creates and op.creates.lower() == g.resource.lower():
            bits.append("create " + op.resource.rsplit("/", 1)[-1])
    return "; ".join(bits)


def _together(start: Sim, path: list[Op], i: int, op: Op, ctx: gen.Context) -> str:
    """For a PATCH of several properties: does the catalog refuse them one at a time?"""
    from refit.ops import vocabulary as voc

    props = {p: val for p, val in (op.meta.get("props") or {}).items() if not p.endswith("uefiSettings")}
    if len(props) < 2:
        return ""
    failed_at, _, sim = _replay(start, path[:i])
    if failed_at is not None:
        return ""
    doc = sim.get(op.resource)
    refusals, refused = [], []
    for p, val in props.items():
        out = sim.fork().run(voc.patch(doc, {p: val}))
        if not out.ok:
            refusals.extend(out.rules)
            refused.append(".".join(p.split(".")[-2:]))
    if not refusals:
        return ""
    op.rules = tuple(dict.fromkeys([*op.rules, *refusals]))
    who = "each" if len(refused) == len(props) else " and ".join(refused)
    return f"in one request, because alone {who} is refused by {_rule_text(tuple(dict.fromkeys(refusals)))}"
