"""Plan against the emulator over HTTPS, apply the plan, read the result back through the SDK."""

from __future__ import annotations

from refit.azure.fleet import load_world
from refit.plan.goal import parse
from refit.plan.planner import make_plan
from refit.run import apply as runner


def rid(sub: str, rg: str, kind: str, *names: str) -> str:
    path = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}/{names[0]}"
    for n in names[1:]:
        path += f"/{n}"
    return path


def plan_for(session, goals: list[dict]):
    return make_plan(load_world(session), parse({"goals": goals}))


def steps(plan) -> list[tuple[str, str]]:
    return [(s.op, s.summary) for s in plan.steps]


def apply(session, plan, cleanup: bool = False):
    out = runner.run(session, plan, cleanup=cleanup)
    assert out.ok, f"step {out.failed.n if out.failed else '?'} failed: {out.error}"
    return out
