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
