"""The real az CLI in its own virtual environment (its pins conflict with the latest SDKs).

Created on first use by the test setup: `<repo>/.cache/az-venv` (or $REFIT_AZ_VENV) with PyPI's
`azure-cli`, and the Resource Graph extension wheel (PyPI `resource-graph`) downloaded next to it so
`az extension add --source` installs `az graph` offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def venv_dir() -> Path:
    return Path(os.environ.get("REFIT_AZ_VENV") or REPO / ".cache" / "az-venv")


def ensure_az() -> tuple[Path, Path]:
    """(az executable, resource-graph wheel), installing them when missing."""
    venv = venv_dir()
    az = venv / "bin" / "az"
    wheels = venv / "wheels"
    if not az.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "azure-cli"], check=True)
    found = sorted(wheels.glob("resource_graph-*.whl")) if wheels.exists() else []
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "-d", str(wheels), "resource-graph"], check=True)
        found = sorted(wheels.glob("resource_graph-*.whl"))
    return az, found[-1]


def logged_in(exe: Path, server, home: Path):
    """A function running `az ARGS -o json` (its parsed output), logged in to the test emulator with
    `refit emulator az-login`, with its config and HOME (`--generate-ssh-keys` writes ~/.ssh) under `home`."""
    import json

    from refit.cli.emulator import az_env

    env = {**os.environ, **az_env(server.endpoint, home / "az-config"), "PATH": f"{exe.parent}:{os.environ['PATH']}",
           "HOME": str(home)}
    r = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(server.data_dir),
                        "--az", str(exe), "--config-dir", str(home / "az-config")],
                       env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr

    def run(*args: str):
        out = subprocess.run([str(exe), *args, "-o", "json"], env=env, capture_output=True, text=True, timeout=300,
                             check=False)
        assert out.returncode == 0, f"az {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}"
        return json.loads(out.stdout) if out.stdout.strip() else None

    return run


# ---- the fixtures the az tests share: `az_tools` and `az` (a test module imports these two functions) -------------
@pytest.fixture(scope="module", name="az_tools")
def az_tools_fixture():
    return ensure_az()


@pytest.fixture(name="az")
def az_fixture(az_tools, server, tmp_path):
    """The real az CLI, logged in to the test's emulator: `az(*args)` runs a command and returns its JSON."""
    return logged_in(az_tools[0], server, tmp_path)
