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

    # Constructors for the families Azure uses (reference/azure-platform-rules.md section 9).
    @classmethod
    def not_found(cls, rid: str, rtype: str = "resource") -> ArmError:
        return cls(404, "ResourceNotFound", f"The Resource '{rtype}' under resource group could not be found.", rid)

    @classmethod
    def invalid_parameter(cls, message: str, target: str | None = None) -> ArmError:
        return cls(400, "InvalidParameter", message, target)

    @classmethod
    def property_change_not_allowed(cls, path: str) -> ArmError:
        return cls(409, "PropertyChangeNotAllowed", f"Changing property '{path}' is not allowed.", path)


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2, nothing changed."""
