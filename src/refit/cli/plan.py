"""`refit plan` and `refit apply`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from refit.arm.errors import UserError
from refit.cli.common import console, emit_json, globals_of
from refit.cli.session import open_session


def _fmt_s(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def plan(
    ctx: typer.Context,
    goal: Path = typer.Argument(None, help="Goal file (YAML): goals: [{resource: ID, properties: {path: value}}]."),
    resource: str = typer.Option(None, "--resource", help="Shortcut: the resource of a one-resource goal."),
    set_: list[str] = typer.Option([], "--set", help="Shortcut: PATH=VALUE for --resource (repeatable)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the plan (JSON) here, for `refit apply`."),
    max_expansions: int = typer.Option(3000, help="Search budget (states expanded per group of goals)."),
) -> None:
    """The cheapest order of operations Azure accepts from the fleet as it is to the goal, or why none exists."""
    from refit.azure.fleet import load_world
    from refit.plan import goal as goal_mod
    from refit.plan.planner import make_plan

    g = globals_of(ctx)
    if goal is not None and (resource or set_):
        raise UserError("give a goal file or --resource/--set, not both")
    if goal is None:
        if not resource or not set_:
            raise UserError("give a goal file, or --resource ID with at least one --set PATH=VALUE")
        goals = goal_mod.from_sets(resource, set_)
    else:
        goals = goal_mod.load(goal)
    with open_session(ctx) as s:
        world = load_world(s)
    p = make_plan(world, goals, max_expansions=max_expansions)
    if out is not None:
        p.write(out)
    if g.json:
        emit_json(p.to_json())
    else:
        render(p, out)
    if p.impossible:
        raise typer.Exit(1)


def render(p, out: Path | None) -> None:
    if p.steps:
        t = Table(title=f"plan: {len(p.steps)} steps", show_lines=True)
        for c in ("#", "step", "why", "duration", "downtime", "rollback"):
            t.add_column(c, overflow="fold")
        for s in p.steps:
            rb = s.rollback_note or (f"{s.rollback['method']} {s.rollback['path'].rsplit('/', 2)[-2:][-1]}"
                                     if s.rollback else "")
            flag = " [red](irreversible)[/]" if s.irreversible else (" [yellow](temporary)[/]" if s.temporary else "")
            t.add_row(str(s.n), s.summary + flag, s.why, _fmt_s(s.duration_seconds),
                      _fmt_s(s.downtime_seconds) if s.downtime_seconds else "none", rb)
        console.print(t)
        tot = p.totals()
        console.print(f"total: {_fmt_s(tot['duration_seconds'])}, downtime {_fmt_s(tot['downtime_seconds'])}, "
                      f"{tot['irreversible_steps']} irreversible step(s), {tot['writes']} writes"
                      f" (planned in {p.planning_seconds:.2f} s)")
    elif not p.impossible:
        console.print("nothing to do: the fleet already meets the goal")
    if p.cleanup:
        console.print("[bold]offered clean-up[/] (`refit apply --cleanup`): " + "; ".join(s.summary for s in p.cleanup))
    for imp in p.impossible:
        console.print(f"\n[bold red]no path[/] for {imp.resource.rsplit('/', 1)[-1]}: "
                      + ", ".join(f"{k} = {v}" for k, v in imp.goal.items()))
        for b in imp.blocked_by:
            console.print(f"  blocked by {b.rule} ({b.title}): Azure answers ({b.code}) {b.message}  [{b.attempted}]",
                          highlight=False)
        if imp.recreate:
            console.print(f"  recreate instead (downtime {_fmt_s(imp.recreate_downtime_seconds)}):")
            for s in imp.recreate:
                console.print(f"    {s.n}. {s.summary} ({_fmt_s(s.duration_seconds)})", highlight=False)
        elif imp.recreate_error:
            console.print(f"  recreating is not possible either: {imp.recreate_error}", highlight=False)
    if out is not None:
        console.print(f"plan written to {out}; run it with `refit apply {out}`")


def apply(
    ctx: typer.Context,
    plan_file: Path = typer.Argument(..., help="A plan written by `refit plan -o`."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the requests; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    cleanup: bool = typer.Option(False, "--cleanup", help="Also delete the plan's temporary resources at the end."),
) -> None:
    """Execute a plan; steps already true are skipped, the first failure stops with a rollback report."""
    from refit.plan.model import Plan
    from refit.run import apply as runner

    g = globals_of(ctx)
    p = Plan.read(plan_file)
    steps = p.steps + (p.cleanup if cleanup else [])
    if dry_run:
        if g.json:
            emit_json({"dry_run": True, "requests": [s.request for s in steps]})
        else:
            import json

            for s in steps:  # plain lines, never wrapped: they are requests to copy
                typer.echo(f"{s.n}. {s.request['method']} {s.request['path']}?api-version={s.request['api_version']}")
                if s.request.get("body") is not None:
                    typer.echo(json.dumps(s.request["body"], indent=2))
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("refusing to change anything without confirmation: pass --yes (or --dry-run to look first)")
        if not typer.confirm(f"Apply {len(steps)} steps of {plan_file}?"):
            raise typer.Exit(1)

    def progress(step, status):
        if not g.json:
            console.print(f"{step.n}. {step.summary}: {status}", highlight=False)

    with open_session(ctx) as s:
        out = runner.run(s, p, cleanup=cleanup, progress=progress)
    report = {"ok": out.ok, "done": [x.n for x in out.done], "skipped": [x.n for x in out.skipped],
              "failed": out.failed.n if out.failed else None,
              "error": {"code": out.error.code, "message": out.error.message} if out.error else None,
              "rollback": out.rollback() if not out.ok else []}
    if g.json:
        emit_json(report)
    elif not out.ok:
        console.print(f"[red]stopped at step {out.failed.n}[/]: Azure answered ({out.error.code}) {out.error.message}",
                      highlight=False)
        console.print("steps done in this run, and how to undo them (newest first):")
        for r in out.rollback():
            req = r["request"]
            console.print(f"  step {r['step']} ({r['summary']}): "
                          + (f"{req['method']} {req['path']}" if req else r["note"]), highlight=False)
    else:
        console.print(f"[green]applied[/]: {len(out.done)} steps run, {len(out.skipped)} already true")
    if not out.ok:
        raise typer.Exit(1)
