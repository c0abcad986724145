"""The CLI's side of the Temporal engine: connect, start a campaign's workflows, follow them into the journal,
send an operator's signal.

The workflow is the source of truth of a Temporal run; the journal on the machine that started it is its mirror.
`follow` asks each shard's workflow for the journal writes it made (the `progress` query, in order, from a cursor
kept in the run's params) and applies them with the same Journal calls the local engine makes, printing the same
events. A follower that detaches (`--detach`, Ctrl-C) or dies loses nothing: the next `--resume RUN` follows on
from the cursor. The run's params record its engine (`{"engine": {"name": "temporal", "address", "namespace",
"task_queue", "workflow_id", "campaign"}}`), which is how refit.run.control signals it and how a plain re-run knows
not to execute it locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from refit.arm.errors import Unreachable, UserError
from refit.run.journal import Journal, Run

DEFAULT_TASK_QUEUE = "refit"
DEFAULT_NAMESPACE = "default"
FINISHED = ("completed", "halted", "failed")
# The activities' heartbeat timeout (real seconds), REFIT_TEMPORAL_HEARTBEAT's default: a lost worker's activity is
# retried elsewhere within it. Each heartbeat the SDK sends (at most one per 80% of the timeout) is a write of the
# workflow's state on the server, for every activity in flight: a wave of 1,000 VMs waiting on their operations
# sends 125 a second at 10 s, 42 at 30 s (bench/README.md measured what that costs the dev server).
DEFAULT_HEARTBEAT = 30.0
# Concurrent activities per worker: threads that mostly wait on the network or the clock. A VM in a wave has one
# activity in flight; ten subscriptions' waves of 100 are 1,000 at once, and an activity beyond the workers' slots
# waits on the server, its VM with it (at 200, four workers held 800; bench/README.md measured the change).
MAX_ACTIVITIES = 500
FOLLOW_SECONDS = 1.0  # the follower's round: each shard asked once, then this pause unless a page was full


def engine_of(run: Run | None) -> dict[str, Any] | None:
    """The Temporal engine a run is executed by, or None (the local engine)."""
    e = (run.params or {}).get("engine") if run is not None else None
    return e if isinstance(e, dict) and e.get("name") == "temporal" else None


def require() -> None:
    """The Temporal engine's packages, or one line saying how to install them."""
    try:
        import temporalio  # noqa: F401
    except ImportError as e:
        raise UserError("the Temporal engine needs the temporalio package: pip install 'refit[temporal]'") from e


def check_address(address: str | None, who: str = "--engine temporal") -> str:
    require()
    if not address:
        raise UserError(f"{who} needs --temporal HOST:PORT (or REFIT_TEMPORAL); `refit temporal dev` "
                        "starts a server on this machine")
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--temporal takes HOST:PORT, e.g. 127.0.0.1:7233, not '{address}'")
    return address


async def connect(address: str, namespace: str = DEFAULT_NAMESPACE, timeout: float = 10.0):
    """A Temporal client; Unreachable (exit 3, one line) when the server does not answer. TLS when
    TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY (mTLS) or TEMPORAL_API_KEY (Temporal Cloud) are set (docs/temporal.md)."""
    from temporalio.client import Client
    from temporalio.service import TLSConfig

    from refit.run.temporal.codec import data_converter, runtime

    check_address(address)
    kw: dict[str, Any] = {"namespace": namespace}
    cert, key, api_key = (os.environ.get("TEMPORAL_TLS_CERT"), os.environ.get("TEMPORAL_TLS_KEY"),
                          os.environ.get("TEMPORAL_API_KEY"))
    if cert and key:
        with open(cert, "rb") as c, open(key, "rb") as k:
            kw["tls"] = TLSConfig(client_cert=c.read(), client_private_key=k.read())
    elif api_key:
        kw["tls"] = True
        kw["api_key"] = api_key
    try:
        return await asyncio.wait_for(Client.connect(address, data_converter=data_converter(), runtime=runtime(), **kw),
                                      timeout)
    except (TimeoutError, RuntimeError, OSError) as e:
        reason = "timed out" if isinstance(e, asyncio.TimeoutError) else str(e).splitlines()[0][:200]
        raise Unreachable(f"cannot reach Temporal at {address} ({reason}); start one with `refit temporal dev` or "
                          "check --temporal and --namespace") from e


def shard_id(run_id: str) -> str:
    return f"refit-{run_id}"


def shard_input(journal: Journal, run: Run, scale: float, clock_now: float, heartbeat: float,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A shard workflow's input: the run as the journal has it (an apply run's steps too), and `extra`, what the
    run's decisions need that the journal does not keep (the disks `refresh disks` creates)."""
    r = {"id": run.id, "kind": run.kind, "subscription": run.subscription, "endpoint": run.endpoint,
         "status": run.status, "params": {k: v for k, v in run.params.items() if k != "engine"}, "message": run.message}
    inp = {"run": r, "vms": [asdict(v) for v in journal.vms(run.id)], "waves": journal.waves(run.id),
           "scale": scale, "clock_now": clock_now, "heartbeat_seconds": heartbeat,
           "control": journal.control(run.id) if hasattr(journal, "control") else None}
    if run.kind == "apply":
        inp["apply_steps"] = [asdict(s) for s in journal.apply_steps(run.id)]
    if extra:
        inp["extra"] = extra
    return inp


