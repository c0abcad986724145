"""`refit refresh disks|tag|swap|rollback|status|prune`: tag-driven OS disk refresh (seed 003)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

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
    output_option,
    tag_pair,
)
from refit.cli.session import open_session
from refit.run.journal import LIVE_RUN_STATUSES

app = typer.Typer(no_args_is_help=True)

RG_HELP = "Only VMs in this resource group (repeatable)."
WHERE_HELP = "Only VMs with this tag value, KEY=VALUE (repeatable)."
VM_HELP = "Only this VM, by name or id (repeatable)."


@app.callback()
def _tags(
    ctx: typer.Context,
    scope_tag: str = typer.Option("AutoRefresh", "--scope-tag", envvar="REFIT_SCOPE_TAG",
                                  help="Tag that puts a VM in scope."),
    scope_value: str = typer.Option("true", "--scope-value", envvar="REFIT_SCOPE_VALUE",
                                    help="Its value (compared case-insensitively)."),
    disk_tag: str = typer.Option("OsDiskName", "--disk-tag", envvar="REFIT_DISK_TAG",
                                 help="Tag naming the OS disk a VM should run."),
    previous_tag: str = typer.Option("OsDiskPrevious", "--previous-tag", envvar="REFIT_PREVIOUS_TAG",
                                     help="Tag where refit records the disk a VM ran before its last swap."),
    critical_tag: str = typer.Option("tier=critical", "--critical-tag", envvar="REFIT_CRITICAL_TAG",
                                     help="KEY=VALUE marking VMs that should have a capacity reservation."),
) -> None:
    from refit.run.campaign import Tags

    for flag, value in (("--scope-tag", scope_tag), ("--scope-value", scope_value), ("--disk-tag", disk_tag),
                        ("--previous-tag", previous_tag)):
        if not value.strip():
            raise UserError(f"{flag} must not be empty (see `refit refresh --help` for the defaults)")
    name, value = tag_pair(critical_tag, "--critical-tag")
    ctx.meta["refresh.tags"] = Tags(scope_tag, scope_value, disk_tag, previous_tag, f"{name}={value}")


# ---- shared plumbing -----------------------------------------------------------------------------------------------
def _tags_of(ctx: typer.Context):
    from refit.run.campaign import Tags

    return ctx.meta.get("refresh.tags") or Tags()


def _selection(rg: list[str], where: list[str], vm: list[str]):
    from refit.run.refresh import Selection

    return Selection(list(rg), list(where), list(vm))


@contextlib.contextmanager
def _campaign(ctx: typer.Context) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(session, clock, paced client, journal) for one command, all closed when it ends."""
    from refit.azure.clock import clock_for
    from refit.azure.pacing import PacedClient
    from refit.run.journal import Journal

    with open_session(ctx) as s:
        clock = clock_for(s)
        client = PacedClient(s, clock)
        journal = Journal()
        try:
            yield s, clock, client, journal
        finally:
            client.close()
            journal.close()


def _nothing_to_do(report: dict[str, Any], todo: list, dry_run: bool, json_out: bool, nothing: str) -> bool:
    """A dry run, or nothing to change: print the report (JSON) or say so, and tell the caller to stop."""
    if not (dry_run or not todo):
        return False
    if json_out:
        emit_json(report)
    elif not todo:
        console.print(nothing)
    return True


def _finish(report: dict[str, Any], run, json_out: bool) -> None:
    """The run's outcome, and exit 1 unless it completed."""
    report |= {"run": run.id, "status": run.status, "message": run.message}
    if json_out:
        emit_json(report)
    else:
        console.print(f"run {run.id}: {run.status}: {run.message}", highlight=False)
    _exit_for(run)


