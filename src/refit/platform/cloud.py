"""The platform model's state: ARM documents, the state Azure keeps beside them, operations over time.

A `Cloud` is what Azure *is* at one moment: a World of ARM documents, the per-resource state Azure
exposes only through other resources (a VM's power state shows in its instance view, a version's
replication schedule in `replicationStatus`), the long-running operations in flight, and a clock.
What a write or an action does to it is the effects' (`refit.platform.effects`) and whether Azure
accepts it is the rule catalog's (`refit.platform.rules`); `refit.platform.writes` runs the generic
ARM flows (PUT, PATCH, DELETE, POST action) over both.

The emulator serves a Cloud over HTTPS (and persists it through a `store`); the planner forks one in
memory and simulates on it. Neither re-implements any of it.

Operations complete lazily: `tick()` completes those whose simulated end has passed, in end-time
order. There are no timer threads; a restored Cloud resumes its in-flight operations.
"""

from __future__ import annotations

import copy
import heapq
import logging
import random
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import clone
from refit.arm.world import World
from refit.platform.clock import VirtualClock, iso
from refit.platform.rules import validate_write
from refit.platform.timing import Timing

_log = logging.getLogger("refit.platform")
DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000ref1"
DEFAULT_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001"


@dataclass
class Operation:
    """A long-running operation, as the Azure-AsyncOperation status resource reports it."""

    id: str
    resource_id: str
    kind: str  # put | patch | delete | action
    name: str  # action name or the timing key
    namespace: str
    region: str
    start: float
    end: float
    api_version: str
    status: str = "InProgress"
    error: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)  # what the effect needs to finish it

    def status_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"startTime": iso(self.start), "status": self.status, "name": self.id}
        if self.status != "InProgress":
            body["endTime"] = iso(self.end)
        if self.error:
            body["error"] = self.error
        return body


@dataclass
class Call:
    """What a client asked, as the platform sees it: the method, the api-version, the body as sent and
    `$expand`; not how it travelled (that is the emulator's wire)."""

    method: str
    api_version: str = ""
    body: Any = None
    expand: str = ""

    def expands(self, what: str) -> bool:
        return what.lower() in (self.expand or "").lower()


@dataclass
class Answer:
    """The platform's answer to a call: a status and body, and the operation that carries on (if any).
    `location` says whether Azure also sends a Location header for that operation."""

    status: int
    body: Any = None
    op: Operation | None = None
    location: bool = False


class Store(Protocol):
    """Where a Cloud's changes go (the emulator's SQLite; nowhere for the planner's simulations)."""

    def load(self) -> tuple[list[tuple[dict, dict]], list[dict], dict[str, Any]]: ...
    def put_resource(self, key: str, doc: dict, private: dict) -> None: ...
    def delete_resource(self, key: str) -> None: ...
    def put_op(self, op_id: str, data: dict | None) -> None: ...
    def put_meta(self, key: str, value: Any) -> None: ...
    def flush(self) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class NullStore:
    """No persistence: a Cloud that lives in memory only."""

    path = None

    def load(self):
        return [], [], {}

    def put_resource(self, key, doc, private):
        pass

    def delete_resource(self, key):
        pass

    def put_op(self, op_id, data):
        pass

    def put_meta(self, key, value):
        pass

    def flush(self):
        pass

    def clear(self):
        pass

    def close(self):
        pass


