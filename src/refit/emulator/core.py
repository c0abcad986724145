"""The emulator's resource engine: one in-memory World, private state, long-running operations.

Every ARM request lands in `Emulator.handle()`, which (under one lock) first completes the operations
whose simulated end time has passed (`tick`), then dispatches to the resource provider module that
owns the type. Writes go through `refit.rules.validate_write` (the single validation hook) before they
are accepted. Intermediate states (`Updating`, `PowerState/deallocating`) are visible while an
operation is in flight, and a second write to the same resource gets 409 Conflict, as in Azure
(reference/azure-platform-rules.md L9 / D10).
"""

from __future__ import annotations

import copy
import heapq
import json
import random
import re
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.emulator.clock import VirtualClock, iso
from refit.emulator.store import Store
from refit.emulator.timing import Timing
from refit.rules import validate_write

DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000ref1"
DEFAULT_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001"

_API_VERSION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(-preview|-beta|-alpha|-privatepreview)?$")


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
    data: dict[str, Any] = field(default_factory=dict)  # what the provider needs to finish it

    def status_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"startTime": iso(self.start), "status": self.status, "name": self.id}
        if self.status != "InProgress":
            body["endTime"] = iso(self.end)
        if self.error:
            body["error"] = self.error
        return body


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    base_url: str  # https://127.0.0.1:PORT, for absolute LRO URLs
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")


class Emulator:
    """The whole emulated cloud. Thread-safe: every entry point takes `self.lock`."""

    def __init__(self, data_dir: Path | None = None, time_scale: float = 1000.0, store: Store | None = None):
        self.lock = threading.RLock()
        self.data_dir = data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.store = store if store is not None else Store(data_dir / "state.sqlite" if data_dir else None)
        self.strict = False  # the planner's simulations also apply rules Azure cannot enforce (Rule.enforced)
        self.last_violations: list = []  # what the catalog said about the last write (the planner cites it)
        self.world = World()
        self.private: dict[str, dict[str, Any]] = {}
        self.ops: dict[str, Operation] = {}
        self.inflight: dict[str, str] = {}  # resource key -> operation id
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self.version = 0  # bumped on every change (Resource Graph caches on it)
        self._flushed_version = 0
        self.timing = Timing()
        self.rng = random.Random(0)
        self.settings: dict[str, Any] = {}
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
        for data in ops:
            op = Operation(**data)
            self.ops[op.id] = op
            if op.status == "InProgress":
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
        self.store.put_meta("timing", {k: v for k, v in self.timing.table.items()})

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
            self.timing = Timing()
            self.version += 1
            self._save_meta()
            self.store.flush()

    # ---- identity of the emulated cloud -------------------------------------------------------
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
        return self.clock.now()

    def now_iso(self) -> str:
        return iso(self.clock.now())

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
        self.store.put_op(op.id, asdict(op))
        self._push(op)
        return op

    def busy(self, rid: str | ResourceId) -> Operation | None:
        op_id = self.inflight.get(id_key(rid))
        return self.ops.get(op_id) if op_id else None

    def tick(self) -> None:
        """Complete every operation whose simulated end time has passed, in end-time order."""
        now = self.now()
        while self._heap and self._heap[0][0] <= now:
            _, _, op_id = heapq.heappop(self._heap)
            op = self.ops.get(op_id)
            if op is None or op.status != "InProgress":
                continue
            self._complete(op)

    def _complete(self, op: Operation) -> None:
        from refit.emulator.providers import handler_for  # the providers import the core

        if self.inflight.get(id_key(op.resource_id)) == op.id:
            del self.inflight[id_key(op.resource_id)]
        try:
            handler_for(ResourceId.parse(op.resource_id).type).complete(self, op)
            if op.status == "InProgress":
                op.status = "Succeeded"
        except ArmError as e:
            op.status = "Failed"
            op.error = e.body()["error"]
            op.data["http_status"] = e.status
        self.store.put_op(op.id, asdict(op))
        self.version += 1
        self._gc_ops()

    def fail(self, op: Operation, error: ArmError) -> None:
        """Finish an operation as Failed with Azure's error (asynchronous rejection)."""
        op.status = "Failed"
        op.error = error.body()["error"]
        op.data["http_status"] = error.status

    def _gc_ops(self) -> None:
        # Keep finished operations for an hour of simulated time (clients poll them a few times).
        if len(self.ops) < 5000:
            return
        cutoff = self.now() - 3600
        for oid in [o.id for o in self.ops.values() if o.status != "InProgress" and o.end < cutoff]:
            del self.ops[oid]
            self.store.put_op(oid, None)

    # ---- validation hook --------------------------------------------------------------------------
    def validate(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[ArmError | None, ArmError | None]:
        """(synchronous error, asynchronous error) from the rule catalog, the first of each."""
        sync_err = async_err = None
        violations = (validate_write(self.world, old, new, include_unenforced=True) if self.strict
                      else validate_write(self.world, old, new))
        self.last_violations = violations
        for v in violations:
            if v.rule.asynchronous:
                async_err = async_err or v.error
            else:
                sync_err = sync_err or v.error
        return sync_err, async_err

    # ---- the front door ------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        from refit.emulator import dispatch

        with self.lock:
            try:
                self.tick()
                resp = dispatch.handle(self, req)
            except ArmError as e:
                resp = Response(e.status, e.body())
            if self.version != self._flushed_version:
                # Only writes reach SQLite: a read must not pay for a commit (that cost 40 ms per GET).
                self._flushed_version = self.version
                self._save_meta()
            self.store.flush()
            return resp

    def check_api_version(self, req: Request, min_version: str = "2014-04-01") -> str:
        v = req.api_version
        if not v:
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        m = _API_VERSION.match(v)
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        if not m:
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{v}' is invalid. The supported versions are '{min_version}' to '{today}'.")
        if v[:10] < min_version or v[:10] > today:
            raise ArmError(400, "NoRegisteredProviderFound",
                           f"No registered resource provider found for API version '{v}'. The supported "
                           f"api-versions are '{min_version}' to '{today}'.")
        return v


def clone(doc: Any) -> Any:
    return copy.deepcopy(doc)


def dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))
