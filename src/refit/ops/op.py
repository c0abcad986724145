"""Op and Request: what one planned step sends, why, and what it costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refit.arm.ids import ResourceId


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # resource id (+ /action), no query string
    api_version: str
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "api_version": self.api_version, "body": self.body}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Request:
        return cls(d["method"], d["path"], d["api_version"], d.get("body"))


@dataclass
class Op:
    """One step: a request, the resource it changes, and its meaning for the planner."""

    name: str  # vocabulary name, e.g. "deallocate", "patch", "create_image_version"
    resource: str  # the resource id the request writes
    request: Request
    why: str = ""  # filled by the planner: the rule or goal that forces this step
    rules: tuple[str, ...] = ()  # rule ids the step satisfies (for `why`)
    irreversible: bool = False
    temporary: bool = False  # creates a resource only the path needs (offered for clean-up)
    rollback: Request | None = None
    rollback_note: str = ""
    creates: str | None = None  # id of the resource this op creates
    # Filled by simulation:
    duration_s: float = 0.0
    downtime_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        import json

        return (self.request.method, self.request.path.lower(), json.dumps(self.request.body, sort_keys=True))

    def describe(self) -> str:
        return self.meta.get("summary") or f"{self.name} {ResourceId.parse(self.resource).name}"
