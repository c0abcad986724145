"""What every command shares: global options, output mode, user errors.

Exit codes (docs/cli.md, the one place they are listed): 0 done; 1 done but failed (a run halted or failed, a
plan with no path, a proof that fails, doctor findings at --fail-on); 2 bad input, nothing changed; 3 Azure or
the emulator could not be reached.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
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
    debug: bool = False

    @property
    def json(self) -> bool:
        return self.output == "json"


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    if not isinstance(root.obj, Globals):
        root.obj = Globals()
    return root.obj


FORMATS = ("text", "json")


def output_option(formats: tuple[str, ...] = FORMATS) -> Any:
    """`-o/--output` of one command: the same option, and meaning, as the global `refit -o`."""
    return typer.Option(None, "--output", "-o", metavar="|".join(formats),
                        help=f"{', '.join(formats[:-1])} or {formats[-1]} (default: the global -o, else text).")


def output_of(ctx: typer.Context, output: str | None, formats: tuple[str, ...] = FORMATS) -> str:
    """The command's output format: its own -o, else the global one; refused if the command has no such format."""
    value = (output if output is not None else globals_of(ctx).output).lower()
    if value not in formats:
        hint = ("; files are written with --out FILE" if "." in value or "/" in value else "")
        raise UserError(f"-o/--output takes {', '.join(formats[:-1])} or {formats[-1]}, not '{value}'{hint}")
    return value


def json_of(ctx: typer.Context, output: str | None) -> bool:
    return output_of(ctx, output) == "json"


def writable(path: Path, flag: str = "--out") -> Path:
    """Refuse, before any work, a file that cannot be written: its directory missing, or the path a directory."""
    if path.is_dir():
        raise UserError(f"{flag} {path} is a directory: give a file name, e.g. {path / 'plan.json'}")
    parent = path.expanduser().parent
    if not parent.is_dir():
        raise UserError(f"{flag} {path}: the directory {parent} does not exist; create it or write elsewhere")
    return path


def consent(yes: bool, dry_run: bool = False) -> None:
    """Before any work: a command that would change something, run without a terminal to ask on, needs --yes."""
    if not (yes or dry_run) and not sys.stdin.isatty():
        raise UserError("refusing to change anything without confirmation: pass --yes (or --dry-run to look first)")


def confirm(yes: bool, question: str) -> None:
    """Ask (on a terminal) unless --yes; "no" is exit 1 ("aborted: nothing changed")."""
    consent(yes)
    if not yes and not typer.confirm(question):
        raise typer.Abort()


def tag_pair(text: str, flag: str, example: str = "tier=critical") -> tuple[str, str]:
    """NAME=VALUE of a tag option (--critical-tag), both parts non-empty."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise UserError(f"{flag} must be NAME=VALUE, e.g. {example}, not '{text}'")
    return name.strip(), value.strip()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str) -> None:
    """A user error: one line, exit 2, nothing changed."""
    raise UserError(message)
