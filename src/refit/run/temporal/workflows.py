"""refit's campaigns as Temporal workflows: the same decisions as the local engine, driven durably.

`ShardWorkflow` executes ONE journal run (a `refresh swap` or `rollback` over one subscription and region, a
`refresh disks` or `tag`, an `apply`, a `rollout`) with the decisions the local engine runs: a swap's with
refit.run.campaign's own `Campaign` (the wave loop and every VM's steps, each io call an activity), the others'
with their own generators over a `RemoteClient` (each request one `arm_http` activity). Driven by the workflow
instead of the local Scheduler:

  the campaign yields         local engine (drive_local)          this workflow
  RunAll(tasks, limit)        Scheduler.run, many VMs at once     asyncio tasks in the workflow, a semaphore
  Hold() / Soak(s)            Gate: the journal's controls table  signals (pause / resume / abort), durable timers
  a VM step's Call            (inline: ArmIO's Http / Wait)       one activity (refit.run.temporal.activities)
  a task's Http (RemoteClient) the Scheduler's HTTP threads        one `arm_http` activity
  Wait(s) (capacity backoff)  Clock.sleep                         workflow.sleep (a durable timer)

Nothing here does I/O or reads a clock: the campaign's clock is `WorkflowClock` (the emulator's or Azure's time as
the last activity reported it, moved on by workflow time), its journal is `RecordingJournal` (an in-memory copy
whose every write is also appended to `ops`), and the `progress` query hands those writes to the CLI's follower,
which applies them to the SQLite journal in order (refit.run.temporal.client). So the journal of a Temporal run
holds exactly the rows the local engine would have written, and the workflow's state rebuilds itself on replay.

`CampaignWorkflow` starts one ShardWorkflow per (subscription, region) shard, all at once: each within its own
throttles (Compute's are per subscription per region), so ten subscriptions take about as long as one.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from refit.arm.errors import ArmError
    from refit.azure.pacing import Http, Pacer, Reply, Wait
    from refit.run import apply as A
    from refit.run import rollout as R
    from refit.run.campaign import Campaign, Hold, RunAll, Soak, Tags
    from refit.run.control import ABORTED, PAUSED
    from refit.run.journal import ApplyStepRow, Run, VmRow
    from refit.run.refresh.disks import DiskItem, disks_decisions
    from refit.run.refresh.tag import tag_decisions
    from refit.run.sched import TaskResult
    from refit.run.waves import Policy

PROGRESS_PAGE = 2000  # journal writes per `progress` answer (a query's answer stays well under gRPC's 4 MB)
FINISHED = ("completed", "halted", "failed")


class Call:
    """A VM step's request to run activity `name` with `args` (a dict); answered with its result."""

    __slots__ = ("args", "name")

    def __init__(self, name: str, args: dict[str, Any]):
        self.name = name
        self.args = args


class ActivityIO:
    """refit.run.campaign.ArmIO's interface, each method one activity (the worker runs ArmIO's own code)."""

    def settled(self, vm: str, region: str, name: str):
        r = yield Call("vm_settled", {"vm": vm, "region": region, "name": name})
        return r["doc"]

    def tags(self, vm: str, region: str, tags: dict[str, str]):
        yield Call("vm_tags", {"vm": vm, "region": region, "tags": tags})

    def operation(self, method: str, path: str, body: Any, vm: str, region: str, want: dict[str, str] | None = None):
        yield Call("vm_operation", {"method": method, "path": path, "body": body, "vm": vm, "region": region,
                                    "want": want or {}})

    def health(self, vm: str, region: str, has_health: bool, grace: float, boot_wait: float, t0: float | None = None):
        r = yield Call("vm_health", {"vm": vm, "region": region, "has_health": has_health, "grace": grace,
                                     "boot_wait": boot_wait})
        return r


class RemoteClient:
    """The paced client a run's generators see inside a workflow (`refresh disks|tag`, `apply`): its pacer learns
    the target's buckets from the replies as the local client's does, its clock is the workflow's, and each `Http`
    they yield is one `arm_http` activity (refit.run.temporal.activities), each `Wait` a durable timer."""

    def __init__(self, clock: WorkflowClock):
        self.clock = clock
        self.pacer = Pacer(clock)
        self.durations: dict[str, float] = {}  # learned operation durations, as PacedClient's
        self.requests = 0
        self.throttled = 0


