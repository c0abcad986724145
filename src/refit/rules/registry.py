"""The rule registry. A rule is a pure function over ARM documents.

`validate(world, old, new)` returns the ArmErrors Azure would answer with; `old` is None on create,
`new` is None on delete. A rule declares whether Azure rejects synchronously (the HTTP response) or
asynchronously (the request is accepted, its long-running operation fails), per the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.world import World

Validator = Callable[[World, dict[str, Any] | None, dict[str, Any] | None], list[ArmError]]


@dataclass(frozen=True)
class Rule:
    id: str
    resource_type: str  # the ARM type it governs (lowercase compare)
    title: str
    source: str  # doc URL, issue or seed; "INFERRED: ..." where nothing public gives the text
    validate: Validator
    asynchronous: bool = False  # Azure accepts the request and fails its operation
    operations: tuple[str, ...] = ("create", "update")  # which writes it applies to: create/update/delete
    enforced: bool = True  # False: a fact Azure cannot check (the guest's disk layout); planner-only


@dataclass
class Violation:
    rule: Rule
    error: ArmError


RULES: dict[str, Rule] = {}


def rule(id: str, resource_type: str, title: str, source: str, *, asynchronous: bool = False,
         operations: tuple[str, ...] = ("create", "update"), enforced: bool = True) -> Callable[[Validator], Validator]:
    """Decorator: register a validator as a rule of the catalog."""

    def deco(fn: Validator) -> Validator:
        if id in RULES:
            raise ValueError(f"duplicate rule id {id}")
        RULES[id] = Rule(id, resource_type, title, source, fn, asynchronous, operations, enforced)
        return fn

    return deco


def validate_write(world: World, old: dict[str, Any] | None, new: dict[str, Any] | None,
                   include_unenforced: bool = False) -> list[Violation]:
    """Every rule that governs the written resource's type, in registration order. The emulator asks
    for what Azure enforces; the planner also for rules Azure cannot check (`include_unenforced`)."""
    doc = new if new is not None else old
    if doc is None:
        return []
    rtype = (doc.get("type") or "").lower()
    op = "create" if old is None else ("delete" if new is None else "update")
    out: list[Violation] = []
    for r in RULES.values():
        if r.resource_type.lower() != rtype or op not in r.operations:
            continue
        if not r.enforced and not include_unenforced:
            continue
        out.extend(Violation(r, e) for e in r.validate(world, old, new))
    return out
