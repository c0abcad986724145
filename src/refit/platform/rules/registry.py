"""The rule registry: every refusal the platform gives, with its id, Azure's answer and its source.

Most rules are validators, pure functions over ARM documents: `validate(world, old, new)` returns the
ArmErrors Azure would answer with; `old` is None on create, `new` is None on delete. A rule declares
whether Azure rejects synchronously (the HTTP response) or asynchronously (the request is accepted, its
long-running operation fails), per the reference.

Some refusals cannot wait for a document: the effects cannot build the resource without the input
(a missing vmSize, a malformed body, a disk to attach that does not exist), an action is refused in the
state the resource is in (restart of a deallocated VM), an operation fails as it runs (an allocation
failure), or the request never reaches the platform (a missing api-version, answered on the wire). Those
are rules too, registered with `refusal(...)` and a `stage` that says where they are raised, and raised
through the catalog: `raise RULES["VM1"].refuse(path=...)`. Every ArmError the platform raises therefore
carries the id of its rule (`ArmError.rule`), and nothing it refuses is anonymous.

A rule also declares what Azure returns (`errors`: status, code, message template, target), so that
the validator and the rule's documentation page (`python -m refit.platform.rules.docs`) say the same thing.
"""

from __future__ import annotations

import dataclasses
import functools
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


# Where a rule is checked (Rule.stage):
VALIDATOR = "validator"  # by its validator over the write's documents (validate_write)
REQUEST = "request"  # by the effects while they read the request: the resource cannot be built without it,
#                      or the action is refused in the resource's state
OPERATION = "operation"  # by the effects while the accepted operation runs (it fails asynchronously)
WIRE = "wire"  # by the emulator's wire, before the platform model sees the request
STAGES = (VALIDATOR, REQUEST, OPERATION, WIRE)

EVERY_TYPE = "*"  # a rule of ARM itself, for every resource type


@dataclass(frozen=True)
class Rule:
    id: str
    resource_type: str  # the ARM type it governs (lowercase compare); the first of `resource_types`
    title: str
    source: str  # doc URL, issue or seed; "INFERRED: ..." where nothing public gives the text
    validate: Validator | None  # None: raised by the effects or the wire (see `stage`), never by validate_write
    asynchronous: bool = False  # Azure accepts the request and fails its operation
    # which requests it applies to: create / update / delete (writes), read, action
    operations: tuple[str, ...] = ("create", "update")
    enforced: bool = True  # False: a fact Azure cannot check (the guest's disk layout); planner-only
    resource_types: tuple[str, ...] = ()  # every ARM type it governs (defaults to (resource_type,)); "*": all
    errors: tuple[ErrorTemplate, ...] = ()  # what Azure returns (documentation and construction)
    confidence: str = ""  # H / M / L, as graded in reference/azure-platform-rules.md
    doc: str = field(default="", compare=False)  # the description (the validator's docstring)
    stage: str = VALIDATOR

    def governs(self, arm_type: str) -> bool:
        t = arm_type.lower()
        return any(rt == EVERY_TYPE or rt.lower() == t for rt in (self.resource_types or (self.resource_type,)))

    def refuse(self, which: int = 0, **fields: Any) -> ArmError:
        """Azure's answer for this rule (its `which`-th error template, filled with `fields`), carrying the
        rule's id: how the effects and the wire raise a refusal through the catalog."""
        err = self.errors[which](**fields)
        err.rule = self.id
        return err

    def check(self, world: World, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[ArmError]:
        """This rule's validator alone, its answers naming it: for a request that changes a document
        without writing the resource (the Tags extension resource at a scope)."""
        if self.validate is None:
            raise ValueError(f"rule {self.id} has no validator")
        return [dataclasses.replace(e, rule=self.id) for e in self.validate(world, old, new)]

    def claim(self, err: ArmError) -> ArmError:
        """Name this rule as the source of an answer built below the platform (`refit.arm` parses ids and
        cannot know the catalog). The answer must be one the rule declares."""
        if not any((t.status, t.code) == (err.status, err.code) for t in self.errors):
            raise ValueError(f"rule {self.id} does not answer ({err.status} {err.code})")
        err.rule = self.id
        return err


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


def _register(r: Rule) -> Rule:
    if r.id in RULES:
        raise ValueError(f"duplicate rule id {r.id}")
    RULES[r.id] = r
    return r


def _types(resource_type: str | tuple[str, ...]) -> tuple[str, ...]:
    return (resource_type,) if isinstance(resource_type, str) else tuple(resource_type)


def rule(id: str, resource_type: str | tuple[str, ...], title: str, source: str, *, asynchronous: bool = False,
         operations: tuple[str, ...] = ("create", "update"), enforced: bool = True,
         errors: tuple[ErrorTemplate, ...] | list[ErrorTemplate] = (), confidence: str = "",
         ) -> Callable[[Validator], Validator]:
    """Decorator: register a validator as a rule of the catalog. `resource_type` may name several types."""
    types = _types(resource_type)

    def deco(fn: Validator) -> Validator:
        _register(Rule(id, types[0], title, source, fn, asynchronous=asynchronous, operations=operations,
                       enforced=enforced, resource_types=types, errors=tuple(errors), confidence=confidence,
                       doc=inspect.cleandoc(fn.__doc__ or "")))
        return fn

    return deco


def refusal(id: str, resource_type: str | tuple[str, ...], title: str, source: str, *, doc: str,
            errors: tuple[ErrorTemplate, ...] | list[ErrorTemplate], confidence: str, stage: str = REQUEST,
            operations: tuple[str, ...] = ("create", "update"), asynchronous: bool = False) -> Rule:
    """Register a refusal that no validator can give (see the module docstring): the effects (stage
    "request" or "operation") or the wire ("wire") raise it with `RULES[id].refuse(...)`."""
    if stage not in (REQUEST, OPERATION, WIRE):
        raise ValueError(f"refusal {id}: stage must be request, operation or wire, not {stage!r}")
    types = _types(resource_type)
    return _register(Rule(id, types[0], title, source, None, asynchronous=asynchronous, operations=operations,
                          resource_types=types, errors=tuple(errors), confidence=confidence,
                          doc=inspect.cleandoc(doc), stage=stage))


def rebuild(error: dict[str, Any], status: int, rule_id: str | None) -> ArmError:
    """An answer the catalog already gave, rebuilt from its wire form: an operation that was accepted
    keeps the error it will fail with as JSON (it may be persisted) and raises it when it completes."""
    return ArmError(status, error["code"], error["message"], error.get("target"), rule=rule_id)


@functools.lru_cache(maxsize=1024)
def _governing(rtype: str, op: str, include_unenforced: bool, n_rules: int) -> tuple[Rule, ...]:
    """The rules validate_write asks for one type and operation, in registration order (`n_rules` keys the
    cache to the catalog's size: registering a rule later starts afresh)."""
    return tuple(r for r in RULES.values() if r.validate is not None and op in r.operations and r.governs(rtype)
                 and (r.enforced or include_unenforced))


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
        for r in _governing(rtype, op, include_unenforced, len(RULES)):
            # The answer names the rule that gave it (a copy: rules may share one memoised answer).
            out.extend(Violation(r, dataclasses.replace(e, rule=r.id)) for e in r.validate(world, old, new))
    finally:
        _MEMO.reset(token)
    return out
