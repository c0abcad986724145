"""`refit campaign list|pause|resume|abort`: the runs in the journal, and an operator's controls for one in flight.

The controls are requests recorded in the journal (refit.run.control); the refit process executing the run acts
on them at its next decision point, so they work from any shell, and `refit serve`'s buttons call the same code.
"""

from __future__ import annotations

import typer
from rich.table import Table

from refit.arm.errors import UserError
from refit.cli.common import confirm, console, emit_json, json_of, output_option

app = typer.Typer(no_args_is_help=True)

RUN_HELP = "The run's id, as `refit campaign list` shows it."


def _journal():
    from refit.run.journal import Journal

    return Journal()


@app.command("list")
def list_runs(
    ctx: typer.Context,
    kind: list[str] = typer.Option([], "--kind", help="Only runs of this kind (swap, rollback, apply, rollout, ...)."),
    output: str = output_option(),
) -> None:
    """Every run in the journal, oldest first: kind, status, when it started, how far it got."""
    from refit.run import control

    json_out = json_of(ctx, output)
    journal = _journal()
    try:
        rows = [control.run_summary(journal, r) for r in journal.runs(kinds=tuple(kind) or None)]
    finally:
        journal.close()
    if json_out:
        emit_json(rows)
        return
    if not rows:
        console.print(f"no runs in the journal ({journal.path})", highlight=False)
        return
    t = Table()
    for c in ("run", "kind", "status", "started (UTC)", "progress", "message"):
        t.add_column(c, overflow="fold")
    for r in rows:
        status = r["status"] + (f" ({r['control']} requested)" if r["control"] else "")
        t.add_row(r["id"], r["kind"], status, r["started"], f"{r['done']}/{r['total']}", r["message"])
    console.print(t)


def status(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN", help=RUN_HELP),
    output: str = output_option(),
) -> None:
    """One run, any kind: its status and every row (VMs, disks, sets or plan steps) as the journal has them. A run
    on the Temporal engine is first brought up to date from its workflow (unless another refit process follows it).
    Exit 0 for a run that completed or is still going, 1 for one that halted or failed."""
    from refit.cli import engine as E
    from refit.cli.common import err_console
    from refit.run import control
    from refit.run.journal import LIVE_RUN_STATUSES

    json_out = json_of(ctx, output)
    if not run_id.strip():
        raise UserError("RUN must not be empty: `refit campaign list` shows the runs")
    journal = _journal()
    try:
        run = journal.run(run_id)
        if run is None:
            raise UserError(f"no run '{run_id}' in the journal ({journal.path}); `refit campaign list` shows the runs")
        synced = E.sync_from_workflow(journal, run, lambda m: err_console.print(m, highlight=False))
        run = journal.run(run_id)
        engine = (run.params.get("engine") or {"name": "local"}) if run is not None else {}  # type: ignore[union-attr]
        out = control.run_summary(journal, run) | {  # type: ignore[arg-type]
            "engine": {k: engine.get(k) for k in ("name", "address", "namespace", "workflow_id") if engine.get(k)},
            "synced_from_workflow": synced, "waves": journal.waves(run_id)}  # type: ignore[union-attr]
        if run.kind == "apply":  # type: ignore[union-attr]
            out["rows"] = [{"step": r.n, "op": r.step.get("op"), "resource": r.resource, "state": r.state,
                            "detail": r.detail} for r in journal.apply_steps(run_id)]
        else:
            out["rows"] = [{"name": r.name, "id": r.vm, "wave": r.wave, "state": r.state, "detail": r.detail}
                           for r in journal.vms(run_id)]
    finally:
        journal.close()
    if json_out:
        emit_json(out)
    else:
        e = out["engine"]
        where = f" on Temporal ({e.get('workflow_id')} at {e.get('address')})" if e.get("name") == "temporal" else ""
        console.print(f"run [bold]{out['id']}[/] ({out['kind']}{where}): {out['status']}"
                      + (f": {out['message']}" if out["message"] else ""), highlight=False)
        t = Table()
        cols = ("step", "op", "resource", "state", "detail") if out["kind"] == "apply" else (
            "name", "wave", "state", "detail")
        for c in cols:
            t.add_column(c, overflow="fold")
        for r in out["rows"]:
            t.add_row(*(str(r[c]) if r[c] is not None else "" for c in cols))
        console.print(t)
    if out["status"] not in (*LIVE_RUN_STATUSES, "completed", "interrupted"):
        raise typer.Exit(1)


def _control(ctx: typer.Context, run_id: str, action: str, yes: bool, question: str, output: str | None) -> None:
    from refit.run import control

    json_out = json_of(ctx, output)
    if not run_id.strip():
        raise UserError(f"RUN must not be empty: `refit campaign list` shows the runs to {action}")
    journal = _journal()
    try:
        run = journal.run(run_id)
        if run is not None:  # an unknown run is refused by request() without asking first
            confirm(yes, question.format(run=run_id, kind=run.kind))
        message = control.request(journal, run_id, action)
        row = control.run_summary(journal, journal.run(run_id))
    finally:
        journal.close()
    if json_out:
        emit_json({"action": action, "message": message, "run": row})
    else:
        console.print(message, highlight=False)


@app.command()
def pause(ctx: typer.Context, run_id: str = typer.Argument(..., metavar="RUN", help=RUN_HELP),
          yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."), output: str = output_option()) -> None:
    """Hold the run: nothing new starts; VMs and steps in flight finish. `refit campaign resume RUN` lifts it."""
    _control(ctx, run_id, "pause", yes, "Pause run {run} ({kind})?", output)


@app.command()
def resume(ctx: typer.Context, run_id: str = typer.Argument(..., metavar="RUN", help=RUN_HELP),
           yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."), output: str = output_option()) -> None:
    """Lift a pause: the next VMs and steps start."""
    _control(ctx, run_id, "resume", yes, "Resume run {run} ({kind})?", output)


@app.command()
def abort(ctx: typer.Context, run_id: str = typer.Argument(..., metavar="RUN", help=RUN_HELP),
          yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."), output: str = output_option()) -> None:
    """End the run: nothing new starts; once what is in flight is done, a refresh rolls back the wave in flight
    (as a halt does) and an apply leaves the rest not started. The run ends `halted`."""
    _control(ctx, run_id, "abort", yes, "Abort run {run} ({kind}) and roll back its wave in flight?", output)
