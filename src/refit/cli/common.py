"""What every command shares: global options, output mode, user errors."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console

from refit.arm.errors import UserError

console = Console()
err_console = Console(stderr=True)


@dataclass
class Globals:
    endpoint: str | None = None
    azure: bool = False
    subscription: str | None = None
    output: str = "text"
    data: str | None = None  # embedded emulator's data dir (None: the default)

    @property
    def json(self) -> bool:
        return self.output == "json"


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    if not isinstance(root.obj, Globals):
        root.obj = Globals()
    return root.obj


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str) -> None:
    """A user error: one line, exit 2, nothing changed."""
    raise UserError(message)
