"""The rule registry. A rule is a pure function over ARM documents.

`validate(world, old, new)` returns the ArmErrors Azure would answer with; `old` is None on create,
`new` is None on delete. A rule declares whether Azure rejects synchronously (the HTTP response) or
asynchronously (the request is accepted, its long-running operation fails), per the reference.

A rule also declares what Azure returns (`errors`: status, code, message template, target), so that
the validator and the rule's documentation page (`python -m refit.platform.rules.docs`) say the same thing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.world import World

Validator = Callable[[World, dict[str, Any] | None, dict[str, Any] | None], list[ArmError]]


@dataclass(frozen=True)
class ErrorTemplate:
    """One answer Azure gives: `message` and `target` are `str.format` templates over named fields."""

    status: int
    code: str
    message: str
    target: str | None = None

    def __call__(self, **fields: Any) -> ArmError:
        target = self.target.format(**fields) if self.target else None
        return ArmError(self.status, self.code, self.message.format(**fields), target)


@dataclass(frozen=True)
class Rule:
    id: str
    resource_type: str  # the ARM type it governs (lowercase compare); the first of `resource_types`
    title: str
    source: str  # doc URL, issue or seed; "INFERRED: ..." where nothing public gives the text
    validate: Validator
    asynchronous: bool = False  # Azure accepts the request and fails its operation
    operations: tuple[str, ...] = ("create", "update")  # which writes it applies to: create/update/delete
    enforced: bool = True  # False: a fact Azure cannot check (the guest's disk layout); planner-only
    resource_types: tuple[str, ...] = ()  # every ARM type it governs (defaults to (resource_type,))
    errors: tuple[ErrorTemplate, ...] = ()  # what Azure returns (documentation and construction)
    confidence: str = ""  # H / M / L, as graded in reference/azure-platform-rules.md
    doc: str = field(default="", compare=False)  # the description (the validator's docstring)

    def governs(self, arm_type: str) -> bool:
        t = arm_type.lower()
        return any(rt.lower() == t for rt in (self.resource_types or (self.resource_type,)))


@dataclass
class Violation:
    rule: Rule
    error: ArmError


RULES: dict[str, Rule] = {}

# Facts several rules derive from the same write (e.g. what an image reference resolves to), computed once
# per `validate_write` call; the world does not change during one call.
_MEMO: ContextVar[dict[Any, Any] | None] = ContextVar("refit_rules_memo", default=None)


def memo() -> dict[Any, Any] | None:
    """The per-write memo of the current `validate_write` call (None outside one)."""
    return _MEMO.get()


def rule(id: str, resource_type: str | tuple[str, ...], title: str, source: str, *, asynchronous: bool = False,
         operations: tuple[str, ...] = ("create", "update"), enforced: bool = True,
         errors: tuple[ErrorTemplate, ...] | list[ErrorTemplate] = (), confidence: str = "",
         ) -> Callable[[Validator], Validator]:
    """Decorator: register a validator as a rule of the catalog. `resource_type` may name several types."""
    types = (resource_type,) if isinstance(resource_type, str) else tuple(resource_type)

    def deco(fn: Validator) -> Validator:
        if id in RULES:
            raise ValueError(f"duplicate rule id {id}")
        RULES[id] = Rule(id, types[0], title, source, fn, asynchronous, operations, enforced, types, tuple(errors),
                         confidence, inspect.cleandoc(fn.__doc__ or ""))
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
    token = _MEMO.set({})
    try:
        for r in RULES.values():
            if op not in r.operations or not r.governs(rtype):
                continue
            if not r.enforced and not include_unenforced:
                continue
            out.extend(Violation(r, e) for e in r.validate(world, old, new))
    finally:
        _MEMO.reset(token)
    return out
