"""What `refit tf migrate-keys` finds, decides and proves: plain data, serialisable to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refit.terraform.detect import Repetition
from refit.terraform.state import Move
from refit.terraform.values import plain

# Proof statuses. The first two (and "create") are safe; the rest make the exit code 1.
KEEP = "keep"  # existing object, same address after the move, nothing forces replacement
UPDATE = "update"  # existing object, changed in place (tags, size increase): never destroyed
CREATE = "create"  # new in the configuration
DESTROY = "destroy"  # in the state, no longer declared
REPLACE = "replace"  # a replacement-forcing attribute changes
BLOCKED = "blocked"  # its move cannot happen (destination taken) or the change cannot be applied
UNVERIFIED = "unverified"  # refit could not evaluate what decides it: refused, never guessed
DEPOSED = "deposed"  # a create_before_destroy leftover Terraform deletes regardless of keys

SAFE = {KEEP, UPDATE, CREATE}
FAILING = {DESTROY, REPLACE, BLOCKED, UNVERIFIED}


@dataclass
class Change:
    attribute: str
    state: Any
    config: Any
    forces_replacement: bool

    def as_json(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "state": plain(self.state), "config": plain(self.config),
                "forces_replacement": self.forces_replacement}


@dataclass
class Row:
    address: str
    type: str
    status: str
    moved_from: str | None = None
    detail: str = ""
    changes: list[Change] = field(default_factory=list)
    sort_key: tuple[Any, ...] = ()
    instance: Any = None  # the ResourceInstance of an object in the state (None for a create)

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "type": self.type, "status": self.status, "moved_from": self.moved_from,
                "detail": self.detail or None, "changes": [c.as_json() for c in self.changes]}


@dataclass
class Problem:
    severity: str  # error | warning
    kind: str  # duplicate_key | unevaluable | ambiguous | unmapped | disagreement | moved_invalid | ...
    message: str
    where: str = ""
    address: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "message": self.message,
                "where": self.where or None, "address": self.address or None}


@dataclass
class Report:
    before: str
    after: str
    state: dict[str, Any]
    strategy: str
    emit: str
    detected: list[tuple[Repetition | None, Repetition | None]] = field(default_factory=list)
    rekeyed: list[str] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    declared_moves: list[Move] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    artifact: str | None = None
    written: str | None = None

    def problem(self, severity: str, kind: str, message: str, where: str = "", address: str = "") -> None:
        p = Problem(severity, kind, message, where, address)
        if p not in self.problems:
            self.problems.append(p)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def summary(self) -> dict[str, int]:
        out = {s: 0 for s in (KEEP, UPDATE, CREATE, DESTROY, REPLACE, BLOCKED, UNVERIFIED, DEPOSED)}
        for r in self.rows:
            out[r.status] += 1
        return out

    @property
    def ok(self) -> bool:
        return not self.errors and not any(r.status in FAILING for r in self.rows)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "before": self.before,
            "after": self.after,
            "state": self.state,
            "strategy": self.strategy,
            "detected": [
                {"address": (b or a).address if (b or a) else None,  # type: ignore[union-attr]
                 "before": b.as_json() if b else None, "after": a.as_json() if a else None,
                 "rekeyed": ((b or a).address in self.rekeyed) if (b or a) else False}  # type: ignore[union-attr]
                for b, a in self.detected
            ],
            "declared_moves": [move_json(m) for m in self.declared_moves],
            "moves": [move_json(m) for m in self.moves],
            "proof": [r.as_json() for r in self.rows],
            "summary": self.summary(),
            "problems": [p.as_json() for p in self.problems],
            "emit": self.emit,
            "artifact": self.artifact,
            "written": self.written,
        }


def move_json(m: Move) -> dict[str, Any]:
    return {"from": m.src_text, "to": m.dst_text, "kind": "module" if m.is_module else "resource",
            "type": m.resource_type, "basis": m.basis or None}