class WorkflowClock:
    """The target's clock as the workflow may know it: the time the last activity reported, moved on by the
    workflow's own (replayed, deterministic) time times the clock's scale."""

    def __init__(self, now: float, scale: float):
        self.scale = scale
        self._sim = now
        self._at = workflow.time()

    def now(self) -> float:
        return self._sim + (workflow.time() - self._at) * self.scale

    def observe(self, now: float) -> None:
        self._sim, self._at = now, workflow.time()

    def real(self, seconds: float) -> float:
        """Clock seconds as workflow (real) seconds."""
        return max(0.001, seconds / self.scale)


class RecordingJournal:
    """The journal calls a Campaign makes, kept in memory and appended to `ops` for the follower."""

    def __init__(self, run: dict[str, Any], vms: list[dict[str, Any]], waves: list[dict[str, Any]],
                 steps: list[dict[str, Any]] | None = None):
        self.run_row = dict(run)
        self._steps = list(steps or [])
        self._vms = {v["vm"].lower(): dict(v) for v in vms}
        self._waves = {w["n"]: dict(w) for w in waves}
        self.ops: list[list[Any]] = []

    def _op(self, *op: Any) -> None:
        self.ops.append(list(op))

    def set_vm(self, run_id: str, vm: str, state: str | None = None, detail: str | None = None,
               previous: str | None = None, target: str | None = None) -> None:
        row = self._vms[vm.lower()]
        for col, val in (("state", state), ("detail", detail), ("previous", previous), ("target", target)):
            if val is not None:
                row[col] = val
        self._op("set_vm", run_id, vm, state, detail, previous, target)

    def vms(self, run_id: str) -> list[VmRow]:
        rows = sorted(self._vms.values(), key=lambda r: (r["wave"], r["name"]))
        return [VmRow(**r) for r in rows]

    def set_wave(self, run_id: str, n: int, zone: str, size: int, status: str, failed: int = 0,
                 started: float | None = None, finished: float | None = None) -> None:
        w = self._waves.setdefault(n, {"n": n, "zone": zone, "size": size, "started": None, "finished": None})
        w.update(status=status, failed=failed)
        if started is not None:
            w["started"] = started
        if finished is not None:
            w["finished"] = finished
        self._op("set_wave", run_id, n, zone, size, status, failed, started, finished)

    def waves(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(self._waves[n]) for n in sorted(self._waves)]

    def step(self, run_id: str, vm: str, step: str, status: str, detail: str = "", at: float | None = None) -> None:
        self._op("step", run_id, vm, step, status, detail, at)

    def finish_run(self, run_id: str, status: str, message: str = "", clock_now: float | None = None) -> None:
        self.run_row.update(status=status, message=message)
        self._op("finish_run", run_id, status, message, clock_now)

    def set_run_status(self, run_id: str, status: str, message: str = "") -> None:
        self.run_row.update(status=status, message=message)
        self._op("set_run_status", run_id, status, message)

    def event(self, kind: str, **kw: Any) -> None:
        self._op("event", kind, kw)

    # ---- an apply run's steps (refit.run.apply) ------------------------------------------------------------------
    def apply_steps(self, run_id: str) -> list[ApplyStepRow]:
        return [ApplyStepRow(**dict(r)) for r in self._steps]

    def set_apply_step(self, run_id: str, pos: int, state: str, detail: str = "", started: float | None = None,
                       finished: float | None = None) -> None:
        self._op("set_apply_step", run_id, pos, state, detail, started, finished)

    def run(self, run_id: str) -> None:
        return None  # the run as a Run lives in the follower's journal


class SignalGate:
    """refit.run.control.Gate's interface over the workflow's signals."""

    def __init__(self) -> None:
        self.control: str | None = None

    def state(self) -> str | None:
        return self.control

    def aborted(self) -> bool:
        return self.control == "abort"


def _options(inp: dict[str, Any]) -> dict[str, Any]:
    """Activity options: heartbeats through long operations, retried without limit (every activity reads the live
    state first, so a retry after a lost worker does only what is not yet true). A throttled answer is waited out
    inside the activity (Retry-After, through the clock); one still throttled then says how long to wait
    (ApplicationError.next_retry_delay, refit.run.temporal.activities)."""
    hb = float(inp.get("heartbeat_seconds", 10.0))
    return {"start_to_close_timeout": timedelta(hours=6), "heartbeat_timeout": timedelta(seconds=hb),
            "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=min(1.0, hb / 4)), backoff_coefficient=2.0,
                                        maximum_interval=timedelta(seconds=max(hb, 30.0)))}


