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
