"""`refit worker`: runs refit's workflows and activities for one task queue. Any number of workers may share a
queue (on one machine or many, e.g. one per region, docs/temporal.md); Temporal hands each task to one of them, and
a worker that dies mid-activity loses nothing: its activity is retried elsewhere after the heartbeat timeout, its
workflows are replayed from their histories by whichever worker picks them up next."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from refit.run.temporal.activities import Activities
from refit.run.temporal.client import MAX_ACTIVITIES, connect


def runner(sandbox: bool = False):
    """The workflow runner. Unsandboxed by default: Temporal's sandbox re-imports and proxies modules for every
    workflow activation, which on a 2-core machine made a 3-subscription campaign take 2.3 times as long as a
    single one (1.08 without it). refit's workflow code does no I/O and reads no clock by construction (the
    campaign's requests, clock and journal are injected: refit.run.temporal.workflows), and the replay test
    (tests/run/temporal) replays recorded histories with the current code; `refit worker --sandbox` turns the
    sandbox on, e.g. while changing workflow code."""
    if not sandbox:
        from temporalio.worker import UnsandboxedWorkflowRunner

        return UnsandboxedWorkflowRunner()
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    # refit's modules are deterministic libraries as far as the workflow uses them (the campaign's decisions);
    # they are passed through rather than re-imported into every workflow's sandbox.
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "refit", "azure", "requests", "urllib3", "platformdirs", "yaml", "pydantic"))


async def serve(session, address: str, namespace: str, task_queue: str, max_activities: int = MAX_ACTIVITIES,
                sticky_seconds: float = 2.0, stop: asyncio.Event | None = None, on_ready=None,
                sandbox: bool = False) -> None:
    from temporalio.worker import Worker

    from refit.azure.clock import clock_for
    from refit.azure.pacing import PacedClient
    from refit.run.temporal.workflows import CampaignWorkflow, ShardWorkflow

    client = await connect(address, namespace)
    clock = clock_for(session)
    paced = PacedClient(session, clock, workers=max_activities)
    acts = Activities(paced)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=max_activities, thread_name_prefix="refit-activity") as pool:
        worker = Worker(client, task_queue=task_queue, workflows=[CampaignWorkflow, ShardWorkflow],
                        activities=acts.all(), activity_executor=pool, max_concurrent_activities=max_activities,
                        workflow_runner=runner(sandbox),
                        # a killed worker's sticky workflows go back to the shared queue this soon
                        sticky_queue_schedule_to_start_timeout=timedelta(seconds=sticky_seconds),
                        graceful_shutdown_timeout=timedelta(seconds=5))
        async with worker:
            if on_ready:
                on_ready()
            await stop.wait()
    paced.close()
