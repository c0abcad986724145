"""Swap and rollback campaigns: waves of VMs, each brought to its intended OS disk by reconciling live
state (DESIGN.md "reconcile, don't replay"), health-gated, rolled back at once when it fails, journaled
before and after every step.

One VM, forward (`swap`):            record the previous disk (journal row + tag) -> deallocate -> PATCH
                                     storageProfile.osDisk -> start (AllocationFailed retried with backoff)
                                     -> health gate (PowerState/running; HealthState/healthy with the
                                     Application Health extension, within the grace period)
One VM, backward (`rollback`):       desired-state tags first (OsDiskName = previous disk, previous tag =
                                     the disk rolled back from), then the same convergence to the previous
                                     disk and the same health gate.

Every step first reads the VM (with its instance view) and does only what is not already true, after
waiting out an operation still in flight (a process killed mid-deallocate left one). So a resumed run
never repeats a write blindly, never leaves a VM deallocated that it can start, and never deletes a disk:
refit's campaigns issue no DELETE at all.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, same_id
from refit.arm.paths import get_path
from refit.azure.pacing import POLL_SECONDS, PacedClient, Wait, operation, request
from refit.platform import apis
from refit.run.control import ABORTED, Gate
from refit.run.journal import Journal, Run, VmRow
from refit.run.sched import Scheduler
from refit.run.waves import Policy

VM_API = apis.COMPUTE
TAGS_API = apis.RESOURCES
CAPACITY_CODES = ("AllocationFailed", "ZonalAllocationFailed")
TRANSITIONAL_POWER = ("starting", "stopping", "deallocating")
BUSY_PROVISIONING = ("updating", "creating", "deleting", "migrating")
SETTLE_ROUNDS = 720  # x POLL_SECONDS: an hour for an operation left in flight to finish

# VM states in the journal
PENDING, RUNNING, VERIFYING, DONE = "pending", "running", "verifying", "done"
FAILED, ROLLING_BACK, ROLLED_BACK, ROLLBACK_FAILED = "failed", "rolling-back", "rolled-back", "rollback-failed"
WAITING_CAPACITY, NOT_STARTED, SKIPPED, IN_SYNC = "waiting-for-capacity", "not-started", "skipped", "in-sync"
OK_STATES = (DONE, IN_SYNC)
FINAL_STATES = (DONE, IN_SYNC, ROLLED_BACK, SKIPPED, NOT_STARTED)


@dataclass
class Tags:
    """The tag contract (seed 003), names configurable."""

    scope: str = "AutoRefresh"
    scope_value: str = "true"
    disk: str = "OsDiskName"
    previous: str = "OsDiskPrevious"
    critical: str = "tier=critical"

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


class CapacityExhausted(Exception):
    """Start kept failing with AllocationFailed / ZonalAllocationFailed up to the retry limit."""

    def __init__(self, error: ArmError, attempts: int):
        super().__init__(f"({error.code}) {error.message}")
        self.error = error
        self.attempts = attempts


def disk_name(disk_id: str | None) -> str:
    """The name of a disk id (a plain name is returned as it is)."""
    if not disk_id:
        return ""
    return ResourceId.parse(disk_id).name if disk_id.startswith("/") else disk_id


def os_disk_id(doc: dict[str, Any]) -> str | None:
    return get_path(doc, "properties.storageProfile.osDisk.managedDisk.id")


def tag_of(doc: dict[str, Any], name: str) -> str | None:
    for k, v in (doc.get("tags") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def power_of(doc: dict[str, Any]) -> str | None:
    for st in get_path(doc, "properties.instanceView.statuses") or []:
        code = st.get("code") or ""
        if code.startswith("PowerState/"):
            return code.split("/", 1)[1]
    return None


def health_of(doc: dict[str, Any]) -> str | None:
    code = get_path(doc, "properties.instanceView.vmHealth.status.code") or ""
    return code.split("/", 1)[1].lower() if code.startswith("HealthState/") else None


class ArmIO:
    """The requests behind each step of a VM, as generators of `Http` / `Wait` over a PacedClient.

    The local engine runs them inline, many VMs at once, in refit.run.sched's Scheduler; the Temporal engine
    (refit.run.temporal) runs each call as one activity, which drives this same code on the worker
    (`ActivityIO` in refit.run.temporal.workflows yields one `Call` per method instead). Every method returns
    JSON-able values, so that an activity's result is what the local engine would have seen."""

    def __init__(self, client: PacedClient):
        self.c = client

    def read(self, vm: str, region: str) -> Generator[Any, Any, dict[str, Any]]:
        r = yield from request(self.c, "GET", vm, VM_API, params={"$expand": "instanceView"}, resource=vm, region=region)
        if r.status >= 400:
            raise r.error()
        return r.body

    def settled(self, vm: str, region: str, name: str) -> Generator[Any, Any, dict[str, Any]]:
        """The VM once no operation is in flight on it (its model and power state are final)."""
        for _ in range(SETTLE_ROUNDS):
            doc = yield from self.read(vm, region)
            prov = str(get_path(doc, "properties.provisioningState") or "").lower()
            if prov not in BUSY_PROVISIONING and (power_of(doc) or "") not in TRANSITIONAL_POWER:
                return doc
            yield Wait(POLL_SECONDS)
        raise ArmError(408, "OperationTimedOut", f"{name} stayed busy (an operation in flight) for an hour")

    def tags(self, vm: str, region: str, tags: dict[str, str]) -> Generator[Any, Any, None]:
        body = {"operation": "Merge", "properties": {"tags": tags}}
        r = yield from request(self.c, "PATCH", f"{vm}/providers/Microsoft.Resources/tags/default", TAGS_API, body,
                               resource=vm, region=region)
        if r.status >= 400:
            raise r.error()

    def operation(self, method: str, path: str, body: Any, vm: str, region: str,
                  want: dict[str, str] | None = None) -> Generator[Any, Any, None]:
        """A write and its long-running operation. `want` (the live state the write brings about: `power`,
        `disk`) is what an activity checks before it writes again (refit.run.temporal.activities); inline,
        the step's caller has just read the VM, so it is not read again here."""
        yield from operation(self.c, method, path, VM_API, body, resource=vm, region=region)

    def health(self, vm: str, region: str, has_health: bool, grace: float, boot_wait: float,
               t0: float | None = None) -> Generator[Any, Any, dict[str, Any]]:
        """PowerState/running and, with the Application Health extension, HealthState/healthy, within `grace`
        of `t0` (default: now). The verdict comes from a read taken at or after the deadline, never from a
        missed poll. Returns {ok, power, health, t0, took}."""
        clock = self.c.clock
        t0 = clock.now() if t0 is None else t0
        deadline = t0 + grace
        if boot_wait > 0 and clock.now() < t0 + boot_wait:
            yield Wait(t0 + boot_wait - clock.now())
        while True:
            doc = yield from self.read(vm, region)
            power, health = power_of(doc), health_of(doc)
            now = clock.now()
            if power == "running" and (not has_health or health == "healthy"):
                return {"ok": True, "power": power, "health": health, "t0": t0, "took": now - t0}
            if now >= deadline:
                return {"ok": False, "power": power, "health": health, "t0": t0, "took": now - t0}
            yield Wait(min(POLL_SECONDS, deadline - now))