@workflow.defn(name="RefitShard")
class ShardWorkflow:
    """One journal run (swap or rollback), executed by refit.run.campaign.Campaign."""

    @workflow.init
    def __init__(self, inp: dict[str, Any]) -> None:
        # Built before any signal is handled: a pause sent as the workflow starts is not lost.
        self.journal = RecordingJournal(inp["run"], inp["vms"], inp["waves"], inp.get("apply_steps"))
        self.gate = SignalGate()
        self.clock = WorkflowClock(float(inp.get("clock_now") or 0.0), float(inp.get("scale") or 1.0))
        self.opts = _options(inp)
        self.calls = 0

    # ---- the operator's controls (refit.run.control sends them) ----------------------------------------------
    @workflow.signal
    def pause(self) -> None:
        if self.gate.control is None:
            self.gate.control = "pause"
            rid = self.journal.run_row["id"]
            self.journal.set_run_status(rid, "paused", f"{PAUSED}: nothing new starts until `refit campaign resume "
                                                       f"{rid}`")
            self.journal.event("paused", run=rid)

    @workflow.signal
    def resume(self) -> None:
        if self.gate.control == "pause":
            self.gate.control = None
            rid = self.journal.run_row["id"]
            self.journal.set_run_status(rid, "running", "resumed by the operator")
            self.journal.event("resumed", run=rid)

    @workflow.signal
    def abort(self) -> None:
        if self.gate.control != "abort":
            was_paused = self.gate.control == "pause"
            self.gate.control = "abort"
            if was_paused:
                self.journal.set_run_status(self.journal.run_row["id"], "running", ABORTED)

    @workflow.query
    def progress(self, since: int = 0) -> dict[str, Any]:
        """The journal writes from position `since` (at most PROGRESS_PAGE), the run's status and whether the
        workflow has made its last write."""
        j = self.journal
        ops = j.ops[since:since + PROGRESS_PAGE]
        return {"ops": ops, "next": since + len(ops), "total": len(j.ops), "status": j.run_row["status"],
                "control": self.gate.control, "activities": self.calls}

    # ---- the run ---------------------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        r = inp["run"]
        if inp.get("control") in ("pause", "abort"):  # requested before the workflow existed
            (self.pause if inp["control"] == "pause" else self.abort)()
        run = Run(r["id"], r["kind"], r.get("subscription", ""), r.get("endpoint", ""), r.get("status", "running"),
                  0.0, 0.0, r.get("params") or {}, r.get("message", ""), None, None)
        await self._decisions(self._campaign(run, inp.get("extra") or {}))
        return {"run": run.id, "status": self.journal.run_row["status"], "message": self.journal.run_row["message"],
                "ops": len(self.journal.ops), "activities": self.calls}

    def _campaign(self, run: Run, extra: dict[str, Any]):
        """The run's decisions, by its kind: the generators the local engine drives, given the workflow's io."""
        params, j = run.params, self.journal
        if run.kind in ("swap", "rollback"):
            return Campaign(None, j, run, Tags(**params.get("tags", {})), Policy(**params.get("policy", {})), j.event,
                            io=ActivityIO(), clock=self.clock, gate=self.gate).decisions()
        client = RemoteClient(self.clock)
        if run.kind == "tag":
            return tag_decisions(client, j, run, Tags(**params.get("tags", {})), j.event)
        if run.kind == "disks":
            return disks_decisions(client, j, run, [DiskItem(**d) for d in extra.get("items", [])], j.event)
        if run.kind == A.KIND:
            def progress(step, status: str) -> None:
                j.event("apply", n=step.n, status=status)

            return A.Apply(client, j.apply_steps(run.id), j, run, progress, int(params.get("max_parallel") or 0),  # type: ignore[arg-type]
                           groups=params.get("groups"), cleanup_from=params.get("cleanup_from"),
                           gate=self.gate).decisions()
        if run.kind == "rollout":
            return self._rollout(client, run, extra)
        raise ValueError(f"no workflow runs a {run.kind} run")

    def _rollout(self, client: RemoteClient, run: Run, extra: dict[str, Any]):
        """refit.run.rollout's decisions; its kill switch an activity (refit.run.release.kill on the worker)."""
        j = self.journal
        version = extra["version"]

        def event(e: dict[str, Any]) -> None:
            R.record_event(j, run.id, e)
            j.event("rollout", **e)

        def kill(version_id: str):
            if not extra.get("kill", True):
                return None
            r = yield Call("release_kill", {"subscription": run.subscription, "version": version_id})
            return r["report"]

        ro = R.Rollout(client, version, [R.SetPlan(**p) for p in extra["plans"]], event, kill)
        out = yield from ro.decisions()
        R.record_outcome(j, run.id, version["id"], out, self.clock.now())

    async def _decisions(self, gen) -> None:
        value: Any = None
        while True:
            try:
                action = gen.send(value)
            except StopIteration:
                return
            if isinstance(action, RunAll):
                value = await self._run_all(action)
            elif isinstance(action, Hold):
                await workflow.wait_condition(lambda: self.gate.control != "pause")
                value = not self.gate.aborted()
            elif isinstance(action, Soak):
                with contextlib.suppress(asyncio.TimeoutError):
                    await workflow.wait_condition(self.gate.aborted, timeout=self.clock.real(action.seconds))
                value = not self.gate.aborted()
            else:
                raise TypeError(f"a campaign yielded {action!r}")

    async def _run_all(self, action: RunAll) -> dict[Any, TaskResult]:
        """Scheduler.run's contract: every task to completion, at most `limit` at once (0: no limit); with
        `gated`, a pause holds the tasks not yet started and an abort drops them (they have no result), but those
        `exempt(key)`; `then(key, result)` as each task ends gives the tasks that may start now."""
        results: dict[Any, TaskResult] = {}
        sem = asyncio.Semaphore(action.limit) if action.limit > 0 else None
        running: list[asyncio.Task] = []

        def free(key: Any) -> bool:
            return action.exempt is not None and action.exempt(key)

        async def one(key: Any, factory) -> None:
            if sem is not None:
                await sem.acquire()
            try:
                if action.gated and not free(key):
                    await workflow.wait_condition(lambda: self.gate.control != "pause" or free(key))
                    if self.gate.aborted() and not free(key):
                        return
                try:
                    res = TaskResult(True, await self._task(factory()))
                except TemporalError:
                    raise
                except Exception as e:  # as Scheduler.run: a task's error is its result (the VM is reported)
                    res = TaskResult(False, error=e)
                results[key] = res
            finally:
                if sem is not None:
                    sem.release()
            if action.then is not None:
                spawn(action.then(key, res))

        def spawn(tasks: dict[Any, Any]) -> None:
            for k, f in tasks.items():
                running.append(asyncio.ensure_future(one(k, f)))

        spawn(action.tasks)
        while running:  # `then` may add tasks while these run: gather until none is left
            batch = list(running)
            running.clear()
            await asyncio.gather(*batch)
        return results

    async def _task(self, gen) -> Any:
        """One VM's generator: each Call an activity, each Wait a durable timer."""
        value: Any = None
        exc: BaseException | None = None
        while True:
            try:
                action = gen.throw(exc) if exc is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            value, exc = None, None
            if isinstance(action, Http):  # one request of the run's own generators (RemoteClient)
                self.calls += 1
                res = await workflow.execute_activity("arm_http", http_args(action), **self.opts)
                self.clock.observe(float(res["now"]))  # type: ignore[union-attr]
                value = Reply(int(res["status"]), res["headers"], res["body"])
            elif isinstance(action, Call):
                self.calls += 1
                res = await workflow.execute_activity(action.name, action.args, **self.opts)
                if res.get("now") is not None:
                    self.clock.observe(float(res["now"]))  # type: ignore[union-attr]
                err = res.get("error")
                if err:
                    exc = ArmError(int(err["status"]), err["code"], err["message"], err.get("target"))
                value = res
            elif isinstance(action, Wait):
                await workflow.sleep(self.clock.real(action.seconds))  # type: ignore[union-attr]
            else:
                exc = TypeError(f"a VM step yielded {action!r}")


