"""`refit demo` as a user pipes it (issue 10): nothing cut, a shortened list says so, every command it suggests is a
command of today's CLI, and `-o json` prints one JSON document. Two demo runs in all (each starts its own emulator)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from clitools import parse
from refit.cli.demo import GO_FURTHER, SHOWN_FINDINGS


def _demo(tmp_path, *args: str) -> subprocess.CompletedProcess:
    # COLUMNS=60: piped, the demo must ignore it (rich would lay out, and cut, the tables to 60 columns).
    env = {**os.environ, "COLUMNS": "60", "REFIT_DATA_DIR": str(tmp_path / "data")}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "refit", "demo", *args], env=env, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def piped(tmp_path_factory) -> subprocess.CompletedProcess:
    return _demo(tmp_path_factory.mktemp("text"))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    r = _demo(tmp_path_factory.mktemp("json"), "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # raises if stdout holds anything but one JSON document


def test_piped_nothing_is_cut(piped):
    assert piped.returncode == 0, piped.stderr
    lines = piped.stdout.splitlines()
    assert [line for line in lines if "…" in line or "..." in line] == []
    assert "\x1b" not in piped.stdout  # no colour or spinner control codes in a pipe
    # Wider than 60 (or 80) columns, whole, with the tags a narrow terminal leaves out: vm-01's row of the fleet.
    assert ("│ vm-01     │ rg-refresh     │ 1    │ running │ Standard      │ vm-01-2026-10 │ "
            "AutoRefresh=true, OsDiskName=vm-01-2026-10 │") in lines


def test_the_doctor_list_says_what_it_leaves_out(piped, report):
    findings = report["doctorFindings"]
    assert len(findings) > SHOWN_FINDINGS  # the demo's fleet has more findings than the section shows
    lines = piped.stdout.splitlines()
    note = lines.index(f"(showing {SHOWN_FINDINGS} of {len(findings)} findings; `refit doctor` lists them all)")
    shown = lines[note - SHOWN_FINDINGS:note]
    assert lines[note - SHOWN_FINDINGS - 1] == "  running every doctor check on the live fleet (refit doctor)"
    for line, f in zip(shown, findings[:SHOWN_FINDINGS], strict=True):  # most severe first, each on one whole line
        assert line.startswith(f"  {f['severity']:<6} {f['check']} ")
        assert line.endswith(f"  {f['resource'].rsplit('/', 1)[-1]}: {f['message']}")


def _suggested(text: str) -> list[str]:
    """The refit commands the demo prints: lines that start with `refit ` (without a trailing # comment), and
    those quoted in a line as `refit ...` or $(refit ...)."""
    cmds = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("refit "):
            cmds.append(re.sub(r"\s+#.*$", "", line))
        cmds += re.findall(r"`(refit [^`]+)`", line) + re.findall(r"\$\((refit [^)]+)\)", line)
    return cmds


def _parse(command: str) -> None:
    """Parse a command line as `refit` would (click's parser: unknown commands, options, missing values raise)."""
    parse(shlex.split(command)[1:])


def test_every_suggested_command_is_a_command_of_the_cli(piped):
    cmds = _suggested(piped.stdout)
    # All of "Go further" (with the one inside `eval "$(...)"`) and the one in the doctor's note.
    assert set(cmds) >= {c for _, c in GO_FURTHER if c.startswith("refit ")} | {"refit emulator env", "refit doctor"}
    for c in cmds:
        _parse(c)


def test_suggested_commands_are_each_on_one_line(piped):
    lines = [line.strip() for line in piped.stdout.splitlines()]
    for _, cmd in GO_FURTHER:
        assert cmd in lines
