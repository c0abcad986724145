"""The plan document (`refit plan --out plan.json`, read by `refit apply`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from refit.arm.errors import UserError
from refit.ops.op import Op, Request

PLAN_VERSION = 1


@dataclass
class Step:
    n: int
    op: str
    summary: str
    resource: str
    request: dict[str, Any]
    why: str
    rules: list[str]
    duration_seconds: float
    downtime_seconds: float
    irreversible: bool = False
    temporary: bool = False
    rollback: dict[str, Any] | None = None
    rollback_note: str = ""
    followup: dict[str, Any] | None = None
    group: int = 0
    wave: int = 0  # a fleet plan's wave (plan.waves): its groups start after every group of the wave before; 0: none

    @classmethod
    def from_op(cls, n: int, op: Op, group: int) -> Step:
        return cls(n=n, op=op.name, summary=op.describe(), resource=op.resource, request=op.request.to_json(),
                   why=op.why, rules=list(op.rules), duration_seconds=round(op.duration_s, 3),
                   downtime_seconds=round(op.downtime_s, 3), irreversible=op.irreversible, temporary=op.temporary,
                   rollback=op.rollback.to_json() if op.rollback else None, rollback_note=op.rollback_note,
                   followup=op.meta.get("followup"), group=group)

    def to_op(self) -> Op:
        op = Op(self.op, self.resource, Request.from_json(self.request), why=self.why, rules=tuple(self.rules),
                irreversible=self.irreversible, temporary=self.temporary,
                rollback=Request.from_json(self.rollback) if self.rollback else None, rollback_note=self.rollback_note,
                duration_s=self.duration_seconds, downtime_s=self.downtime_seconds, meta={"summary": self.summary})
        if self.followup:
            op.meta["followup"] = self.followup
        return op


@dataclass
class Blocker:
    rule: str
    title: str
    source: str
    code: str
    message: str
    attempted: str


@dataclass
class Impossible:
    resource: str
    goal: dict[str, Any]
    blocked_by: list[Blocker]
    recreate: list[Step] = field(default_factory=list)
    recreate_downtime_seconds: float = 0.0
    recreate_error: str = ""
    recreate_note: str = ""  # what the recreate path costs beyond its steps (a scale set's blue/green overlap)


# The budgets of the search, as `refit plan` names them (the option that raises each).
BUDGET_OPTIONS = {"max_expansions": "--max-expansions", "max_depth": "--max-depth"}


@dataclass
class Exhausted:
    """A group of goals whose search stopped on a budget before it found a path or proved there is none."""

    resources: list[str]
    goals: list[dict[str, Any]]
    budget: str  # "max_expansions" or "max_depth"
    limit: int
    states: int  # states expanded before it stopped

    @property
    def message(self) -> str:
        option = BUDGET_OPTIONS[self.budget]
        states = f"{self.states} state{'' if self.states == 1 else 's'}"
        if self.budget == "max_depth":
            return (f"search depth limit reached after {states}: paths longer than {self.limit} "
                    f"step{'' if self.limit == 1 else 's'} were not tried (raise with {option})")
        return f"search budget exhausted after {states} (raise with {option})"


@dataclass
class Plan:
    goals: list[dict[str, Any]]
    steps: list[Step] = field(default_factory=list)
    cleanup: list[Step] = field(default_factory=list)
    impossible: list[Impossible] = field(default_factory=list)
    exhausted: list[Exhausted] = field(default_factory=list)
    planning_seconds: float = 0.0
    expansions: int = 0
    situations: int = 0  # groups searched; the other groups were in a situation already searched (plan.situations)
    renamed_refused: int = 0  # groups whose renamed steps the platform refused, searched again
    waves: dict[str, Any] | None = None  # a fleet plan's wave policy (plan.waves): canary, batch_percent, count
    # Per group of steps, the end state it reaches: {"group", "goals": [goal], "power": {vm id: state}}.
    # `refit apply` skips a group whose end state is already live (a finished plan applied again does nothing).
    groups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ok; impossible (a goal has no path); budget_exhausted (a search stopped before it knew)."""
        return "impossible" if self.impossible else ("budget_exhausted" if self.exhausted else "ok")

    @property
    def solved(self) -> bool:
        """Every goal has its steps in the plan (or needs none)."""
        return not self.impossible and not self.exhausted

    def totals(self) -> dict[str, Any]:
        return {"steps": len(self.steps), "duration_seconds": round(sum(s.duration_seconds for s in self.steps), 3),
                "downtime_seconds": round(sum(s.downtime_seconds for s in self.steps), 3),
                "irreversible_steps": sum(1 for s in self.steps if s.irreversible),
                "writes": sum(1 for s in self.steps if s.request.get("method", "").upper() != "GET")}  # a wait reads

    def to_json(self) -> dict[str, Any]:
        return {"version": PLAN_VERSION, "status": self.status, "goals": self.goals, "totals": self.totals(),
                "steps": [asdict(s) for s in self.steps], "cleanup": [asdict(s) for s in self.cleanup],
                "impossible": [asdict(i) for i in self.impossible],
                "exhausted": [{**asdict(e), "message": e.message} for e in self.exhausted],
                "groups": self.groups, "planning_seconds": round(self.planning_seconds, 3),
                "expansions": self.expansions, "situations": self.situations,
                **({"waves": self.waves} if self.waves else {})}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Plan:
        try:
            data = json.loads(path.read_text())
        except OSError as e:
            raise UserError(f"cannot read plan '{path}': {e.strerror}") from e
        except ValueError as e:
            raise UserError(f"'{path}' is not a plan: not JSON ({e})") from e
        if not isinstance(data, dict) or data.get("version") != PLAN_VERSION or not isinstance(data.get("steps"), list):
            raise UserError(f"'{path}' is not a refit plan (version {PLAN_VERSION}): write one with `refit plan GOAL --out {path}`")
        try:
            plan = cls(goals=data.get("goals") or [], steps=[Step(**s) for s in data["steps"]],
                       cleanup=[Step(**s) for s in data.get("cleanup") or []], groups=list(data.get("groups") or []),
                       waves=data.get("waves"))
        except TypeError as e:
            raise UserError(f"'{path}' has a malformed step: {e}") from e
        if data.get("status") == "impossible":
            raise UserError(f"'{path}' is a plan with no path to its goal; there is nothing to apply")
        if data.get("status") == "budget_exhausted":
            raise UserError(f"'{path}' is a plan whose search ran out of budget; there is nothing to apply: "
                            "plan again with a larger --max-expansions or --max-depth")
        return plan