@dataclass
class RunAll:
    """Campaign action: run these tasks (factories of generators) to completion, at most `limit` at once;
    `gated`: an operator's pause holds and an abort drops the tasks not yet started, but those `exempt(key)`
    (the rest of a chain already begun); `then(key, result)`, as each task ends, returns the tasks that may
    start now (a dependency graph's newly ready nodes: refit.run.apply). Answered with {key: TaskResult}."""

    tasks: dict[Any, Callable[[], Generator]]
    limit: int = 0
    gated: bool = True
    then: Callable[[Any, Any], dict[Any, Callable[[], Generator]]] | None = None
    exempt: Callable[[Any], bool] | None = None


@dataclass
class Hold:
    """Campaign action: wait while an operator's pause holds. Answered with False if the run is to abort."""


@dataclass
class Soak:
    """Campaign action: soak between waves (cut short by an abort). Answered with False if the run is to abort."""

    seconds: float


def drive_local(gen: Generator, sched: Scheduler, gate: Gate) -> Any:
    """The local engine: the campaign's decisions in this process, its VM tasks on the Scheduler, its waits on
    the Clock. (The Temporal engine drives the same generator from a workflow: refit.run.temporal.workflows.)"""
    value: Any = None
    while True:
        try:
            action = gen.send(value)
        except StopIteration as stop:
            return stop.value
        if isinstance(action, RunAll):
            value = sched.run(action.tasks, limit=action.limit, then=action.then,
                              gate=gate if action.gated else None, exempt=action.exempt)
        elif isinstance(action, Hold):
            value = gate.hold()
        elif isinstance(action, Soak):
            value = gate.sleep(action.seconds)
        else:
            raise TypeError(f"a campaign yielded {action!r}")


