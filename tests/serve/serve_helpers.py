"""Running refit as its own process against the test emulator (a module of its own: several test directories have a
conftest.py, so `from conftest import ...` could find another's)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def refit_env(server, state: Path) -> dict[str, str]:
    """The environment of a refit process against the test emulator, with its journal in `state`."""
    return {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "REQUESTS_CA_BUNDLE": str(server.cert), "REFIT_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1"}


def refit_argv(server, *args: str) -> list[str]:
    return [sys.executable, "-m", "refit", "--endpoint", server.url, "--subscription", server.endpoint.subscription,
            *args]
