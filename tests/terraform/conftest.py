"""Helpers for the `refit tf` tests: run the CLI in-process and read its JSON report."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from refit.cli import main


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """refit.cli.main(argv) -> (exit code, stdout, stderr)."""

    def _run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def run_json(run: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Run with `--output json` and parse stdout."""

    def _run(*argv: str) -> tuple[int, dict[str, Any]]:
        code, out, err = run(*argv, "--output", "json")
        assert out, f"no JSON on stdout (exit {code}): {err}"
        return code, json.loads(out)

    return _run