async def start(client, journal: Journal, runs: list[Run], address: str, namespace: str, task_queue: str,
                scale: float, clock_now: float, heartbeat: float = DEFAULT_HEARTBEAT,
                extras: dict[str, dict[str, Any]] | None = None) -> str:
    """Start the campaign's workflow (one shard per run), unless it runs already; record the engine in each run."""
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError

    from refit.run.temporal.workflows import CampaignWorkflow

    campaign = f"refit-campaign-{runs[0].id}"
    for run in runs:
        params = dict(run.params)
        params["engine"] = {"name": "temporal", "address": address, "namespace": namespace, "task_queue": task_queue,
                            "workflow_id": shard_id(run.id), "campaign": campaign, "synced": 0}
        journal.update_params(run.id, params)
        run.params = params
    try:
        desc = await client.get_workflow_handle(campaign).describe()
        if desc.status == WorkflowExecutionStatus.RUNNING:
            return campaign
    except RPCError:
        pass
    shards = [{"workflow_id": shard_id(r.id), "task_queue": task_queue,
               "input": shard_input(journal, r, scale, clock_now, heartbeat, (extras or {}).get(r.id))} for r in runs]
    await client.start_workflow(CampaignWorkflow.run, {"shards": shards}, id=campaign, task_queue=task_queue,
                                task_timeout=timedelta(seconds=10))
    return campaign


async def follow(client, journal: Journal, runs: list[Run], on_event=None, poll: float = FOLLOW_SECONDS,
                 until: float | None = None) -> bool:
    """Mirror the shards' journal writes into the journal until every shard has finished (True) or `until`
    (a loop-time deadline; False: detached, the workflows run on)."""
    from temporalio.service import RPCError

    on_event = on_event or (lambda *a, **k: None)
    loop = asyncio.get_running_loop()
    cursors = {r.id: int((engine_of(r) or {}).get("synced", 0)) for r in runs}
    done: set[str] = set()
    while len(done) < len(runs):
        more = False
        for run in runs:
            if run.id in done:
                continue
            try:
                p = await client.get_workflow_handle(shard_id(run.id)).query(
                    "progress", cursors[run.id], rpc_timeout=timedelta(seconds=10))
            except RPCError:
                continue  # not started yet, or no worker to answer just now: ask again
            apply_ops(journal, p["ops"], on_event)
            if p["ops"]:
                cursors[run.id] = p["next"]
                params = dict(run.params)
                params["engine"] = dict(params.get("engine") or {}, synced=p["next"])
                run.params = params
                journal.update_params(run.id, params)
            more = more or p["next"] < p["total"]
            if p["status"] in FINISHED and p["next"] >= p["total"]:
                done.add(run.id)
        if not more:  # read what every shard has written so far: wait for more (a query costs the server and
            # the worker holding the workflow more than the writes it returns, so not one per write)
            if until is not None and loop.time() >= until:  # detached: up to date as of this round
                return len(done) == len(runs)
            await asyncio.sleep(poll)
    return True


def apply_ops(journal: Journal, ops: list[list[Any]], on_event) -> None:
    """The workflow's journal writes, made with the Journal calls the local engine makes, in the same order."""
    for op in ops:
        kind, args = op[0], op[1:]
        if kind == "set_vm":
            journal.set_vm(*args)
        elif kind == "set_wave":
            journal.set_wave(*args)
        elif kind == "step":
            journal.step(*args)
        elif kind == "finish_run":
            journal.finish_run(*args)
        elif kind == "set_run_status":
            journal.set_run_status(*args)
        elif kind == "set_apply_step":
            journal.set_apply_step(*args)
        elif kind == "event":
            with contextlib.suppress(Exception):  # printing never stops the mirror
                on_event(args[0], **args[1])


async def signal(run: Run, action: str) -> None:
    """Send an operator's control to the run's workflow (refit.run.control)."""
    e = engine_of(run)
    assert e is not None
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    client = await connect(e["address"], e.get("namespace", DEFAULT_NAMESPACE))
    loop = asyncio.get_running_loop()
    end = loop.time() + 30.0
    while True:
        try:
            await client.get_workflow_handle(e["workflow_id"]).signal(action)
            return
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND or loop.time() > end:
                raise
        # The campaign's workflow starts its shards' workflows as it begins: wait for this one while it does.
        try:
            parent = await client.get_workflow_handle(e["campaign"]).describe()
        except RPCError as err:
            raise UserError(f"run {run.id}: its workflow {e['workflow_id']} is not on Temporal at {e['address']} "
                            f"(namespace {e.get('namespace', DEFAULT_NAMESPACE)})") from err
        if parent.status != WorkflowExecutionStatus.RUNNING:
            raise UserError(f"run {run.id}: its campaign workflow {e['campaign']} is {parent.status.name.lower()}")
        await asyncio.sleep(0.1)


def signal_sync(run: Run, action: str) -> None:
    """`signal` from synchronous code, also from a thread whose event loop is running (refit serve)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(signal(run, action))
        return
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, signal(run, action)).result()


def run_campaign(journal: Journal, runs: list[Run], address: str, namespace: str, task_queue: str, scale: float,
                 clock_now: float, on_event=None, detach: bool = False, heartbeat: float = DEFAULT_HEARTBEAT,
                 extras: dict[str, dict[str, Any]] | None = None) -> bool:
    """Start (or re-attach to) the campaign and follow it; True once every run finished, False if detached."""

    async def go() -> bool:
        client = await connect(address, namespace)
        await start(client, journal, runs, address, namespace, task_queue, scale, clock_now, heartbeat, extras)
        if detach:
            return False
        return await follow(client, journal, runs, on_event)

    return asyncio.run(go())


def reattach(journal: Journal, runs: list[Run], on_event=None, detach: bool = False) -> bool:
    e = engine_of(runs[0])
    assert e is not None

    async def go() -> bool:
        client = await connect(e["address"], e.get("namespace", DEFAULT_NAMESPACE))
        # detached: one pass that brings the journal up to date, then back (the workflow runs on)
        until = asyncio.get_running_loop().time() if detach else None
        return await follow(client, journal, runs, on_event, until=until)

    return asyncio.run(go())
