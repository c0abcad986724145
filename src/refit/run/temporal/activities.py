"""The activities of refit's workflows: each VM step's requests, by refit.run.campaign.ArmIO's own code, on the worker.

Every activity that writes, when retried, reads the live state first and skips what is already true (DESIGN.md
"reconcile, don't replay"): an attempt retried after its worker was killed mid-deallocate waits out the operation
still in flight, sees the VM deallocated and does not deallocate again. (A first attempt follows the workflow's own
read of the VM, `vm_settled`, whose result is in the history: nothing refit does can have changed it since.) Each
heartbeats as it goes (between requests, and through every wait) once it has run for 40% of its heartbeat timeout
and at most that often, so a lost worker's activity is retried on another within the heartbeat timeout, and the
many that end sooner cost the server no heartbeat (each one is a write of the workflow's state). Throttling is the paced
client's (refit.azure.pacing): it waits every Retry-After through the clock; an activity still throttled after
that fails with `next_retry_delay` set to the Retry-After, so Temporal's retry honours it too.

An ArmError (Azure refused, an operation failed) is a result, not a failure: the campaign decides (roll back,
retry a start refused for capacity); only a connection error, a 5xx or the worker's death is retried by Temporal.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from refit.arm.errors import ArmError
from refit.arm.ids import same_id
from refit.arm.paths import get_path
from refit.azure.pacing import ARM_HEADER, COMPUTE_HEADER, POLL_SECONDS, Http, PacedClient, Wait
from refit.run.campaign import ArmIO, os_disk_id, power_of, tag_of

# What of a reply the workflow reads: the throttling headers (refit.azure.pacing.Pacer.learn), Retry-After and the
# long-running operation's URLs (refit.azure.pacing.operation).
BEAT_SHARE = 0.4  # of the heartbeat timeout: an activity's first heartbeat after that long, then at most that often
REPLY_HEADERS = frozenset({COMPUTE_HEADER, "retry-after", "retry-after-ms", "x-ms-retry-after-ms",
                           "azure-asyncoperation", "location"})


def slim(doc: dict[str, Any]) -> dict[str, Any]:
    """What the campaign reads of a VM (its tags, OS disk, provisioning and power state, health): the workflow's
    history keeps each activity's result, so it keeps no more than that."""
    props = doc.get("properties") or {}
    iv = props.get("instanceView") or {}
    out: dict[str, Any] = {"id": doc.get("id"), "name": doc.get("name"), "tags": doc.get("tags") or {},
                           "properties": {"provisioningState": props.get("provisioningState"),
                                          "storageProfile": {"osDisk": {"name": get_path(doc, "properties.storageProfile.osDisk.name"),
                                                                        "managedDisk": {"id": os_disk_id(doc)}}},
                                          "instanceView": {"statuses": [s for s in iv.get("statuses") or []
                                                                        if str(s.get("code", "")).startswith("PowerState/")]}}}
    if iv.get("vmHealth") is not None:
        out["properties"]["instanceView"]["vmHealth"] = iv["vmHealth"]
    return out


def _error(e: ArmError) -> dict[str, Any]:
    return {"status": e.status, "code": e.code, "message": e.message, "target": e.target}