def _printer(json_out: bool) -> Callable[..., None]:
    def on_event(kind: str, **kw: Any) -> None:
        if json_out:
            return
        if kind == "vm":
            colour = {"done": "green", "rolled-back": "yellow", "failed": "red", "rollback-failed": "red",
                      "waiting-for-capacity": "yellow"}.get(kw["state"], "")
            state = f"[{colour}]{kw['state']}[/]" if colour else kw["state"]
            if kw["state"] in ("running", "verifying", "pending"):
                return
            console.print(f"  {kw['vm']}: {state}" + (f" ({kw['detail']})" if kw.get("detail") else ""), highlight=False)
        elif kind == "wave":
            label = "canary" if kw["n"] == 0 else f"wave {kw['n']}"
            zone = f" zone {kw['zone']}" if kw.get("zone") else ""
            if kw["status"] == "running":
                console.print(f"[bold]{label}[/]{zone}: {kw['size']} VM(s)")
            else:
                console.print(f"[bold]{label}[/]{zone}: done, {kw.get('failed', 0)} failed")
        elif kind == "soak":
            console.print(f"soak {kw['seconds']:.0f} s")
        elif kind == "halt":  # the reason is the `halted:` line at the end: say here what happens now
            label = "the canary" if kw["n"] == 0 else f"wave {kw['n']}"
            console.print(f"[bold yellow]rolling back[/] {label}", highlight=False)
        elif kind == "finished":
            colour = "green" if kw["status"] == "completed" else "red"
            console.print(f"[{colour}]{kw['status']}[/]: {kw['message']}", highlight=False)
        elif kind == "replicate":
            console.print(f"replicating {kw['version']} to {', '.join(kw['regions'])}")
        elif kind in ("disk", "tag", "prune"):
            console.print("  " + ", ".join(f"{k}={v}" for k, v in kw.items() if v), highlight=False)

    return on_event


def _findings_table(title: str, findings: list, show: tuple[str, ...] = ()) -> None:
    t = Table(title=title)
    for c in ("vm", "zone", "status", "current", "target", "reason"):
        t.add_column(c, overflow="fold")
    for f in findings:
        j = f.to_json()
        if show and j["status"] not in show:
            continue
        t.add_row(j["name"], j["zone"], j["status"], j["current_disk"], j["target_disk"], j["reason"])
    console.print(t)


def _on_engine(engine: str, run, journal, clock, temporal, namespace: str, task_queue: str, detach: bool,
               json_out: bool, local, extras: dict | None = None):
    """The run on its engine (refit.cli.engine.execute_on), printing what it does either way."""
    return E.execute_on(engine, run, journal, clock, temporal, namespace, task_queue, detach, _printer(json_out),
                        lambda m: err_console.print(m, highlight=False), local, extras)


def _detached(report: dict[str, Any], journal, run, json_out: bool) -> bool:
    """A Temporal run left running (`--detach`, Ctrl-C): say so with the run as the journal has it so far."""
    if run.status not in LIVE_RUN_STATUSES:
        return False
    if json_out:
        emit_json(report | _report(journal, run))
    return True


def _exit_for(run) -> None:
    if run is not None and run.status != "completed":
        raise typer.Exit(1)


