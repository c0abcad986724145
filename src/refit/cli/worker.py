"""`refit worker --temporal HOST:PORT`: run refit's workflows and activities (docs/temporal.md)."""

from __future__ import annotations

import typer

from refit.cli.common import console
from refit.cli.session import open_session
from refit.run.temporal.client import MAX_ACTIVITIES


def worker(
    ctx: typer.Context,
    temporal: str = typer.Option(None, "--temporal", envvar="REFIT_TEMPORAL", help="Temporal server, HOST:PORT."),
    namespace: str = typer.Option("default", "--namespace", envvar="REFIT_TEMPORAL_NAMESPACE", help="Temporal namespace."),
    task_queue: str = typer.Option("refit", "--task-queue", envvar="REFIT_TEMPORAL_TASK_QUEUE",
                                   help="Task queue to poll (workers sharing one share the work)."),
    max_activities: int = typer.Option(MAX_ACTIVITIES, "--max-activities", help="Activities this worker runs at once."),
    sandbox: bool = typer.Option(False, "--sandbox", help="Run workflows in Temporal's sandbox (slower; catches "
                                 "non-deterministic workflow code while it is being changed)."),
) -> None:
    """Run refit's campaign workflows and their activities until interrupted (Ctrl-C, SIGTERM)."""
    import asyncio

    from refit.arm.errors import UserError
    from refit.run.temporal.client import check_address

    check_address(temporal, "refit worker")
    from refit.run.temporal.worker import serve
    if max_activities < 1:
        raise UserError("--max-activities must be >= 1")
    with open_session(ctx) as s:
        def ready() -> None:
            console.print(f"worker on {temporal} namespace {namespace} task queue {task_queue} "
                          f"(ARM: {s.endpoint}, subscription {s.subscription})", highlight=False)

        asyncio.run(serve(s, temporal, namespace, task_queue, max_activities, on_ready=ready, sandbox=sandbox))
