"""Every `refit` command line in the README and docs/ parses as a command of today's CLI (issue 10): commands
in code blocks and in `backticks`, synopsis lines included (`[--opt A|B]` read as `--opt A`). Parsing is
click's own (tests/clitools.py): a renamed command or option, a flag given a value, a value of the wrong type
fails here before it fails a reader. The doctor's fix commands are run for real in tests/checks."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import typer._click.exceptions as tclick

from clitools import parse

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _logical_lines(text: str) -> list[tuple[str, bool]]:
    """Lines of the fenced code blocks (continuations joined) and `inline code` spans of prose."""
    out, block, buf = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            block = not block
            continue
        if block:
            buf += line.rstrip()
            if buf.endswith("\\"):
                buf = buf[:-1] + " "
                continue
            out.append((buf, True))
            buf = ""
        else:
            out += [(m, False) for m in re.findall(r"`([^`]+)`", line)]
    return out


def _segments(line: str) -> list[str]:
    """The `refit ...` commands of one shell line: those inside $(...) first, then the line split at && || | ;
    with comments and redirections cut (a $(...) elsewhere stands for a value)."""
    line = re.sub(r"^\s*\$\s+", "", line.replace("\\|", "|"))
    line = re.sub(r"(^|\s)#.*$", "", line)
    found = [m.strip() for m in re.findall(r"\$\((refit [^)]*)\)", line)]
    line = re.sub(r"\$\([^)]*\)", "VALUE", line)
    for part in re.split(r"&&|\|\||(?<=\s)\|(?=\s)|;", line):
        part = re.sub(r"\s[12]?>>?\s*\S+", "", part).strip()
        if part.startswith("refit ") or part == "refit":
            found.append(part)
    return found


def _synopsis(text: str) -> list[str]:
    """A synopsis as a runnable line: <placeholders> and N as values, [optional] parts kept (but those of a
    repeated `...` dropped), `A|B` alternatives -> A."""
    text = re.sub(r"<[^>]*>", "X", text)
    text = re.sub(r"\[[^\[\]]*\.\.\.[^\[\]]*\]", "", text)
    out = []
    for w in shlex.split(text.replace("[", " ").replace("]", " "))[1:]:
        if w in ("...", "…"):
            continue
        if "|" in w and not w.startswith(("'", '"')) and " " not in w:
            w = w.split("|")[0]
        out.append("1" if w == "N" else w)
    return out


def commands() -> list[tuple[str, str, bool]]:
    """(where, command, strict): code-block lines are whole commands; `inline` mentions may leave out what
    a command requires (prose names `refit emulator seed` without its scenario)."""
    found = []
    for doc in DOCS:
        for line, strict in _logical_lines(doc.read_text()):
            for cmd in _segments(line):
                found.append((f"{doc.relative_to(REPO)}: {cmd}", cmd, strict))
    return found


COMMANDS = commands()


def test_the_docs_name_many_commands():
    assert len(COMMANDS) >= 60  # guard: the extraction still finds the docs' commands
    names = {" ".join(cmd.split()[:3]) for _, cmd, _ in COMMANDS}
    for expected in ("refit plan goal.yaml", "refit apply plan.json", "refit doctor --terraform-plan",
                     "refit tf migrate-keys"):
        assert any(n.startswith(expected) for n in names), expected


@pytest.mark.parametrize("where,command,strict", COMMANDS, ids=[w for w, _, _ in COMMANDS])
def test_a_documented_command_parses(where, command, strict):
    family = re.fullmatch(r"refit((?: [a-z-]+)*) ([a-z-]+(?:[|/][a-z-]+)+)", command)  # `refresh disks|tag|swap`
    if family:
        for name in re.split(r"[|/]", family[2]):
            parse([*family[1].split(), name, "--help"])
        return
    words = _synopsis(command)
    try:
        parse(words)
    except (click.MissingParameter, tclick.MissingParameter, click.BadOptionUsage, tclick.BadOptionUsage) as e:
        # prose may name a command without what it requires, or an option without its value (`--key`)
        if strict or (isinstance(e, click.BadOptionUsage | tclick.BadOptionUsage) and words[-1:] != [e.option_name]):
            raise
    # -o is the output format everywhere (checked by the command, not the parser); files are --out FILE
    for flag, value in zip(words, [*words[1:], ""], strict=False):
        if flag in ("-o", "--output"):
            assert value in ("text", "json", "sarif", "markdown"), f"{where}: -o {value}"
