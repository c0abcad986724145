"""The emulator: the platform model (`refit.platform.Cloud`) served over ARM's wire.

Everything Azure *does* lives in `refit.platform` (documents, rules, effects, timing). What the
emulator adds is what a server needs: requests and responses, api-version checks, persistence in
SQLite under its data dir, and one lock per request. Every ARM request lands in `Emulator.handle()`,
which first completes the operations whose simulated end time has passed (`tick`), then routes the
request (`dispatch`), and finally writes the changes through to SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refit.arm.errors import ArmError
from refit.emulator.store import Store
from refit.platform.cloud import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT, Call, Cloud, Operation

__all__ = ["DEFAULT_SUBSCRIPTION", "DEFAULT_TENANT", "Emulator", "Operation", "Request", "Response"]

_API_VERSION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(-preview|-beta|-alpha|-privatepreview)?$")


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