@workflow.defn(name="RefitCampaign")
class CampaignWorkflow:
    """One campaign: a ShardWorkflow per shard (subscription, region), all started at once."""

    def __init__(self) -> None:
        self.shards: list[dict[str, Any]] = []
        self.results: dict[str, Any] = {}

    @workflow.query
    def children(self) -> dict[str, Any]:
        return {"shards": [s["workflow_id"] for s in self.shards], "results": self.results}

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> dict[str, Any]:
        self.shards = inp["shards"]

        async def one(shard: dict[str, Any]) -> None:
            res = await workflow.execute_child_workflow(ShardWorkflow.run, shard["input"], id=shard["workflow_id"],
                                                        task_queue=shard.get("task_queue"))
            self.results[shard["workflow_id"]] = res

        await asyncio.gather(*(one(s) for s in self.shards))
        statuses = [r["status"] for r in self.results.values()]
        status = ("completed" if all(s == "completed" for s in statuses)
                  else "halted" if "halted" in statuses else "failed")
        return {"status": status, "shards": self.results}


def http_args(h: Http) -> dict[str, Any]:
    return {"method": h.method, "path": h.path, "api_version": h.api_version, "body": h.body, "params": h.params,
            "resource": h.resource, "region": h.region}


def vm_row_json(v: VmRow) -> dict[str, Any]:
    return asdict(v)
