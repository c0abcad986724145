"""A plan as a review artifact (`refit plan -o markdown`): a pull-request comment that says what will happen,
in which order, why, with what downtime and how to undo it (seed 002's "CI/CD as a platform": the plan is
reviewed like code before an environment's approval applies it).

Steps are grouped by wave, the order `refit apply` runs them in (a wave is the steps whose dependencies
are all in earlier waves: `refit.run.stepgraph`), and within a wave by resource. Nothing here is measured
at run time (no planning time), so the same plan renders the same bytes.
"""

from __future__ import annotations

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.plan.model import Plan, Step


def render(plan: Plan) -> str:
    out = [f"## refit plan: {headline(plan)}", ""]
    if plan.steps or plan.cleanup:
        tot = plan.totals()
        out += ["| total | |", "|---|---|",
                f"| steps | {tot['steps']}" + (f" (+{len(plan.cleanup)} clean-up)" if plan.cleanup else "") + " |",
                f"| duration, steps one after another | {duration(tot['duration_seconds'])} |",
                f"| downtime | {duration(tot['downtime_seconds']) if tot['downtime_seconds'] else 'none'} |",
                f"| irreversible steps | {tot['irreversible_steps']} |",
                f"| writes to Azure | {tot['writes'] + len(plan.cleanup)} |", ""]
    for n, wave in enumerate(waves(plan), 1):
        out += [f"### Wave {n}" + (" (clean-up)" if all(s in plan.cleanup for s in wave) else ""), ""]
        for resource, steps in _by_resource(wave):
            out += [f"**{short_name(resource)}** `{resource}`", "",
                    "| # | step | why | duration | downtime | rollback |", "|---|---|---|---|---|---|"]
            out += [_row(s, s in plan.cleanup) for s in steps]
            out.append("")
    for imp in plan.impossible:
        out += [f"### No path: {short_name(imp.resource)}", "",
                "Goal: " + ", ".join(f"`{k}` = `{v}`" for k, v in imp.goal.items()), ""]
        out += [f"- blocked by **{b.rule}** ({_cell(b.title)}): Azure answers `{b.code}` {_cell(b.message)}"
                for b in imp.blocked_by]
        if imp.recreate:
            out += ["", f"Recreate instead (downtime {duration(imp.recreate_downtime_seconds)}):", ""]
            out += [f"{s.n}. {_cell(s.summary)} ({duration(s.duration_seconds)})" for s in imp.recreate]
            if imp.recreate_note:
                out += ["", f"Cost: {_cell(imp.recreate_note)}"]
        elif imp.recreate_error:
            out += ["", f"Recreating is not possible either: {_cell(imp.recreate_error)}"]
        out.append("")
    for ex in plan.exhausted:
        out += [f"### Not planned: {', '.join(short_name(r) for r in ex.resources)}", "", _cell(ex.message), ""]
    if plan.solved and plan.steps:
        out.append("Apply with `refit apply plan.json" + (" --cleanup" if plan.cleanup else "") + "` (steps already "
                   "true are skipped; a killed run resumes)" + ("; without `--cleanup` the clean-up waves are left "
                                                                "out." if plan.cleanup else "."))
    return "\n".join(out).rstrip() + "\n"


def waves(plan: Plan) -> list[list[Step]]:
    """The steps by wave: wave k holds the steps whose every dependency is in waves before k."""
    from refit.run.stepgraph import dependencies

    steps = [*plan.steps, *plan.cleanup]
    deps = dependencies(steps, cleanup_from=len(plan.steps) if plan.cleanup else None)
    level: list[int] = []
    for d in deps:  # dependencies always point backwards
        level.append(1 + max((level[i] for i in d), default=-1))
    out: list[list[Step]] = [[] for _ in range(max(level, default=-1) + 1)]
    for s, lv in zip(steps, level, strict=True):
        out[lv].append(s)
    return out


def headline(plan: Plan) -> str:
    if plan.status == "impossible":
        return f"no path for {len(plan.impossible)} goal(s)"
    if plan.status == "budget_exhausted":
        return "not planned: the search stopped on its budget"
    if not plan.steps:
        return "nothing to do, the fleet already meets the goal"
    down = plan.totals()["downtime_seconds"]
    extra = f" (+{len(plan.cleanup)} clean-up)" if plan.cleanup else ""
    return (f"{len(plan.steps)} steps{extra} in {len(waves(plan))} waves, "
            + (f"downtime {duration(down)}" if down else "no downtime"))


def _by_resource(wave: list[Step]) -> list[tuple[str, list[Step]]]:
    groups: dict[str, list[Step]] = {}
    for s in wave:
        groups.setdefault(s.resource, []).append(s)
    return list(groups.items())


def _row(s: Step, cleanup: bool) -> str:
    number = f"c{s.n}" if cleanup else str(s.n)  # clean-up steps are numbered on their own
    flag = " **irreversible**" if s.irreversible else (" *(temporary)*" if s.temporary else "")
    if s.rollback:
        rb = f"`{s.rollback['method']} {short_name(s.rollback['path'].split('?', 1)[0])}`"
    else:
        rb = _cell(s.rollback_note) or "none"
    return (f"| {number} | {_cell(s.summary)}{flag} | {_cell(s.why)} | {duration(s.duration_seconds)} | "
            f"{duration(s.downtime_seconds) if s.downtime_seconds else 'none'} | {rb} |")


def short_name(rid: str) -> str:
    try:
        r = ResourceId.parse(rid)
    except ArmError:  # not an id (a path with an action): its last segment
        return rid.rstrip("/").rsplit("/", 1)[-1]
    return "/".join(n for _, n in r.types) or r.resource_group or rid


def _cell(text: str) -> str:
    """Text safe inside a table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def duration(s: float) -> str:
    """Seconds as refit prints them: `45 s`, `4.5 min`."""
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"