class Campaign:
    """Executes a swap or rollback run recorded in the journal (new or resumed).

    The decisions (waves, canary, health gates, soak, halt, rollback, the journal's rows) are this class's
    generators, whichever engine drives them: `execute()` runs them here (drive_local); the Temporal engine
    builds a Campaign inside a workflow with `io` (activities), `clock` (the workflow's view of the clock),
    `gate` (signals) and a journal that records its writes for the follower (refit.run.temporal)."""

    def __init__(self, client: PacedClient | None, journal: Journal, run: Run, tags: Tags, policy: Policy,
                 on_event: Callable[..., None] | None = None, workers: int = 16, *, io: Any = None,
                 clock: Any = None, gate: Any = None):
        self.c = client
        self.clock = clock if clock is not None else client.clock  # type: ignore[union-attr]
        self.io = io if io is not None else ArmIO(client)  # type: ignore[arg-type]
        self.j = journal
        self.run = run
        self.tags = tags
        self.policy = policy
        self.on_event = on_event or (lambda *a, **k: None)
        self.workers = workers
        self.boot_learned: float | None = None  # how long health took to turn healthy after a start
        # an operator's pause or abort
        self.gate = gate if gate is not None else Gate(journal, run.id, self.clock, self.on_event)

    # ---- journal helpers ------------------------------------------------------------------------------------
    def _state(self, p: VmRow, state: str, detail: str = "") -> None:
        p.state, p.detail = state, detail
        self.j.set_vm(self.run.id, p.vm, state=state, detail=detail)
        self.on_event("vm", vm=p.name, state=state, detail=detail, wave=p.wave)

    def _step(self, p: VmRow, step: str, status: str, detail: str = "") -> None:
        self.j.step(self.run.id, p.vm, step, status, detail, self.clock.now())

    # ---- reading --------------------------------------------------------------------------------------------
    def _settled(self, p: VmRow) -> Generator[Any, Any, dict[str, Any]]:
        """The VM once no operation is in flight on it (its model and power state are final)."""
        return (yield from self.io.settled(p.vm, p.region, p.name))

    # ---- writing --------------------------------------------------------------------------------------------
    def _tags(self, p: VmRow, tags: dict[str, str], step: str) -> Generator[Any, Any, None]:
        self._step(p, step, "started", ", ".join(f"{k}={v}" for k, v in tags.items()))
        try:
            yield from self.io.tags(p.vm, p.region, tags)
        except ArmError as e:
            self._step(p, step, "failed", f"({e.code}) {e.message}")
            raise
        self._step(p, step, "done")

    def _action(self, p: VmRow, verb: str, step: str) -> Generator[Any, Any, None]:
        self._step(p, step, "started")
        try:
            yield from self.io.operation("POST", f"{p.vm}/{verb}", None, p.vm, p.region,
                                         want={"power": "deallocated" if verb == "deallocate" else "running"})
        except ArmError as e:
            self._step(p, step, "failed", f"({e.code}) {e.message}")
            raise
        self._step(p, step, "done")

    def _patch_disk(self, p: VmRow, disk_id: str, step: str, current: str | None) -> Generator[Any, Any, None]:
        self._step(p, step, "started", f"{disk_name(current)} -> {disk_name(disk_id)}")
        body = {"properties": {"storageProfile": {"osDisk": {"name": disk_name(disk_id), "managedDisk": {"id": disk_id}}}}}
        try:
            yield from self.io.operation("PATCH", p.vm, body, p.vm, p.region, want={"disk": disk_id})
        except ArmError as e:
            self._step(p, step, "failed", f"({e.code}) {e.message}")
            raise
        self._step(p, step, "done")

    def _start(self, p: VmRow, step: str) -> Generator[Any, Any, None]:
        """Start; AllocationFailed/ZonalAllocationFailed is retried with backoff up to the limit, the VM
        reported as waiting for capacity meanwhile (5b A1/A2: capacity comes and goes)."""
        delay = self.policy.start_backoff_seconds
        resume_state = p.state
        for attempt in range(self.policy.start_retries + 1):
            self._step(p, step, "started", f"attempt {attempt + 1}")
            try:
                yield from self.io.operation("POST", f"{p.vm}/start", None, p.vm, p.region, want={"power": "running"})
            except ArmError as e:
                self._step(p, step, "failed", f"({e.code}) {e.message}")
                if e.code not in CAPACITY_CODES:
                    raise
                if attempt == self.policy.start_retries:
                    raise CapacityExhausted(e, attempt + 1) from e
                self._state(p, WAITING_CAPACITY, f"({e.code}) start attempt {attempt + 1} of "
                            f"{self.policy.start_retries + 1}; next in {delay:.0f} s")
                self._step(p, step, "backoff", f"{delay:.0f} s")
                yield Wait(delay)
                delay = min(delay * 2, self.policy.start_backoff_seconds * 16)
                self._state(p, resume_state)
                continue
            self._step(p, step, "done")
            return

    def _converge(self, p: VmRow, disk_id: str, prefix: str, doc: dict[str, Any]) -> Generator[Any, Any, None]:
        """Bring the VM to run `disk_id`: deallocate and swap unless it already runs it, start unless running."""
        power = power_of(doc) or "unknown"
        current = os_disk_id(doc)
        if not same_id(current, disk_id):
            if power != "deallocated":
                yield from self._action(p, "deallocate", prefix + "deallocate")
            yield from self._patch_disk(p, disk_id, prefix + "swap", current)
            power = "deallocated"
        if power != "running":
            yield from self._start(p, prefix + "start")

    def _health(self, p: VmRow, step: str) -> Generator[Any, Any, tuple[bool, str]]:
        """PowerState/running and, with the Application Health extension, HealthState/healthy, within the
        grace period. The VM is judged on a read taken at or after the deadline, never on a missed poll."""
        self._step(p, step, "started")
        boot = min(self.boot_learned, self.policy.grace_seconds) if p.health and self.boot_learned else 0.0
        r = yield from self.io.health(p.vm, p.region, p.health, self.policy.grace_seconds, boot)
        power, health = r["power"], r["health"]
        if r["ok"]:
            if p.health:
                took = r["took"]
                self.boot_learned = took if self.boot_learned is None else min(self.boot_learned, took)
            self._step(p, step, "done", f"PowerState/{power}" + (f", HealthState/{health}" if p.health else ""))
            return True, ""
        why = (f"not healthy within the {self.policy.grace_seconds:.0f} s grace period: PowerState/{power}"
               + (f", HealthState/{health}" if p.health else ""))
        self._step(p, step, "failed", why)
        return False, why

    # ---- one VM ----------------------------------------------------------------------------------------------
    def swap_vm(self, p: VmRow) -> Generator[Any, Any, str]:
        try:
            self._state(p, RUNNING)
            doc = yield from self._settled(p)
            if not same_id(os_disk_id(doc), p.target):
                if not same_id(os_disk_id(doc), p.previous):
                    # Someone (the seed's scripts, a human) moved the VM since the run was planned: the disk it
                    # runs now is the one to come back to.
                    p.previous = os_disk_id(doc)
                    self.j.set_vm(self.run.id, p.vm, previous=p.previous)
                if (tag_of(doc, self.tags.previous) or "") != disk_name(p.previous):
                    yield from self._tags(p, {self.tags.previous: disk_name(p.previous)}, "record-previous")
            yield from self._converge(p, p.target, "", doc)  # type: ignore[arg-type]
            self._state(p, VERIFYING)
            ok, why = yield from self._health(p, "health")
            if ok:
                self._state(p, DONE)
                return DONE
            reason = why
        except CapacityExhausted as e:
            reason = f"start failed {e.attempts} times for capacity: {e}"
        except ArmError as e:
            reason = f"({e.code}) {e.message}"
        self._state(p, FAILED, reason)
        return (yield from self.rollback_vm(p, reason))

    def rollback_vm(self, p: VmRow, reason: str) -> Generator[Any, Any, str]:
        """Back to the recorded previous disk: the desired-state tags first, then converge, then health."""
        self._state(p, ROLLING_BACK, reason)
        try:
            doc = yield from self._settled(p)
            want = {self.tags.disk: disk_name(p.previous)}
            if not same_id(os_disk_id(doc), p.previous) or (tag_of(doc, self.tags.disk) or "") != disk_name(p.previous):
                want[self.tags.previous] = disk_name(p.target)
            if any((tag_of(doc, k) or "") != v for k, v in want.items()):
                yield from self._tags(p, want, "rollback-tags")
            yield from self._converge(p, p.previous, "rollback-", doc)  # type: ignore[arg-type]
            ok, why = yield from self._health(p, "rollback-health")
        except CapacityExhausted as e:
            self._state(p, WAITING_CAPACITY, f"rollback: start failed {e.attempts} times for capacity: {e}; "
                        f"it is deallocated on {disk_name(p.previous)}: re-run to start it")
            return WAITING_CAPACITY
        except ArmError as e:
            self._state(p, ROLLBACK_FAILED, f"{reason}; rollback: ({e.code}) {e.message}")
            return ROLLBACK_FAILED
        if not ok:
            self._state(p, ROLLBACK_FAILED, f"{reason}; after rollback still {why}")
            return ROLLBACK_FAILED
        self._state(p, ROLLED_BACK, reason)
        return ROLLED_BACK

    # ---- the campaign ----------------------------------------------------------------------------------------
    def execute(self) -> Run:
        """Run (or resume) every wave; returns the finished run record."""
        sched = Scheduler(self.c, workers=self.workers)  # type: ignore[arg-type]
        try:
            drive_local(self.decisions(), sched, self.gate)
        finally:
            sched.close()
        return self.j.run(self.run.id)  # type: ignore[return-value]

    def decisions(self) -> Generator[Any, Any, None]:
        """The run's decisions, yielding RunAll / Hold / Soak to the engine that drives them."""
        if self.run.kind == "rollback":
            yield from self._rollback_run()
        else:
            yield from self._swap_run()

    def _task(self, p: VmRow):
        if p.state in (FAILED, ROLLING_BACK, ROLLBACK_FAILED):
            return lambda: self.rollback_vm(p, p.detail or "resumed rollback")
        if p.state == WAITING_CAPACITY and "rollback" in (p.detail or ""):
            return lambda: self.rollback_vm(p, p.detail)
        return lambda: self.swap_vm(p)

    def _swap_run(self) -> Generator[Any, Any, None]:
        rid = self.run.id
        vms = [v for v in self.j.vms(rid) if v.wave >= 0]
        waves = self.j.waves(rid)
        last = max((w["n"] for w in waves), default=-1)
        for w in waves:
            members = [v for v in vms if v.wave == w["n"]]
            if w["status"] in ("done", "halted"):
                continue
            if w["status"] == "halting":
                yield from self._halt(w, members, resumed=True)
                return
            if not (yield Hold()):  # an operator's pause holds the next wave; an abort ends the run here
                yield from self._halt(w, members, resumed=w["status"] == "running")
                return
            started = w["started"] if w["started"] is not None else self.clock.now()
            self.j.set_wave(rid, w["n"], w["zone"], w["size"], "running", started=started)
            self.on_event("wave", n=w["n"], zone=w["zone"], size=len(members), status="running")
            todo = {v.vm: self._task(v) for v in members if v.state not in FINAL_STATES}
            results = yield RunAll(todo, self.policy.max_parallel)
            for key, res in results.items():
                if not res.ok:  # a bug or an unexpected error: the VM is reported, never silently dropped
                    v = next(x for x in members if x.vm == key)
                    self._state(v, FAILED, f"{type(res.error).__name__}: {res.error}")
            failed = [v for v in members if v.state not in (*OK_STATES, PENDING)]
            pct = 100.0 * len(failed) / max(1, len(members))
            if self.gate.aborted() or (failed and pct > self.policy.max_unhealthy_percent):
                yield from self._halt(w, members, resumed=False)
                return
            self.j.set_wave(rid, w["n"], w["zone"], w["size"], "done", failed=len(failed), finished=self.clock.now())
            self.on_event("wave", n=w["n"], zone=w["zone"], size=len(members), status="done", failed=len(failed))
            if w["n"] != last and self.policy.soak_seconds > 0:
                self.on_event("soak", seconds=self.policy.soak_seconds)
                yield Soak(self.policy.soak_seconds)  # an abort during the soak ends the run at the next wave
        bad = [v for v in vms if v.state not in OK_STATES]
        status = "completed" if not bad else "failed"
        msg = (f"{sum(v.state in OK_STATES for v in vms)} of {len(vms)} VMs on their new OS disk"
               + (f"; {len(bad)} not: " + ", ".join(f"{v.name} ({v.state})" for v in bad) if bad else ""))
        self.j.finish_run(rid, status, msg, self.clock.now())
        self.on_event("finished", status=status, message=msg)

    def _halt(self, w: dict[str, Any], members: list[VmRow], resumed: bool) -> Generator[Any, Any, None]:
        rid = self.run.id
        n_failed = sum(1 for v in members if v.state not in (*OK_STATES, PENDING))
        if self.gate.aborted():
            reason = f"wave {w['n']} halted the campaign: {ABORTED}"
        else:
            reason = (f"wave {w['n']} halted the campaign: {n_failed} of {len(members)} VMs failed "
                      f"(more than --max-unhealthy-percent {self.policy.max_unhealthy_percent:g})")
        self.j.set_wave(rid, w["n"], w["zone"], w["size"], "halting", failed=n_failed)
        self.on_event("halt", n=w["n"], message=reason)
        # Roll back the whole wave: the VMs that passed too, and finish rollbacks a crash interrupted.
        # After an abort, a VM still pending never started: it is left as it is (not started), not rolled back.
        unfinished = (ROLLING_BACK, FAILED, ROLLBACK_FAILED, VERIFYING, RUNNING)
        if not self.gate.aborted():
            unfinished += (PENDING,)
        todo = {}
        for v in members:
            if v.state == DONE or (resumed and v.state in unfinished):
                todo[v.vm] = (lambda v=v: self.rollback_vm(v, reason))
        yield RunAll(todo, self.policy.max_parallel, gated=False)
        self.j.set_wave(rid, w["n"], w["zone"], w["size"], "halted", failed=n_failed, finished=self.clock.now())
        for v in self.j.vms(rid):
            if v.wave == w["n"] and v.state == PENDING:  # an abort stopped the wave before this VM started
                self.j.set_vm(rid, v.vm, state=NOT_STARTED, detail="the campaign halted before this VM started")
            if v.wave > w["n"] and v.state == PENDING:
                self.j.set_vm(rid, v.vm, state=NOT_STARTED, detail="the campaign halted before its wave")
        for later in self.j.waves(rid):
            if later["n"] > w["n"]:
                self.j.set_wave(rid, later["n"], later["zone"], later["size"], "halted")
        self.j.finish_run(rid, "halted", reason, self.clock.now())
        self.on_event("finished", status="halted", message=reason)

    def _rollback_run(self) -> Generator[Any, Any, None]:
        rid = self.run.id
        vms = [v for v in self.j.vms(rid) if v.wave >= 0]
        todo = {v.vm: (lambda v=v: self.rollback_vm(v, v.detail or "rollback requested"))
                for v in vms if v.state not in FINAL_STATES}
        self.j.set_wave(rid, 0, "", len(vms), "running", started=self.clock.now())
        if (yield Hold()):
            yield RunAll(todo, self.policy.max_parallel)
        aborted = self.gate.aborted()
        for v in self.j.vms(rid):
            if aborted and v.wave >= 0 and v.state == PENDING:
                self.j.set_vm(rid, v.vm, state=NOT_STARTED, detail=f"{ABORTED} before this VM's rollback started")
        vms = [v for v in self.j.vms(rid) if v.wave >= 0]
        bad = [v for v in vms if v.state not in (ROLLED_BACK, SKIPPED)]
        self.j.set_wave(rid, 0, "", len(vms), "halted" if aborted else "done", failed=len(bad),
                        finished=self.clock.now())
        status = "halted" if aborted else "completed" if not bad else "failed"
        msg = ((f"{ABORTED}; " if aborted else "")
               + f"{sum(v.state == ROLLED_BACK for v in vms)} of {len(vms)} VMs back on their previous OS disk"
               + (f"; {len(bad)} not: " + ", ".join(f"{v.name} ({v.state})" for v in bad) if bad else ""))
        self.j.finish_run(rid, status, msg, self.clock.now())
        self.on_event("finished", status=status, message=msg)
