"""The doctor's vocabulary: a Check (metadata + evaluate), the evaluation handle it reads through, results.

A check is "is this state legal but wrong?": Azure accepts the configuration and it fails later (seed 001's
troubleshooting table). It reads ARM documents through `Eval`, which records the property paths it read
(`evaluated` on every result, as checkov's evaluated_keys) and raises `Unresolved` when a path holds a
value refit could not compute (an ARM template expression, a Terraform unknown): the result is then
`unknown`, never a false pass or fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from refit.arm.paths import get_path

if TYPE_CHECKING:
    from refit.checks.context import Context

SEVERITIES = ("high", "medium", "low", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # 0 = most severe
INPUTS = ("live", "arm", "terraform")
PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


class Unresolved(Exception):
    """A check read a value the source could not resolve."""

    def __init__(self, resource: str, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.resource = resource
        self.path = path
        self.reason = reason


@dataclass
class Result:
    check: str
    resource: str
    status: str  # pass | fail | unknown
    message: str = ""
    evaluated: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fix:
    """How to fix it, per tool (PSRule's EXAMPLES: az, ARM/Bicep, Terraform)."""

    az: str = ""
    arm: str = ""
    terraform: str = ""


class Check:
    """One best-practice check. Subclasses set the metadata and implement `evaluate`."""

    id = ""
    title = ""
    severity = "medium"
    resource_types: tuple[str, ...] = ()
    inputs: tuple[str, ...] = INPUTS
    rationale = ""  # why it matters (DESCRIPTION)
    recommendation = ""  # what to do (RECOMMENDATION)
    fix = Fix()
    source = ""  # seed row, reference rule ids, doc URLs
    notes = ""  # limitations, inputs it does not apply to and why

    def evaluate(self, ev: Eval) -> tuple[str, str] | None:
        """(status, message) for ev.doc, or None when the check does not apply to this resource."""
        raise NotImplementedError

    # helpers for evaluate()
    @staticmethod
    def ok(message: str = "") -> tuple[str, str]:
        return PASS, message

    @staticmethod
    def failed(message: str) -> tuple[str, str]:
        return FAIL, message

    @property
    def doc_path(self) -> str:
        return f"docs/checks/{self.id}.md"


class Eval:
    """What a check reads one resource through. Paths are dotted ARM paths (`properties.upgradePolicy.mode`)."""

    __slots__ = ("ctx", "doc", "evaluated")

    def __init__(self, ctx: Context, doc: dict[str, Any]):
        self.ctx = ctx
        self.doc = doc
        self.evaluated: list[str] = []

    @property
    def id(self) -> str:
        return self.doc["id"]

    def get(self, path: str, default: Any = None) -> Any:
        """A property of the resource under evaluation (recorded in the result's evaluated paths)."""
        if path not in self.evaluated:
            self.evaluated.append(path)
        return self.ctx.value(self.doc, path, default)

    def of(self, doc: dict[str, Any] | None, path: str, default: Any = None) -> Any:
        """A property of another resource (a consumer, a member, a reservation)."""
        if doc is None:
            return default
        return self.ctx.value(doc, path, default)

    def require(self, *paths: str, doc: dict[str, Any] | None = None) -> None:
        """Raise Unresolved if any of these paths (or anything below them) is unresolved."""
        d = self.doc if doc is None else doc
        if d is self.doc:
            for p in paths:
                if p not in self.evaluated:
                    self.evaluated.append(p)
        self.ctx.require(d, *paths)


def raw(doc: dict[str, Any], path: str, default: Any = None) -> Any:
    return get_path(doc, path, default)
