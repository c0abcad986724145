"""`refit plan` and `refit apply`."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import typer
from rich.table import Table

from refit.arm.errors import UserError
from refit.cli import engine as E
from refit.cli.common import (
    confirm,
    consent,
    console,
    emit_json,
    err_console,
    json_of,
    output_of,
    output_option,
    writable,
)
from refit.cli.session import open_session
from refit.run.journal import LIVE_RUN_STATUSES

PLAN_FORMATS = ("text", "json", "markdown")  # markdown: the plan as a pull-request comment (docs/plan.md)


def _fmt_s(s: float) -> str:
    from refit.plan.markdown import duration

    return duration(s)


def plan(
    ctx: typer.Context,
    goal: Path = typer.Argument(None, help="Goal file (YAML): goals: [{resource: ID, properties: {path: value}}]."),
    resource: str = typer.Option(None, "--resource", help="Shortcut: the resource of a one-resource goal."),
    set_: list[str] = typer.Option([], "--set", help="Shortcut: PATH=VALUE for --resource (repeatable)."),
    out: Path = typer.Option(None, "--out", help="Write the plan (JSON) here, for `refit apply`."),
    output: str = output_option(PLAN_FORMATS),
    # The defaults are refit.plan.search's DEFAULT_MAX_EXPANSIONS and DEFAULT_MAX_DEPTH (not imported here:
    # the CLI loads the planner only when it plans).
    max_expansions: int = typer.Option(3000, help="Search budget: states expanded per group of goals."),
    max_depth: int = typer.Option(10, help="Search budget: steps per path."),
    intent: list[str] = typer.Option([], "--intent", help="Fleet intent: trusted-launch, reserve-capacity, "
                                     "track-latest, gen2 (repeatable), over the VMs and scale sets selected by "
                                     "(vnet-flow-logs: over the virtual networks):"),
    window: str = typer.Option(None, "--window", help="vnet-flow-logs: how long NSG and VNet flow logs both log "
                               "before the NSG ones are disabled (ISO 8601, default PT24H)."),
    where: list[str] = typer.Option([], "--where", help="Tag KEY=VALUE (KEY=* any value; repeatable: all of them)."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help="Resource group (repeatable: any of them)."),
    type_: list[str] = typer.Option([], "--type", help="vm or vmss (repeatable)."),
    in_subscription: list[str] = typer.Option([], "--in-subscription", help="Subscription id (repeatable)."),
    region: list[str] = typer.Option([], "--region", help="Region (repeatable)."),
    canary: int = typer.Option(None, "--canary", help="Fleet plan: groups in the first wave (default 1)."),
    batch_percent: float = typer.Option(None, "--batch-percent", help="Fleet plan: wave size after the canary, % of "
                                        "the groups (default 20), within Azure's throttles."),
) -> None:
    """The cheapest order of operations Azure accepts from the fleet as it is to the goal, or why none exists."""
    from refit.azure.fleet import load_world
    from refit.plan import goal as goal_mod
    from refit.plan import intents
    from refit.plan.fleet import plan_file

    fmt = output_of(ctx, output, PLAN_FORMATS)
    if out is not None:
        writable(out)
    for option, val, unit in (("--max-expansions", max_expansions, "states"), ("--max-depth", max_depth, "steps")):
        if val < 0:
            raise UserError(f"{option} is a number of {unit}, 0 or more; not {val}")
    selecting = bool(where or rg or type_ or in_subscription or region)
    if goal is not None and (resource or set_):
        raise UserError("give a goal file or --resource/--set, not both")
    if intent and (goal is not None or resource or set_):
        raise UserError("give --intent (with its selectors) or a goal file or --resource/--set, not both")
    if selecting and not intent:
        raise UserError("--where, --resource-group, --type, --in-subscription and --region select the resources "
                        "of an --intent")
    if intent:
        spec = _intent_spec(intent, in_subscription, rg, where, type_, region, window)
    elif goal is None:
        if not resource or not set_:
            raise UserError("give a goal file, or --resource ID with at least one --set PATH=VALUE, or --intent NAME")
        spec = intents.GoalFile(goals=goal_mod.from_sets(resource, set_).goals)
    else:
        spec = intents.load(goal)
    if canary is not None or batch_percent is not None:
        try:
            spec.waves = intents.Waves(canary=1 if canary is None else canary,
                                       batch_percent=20.0 if batch_percent is None else batch_percent)
        except ValueError:
            raise UserError("--canary is a number of groups, 0 or more; --batch-percent a % in (0, 100]") from None
    with open_session(ctx) as s:
        world = load_world(s)
    p, exp = plan_file(world, spec, max_expansions=max_expansions, max_depth=max_depth)
    if spec.intents:
        print(f"intents: {exp.selected} resource(s) selected, {len(p.goals)} goal(s), {len(exp.skipped)} skipped"
              + "".join(f"; {why}: {n}" for why, n in _counts(exp.skipped)), file=sys.stderr)
    if out is not None:
        p.write(out)
    if fmt == "json":
        emit_json(p.to_json())
    elif fmt == "markdown":
        from refit.plan.markdown import render as markdown

        sys.stdout.write(markdown(p))
    else:
        render(p, out)
    if not p.solved:  # no path, or a search that stopped on its budget: nothing to apply
        raise typer.Exit(1)


def _intent_spec(names: list[str], subscriptions: list[str], rgs: list[str], where: list[str], types: list[str],
                 regions: list[str], window: str | None = None):
    from pydantic import ValidationError

    from refit.plan import intents
    from refit.plan.selectors import Selector

    try:
        sel = Selector.from_flags(subscriptions, rgs, where, types, regions)
    except ValidationError as e:
        raise UserError(f"--type: {e.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    except ValueError as e:
        raise UserError(str(e)) from None
    for n in names:
        if n not in intents.INTENTS:
            raise UserError(f"--intent '{n}' is not one refit knows ({', '.join(intents.INTENTS)})")
    if window is not None and "vnet-flow-logs" not in names:
        raise UserError("--window is the validation window of --intent vnet-flow-logs")
    try:
        return intents.GoalFile(intents=[intents.Intent(intent=n, where=sel, **(
            {"window": window} if window is not None and n == "vnet-flow-logs" else {})) for n in names])
    except ValidationError as e:
        raise UserError(f"--intent: {e.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def _counts(skipped: list[tuple[str, str]]) -> list[tuple[str, int]]:
    out: dict[str, int] = {}
    for _, why in skipped:
        out[why] = out.get(why, 0) + 1
    return sorted(out.items())


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
    elif p.solved:
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
            if imp.recreate_note:
                console.print(f"    cost: {imp.recreate_note}", highlight=False)
        elif imp.recreate_error:
            console.print(f"  recreating is not possible either: {imp.recreate_error}", highlight=False)
    for ex in p.exhausted:  # not a "no path": the search stopped before it knew
        console.print(f"\n[bold yellow]not planned[/] for {', '.join(r.rsplit('/', 1)[-1] for r in ex.resources)}: "
                      + ", ".join(f"{k} = {v}" for goal in ex.goals for k, v in goal["properties"].items()),
                      highlight=False, soft_wrap=True)
        console.print(f"  {ex.message}", highlight=False, soft_wrap=True)
    if out is not None:
        console.print(f"plan written to {out}" + (f"; run it with `refit apply {out}`" if p.solved else ""))


def apply(
    ctx: typer.Context,
    plan_file: Path = typer.Argument(None, help="A plan written by `refit plan --out FILE` (optional with --resume)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the requests; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    cleanup: bool = typer.Option(False, "--cleanup", help="Also delete the plan's temporary resources at the end."),
    resume: str = typer.Option(None, "--resume", help="Resume this apply run (default: an interrupted run of "
                               "the same plan, if any)."),
    new: bool = typer.Option(False, "--new", help="Start a new run even if one of this plan was interrupted."),
    max_parallel: int = typer.Option(None, "--max-parallel", help="Steps in flight at once (default 0: as many as "
                                     "the dependencies allow, paced by Azure's throttles)."),
    output: str = output_option(),
    engine: str = E.engine_option(),
    temporal: str = E.temporal_option(),
    namespace: str = E.namespace_option(),
    task_queue: str = E.task_queue_option(),
    detach: bool = E.detach_option(),
) -> None:
    """Execute a plan: independent steps in parallel, each skipped if already true, journaled and resumable;
    the first failure stops the run with a rollback report."""
    import json

    from refit.plan.model import Plan, Step
    from refit.run import apply as runner

    json_out = json_of(ctx, output)
    engine = E.check_engine(engine, temporal, namespace)
    if plan_file is None and not resume:
        raise UserError("give a plan file (written by `refit plan GOAL --out plan.json`), or --resume RUN")
    if max_parallel is not None and max_parallel < 0:
        raise UserError(f"--max-parallel must be 0 (no limit) or more, not {max_parallel}")
    consent(yes, dry_run)
    p = Plan.read(plan_file) if plan_file is not None else None
    steps = runner.plan_steps(p, cleanup) if p is not None else []
    if dry_run:
        if p is None:
            raise UserError("--dry-run prints a plan's requests: give the plan file")
        if json_out:
            emit_json({"dry_run": True, "requests": [s.request for s in steps]})
        else:
            for s in steps:  # plain lines, never wrapped: they are requests to copy
                typer.echo(f"{s.n}. {s.request['method']} {s.request['path']}?api-version={s.request['api_version']}")
                if s.request.get("body") is not None:
                    typer.echo(json.dumps(s.request["body"], indent=2))
        return
    confirm(yes, f"Apply {len(steps)} steps of {plan_file}?" if p is not None else f"Resume run {resume}?")

    def say(event: dict) -> None:
        if json_out:  # progress as JSON lines on stderr; the report is the one document on stdout
            sys.stderr.write(json.dumps(event) + "\n")
            sys.stderr.flush()

    def progress(step, status):
        say({"event": "step", "step": step.n, "summary": step.summary, "status": status})
        if not json_out:
            console.print(f"{step.n}. {step.summary}: {status}", highlight=False)

    with _apply_session(ctx) as (s, client, journal):
        run = _apply_run(journal, s, p, cleanup, resume, new)
        if run is not None and run.status not in LIVE_RUN_STATUSES:
            _finished_run(journal, run, json_out)
            return
        resumed = run is not None
        _recheck(s, journal, run, steps, json_out)
        if run is None:
            run = runner.start_run(journal, s, p, cleanup, str(plan_file.resolve()), client.clock.now(),  # type: ignore[arg-type, union-attr]
                                   max_parallel or 0)
        say({"event": "run", "run": run.id, "resumed": resumed, "steps": run.params["steps"]})
        if not json_out:
            console.print(f"resuming run {run.id} (reconciling every step from its live state)" if resumed else
                          f"run {run.id}: {run.params['steps']} steps", highlight=False)
        by_n = {x.n: x for x in (steps or [Step(**r.step) for r in journal.apply_steps(run.id)])}

        def on_event(kind: str, **kw) -> None:  # a Temporal run's progress, as its follower mirrors it
            if kind == "apply" and kw.get("n") in by_n:
                progress(by_n[kw["n"]], kw["status"])

        done = E.execute_on(engine, run, journal, client.clock, temporal, namespace, task_queue, detach, on_event,
                            lambda m: err_console.print(m, highlight=False),
                            lambda run: runner.execute(client, journal, run, progress, max_parallel))
        if not isinstance(done, runner.Outcome):  # followed from its workflow: the outcome as the journal has it
            if done.status in LIVE_RUN_STATUSES:  # detached: the workflow runs on
                emit_json({"run": done.id, "status": done.status, "engine": done.params.get("engine")}) if json_out \
                    else None
                return
            done = runner.outcome_of(journal, done)
        out = done
    report = {"ok": out.ok, "aborted": out.aborted, "done": sorted(x.n for x in out.done),
              "skipped": sorted(x.n for x in out.skipped),
              "failed": out.failed.n if out.failed else None,
              "error": {"code": out.error.code, "message": out.error.message} if out.error else None,
              "rollback": out.rollback() if not out.ok else []}
    say({"event": "finished", "run": run.id, "status": out.run.status if out.run else "", "max_in_flight":
         out.max_in_flight})
    if json_out:
        emit_json(report)
    elif not out.ok:
        if out.aborted:
            console.print(f"[yellow]aborted by the operator[/] (run {run.id})", highlight=False)
        else:
            console.print(f"[red]stopped at step {out.failed.n}[/]: Azure answered ({out.error.code}) "  # type: ignore[union-attr]
                          f"{out.error.message}", highlight=False)  # type: ignore[union-attr]
        for st, e in out.failures[1:]:
            console.print(f"[red]step {st.n} failed too[/]: ({e.code}) {e.message}", highlight=False)
        if out.not_started:
            console.print(f"{len(out.not_started)} steps not started; `refit apply {plan_file or run.params['plan_file']}`"
                          " resumes (steps already true are skipped)", highlight=False)
        console.print("steps done in this run, and how to undo them (newest first):")
        for r in out.rollback():
            req = r["request"]
            console.print(f"  step {r['step']} ({r['summary']}): "
                          + (f"{req['method']} {req['path']}" if req else r["note"]), highlight=False)
    else:
        console.print(f"[green]applied[/]: {len(out.done)} steps run, {len(out.skipped)} already true "
                      f"(run {run.id}, at most {out.max_in_flight} at once)", highlight=False)
    if not out.ok:
        raise typer.Exit(1)


@contextlib.contextmanager
def _apply_session(ctx: typer.Context):
    """(session, paced client on the session's Clock, journal), closed in reverse."""
    from refit.azure.clock import clock_for
    from refit.azure.pacing import PacedClient
    from refit.run.journal import Journal

    with open_session(ctx) as s:
        client = PacedClient(s, clock_for(s))
        journal = Journal()
        try:
            yield s, client, journal
        finally:
            journal.close()
            client.close()


def _apply_run(journal, s, plan, cleanup: bool, resume: str | None, new: bool):
    """The run to execute: --resume RUN, else (unless --new) an interrupted run of the same plan, else None."""
    from refit.run import apply as runner

    wanted = runner.digest(runner.plan_steps(plan, cleanup)) if plan is not None else None
    for r in journal.runs(s.subscription, (runner.KIND,)):
        if r.status in LIVE_RUN_STATUSES and r.params.get("digest") == wanted and journal.held_elsewhere(r.id):
            raise UserError(f"run {r.id} of this plan is in progress in another refit process; wait for it (or stop "
                            "it) first")
    if resume:
        run = journal.run(resume)
        if run is None or run.kind != runner.KIND:
            raise UserError(f"no apply run '{resume}' in the journal ({journal.path})")
        if run.subscription.lower() != s.subscription.lower():
            raise UserError(f"run {resume} is for subscription {run.subscription}, not {s.subscription}")
        if wanted is not None and run.params.get("digest") != wanted:
            raise UserError(f"run {resume} applies another plan (or the same plan with{'out' if cleanup else ''} "
                            f"--cleanup); give its plan file ({run.params.get('plan_file')}) or none")
        return run
    if new:
        return None
    return runner.interrupted_run(journal, s, wanted)  # type: ignore[arg-type]


def _recheck(s, journal, run, steps, json_out: bool) -> None:
    """Stop before the first write if the fleet changed so that a step still to run would be refused
    (refit.run.recheck); a resumed run ends `failed` with that reason (exit 1)."""
    from refit.plan.model import Step
    from refit.run import recheck
    from refit.run.apply import FINAL

    todo = [Step(**r.step) for r in journal.apply_steps(run.id) if r.state not in FINAL] if run is not None else steps
    drift = recheck.recheck(s, todo)
    if drift is None:
        return
    if run is not None:
        journal.finish_run(run.id, "failed", drift.message())
    if json_out:
        emit_json({"ok": False, "aborted": False, "done": [], "skipped": [], "failed": drift.step.n,
                   "error": {"code": drift.error.code, "message": drift.error.message}, "rollback": [],
                   "recheck": drift.to_json()})
    else:
        console.print(f"[red]not applied[/]: {drift.message()}", highlight=False)
    raise typer.Exit(1)


def _finished_run(journal, run, json_out: bool) -> None:
    """--resume of a run that is over: say how it ended (exit 1 if it did not complete)."""
    import re

    rows = journal.apply_steps(run.id)
    failed = [r for r in rows if r.state == "failed"]
    error = re.match(r"\((\w+)\) (.*)", failed[0].detail, re.S) if failed else None
    if json_out:
        emit_json({"ok": run.status == "completed", "done": sorted(r.n for r in rows if r.state == "done"),
                   "skipped": sorted(r.n for r in rows if r.state == "skipped"),
                   "failed": failed[0].n if failed else None,
                   "error": {"code": error[1], "message": error[2]} if error else None, "rollback": []})
    else:
        console.print(f"run {run.id} is already {run.status}: {run.message}", highlight=False)
    if run.status != "completed":
        raise typer.Exit(1)