# ---- disks ---------------------------------------------------------------------------------------------------------
@app.command()
def disks(
    ctx: typer.Context,
    image: str = typer.Option(..., "--image", help="Gallery image definition (its latest version) or version id."),
    suffix: str = typer.Option(..., "--suffix", help="New disks are named <vm>-<suffix>."),
    no_replicate: bool = typer.Option(False, "--no-replicate",
                                      help="Refuse (instead of replicating) when the version is not in a VM's region."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help=RG_HELP),
    where: list[str] = typer.Option([], "--where", help=WHERE_HELP),
    vm: list[str] = typer.Option([], "--vm", help=VM_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be created; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
    engine: str = E.engine_option(),
    temporal: str = E.temporal_option(),
    namespace: str = E.namespace_option(),
    task_queue: str = E.task_queue_option(),
    detach: bool = E.detach_option(),
) -> None:
    """Create <vm>-<suffix> from a gallery image for every in-scope VM: its resource group, region, zone,
    security type and disk SKU; the version replicated to the VM's region first."""
    from dataclasses import asdict

    from refit.run import refresh as R

    json_out = json_of(ctx, output)
    engine = E.check_engine(engine, temporal, namespace)
    consent(yes, dry_run)
    tags = _tags_of(ctx)
    sel = _selection(rg, where, vm)
    with _campaign(ctx) as (s, clock, client, journal):
        world = R.load(s, client)
        items = R.plan_disks(world, tags, sel, image, suffix, replicate=not no_replicate)
        todo = [i for i in items if i.status == "create"]
        report: dict[str, Any] = {"dry_run": dry_run, "disks": [i.to_json() for i in items]}
        if not json_out:
            t = Table(title=f"disks <vm>-{suffix}")
            for c in ("vm", "disk", "status", "replicate to", "reason"):
                t.add_column(c, overflow="fold")
            for i in items:
                t.add_row(i.name, i.disk_id.rsplit("/", 1)[-1], i.status, i.replicate or "", i.reason)
            console.print(t)
        if _nothing_to_do(report, todo, dry_run, json_out, "nothing to create"):
            return
        confirm(yes, f"Create {len(todo)} disks?")
        run = R.start_disks(journal, s, items, {"image": image, "suffix": suffix, "selection": sel.to_json()},
                            clock.now())
        run = _on_engine(engine, run, journal, clock, temporal, namespace, task_queue, detach, json_out,
                         lambda run: R.execute_simple(client, journal, run, lambda run: R.disks_decisions(
                             client, journal, run, items, _printer(json_out))),
                         {run.id: {"items": [asdict(i) for i in items]}})
        if _detached(report, journal, run, json_out):
            return
        report["results"] = [{"vm": r.name, "state": r.state, "detail": r.detail} for r in journal.vms(run.id)]
        _finish(report, run, json_out)


# ---- tag -----------------------------------------------------------------------------------------------------------
@app.command()
def tag(
    ctx: typer.Context,
    suffix: str = typer.Option(..., "--suffix", help="Set OsDiskName=<vm>-<suffix>."),
    force: bool = typer.Option(False, "--force", help="Tag even where the disk does not exist (yet)."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help=RG_HELP),
    where: list[str] = typer.Option([], "--where", help=WHERE_HELP),
    vm: list[str] = typer.Option([], "--vm", help=VM_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be tagged; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
    engine: str = E.engine_option(),
    temporal: str = E.temporal_option(),
    namespace: str = E.namespace_option(),
    task_queue: str = E.task_queue_option(),
    detach: bool = E.detach_option(),
) -> None:
    """Set each in-scope VM's OsDiskName tag to <vm>-<suffix> where it differs (and the disk exists)."""
    from refit.run import refresh as R

    json_out = json_of(ctx, output)
    engine = E.check_engine(engine, temporal, namespace)
    consent(yes, dry_run)
    tags = _tags_of(ctx)
    sel = _selection(rg, where, vm)
    with _campaign(ctx) as (s, clock, client, journal):
        world = R.load(s, client)
        findings = R.plan_tag(world, tags, sel, suffix, force)
        todo = [f for f in findings if f.status == "tag"]
        report: dict[str, Any] = {"dry_run": dry_run, "vms": [f.to_json() | {"value": f.target} for f in findings]}
        if not json_out:
            t = Table(title=f"{tags.disk} = <vm>-{suffix}")
            for c in ("vm", "now", "new", "status", "reason"):
                t.add_column(c, overflow="fold")
            for f in findings:
                t.add_row(f.name, str(f.current or ""), str(f.target or ""), f.status, f.reason)
            console.print(t)
        if _nothing_to_do(report, todo, dry_run, json_out, "nothing to tag"):
            return
        confirm(yes, f"Tag {len(todo)} VMs?")
        run = R.start_tag(journal, s, findings, {"suffix": suffix, "selection": sel.to_json(), "tags": tags.to_json()},
                          clock.now())
        run = _on_engine(engine, run, journal, clock, temporal, namespace, task_queue, detach, json_out,
                         lambda run: R.execute_simple(client, journal, run, lambda run: R.tag_decisions(
                             client, journal, run, tags, _printer(json_out))))
        if _detached(report, journal, run, json_out):
            return
        _finish(report, run, json_out)


# ---- swap ----------------------------------------------------------------------------------------------------------
def _policy(canary: int, batch_percent: float, max_parallel: int, wave_by: str | None, soak: float, grace: float,
            max_unhealthy_percent: float, start_retries: int, start_backoff: float):
    from refit.run.waves import Policy

    p = Policy(canary, batch_percent, max_parallel, wave_by or None, soak, grace, max_unhealthy_percent, start_retries,
               start_backoff)
    p.validate()
    return p


def _report(journal, run) -> dict[str, Any]:
    rows = journal.vms(run.id)
    waves = [w | {"vms": [r.name for r in rows if r.wave == w["n"]]} for w in journal.waves(run.id)]
    return {"run": run.id, "kind": run.kind, "status": run.status, "message": run.message, "waves": waves,
            "vms": [{"vm": r.name, "wave": r.wave, "state": r.state, "detail": r.detail,
                     "previous": r.previous.rsplit("/", 1)[-1] if r.previous else None,
                     "target": r.target.rsplit("/", 1)[-1] if r.target else None} for r in rows]}


def _resume_or_refuse(journal, s, resume: str | None, new: bool):
    """The run to resume: --resume RUN, or (plain re-run) the interrupted one, unless --new."""
    from refit.run.refresh import interrupted_swap

    for r in journal.runs(s.subscription, ("swap", "rollback")):
        if r.status in LIVE_RUN_STATUSES and journal.held_elsewhere(r.id):
            raise UserError(f"run {r.id} is in progress in another refit process; wait for it (or stop it) first")
    if resume:
        run = journal.run(resume)
        if run is None or run.kind not in ("swap", "rollback"):
            raise UserError(f"no swap or rollback run '{resume}' in the journal ({journal.path})")
        if run.subscription.lower() != s.subscription.lower():
            raise UserError(f"run {resume} is for subscription {run.subscription}, not {s.subscription}")
        return run
    if new:
        return None
    return interrupted_swap(journal, s)


@app.command()
def swap(
    ctx: typer.Context,
    rg: list[str] = typer.Option([], "--resource-group", "-g", help=RG_HELP),
    where: list[str] = typer.Option([], "--where", help=WHERE_HELP),
    vm: list[str] = typer.Option([], "--vm", help=VM_HELP),
    canary: int = typer.Option(1, "--canary", help="VMs in the first wave."),
    batch_percent: float = typer.Option(20.0, "--batch-percent", help="Wave size after the canary, % of the selection."),
    max_parallel: int = typer.Option(0, "--max-parallel", help="VMs in flight at once within a wave (0: all)."),
    wave_by: str = typer.Option(None, "--wave-by", help="'zone': no two zones change in one wave."),
    soak: float = typer.Option(60.0, "--soak", help="Seconds to wait between waves."),
    grace: float = typer.Option(600.0, "--grace", help="Seconds a started VM has to become healthy."),
    max_unhealthy_percent: float = typer.Option(20.0, "--max-unhealthy-percent",
                                                help="Halt (and roll back the wave) above this share of failures."),
    start_retries: int = typer.Option(5, "--start-retries", help="Retries of a start refused for capacity."),
    start_backoff: float = typer.Option(60.0, "--start-backoff", help="First wait (s) before such a retry; doubles."),
    resume: str = typer.Option(None, "--resume", help="Resume this run (default: an interrupted one, if any)."),
    new: bool = typer.Option(False, "--new", help="Start a new run even if one was interrupted."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the pre-checks and the waves; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
    engine: str = E.engine_option(),
    temporal: str = E.temporal_option(),
    namespace: str = E.namespace_option(),
    task_queue: str = E.task_queue_option(),
    detach: bool = E.detach_option(),
    subscriptions: list[str] = typer.Option([], "--subscriptions", help="--engine temporal: these subscriptions "
                                            "(repeatable, or comma-separated) in one campaign, a shard each."),
) -> None:
    """Swap every in-scope VM whose OsDiskName differs from its OS disk (and passes the rule catalog's swap
    rules): canary, waves, health gates, rollback, journal. Resumable."""
    from refit.run import refresh as R

    json_out = json_of(ctx, output)
    engine = E.check_engine(engine, temporal, namespace)

    def execute(run):
        run = _on_engine(engine, run, journal, clock, temporal, namespace, task_queue, detach, json_out,
                         lambda run: R.execute(client, journal, run, _printer(json_out)))
        if run.status in LIVE_RUN_STATUSES:  # detached: the workflow runs on
            emit_json(_report(journal, run)) if json_out else None
            raise typer.Exit(0)
        return run
    consent(yes, dry_run)
    tags = _tags_of(ctx)
    sel = _selection(rg, where, vm)
    policy = _policy(canary, batch_percent, max_parallel, wave_by, soak, grace, max_unhealthy_percent, start_retries,
                     start_backoff)
    with _campaign(ctx) as (s, clock, client, journal):
        run = _resume_or_refuse(journal, s, resume, new)
        if run is not None:
            if run.status not in LIVE_RUN_STATUSES:
                msg = f"run {run.id} is already {run.status}: {run.message}"
                emit_json(_report(journal, run)) if json_out else console.print(msg, highlight=False)
                _exit_for(run)
                return
            if dry_run:
                raise UserError(f"run {run.id} was interrupted; --dry-run cannot resume it (drop --dry-run)")
            if not json_out:
                console.print(f"resuming run {run.id} (reconciling every VM from its live state and the journal)")
            run = execute(run)
            emit_json(_report(journal, run)) if json_out else None
            _exit_for(run)
            return
        subs = [x.strip() for item in subscriptions for x in item.split(",") if x.strip()]
        if engine == "temporal":
            shards = _shards(s, client, subs or [s.subscription], tags, sel, policy)
            if len(shards) > 1 or len(subs) > 1:
                _swap_shards(shards, journal, clock, tags, policy, sel, json_out, dry_run, yes,
                             lambda runs: E.run_temporal(journal, runs, clock, temporal, namespace, task_queue,
                                                         _printer(json_out), detach,
                                                         lambda m: err_console.print(m, highlight=False)))
                return
            s, world, _, plan = shards[0]
        else:
            if subs and [x.lower() for x in subs] != [s.subscription.lower()]:
                raise UserError("--subscriptions takes --engine temporal (a shard per subscription); the local engine "
                                "runs one subscription: --subscription ID")
            world = R.load(s, client)
            plan = R.plan_swap(world, tags, sel, policy)
        report: dict[str, Any] = {"dry_run": dry_run} | plan.to_json()
        if not json_out:
            _findings_table("pre-checks", plan.findings)
            for w in plan.waves:
                label = "canary" if w.canary else f"wave {w.n}"
                console.print(f"{label}" + (f" (zone {w.zone})" if w.zone else "") + ": "
                              + ", ".join(m.name for m in w.members), highlight=False)
            for warn in plan.warnings:
                err_console.print(f"[yellow]warning:[/] {warn}", highlight=False)
        if dry_run or not plan.to_swap:
            if json_out:
                emit_json(report)
            elif not plan.to_swap:
                console.print("nothing to swap")
            bad = [f for f in plan.findings if f.status in ("invalid-name", "missing-disk", "incompatible")]
            if bad and not dry_run:
                raise typer.Exit(1)
            return
        confirm(yes, f"Swap the OS disk of {len(plan.to_swap)} VMs in {len(plan.waves)} waves?")
        run = R.start_swap(journal, s, plan, world, tags, policy, sel, clock.now())
        if not json_out:
            console.print(f"run {run.id}")
        run = execute(run)
        if json_out:
            emit_json(report | _report(journal, run))
        _exit_for(run)
        if any(f.status in ("invalid-name", "missing-disk", "incompatible") for f in plan.findings):
            raise typer.Exit(1)


def _shards(s, client, subs: list[str], tags, sel, policy) -> list[tuple[Any, Any, str, Any]]:
    """(session, world, region, plan) per shard: per subscription, then per region (docs/temporal.md)."""
    import dataclasses

    from refit.run import refresh as R

    out = []
    for sub in subs:
        si = s if sub.lower() == s.subscription.lower() else dataclasses.replace(s, subscription=sub, on_close=[],
                                                                                   _clients={})
        world = R.load(si, client)
        plan = R.plan_swap(world, tags, sel, policy)
        for region, part in R.shard_plan(plan, world, policy):
            out.append((si, world, region, part))
    return out


def _swap_shards(shards, journal, clock, tags, policy, sel, json_out: bool, dry_run: bool, yes: bool, run_on) -> None:
    """A campaign of several shards on the Temporal engine: a run in the journal per shard, one workflow each."""
    from refit.run import refresh as R

    report: dict[str, Any] = {"dry_run": dry_run, "shards": [
        {"subscription": si.subscription, "region": region} | plan.to_json() for si, _, region, plan in shards]}
    if not json_out:
        for si, _, region, plan in shards:
            console.print(f"subscription {si.subscription} {region or ''}: {len(plan.to_swap)} VMs to swap in "
                          f"{len(plan.waves)} waves", highlight=False)
            for warn in plan.warnings:
                err_console.print(f"[yellow]warning:[/] {warn}", highlight=False)
    todo = [x for x in shards if x[3].to_swap]
    if dry_run or not todo:
        emit_json(report) if json_out else console.print("nothing to swap") if not todo else None
        return
    confirm(yes, f"Swap the OS disk of {sum(len(x[3].to_swap) for x in todo)} VMs in {len(todo)} shards?")
    runs = [R.start_swap(journal, si, plan, world, tags, policy, sel, clock.now()) for si, world, _, plan in todo]
    if not json_out:
        console.print("runs " + ", ".join(r.id for r in runs), highlight=False)
    runs = run_on(runs)
    report["runs"] = [_report(journal, r) for r in runs]
    report["status"] = ("completed" if all(r.status == "completed" for r in runs)
                        else "running" if any(r.status in LIVE_RUN_STATUSES for r in runs) else "halted"
                        if any(r.status == "halted" for r in runs) else "failed")
    if json_out:
        emit_json(report)
    if report["status"] not in ("completed", "running"):
        raise typer.Exit(1)


# ---- rollback ----------------------------------------------------------------------------------------------------------
@app.command()
def rollback(
    ctx: typer.Context,
    vms: list[str] = typer.Argument(None, help="VMs (names or ids) to roll back to their recorded previous disk."),
    run_id: str = typer.Option(None, "--run", help="Roll back every VM a swap run moved."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help=RG_HELP),
    where: list[str] = typer.Option([], "--where", help=WHERE_HELP),
    max_parallel: int = typer.Option(0, "--max-parallel", help="VMs in flight at once (0: all)."),
    grace: float = typer.Option(600.0, "--grace", help="Seconds a started VM has to become healthy."),
    start_retries: int = typer.Option(5, "--start-retries", help="Retries of a start refused for capacity."),
    start_backoff: float = typer.Option(60.0, "--start-backoff", help="First wait (s) before such a retry; doubles."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be rolled back; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
    engine: str = E.engine_option(),
    temporal: str = E.temporal_option(),
    namespace: str = E.namespace_option(),
    task_queue: str = E.task_queue_option(),
) -> None:
    """Swap back to the previous OS disk recorded in the journal (or the OsDiskPrevious tag), health-checked."""
    from refit.run import refresh as R

    json_out = json_of(ctx, output)
    engine = E.check_engine(engine, temporal, namespace)
    tags = _tags_of(ctx)
    if run_id and vms:
        raise UserError("give --run ID or VM names, not both")
    consent(yes, dry_run)
    policy = _policy(0, 100.0, max_parallel, None, 0.0, grace, 100.0, start_retries, start_backoff)
    with _campaign(ctx) as (s, clock, client, journal):
        world = R.load(s, client)
        findings, rows = R.plan_rollback(world, journal, tags, run_id, list(vms or []), _selection(rg, where, []))
        report: dict[str, Any] = {"dry_run": dry_run, "findings": [f.to_json() for f in findings]}
        if not json_out:
            _findings_table("rollback", findings)
        if _nothing_to_do(report, rows, dry_run, json_out, "nothing to roll back"):
            return
        confirm(yes, f"Roll back {len(rows)} VMs?")
        run = R.start_rollback(journal, s, rows, findings, tags, policy, clock.now(), run_id)
        if engine == "temporal":  # the same rollback campaign, as a workflow (docs/temporal.md)
            run = E.run_temporal(journal, [run], clock, temporal, namespace, task_queue, _printer(json_out), False,
                                 lambda m: err_console.print(m, highlight=False))[0]
        else:
            run = R.execute(client, journal, run, _printer(json_out))
        if json_out:
            emit_json(report | _report(journal, run))
        _exit_for(run)


# ---- status ------------------------------------------------------------------------------------------------------------
@app.command()
def status(
    ctx: typer.Context,
    run_id: str = typer.Option(None, "--run", help="This run (default: the latest of the subscription)."),
    output: str = output_option(),
) -> None:
    """Progress per wave and per VM, with each VM's live OS disk, desired disk and power state."""
    from refit.azure.fleet import load_world
    from refit.run import refresh as R
    from refit.run.journal import Journal

    json_out = json_of(ctx, output)
    journal = Journal()
    try:
        with open_session(ctx) as s:
            for r in journal.runs(s.subscription, R.REFRESH_KINDS):  # a Temporal run's rows, as its workflow has them
                if run_id in (None, r.id):
                    E.sync_from_workflow(journal, r, lambda m: err_console.print(m, highlight=False))
            world = load_world(s)
            explicit = ctx.meta.get("refresh.tags") if not journal.runs(s.subscription, R.REFRESH_KINDS) else None
            st = R.status(world, journal, s, run_id, explicit)
    finally:
        journal.close()
    if json_out:
        emit_json(st)
        return
    r = st["run"]
    if r:
        console.print(f"run [bold]{r['id']}[/] ({r['kind']}): {r['status']}" + (f": {r['message']}" if r["message"] else ""),
                      highlight=False)
    for w in st["waves"]:
        label = "canary" if w["n"] == 0 and r and r["kind"] == "swap" else f"wave {w['n']}"
        console.print(f"  {label}" + (f" zone {w['zone']}" if w["zone"] else "") + f": {w['size']} VMs, {w['status']}"
                      + (f", {w['failed']} failed" if w["failed"] else ""), highlight=False)
    t = Table()
    for c in ("vm", "zone", "wave", "state", "os disk", "desired", "in sync", "power", "detail"):
        t.add_column(c, overflow="fold")
    for e in st["vms"]:
        t.add_row(e["vm"], e.get("zone", ""), "" if e.get("wave") in (None, -1) else str(e["wave"]), e.get("state", ""),
                  e.get("os_disk", ""), e.get("desired", ""), "yes" if e.get("in_sync") else "no",
                  str(e.get("power") or ""), e.get("detail", ""))
    console.print(t)
    sm = st["summary"]
    console.print(f"{sm['in_sync']} of {sm['vms']} VMs run their desired OS disk; {sm['running']} running, "
                  f"{sm['deallocated']} deallocated")


# ---- prune ---------------------------------------------------------------------------------------------------------------
@app.command()
def prune(
    ctx: typer.Context,
    keep: int = typer.Option(..., "--keep", help="Refresh disks to keep per VM (newest first)."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help=RG_HELP),
    where: list[str] = typer.Option([], "--where", help=WHERE_HELP),
    vm: list[str] = typer.Option([], "--vm", help=VM_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be deleted; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """Delete unattached refresh disks beyond the newest N per VM; never the current, desired or recorded
    previous disk."""
    from refit.run import refresh as R

    json_out = json_of(ctx, output)
    consent(yes, dry_run)
    tags = _tags_of(ctx)
    sel = _selection(rg, where, vm)
    with _campaign(ctx) as (s, clock, client, journal):
        world = R.load(s, client)
        items = R.plan_prune(world, journal, tags, sel, keep)
        doomed = [i for i in items if i["action"] == "delete"]
        report: dict[str, Any] = {"dry_run": dry_run, "disks": items}
        if not json_out:
            t = Table(title=f"prune --keep {keep}")
            for c in ("vm", "disk", "created", "action", "why"):
                t.add_column(c, overflow="fold")
            for i in items:
                t.add_row(i["vm"], i["name"], str(i["created"] or ""), i["action"], i["why"])
            console.print(t)
        if _nothing_to_do(report, doomed, dry_run, json_out, "nothing to delete"):
            return
        confirm(yes, f"Delete {len(doomed)} disks? (each holds a previous OS state)")
        run = R.run_prune(client, journal, s, items, {"keep": keep, "selection": sel.to_json()}, clock.now(),
                          _printer(json_out))
        _finish(report, run, json_out)