class Cloud:
    """Azure's state and behaviour over time. Thread-safe: every entry point takes `self.lock`.

    `strict` also applies the rules Azure cannot enforce (Rule.enforced is False: facts of the guest,
    such as U5's disk layout); the planner simulates strictly so that no plan depends on them."""

    def __init__(self, store: Store | None = None, time_scale: float = 1000.0, strict: bool = False):
        self.lock = threading.RLock()
        self.store: Store = store if store is not None else NullStore()
        self.strict = strict
        self.last_violations: list = []  # what the catalog said about the last write (the planner cites it)
        self.world = World()
        self.private: dict[str, dict[str, Any]] = {}
        self.ops: dict[str, Operation] = {}
        self.inflight: dict[str, str] = {}  # resource key -> operation id
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self.version = 0  # bumped on every change (Resource Graph caches on it)
        self.timing = Timing()
        self.rng = random.Random(0)
        self.settings: dict[str, Any] = {}
        self.directory: dict[str, Any] = {}  # the tenant's Entra ID objects (refit.platform.directory)
        self._pinned: float | None = None
        self._load(time_scale)

    # ---- persistence --------------------------------------------------------------------------
    def _load(self, time_scale: float) -> None:
        resources, ops, meta = self.store.load()
        for doc, priv in resources:
            self.world.add(doc)
            self.private[id_key(doc["id"])] = priv
        self.clock = VirtualClock(scale=meta.get("time_scale", time_scale), sim_now=meta.get("sim_now"))
        self.settings = meta.get("settings") or self._default_settings()
        self.timing = Timing(meta.get("timing") or {})
        self.directory = meta.get("directory") or {}
        for data in ops:
            op = Operation(**data)
            self.ops[op.id] = op
            if op.status == "InProgress":
                if not op.data.get("internal"):
                    self.inflight[id_key(op.resource_id)] = op.id
                self._push(op)
        if not meta:
            self._save_meta()
            self.store.flush()

    @staticmethod
    def _default_settings() -> dict[str, Any]:
        return {
            "tenant_id": DEFAULT_TENANT,
            "subscriptions": [{"id": DEFAULT_SUBSCRIPTION, "displayName": "refit-emulator"}],
            "identity_header": secrets.token_hex(16),
            "faults": {},
            "health": {},
        }

    def _save_meta(self) -> None:
        self.store.put_meta("sim_now", self.clock.now())
        self.store.put_meta("time_scale", self.clock.scale)
        self.store.put_meta("settings", self.settings)
        self.store.put_meta("timing", dict(self.timing.table))
        self.store.put_meta("directory", self.directory)

    def flush(self) -> None:
        with self.lock:
            self._save_meta()
            self.store.flush()

    def close(self) -> None:
        with self.lock:
            self._save_meta()
            self.store.close()

    def reset(self) -> None:
        """Forget every resource and operation (settings such as the identity header stay)."""
        with self.lock:
            keep = {k: self.settings[k] for k in ("identity_header",) if k in self.settings}
            self.store.clear()
            self.world = World()
            self.private.clear()
            self.ops.clear()
            self.inflight.clear()
            self._heap.clear()
            self.settings = self._default_settings() | keep
            self.directory = {}
            self.timing = Timing()
            self.version += 1
            self._save_meta()
            self.store.flush()

    def fork(self) -> Cloud:
        """An independent in-memory copy (no store): the planner's branch of the future."""
        c = Cloud.__new__(Cloud)
        c.lock = threading.RLock()
        c.store = NullStore()
        c.strict = self.strict
        c.last_violations = []
        c.world = World([clone(d) for d in self.world])
        c.private = clone(self.private)
        c.ops = {k: copy.copy(v) for k, v in self.ops.items() if v.status == "InProgress"}
        c.inflight = dict(self.inflight)
        c._heap = list(self._heap)
        heapq.heapify(c._heap)
        c._seq = self._seq
        c.version = self.version
        c.timing = Timing()
        c.timing.table = dict(self.timing.table)
        c.rng = random.Random(0)
        c.settings = copy.deepcopy(self.settings)
        c.directory = copy.deepcopy(self.directory)
        c.clock = copy.copy(self.clock)
        c._pinned = None
        return c

    # ---- identity of the cloud ------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        return self.settings["tenant_id"]

    @property
    def subscriptions(self) -> list[dict[str, str]]:
        return self.settings["subscriptions"]

    def has_subscription(self, sub: str) -> bool:
        return any(s["id"].lower() == sub.lower() for s in self.subscriptions)

    def add_subscription(self, sub: str, name: str | None = None) -> None:
        if not self.has_subscription(sub):
            self.subscriptions.append({"id": sub, "displayName": name or sub})

    # ---- resource access ----------------------------------------------------------------------
    def get(self, rid: str | ResourceId) -> dict[str, Any] | None:
        return self.world.get(rid)

    def priv(self, rid: str | ResourceId) -> dict[str, Any]:
        """The state Azure keeps beside a resource's document (power state, replication schedule)."""
        return self.private.setdefault(id_key(rid), {})

    def save(self, doc: dict[str, Any], private: dict[str, Any] | None = None) -> None:
        key = id_key(doc["id"])
        if private is not None:
            self.private[key] = private
        self.world.add(doc)
        self.store.put_resource(key, doc, self.private.setdefault(key, {}))
        self.version += 1

    def touch(self, rid: str | ResourceId) -> None:
        """Persist a resource whose private state changed in place."""
        doc = self.get(rid)
        if doc is not None:
            self.save(doc)

    def remove(self, rid: str | ResourceId) -> None:
        key = id_key(rid)
        self.world.remove(key)
        self.private.pop(key, None)
        self.store.delete_resource(key)
        self.version += 1

    def now(self) -> float:
        """The simulated time; while `tick` completes an operation, that operation's end (an effect that looks at
        the clock, e.g. to start a timer, sees the moment the operation ended, not how late the tick came)."""
        return self._pinned if self._pinned is not None else self.clock.now()

    def now_iso(self) -> str:
        return iso(self.now())

    # ---- operations ----------------------------------------------------------------------------
    def _push(self, op: Operation) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (op.end, self._seq, op.id))

    def begin(self, rid: str, kind: str, name: str, duration: float, region: str, api_version: str,
              data: dict[str, Any] | None = None, namespace: str | None = None,
              internal: bool = False) -> Operation:
        """Start an operation. `internal` ones (e.g. one region's replication finishing) are timers that
        neither block writes to the resource nor are exposed to clients."""
        now = self.now()
        op = Operation(id=str(uuid.uuid4()), resource_id=rid, kind=kind, name=name,
                       namespace=namespace or ResourceId.parse(rid).namespace or "Microsoft.Resources",
                       region=(region or "global").lower().replace(" ", ""), start=now, end=now + max(0.0, duration),
                       api_version=api_version, data=data or {})
        self.ops[op.id] = op
        if internal:
            op.data["internal"] = True
        else:
            self.inflight[id_key(rid)] = op.id
        self._put_op(op)
        self._push(op)
        return op

    def _put_op(self, op: Operation) -> None:
        if not isinstance(self.store, NullStore):  # an in-memory cloud keeps nothing (asdict: a fifth of a planned step)
            self.store.put_op(op.id, asdict(op))

    def busy(self, rid: str | ResourceId) -> Operation | None:
        op_id = self.inflight.get(id_key(rid))
        return self.ops.get(op_id) if op_id else None

    def next_due(self) -> float | None:
        """When the next pending operation or timer ends (None when nothing is pending)."""
        while self._heap:
            _, _, op_id = self._heap[0]
            op = self.ops.get(op_id)
            if op is not None and op.status == "InProgress":
                return self._heap[0][0]
            heapq.heappop(self._heap)
        return None

    def tick(self) -> None:
        """Complete every operation whose simulated end time has passed, in end-time order."""
        now = self.now()
        while self._heap and self._heap[0][0] <= now:
            end, _, op_id = heapq.heappop(self._heap)
            op = self.ops.get(op_id)
            if op is None or op.status != "InProgress" or op.end != end:
                continue  # finished, or re-queued for another end (that entry completes it)
            outer, self._pinned = self._pinned, max(op.start, op.end)
            try:
                self._complete(op)
            finally:
                self._pinned = outer

    def complete_now(self, op_ids: list[str]) -> None:
        """Complete these operations now, whatever their simulated end (a scenario's resources start finished)."""
        now = self.now()
        for op_id in op_ids:
            op = self.ops.get(op_id)
            if op is not None and op.status == "InProgress":
                op.end = min(op.end, now)
                self._complete(op)

    def _complete(self, op: Operation) -> None:
        from refit.platform.effects import handler_for  # the effects import this module

        if self.inflight.get(id_key(op.resource_id)) == op.id:
            del self.inflight[id_key(op.resource_id)]
        end = op.end
        try:
            handler_for(ResourceId.parse(op.resource_id).type).complete(self, op)
            if op.status == "InProgress" and op.end > end:
                # The effect carries the operation on to a later end (a deployment waiting for the writes it
                # started): it stays in flight and completes again then.
                if not op.data.get("internal"):
                    self.inflight[id_key(op.resource_id)] = op.id
                self._push(op)
                self._put_op(op)
                self.version += 1
                return
            if op.status == "InProgress":
                op.status = "Succeeded"
        except ArmError as e:
            self.fail(op, e)
        except Exception:  # an effect's bug must not leave its operation in flight for ever
            _log.exception("operation %s (%s %s on %s) failed inside the platform", op.id, op.kind, op.name,
                           op.resource_id)
            from refit.platform.rules import RULES

            self.fail(op, RULES["ARM19"].refuse())
        self._put_op(op)
        self.version += 1
        self._gc_ops()

    def fail(self, op: Operation, error: ArmError) -> None:
        """Finish an operation as Failed with Azure's error (asynchronous rejection)."""
        op.status = "Failed"
        op.error = error.body()["error"]
        op.data["http_status"] = error.status
        op.data["rule"] = error.rule  # the catalog rule that failed it (the planner names it)

    def _gc_ops(self) -> None:
        # Keep finished operations for an hour of simulated time (clients poll them a few times).
        if len(self.ops) < 5000:
            return
        cutoff = self.now() - 3600
        for oid in [o.id for o in self.ops.values() if o.status != "InProgress" and o.end < cutoff]:
            del self.ops[oid]
            self.store.put_op(oid, None)

    # ---- the rule catalog ------------------------------------------------------------------------
    def validate(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[ArmError | None, ArmError | None]:
        """(synchronous error, asynchronous error) from the rule catalog, the first of each."""
        sync_err = async_err = None
        violations = validate_write(self.world, old, new, include_unenforced=self.strict)
        self.last_violations = violations
        for v in violations:
            if v.rule.asynchronous:
                async_err = async_err or v.error
            else:
                sync_err = sync_err or v.error
        return sync_err, async_err
