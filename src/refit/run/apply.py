"""`refit apply`: execute a plan's steps as a dependency graph (`refit.run.stepgraph`), independent steps at
once through refit's scheduler and paced client (so within the throttles Azure reports), every wait on the
Clock, every step journaled before it is sent and after it completes.

Each step first reads the live state and is skipped if its effect is already true ("reconcile, don't
replay"), after waiting out an operation still in flight on the resource (a killed run left one). So a run
killed at any point is finished by running the plan again (or `--resume RUN`): a VM a killed run
deallocated, whose PATCH never came, gets its PATCH and its start; re-applying a finished plan sends no
write at all.

The first failure stops the start of new steps; steps in flight finish; everything is recorded; the report
says what failed with Azure's error and how to undo each step this run performed, newest first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from typing import Any

from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.azure.pacing import POLL_SECONDS, PacedClient, Wait, operation, request
from refit.ops.op import Request
from refit.ops.vocabulary import AWAIT_ROLLING_UPGRADE, DELETE_ENTRA_DEVICE, VALIDATION_WINDOW
from refit.plan.goal import Goal, equal, unmet
from refit.plan.model import Plan, Step
from refit.platform import apis
from refit.run.campaign import (
    BUSY_PROVISIONING,
    SETTLE_ROUNDS,
    TRANSITIONAL_POWER,
    Hold,
    RunAll,
    drive_local,
    power_of,
)
from refit.run.control import ABORTED, Gate
from refit.run.journal import ApplyStepRow, Journal, Run
from refit.run.sched import Scheduler, TaskResult
from refit.run.stepgraph import POWER_ACTIONS, dependencies, target_of, verb_of

KIND = "apply"
# Step states in the journal
PENDING, RUNNING, DONE, SKIPPED, FAILED, NOT_STARTED = "pending", "running", "done", "skipped", "failed", "not-started"
FINAL = (DONE, SKIPPED)


@dataclass
class Outcome:
    done: list[Step] = field(default_factory=list)  # performed by this run, in the order they completed
    skipped: list[Step] = field(default_factory=list)  # already true (by an earlier run, or anyone)
    failed: Step | None = None  # the first failure
    error: ArmError | None = None
    failures: list[tuple[Step, ArmError]] = field(default_factory=list)
    not_started: list[Step] = field(default_factory=list)
    run: Run | None = None
    max_in_flight: int = 0  # the most steps whose writes were in flight at once
    aborted: bool = False  # an operator's abort stopped the run (refit.run.control)

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.aborted

    def rollback(self) -> list[dict[str, Any]]:
        """What undoes the steps this run performed, newest first (the reverse of the order they completed,
        which respects their dependencies)."""
        out = []
        for s in reversed(self.done):
            out.append({"step": s.n, "summary": s.summary, "request": s.rollback,
                        "note": s.rollback_note or ("" if s.rollback else "no automatic rollback")})
        return out


# ---- reading the live state ------------------------------------------------------------------------------------
def _is_vm(rid: str) -> bool:
    try:
        return ResourceId.parse(rid).type.lower() == "microsoft.compute/virtualmachines"
    except ArmError:
        return False


def settled(c: PacedClient, rid: str, api: str, regions: dict[str, str]) -> Generator[Any, Any, dict | None]:
    """The resource once no operation is in flight on it (a VM with its instance view, so its power state
    is final too); None if it does not exist. Learns its region for pacing."""
    vm = _is_vm(rid)
    for _ in range(SETTLE_ROUNDS):
        r = yield from request(c, "GET", rid, api, params={"$expand": "instanceView"} if vm else None,
                               region=regions.get(id_key(rid), ""))
        if r.status == 404:
            return None
        if r.status >= 400:
            raise r.error()
        doc = r.body or {}
        if doc.get("location"):
            regions[id_key(rid)] = doc["location"]
        prov = str(get_path(doc, "properties.provisioningState") or "").lower()
        if prov not in BUSY_PROVISIONING and (power_of(doc) or "") not in TRANSITIONAL_POWER:
            return doc
        yield Wait(POLL_SECONDS)
    raise ArmError(408, "OperationTimedOut", f"{rid.rsplit('/', 1)[-1]} stayed busy (an operation in flight) "
                   f"for {SETTLE_ROUNDS * POLL_SECONDS / 3600:.0f} h")


def _props(body: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a request body into dotted paths (leaves; lists whole)."""
    out: dict[str, Any] = {}
    if isinstance(body, dict) and body:
        for k, v in body.items():
            out.update(_props(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = body
    return out


def matches(actual: Any, wanted: Any) -> bool:
    """`actual` (live) already says what `wanted` (a request) asks: ids compared as Azure compares them,
    objects on the keys asked for (Azure fills in defaults), lists item by item in any order."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(matches(actual.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(actual, list) or len(actual) != len(wanted):
            return False
        left = list(actual)
        for w in wanted:
            hit = next((i for i, a in enumerate(left) if matches(a, w)), None)
            if hit is None:
                return False
            left.pop(hit)
        return True
    return equal(actual, wanted)


def effect_live(step: Step, doc: dict | None) -> bool:
    """Whether a PUT, PATCH or DELETE step's effect is in the settled document of its resource."""
    method = step.request["method"].upper()
    if step.op == DISABLE_FLOW_LOG:  # a PUT of an existing flow log: live once Azure shows it disabled
        return doc is not None and get_path(doc, "properties.enabled") is False
    if method == "PUT":
        return doc is not None and get_path(doc, "properties.provisioningState") in (None, "Succeeded")
    if method == "DELETE":
        return doc is None
    if method == "PATCH":
        # uefiSettings follow securityType (U1/U4: Azure may answer them null or filled in).
        return doc is not None and all(matches(get_path(doc, p), v) for p, v in _props(step.request.get("body")).items()
                                       if not p.endswith("uefiSettings"))
    return False


def _live(c: PacedClient, step: Step, regions: dict[str, str],
          have: tuple[str, dict | None] | None = None) -> Generator[Any, Any, bool]:
    """Whether a step that is not a power action is already true (`have`: a settled read already made)."""
    if step.followup:  # an action with a bookkeeping follow-up (the guest conversion): the follow-up says it ran
        f = Request.from_json(step.followup)
        scope = f.path.split("/providers/Microsoft.Resources/tags/")[0]
        doc = yield from settled(c, scope, apis.api_version_for(scope), regions)
        want = (f.body or {}).get("properties", {}).get("tags", {})
        tags = {k.lower(): v for k, v in ((doc or {}).get("tags") or {}).items()}
        return doc is not None and all(tags.get(k.lower()) == v for k, v in want.items())
    if step.request["method"].upper() == "POST":
        return False  # an action with no observable effect: sent again
    target = target_of(step.request)
    if have is not None and have[0] == id_key(target):
        doc = have[1]
    else:
        doc = yield from settled(c, target, step.request["api_version"], regions)
    return effect_live(step, doc)


# ---- a scale set's rolling upgrade ----------------------------------------------------------------------------
def _rolling(c: PacedClient, step: Step, region: str) -> Generator[Any, Any, dict | None]:
    """`rollingUpgrades/latest` of the step's scale set (None: it never ran one)."""
    r = yield from request(c, "GET", step.request["path"], step.request["api_version"], region=region)
    if r.status == 404:
        return None
    if r.status >= 400:
        raise r.error()
    return r.body or {}


def _instances_current(c: PacedClient, step: Step, region: str) -> Generator[Any, Any, bool]:
    """Whether every instance of the set runs its latest model (`latestModelApplied`)."""
    r = yield from request(c, "GET", f"{step.resource}/virtualMachines", step.request["api_version"], region=region)
    if r.status >= 400:
        raise r.error()
    return all(get_path(i, "properties.latestModelApplied") is not False for i in (r.body or {}).get("value") or [])


def await_upgrade(c: PacedClient, step: Step, region: str) -> Generator[Any, Any, None]:
    """Watch the set's rolling upgrade until it ends: Completed is done; Faulted or Cancelled fails the step with the
    upgrade's own error (its code and message, as `rollingUpgrades/latest` gives them)."""
    for _ in range(SETTLE_ROUNDS):
        body = yield from _rolling(c, step, region)
        code = get_path(body, "properties.runningStatus.code") if body else None
        if code == "RollingForward":
            yield Wait(POLL_SECONDS)
            continue
        if code in (None, "Completed") and (yield from _instances_current(c, step, region)):
            return
        err = get_path(body, "properties.error") or {}
        raise ArmError(409, err.get("code") or "RollingUpgradeNotCompleted",
                       err.get("message") or f"the rolling upgrade of {step.resource.rsplit('/', 1)[-1]} ended "
                       f"{code or 'without running'} with instances not on the latest model")
    raise ArmError(408, "OperationTimedOut", f"the rolling upgrade of {step.resource.rsplit('/', 1)[-1]} did not end "
                   f"within {SETTLE_ROUNDS * POLL_SECONDS / 3600:.0f} h")


DISABLE_FLOW_LOG, CREATE_FLOW_LOG = "disable_flow_log", "create_flow_log"  # refit.plan.flowlogs' steps


def validation_window(c: PacedClient, step: Step, steps: list[Step], regions: dict[str, str],
                      ) -> Generator[Any, Any, None]:
    """Both flow logs log for the window (the step's duration, on the Clock), then each VNet flow log its group
    created is read: gone, disabled or not Succeeded fails the step, and the NSG flow logs stay enabled."""
    yield Wait(step.duration_seconds)
    for s in steps:
        if s.group != step.group or s.op != CREATE_FLOW_LOG or s.n >= step.n:
            continue
        doc = yield from settled(c, s.resource, s.request["api_version"], regions)
        state = "gone" if doc is None else (
            "disabled" if get_path(doc, "properties.enabled") is not True else
            str(get_path(doc, "properties.provisioningState") or "Succeeded"))
        if state != "Succeeded":
            raise ArmError(409, "FlowLogValidationFailed", f"VNet flow log {s.resource.rsplit('/', 1)[-1]} is {state} "
                           "at the end of the validation window: the NSG flow logs stay enabled")


def is_done(c: PacedClient, step: Step, later: list[Step], regions: dict[str, str] | None = None,
            ) -> Generator[Any, Any, bool]:
    """Whether the step's effect is already true in the live state (`later`: the steps after it, in plan order).
    A power action is also done when the change it made room for is already live: the deallocate before a
    PATCH that is live (the VM was since started again), or the start before a guest command that ran. A
    killed run's half-done chain (deallocated, no PATCH) thus resumes at the PATCH, then starts the VM."""
    regions = {} if regions is None else regions
    if step.op == DELETE_ENTRA_DEVICE:  # a Graph DELETE: done once Graph no longer has the device
        r = yield from request(c, "GET", step.request["path"])
        if r.status not in (200, 404):
            raise r.error()
        return r.status == 404
    if step.op == VALIDATION_WINDOW:  # done once what it holds back (its group's later steps) is live
        rest = [s for s in later if s.group == step.group]
        for s in rest:
            if not (yield from _live(c, s, regions)):
                return False
        return bool(rest)
    if step.op == AWAIT_ROLLING_UPGRADE:
        body = yield from _rolling(c, step, regions.get(id_key(step.resource), ""))
        code = get_path(body, "properties.runningStatus.code") if body else None
        return code != "RollingForward" and (yield from _instances_current(c, step, regions.get(id_key(step.resource),
                                                                                                   "")))
    verb = verb_of(step.request)
    if verb not in ("deallocate", "start"):
        return (yield from _live(c, step, regions))
    target = target_of(step.request)
    doc = yield from settled(c, target, step.request["api_version"], regions)
    if doc is None:
        return False  # sent, and Azure says why not
    key = id_key(target)
    nxt = next((s for s in later if id_key(target_of(s.request)) == key and verb_of(s.request) not in POWER_ACTIONS),
               None)
    if nxt is not None and (yield from _live(c, nxt, regions, (key, doc))):
        return True
    return power_of(doc) == ("deallocated" if verb == "deallocate" else "running")


# ---- the run ----------------------------------------------------------------------------------------------------
def plan_steps(plan: Plan, cleanup: bool) -> list[Step]:
    return plan.steps + (plan.cleanup if cleanup else [])


def digest(steps: list[Step]) -> str:
    """What identifies a plan's run: its steps (a plain re-run of the same plan resumes an interrupted run)."""
    text = json.dumps([asdict(s) for s in steps], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def new_rows(steps: list[Step], n_plan: int) -> list[ApplyStepRow]:
    deps = dependencies(steps, cleanup_from=n_plan)
    return [ApplyStepRow(i, s.n, s.resource, s.group, sorted(deps[i]), asdict(s)) for i, s in enumerate(steps)]


def start_run(journal: Journal, session, plan: Plan, cleanup: bool, plan_file: str, clock_now: float,
              max_parallel: int = 0) -> Run:
    """A new apply run with all its steps, in one transaction."""
    steps = plan_steps(plan, cleanup)
    params = {"plan_file": plan_file, "digest": digest(steps), "cleanup": cleanup, "steps": len(steps),
              "cleanup_from": len(plan.steps), "max_parallel": max_parallel, "groups": plan.groups}
    return journal.new_run(KIND, session.subscription, session.endpoint, params, clock_now,
                           steps=new_rows(steps, len(plan.steps)))


def interrupted_run(journal: Journal, session, plan_digest: str) -> Run | None:
    """The newest apply run of this plan left `running` by a process that is gone."""
    runs = [r for r in journal.interrupted(session.subscription, (KIND,)) if r.params.get("digest") == plan_digest]
    return runs[-1] if runs else None


class Apply:
    """Executes the steps of one apply run (new or resumed), or, without a journal, of a plan in memory."""

    def __init__(self, client: PacedClient, rows: list[ApplyStepRow], journal: Journal | None = None,
                 run: Run | None = None, progress: Callable[[Step, str], None] | None = None,
                 max_parallel: int = 0, workers: int = 16, groups: list[dict] | None = None,
                 cleanup_from: int | None = None, gate: Any = None):
        self.c = client
        # The end state of each group (Plan.groups), and whether it was live when the run first looked.
        self.groups = {g["group"]: g for g in groups or []}
        self._group_live: dict[int, bool] = {}
        self.cleanup_from = len(rows) if cleanup_from is None else cleanup_from
        self.clock = client.clock
        self.rows = rows
        self.steps = [Step(**r.step) for r in rows]
        self.j = journal
        self.run = run
        self.progress = progress or (lambda step, status: None)
        self.max_parallel = max_parallel
        self.workers = workers
        self.regions: dict[str, str] = {}
        self.stopped = False
        self.out = Outcome(run=run)
        self._in_flight = 0
        self._failed_here: set[int] = set()
        # an operator's pause or abort: the journal's controls here; a workflow's signals on the Temporal engine
        self.gate = gate if gate is not None else Gate(journal, run.id if run is not None else None, self.clock)
        self._begun_groups = {r.group for r in rows if r.state in (RUNNING, DONE)}
        by_target: dict[str, list[int]] = {}
        for i, s in enumerate(self.steps):
            by_target.setdefault(id_key(target_of(s.request)), []).append(i)
        self._later = {i: [self.steps[k] for k in ks[ks.index(i) + 1:]] for ks in by_target.values() for i in ks}

    # ---- journal ----------------------------------------------------------------------------------------------
    def _record(self, i: int, state: str, detail: str = "", started: float | None = None,
                finished: float | None = None) -> None:
        row = self.rows[i]
        row.state, row.detail = state, detail
        if state in (RUNNING, DONE):
            self._begun_groups.add(row.group)
        if started is not None:
            row.started = started
        if finished is not None:
            row.finished = finished
        if self.j is not None and self.run is not None:
            self.j.set_apply_step(self.run.id, i, state, detail, started, finished)
            if state != PENDING:
                log = {RUNNING: "started", NOT_STARTED: "not-started"}.get(state, state)
                self.j.step(self.run.id, row.resource, f"{row.n}:{self.steps[i].op}", log, detail, self.clock.now())

    # ---- one step ---------------------------------------------------------------------------------------------
    def _step(self, i: int) -> Generator[Any, Any, str]:
        step = self.steps[i]
        if self.stopped:
            return NOT_STARTED
        if i < self.cleanup_from and (yield from self._group_done(step.group)):
            self._record(i, SKIPPED, "already true: its group's goals hold", finished=self.clock.now())
            self.progress(step, "skipped (already true)")
            return SKIPPED
        done = yield from is_done(self.c, step, self._later[i], self.regions)
        if done:
            self._record(i, SKIPPED, "already true", finished=self.clock.now())
            self.progress(step, "skipped (already true)")
            return SKIPPED
        if self.stopped:  # another step failed while this one was reading
            return NOT_STARTED
        r = Request.from_json(step.request)
        region = self.regions.get(id_key(target_of(step.request)), "")
        self._record(i, RUNNING, started=self.clock.now())
        self.progress(step, "running")
        self._in_flight += 1
        self.out.max_in_flight = max(self.out.max_in_flight, self._in_flight)
        detail = ""
        try:
            if step.op == AWAIT_ROLLING_UPGRADE:
                yield from await_upgrade(self.c, step, region)
            elif step.op == VALIDATION_WINDOW:
                yield from validation_window(self.c, step, self.steps, self.regions)
            else:
                yield from operation(self.c, r.method, r.path, r.api_version, r.body, region=region)
            if step.followup:
                f = Request.from_json(step.followup)
                yield from operation(self.c, f.method, f.path, f.api_version, f.body, region=region)
        except ArmError as e:
            # Reconcile the answer too: if the effect is live now (the operation's status was lost, or it
            # raced another writer), the step is done; otherwise Azure's error stands.
            if not (yield from self._live_after(step, i)):
                raise e
            detail = f"Azure answered ({e.code}) {e.message}, but the step's effect is live"
        finally:
            self._in_flight -= 1
        self._record(i, DONE, detail, finished=self.clock.now())
        self.progress(step, "done")
        return DONE

    def _group_done(self, group: int) -> Generator[Any, Any, bool]:
        """Whether the group's end state (its goals, and the power state it leaves each VM in) was live when
        its first step came up: then none of its steps runs, its temporary bridges included (re-running a
        bridge that was cleaned up would move the resource back onto it). Decided once per group and run,
        before any of its steps ran, so a group half done by this run is never skipped as a whole."""
        if group not in self._group_live:
            end = self.groups.get(group)
            live = end is not None and bool(end.get("goals"))
            for g in (end or {}).get("goals", []) if live else []:
                goal = Goal.model_validate(g)
                doc = yield from settled(self.c, goal.resource, apis.api_version_for(goal.resource), self.regions)
                if unmet(doc, goal):
                    live = False
                    break
            for vm, power in (end or {}).get("power", {}).items() if live else []:
                doc = yield from settled(self.c, vm, apis.api_version_for(vm), self.regions)
                if doc is None or power_of(doc) != power:
                    live = False
                    break
            self._group_live[group] = live
        return self._group_live[group]

    def _live_after(self, step: Step, i: int) -> Generator[Any, Any, bool]:
        try:
            return (yield from is_done(self.c, step, self._later[i], self.regions))
        except ArmError:
            return False

    def _failed(self, i: int, e: BaseException) -> None:
        err = e if isinstance(e, ArmError) else ArmError(500, type(e).__name__, str(e) or type(e).__name__)
        step = self.steps[i]
        self._record(i, FAILED, f"({err.code}) {err.message}", finished=self.clock.now())
        self.progress(step, f"failed: ({err.code}) {err.message}")
        self.out.failures.append((step, err))
        self._failed_here.add(i)
        if self.out.failed is None:
            self.out.failed, self.out.error = step, err

    # ---- the graph --------------------------------------------------------------------------------------------
    def execute(self) -> Outcome:
        """The steps here: the decisions below, their tasks on a Scheduler (the local engine)."""
        sched = Scheduler(self.c, workers=self.workers)
        try:
            return drive_local(self.decisions(), sched, self.gate)
        finally:
            sched.close()

    def decisions(self) -> Generator[Any, Any, Outcome]:
        """The run's graph as a campaign's decisions (refit.run.campaign: Hold, then one RunAll whose `then` starts
        each step as the steps it waits for end), whichever engine drives them (drive_local, or the Temporal
        workflow: refit.run.temporal.workflows)."""
        n = len(self.rows)
        waiting = [set(r.after) for r in self.rows]
        children: list[list[int]] = [[] for _ in range(n)]
        for j, r in enumerate(self.rows):
            for i in r.after:
                children[i].append(j)
        complete = {i for i, r in enumerate(self.rows) if r.state in FINAL}  # by the run this one resumes
        for i in complete:
            self.out.skipped.append(self.steps[i])
            for j in children[i]:
                waiting[j].discard(i)
        submitted: set[int] = set()

        def task(j: int):
            submitted.add(j)
            return lambda: self._step(j)

        def then(i: int, res: TaskResult) -> dict[int, Callable]:
            if not res.ok:
                self._failed(i, res.error)  # type: ignore[arg-type]
                self.stopped = True
                return {}
            if res.value == NOT_STARTED:
                return {}
            if res.value == DONE:
                self.out.done.append(self.steps[i])
            elif res.value == SKIPPED:
                self.out.skipped.append(self.steps[i])
            ready = {}
            for j in children[i]:
                waiting[j].discard(i)
                if not waiting[j] and j not in complete and j not in submitted and not self.stopped:
                    ready[j] = task(j)
            return ready

        first = {j: task(j) for j in range(n) if j not in complete and not waiting[j]}
        if (yield Hold()):
            yield RunAll(first, limit=self.max_parallel, then=then, exempt=self._begun)
        self.out.aborted = self.gate.aborted() and self.out.failed is None
        why = f"{ABORTED} before this step" if self.out.aborted else "the run stopped at a failure before this step"
        for i, r in enumerate(self.rows):
            if r.state not in FINAL and i not in self._failed_here:
                self._record(i, NOT_STARTED, why)
                self.out.not_started.append(self.steps[i])
        self._finish()
        return self.out

    def _begun(self, i: int) -> bool:
        """Whether step i's group has a step under way or done: a pause or an abort lets such a group finish, so
        a VM is never left deallocated half-way through its deallocate, change, start."""
        return self.rows[i].group in self._begun_groups

    def _finish(self) -> None:
        o = self.out
        if o.aborted:
            status = "halted"
            msg = (f"{ABORTED}: {len(o.done)} steps run, {len(o.skipped)} already true, {len(o.not_started)} not "
                   "started")
        elif o.ok:
            status, msg = "completed", f"{len(o.done)} steps run, {len(o.skipped)} already true"
        else:
            status = "failed"
            msg = (f"stopped at step {o.failed.n}: ({o.error.code}) {o.error.message}; {len(o.done)} steps run, "  # type: ignore[union-attr]
                   f"{len(o.skipped)} already true, {len(o.not_started)} not started")
        if self.j is not None and self.run is not None:
            self.j.finish_run(self.run.id, status, msg, self.clock.now())
            o.run = self.j.run(self.run.id)


def outcome_of(journal: Journal, run: Run) -> Outcome:
    """A run's Outcome as its journal rows tell it (a run executed elsewhere: by a Temporal workflow)."""
    run = journal.run(run.id) or run
    rows = sorted(journal.apply_steps(run.id), key=lambda r: (r.finished or 0.0, r.pos))
    out = Outcome(run=run, aborted=run.status == "halted" and run.message.startswith(ABORTED))
    for r in rows:
        step = Step(**r.step)
        if r.state == DONE:
            out.done.append(step)
        elif r.state == SKIPPED:
            out.skipped.append(step)
        elif r.state == FAILED:
            code, _, message = r.detail.partition(") ")
            out.failures.append((step, ArmError(409, code.lstrip("("), message)))
        elif r.state in (NOT_STARTED, PENDING):
            out.not_started.append(step)
    if out.failures:
        out.failed, out.error = out.failures[0]
    return out


def execute(client: PacedClient, journal: Journal, run: Run, progress: Callable[[Step, str], None] | None = None,
            max_parallel: int | None = None) -> Outcome:
    """Run or resume an apply run recorded in the journal, holding its lock."""
    if not journal.acquire(run.id):
        raise UserError(f"run {run.id} is being executed by another refit process; wait for it or stop it first")
    try:
        limit = run.params.get("max_parallel", 0) if max_parallel is None else max_parallel
        return Apply(client, journal.apply_steps(run.id), journal, run, progress, limit,
                     groups=run.params.get("groups"), cleanup_from=run.params.get("cleanup_from")).execute()
    finally:
        journal.release(run.id)


def run(session, plan: Plan, cleanup: bool = False, progress: Callable[[Step, str], None] | None = None,
        max_parallel: int = 0) -> Outcome:
    """Apply a plan in memory, without a journal (for commands that plan and apply in one go): the same
    reconciling, parallel, paced execution as `refit apply`, through the session's Clock."""
    from refit.azure.clock import clock_for

    client = PacedClient(session, clock_for(session))
    try:
        steps = plan_steps(plan, cleanup)
        return Apply(client, new_rows(steps, len(plan.steps)), progress=progress, max_parallel=max_parallel,
                     groups=plan.groups, cleanup_from=len(plan.steps)).execute()
    finally:
        client.close()
