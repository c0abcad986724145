"""`--engine local|temporal` of the campaign commands (refresh swap, apply, rollout): where a campaign runs.

local (default): in this process, journaled, resumable. temporal: as a workflow on a Temporal server
(`--temporal HOST:PORT`), executed by `refit worker` processes; this command starts it and follows it into the
journal, printing the same progress, and can detach (`--detach`, or Ctrl-C): `--resume RUN` follows it again.
"""

from __future__ import annotations

from typing import Any

import typer

from refit.arm.errors import UserError

ENGINES = ("local", "temporal")


def engine_option() -> Any:
    return typer.Option("local", "--engine", envvar="REFIT_ENGINE", metavar="local|temporal",
                        help="local: run here; temporal: as a Temporal workflow (needs --temporal and a `refit worker`).")


def temporal_option() -> Any:
    return typer.Option(None, "--temporal", envvar="REFIT_TEMPORAL", help="Temporal server HOST:PORT (--engine temporal).")


def namespace_option() -> Any:
    return typer.Option("default", "--namespace", envvar="REFIT_TEMPORAL_NAMESPACE", help="Temporal namespace.")


def task_queue_option() -> Any:
    return typer.Option("refit", "--task-queue", envvar="REFIT_TEMPORAL_TASK_QUEUE", help="Temporal task queue of the workers.")


def detach_option() -> Any:
    return typer.Option(False, "--detach", help="--engine temporal: start the workflow and return (`--resume RUN` follows it).")


def heartbeat_seconds() -> float:
    """The activities' heartbeat timeout (real seconds): how soon a lost worker's activity is retried elsewhere
    (REFIT_TEMPORAL_HEARTBEAT, default refit.run.temporal.client.DEFAULT_HEARTBEAT)."""
    import os

    from refit.run.temporal.client import DEFAULT_HEARTBEAT

    try:
        v = float(os.environ.get("REFIT_TEMPORAL_HEARTBEAT", DEFAULT_HEARTBEAT))
    except ValueError as e:
        raise UserError("REFIT_TEMPORAL_HEARTBEAT must be seconds, e.g. 30") from e
    if v <= 0:
        raise UserError("REFIT_TEMPORAL_HEARTBEAT must be > 0")
    return v


def check_engine(engine: str, temporal: str | None, namespace: str = "default") -> str:
    engine = (engine or "local").lower()
    if engine not in ENGINES:
        raise UserError(f"--engine takes local or temporal, not '{engine}'")
    if engine == "temporal":
        import asyncio

        from refit.run.temporal.client import check_address, connect

        check_address(temporal)
        asyncio.run(connect(temporal, namespace))  # unreachable: one line, exit 3, before anything is changed
    return engine


def execute_on(engine: str, run, journal, clock, temporal: str | None, namespace: str, task_queue: str, detach: bool,
               on_event, say, local, extras: dict | None = None):
    """The run on its engine: `local(run)` here, or followed from its Temporal workflow (a run its workflow
    executes is never executed here, whatever --engine says); returns the run as the journal has it (still
    running or paused when detached)."""
    from refit.run.temporal.client import engine_of

    if engine_of(run) is None and engine != "temporal":
        return local(run)
    e = engine_of(run) or {}
    siblings = [r for r in journal.runs() if (engine_of(r) or {}).get("campaign") == e.get("campaign")
                and r.id != run.id] if e else []
    return run_temporal(journal, [run, *siblings], clock, temporal, namespace, task_queue, on_event, detach, say,
                        extras)[0]


def run_temporal(journal, runs: list, clock, address: str | None, namespace: str, task_queue: str, on_event,
                 detach: bool, say, extras: dict | None = None) -> list:
    """Start (or re-attach to) the runs' campaign on Temporal and follow it; the runs as the journal has them.
    Holding each run's lock while following: one follower writes a run's journal rows. `extras`: per run id,
    what its workflow needs beside the journal (refit.run.temporal.client.shard_input)."""
    from refit.run.temporal import client as T

    held = []
    try:
        for r in runs:
            if not journal.acquire(r.id):
                raise UserError(f"run {r.id} is being followed by another refit process; wait for it or stop it first")
            held.append(r.id)
        e = T.engine_of(runs[0])
        try:
            if e is not None:
                finished = T.reattach(journal, runs, on_event, detach)
            else:
                finished = T.run_campaign(journal, runs, address, namespace, task_queue, clock.scale,  # type: ignore[arg-type]
                                          clock.now(), on_event, detach, heartbeat_seconds(), extras)
        except KeyboardInterrupt:
            finished = False
        if not finished:
            e = T.engine_of(journal.run(runs[0].id)) or {}
            say(f"detached: the campaign runs on as workflow {e.get('campaign')} on {e.get('address')}; "
                f"follow it with `--resume {runs[0].id}`")
    finally:
        for rid in held:
            journal.release(rid)
    return [journal.run(r.id) for r in runs]


def sync_from_workflow(journal, run, say) -> bool:
    """Bring a live Temporal run's journal rows up to date from its workflow (one pass of the follower, changing
    nothing else), unless another refit process follows it already (then its rows are current). True if synced.
    A Temporal server that does not answer is a warning: the journal is shown as it is."""
    from refit.arm.errors import Unreachable
    from refit.run.journal import LIVE_RUN_STATUSES
    from refit.run.temporal import client as T

    e = T.engine_of(run)
    if e is None or run.status not in LIVE_RUN_STATUSES or not journal.acquire(run.id, retry=0.0):
        return False
    try:
        T.reattach(journal, [run], None, detach=True)
        return True
    except Unreachable as err:
        say(f"warning: {err}; the journal's rows may be behind the workflow's")
        return False
    finally:
        journal.release(run.id)