class Activities:
    """The activities, bound to one worker's paced client (shared by all its activity threads: one Pacer learns
    every subscription's and region's buckets, each bucket apart)."""

    def __init__(self, client: PacedClient, max_slice_real_seconds: float = 5.0):
        self.client = client
        self.clock = client.clock
        self.io = ArmIO(client)
        self.max_slice = max_slice_real_seconds  # a wait's longest sleep: a worker told to stop notices this soon
        self.calls = 0
        self._beats = threading.local()  # this thread's activity: (task token, its next heartbeat, the interval)

    # ---- driving ArmIO's generators inline, heartbeating ----------------------------------------------------
    def _beat(self, *details: Any) -> None:
        if not activity.in_activity():
            return
        info, now = activity.info(), time.monotonic()
        mine = getattr(self._beats, "of", None)
        if mine is None or mine[0] != info.task_token:  # the activity has just begun: its first beat is due later
            every = info.heartbeat_timeout.total_seconds() * BEAT_SHARE if info.heartbeat_timeout else None
            self._beats.of = (info.task_token, now + every if every else float("inf"), every)
        elif now >= mine[1]:
            self._beats.of = (mine[0], now + mine[2], mine[2])
            activity.heartbeat(*details)

    def _sleep(self, seconds: float, details: tuple) -> None:
        """Clock seconds, in slices of the heartbeat interval (at most `max_slice` real seconds): a waiting
        activity wakes only to heartbeat (hundreds of threads per worker wait at once in a wave)."""
        mine = getattr(self._beats, "of", None)
        every = min(self.max_slice, mine[2]) if mine and mine[2] else self.max_slice
        end = self.clock.now() + seconds
        while (left := end - self.clock.now()) > 0:
            self.clock.sleep(min(left, max(0.001, every * self.clock.scale)))
            self._beat(*details)

    def drive(self, gen, *details: Any) -> Any:
        value: Any = None
        exc: BaseException | None = None
        while True:
            self._beat(*details)
            try:
                action = gen.throw(exc) if exc is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            value, exc = None, None
            if isinstance(action, Http):
                try:
                    value = self.client.send(action)
                except Exception as e:  # the generator releases its pacing slot, then it propagates: retried
                    exc = e
            elif isinstance(action, Wait):
                self._sleep(action.seconds, details)
            else:
                exc = TypeError(f"an ArmIO step yielded {action!r}")

    def _answer(self, fn, *args: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            out = fn(*args) or {}
        except ArmError as e:
            if e.status == 429:  # still throttled after every Retry-After was waited out: let Temporal wait
                raise ApplicationError(f"throttled: {e}", type="Throttled",
                                       next_retry_delay=timedelta(seconds=max(1.0, POLL_SECONDS / self.clock.scale))) from e
            out = {"error": _error(e)}
        out["now"] = self.clock.now()
        return out

    def _settled(self, vm: str, region: str, name: str) -> dict[str, Any]:
        return self.drive(self.io.settled(vm, region, name))

    # ---- the activities ---------------------------------------------------------------------------------------
    @activity.defn(name="vm_settled")
    def vm_settled(self, a: dict[str, Any]) -> dict[str, Any]:
        return self._answer(lambda: {"doc": slim(self._settled(a["vm"], a["region"], a["name"]))})

    @staticmethod
    def _retried() -> bool:
        """A second or later attempt: an earlier one may have written before its worker was lost. (A first attempt
        follows the workflow's own read of the VM, a result in its history: nothing of refit's has written since.)"""
        return activity.in_activity() and activity.info().attempt > 1

    @activity.defn(name="vm_tags")
    def vm_tags(self, a: dict[str, Any]) -> dict[str, Any]:
        def go() -> dict[str, Any]:
            if self._retried():
                doc = self.drive(self.io.read(a["vm"], a["region"]))
                if all((tag_of(doc, k) or "") == v for k, v in a["tags"].items()):
                    return {"skipped": True}  # already true (an earlier attempt wrote them)
            self.drive(self.io.tags(a["vm"], a["region"], a["tags"]))
            return {"skipped": False}
        return self._answer(go)

    @activity.defn(name="vm_operation")
    def vm_operation(self, a: dict[str, Any]) -> dict[str, Any]:
        def go() -> dict[str, Any]:
            want = a.get("want") or {}
            if self._retried():  # wait out what an earlier attempt left in flight, skip what it already did
                doc = self._settled(a["vm"], a["region"], a["vm"].rsplit("/", 1)[-1])
                if want and (("power" not in want or power_of(doc) == want["power"])
                             and ("disk" not in want or same_id(os_disk_id(doc), want["disk"]))):
                    return {"skipped": True}
            self.drive(self.io.operation(a["method"], a["path"], a.get("body"), a["vm"], a["region"]))
            return {"skipped": False}
        return self._answer(go)

    @activity.defn(name="vm_health")
    def vm_health(self, a: dict[str, Any]) -> dict[str, Any]:
        # The grace period runs from the first attempt's start: a retried attempt keeps its t0 (heartbeat details).
        prior = activity.info().heartbeat_details if activity.in_activity() else []
        t0 = float(prior[0]) if prior else self.clock.now()
        if not prior and activity.in_activity():
            activity.heartbeat(t0)  # at once: a retry after a lost worker must find it
        return self._answer(lambda: self.drive(self.io.health(a["vm"], a["region"], a["has_health"], a["grace"],
                                                              a["boot_wait"], t0), t0))

    @activity.defn(name="arm_http")
    def arm_http(self, a: dict[str, Any]) -> dict[str, Any]:
        """One request of a run whose generators run in the workflow (`refresh disks|tag`, `apply`): sent as is
        (the workflow's pacer booked its slot; a 429 is the workflow's to wait out), answered with the status,
        the headers the pacer and the long-running-operation polls read, and the body. Retried by Temporal only
        when no answer came (connection error, the worker lost): ARM's PUT and PATCH are idempotent, and the
        steps that POST an action read the live state first (refit.run.apply.is_done)."""
        self.calls += 1
        reply = self.client.send(Http(a["method"], a["path"], a.get("api_version"), a.get("body"), a.get("params"),
                                      a.get("resource"), a.get("region") or ""))
        headers = {k: v for k, v in reply.headers.items() if k in REPLY_HEADERS or k.startswith(ARM_HEADER)}
        return {"status": reply.status, "headers": headers, "body": reply.body, "now": self.clock.now()}

    @activity.defn(name="release_kill")
    def release_kill(self, a: dict[str, Any]) -> dict[str, Any]:
        """A rollout's kill switch (refit.run.release.kill) on the fleet as it is now: excludeFromLatest on the
        version, the rolling upgrades taking it cancelled. Idempotent: a retry sets the flag again and cancels only
        what is still rolling it."""
        import dataclasses

        from refit.azure.fleet import load_world
        from refit.run import release

        def go() -> dict[str, Any]:
            s = dataclasses.replace(self.client.session, subscription=a["subscription"], on_close=[], _clients={})
            world = load_world(s)
            return {"report": release.kill(s, world, release.version_of(world, a["version"]))}
        return self._answer(go)

    def all(self) -> list:
        return [self.vm_settled, self.vm_tags, self.vm_operation, self.vm_health, self.arm_http, self.release_kill]


def cpu_seconds() -> float:
    return time.process_time()
