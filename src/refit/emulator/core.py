"""The emulator: the platform model (`refit.platform.Cloud`) served over ARM's wire.

Everything Azure *does* lives in `refit.platform` (documents, rules, effects, timing). What the
emulator adds is what a server needs: requests and responses, api-version checks, persistence in
SQLite under its data dir, and one lock per request. Every ARM request lands in `Emulator.handle()`,
which first completes the operations whose simulated end time has passed (`tick`), then routes the
request (`dispatch`), and finally writes the changes through to SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refit.arm.errors import ArmError
from refit.emulator.store import Store
from refit.platform import apis, regions
from refit.platform.cloud import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT, Call, Cloud, Operation
from refit.platform.rules import RULES

__all__ = ["DEFAULT_SUBSCRIPTION", "DEFAULT_TENANT", "Emulator", "Operation", "WireRequest", "WireResponse"]


@dataclass
class WireResponse:
    """What the emulator answers on the wire (app.py turns it into HTTP)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WireRequest:
    """One HTTP request as the emulator received it (refit.ops.op.Request is a planned step's ARM request)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    base_url: str  # https://127.0.0.1:PORT, for absolute LRO URLs
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")

    def call(self) -> Call:
        return Call(self.method, self.api_version or "", self.body, self.query.get("$expand") or "")


class Emulator(Cloud):
    """A Cloud with a data dir (SQLite) that answers HTTP-shaped requests."""

    def __init__(self, data_dir: Path | None = None, time_scale: float = 1000.0, store: Store | None = None):
        self.data_dir = data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(store if store is not None else Store(data_dir / "state.sqlite" if data_dir else None),
                         time_scale)
        self._flushed_version = 0

    def handle(self, req: WireRequest) -> WireResponse:
        from refit.emulator import dispatch

        with self.lock:
            try:
                self.tick()
                resp = dispatch.handle(self, req)
            except ArmError as e:
                resp = WireResponse(e.status, e.body())
            if self.version != self._flushed_version:
                # Only writes reach SQLite: a read must not pay for a commit (that cost 40 ms per GET).
                self._flushed_version = self.version
                self._save_meta()
            self.store.flush()
            return resp

    def check_api_version(self, req: WireRequest, arm_type: str = apis.ARM_NAMESPACE, location: str | None = None) -> str:
        """ARM's answer to the request's api-version for `arm_type`, from the catalog (rules ARM13-ARM15) and the
        published versions (refit.platform.apis): none; one that is not a date, or one ARM itself does not serve
        (InvalidApiVersionParameter, naming ARM's versions newest first); one the type's provider does not publish
        (NoRegisteredProviderFound, naming them oldest first and the locations)."""
        v = req.api_version
        if not v:
            raise RULES["ARM13"].refuse()
        versions = apis.published(arm_type)
        if not apis.well_formed(v) or (apis.arm_own(arm_type) and v not in versions):
            raise RULES["ARM14"].refuse(version=v, supported=",".join(reversed(apis.ARM_OWN)))
        if v not in versions:
            raise RULES["ARM15"].refuse(location=location or "global", version=v, type=arm_type.split("/", 1)[1],
                                        supported=", ".join(versions), locations=", ".join(regions.REGIONS))
        return v
