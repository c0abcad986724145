"""The one error type of refit: an ARM error, as Azure serialises it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArmError(Exception):
    """`{"error": {"code", "message", "target", "details"}}` with its HTTP status.

    The emulator serialises it; the client layer turns SDK errors into it; rules return lists of it.
    """

    status: int
    code: str
    message: str
    target: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    # The id of the catalog rule (refit.platform.rules) that gave this answer, when the platform gave it.
    # Not part of Azure's answer: `body()` never sends it, and two errors with the same answer compare equal.
    rule: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        super().__init__(f"({self.code}) {self.message}")

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def __str__(self) -> str:
        return f"({self.code}) {self.message}"


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2, nothing changed."""


class Unreachable(Exception):
    """Azure or the emulator could not be reached (refused, timed out, TLS, authentication): exit code 3."""
