"""Headless Chromium for the browser tests: Debian's `chromium` package, driven by Playwright (PyPI `playwright` ships
its driver; `playwright install` is never run, it downloads a browser build of its own). On a clean machine (CI runs
as root) the package is installed on first use, as tests/e2e/az_venv.py does for the az CLI; when that is not
possible the tests fail, saying how to install it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts" / "serve"  # screenshots (gitignored; docs/serve.md says where they are)


def ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    why = ""
    if apt is None:
        why = "apt-get is not on this machine"
    elif os.geteuid() != 0:
        why = "installing it needs root"
    else:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in ([apt, "update"], [apt, "install", "-y", "--no-install-recommends", "chromium"]):
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
            if r.returncode != 0:
                last = ((r.stderr or r.stdout).strip().splitlines() or [""])[-1]
                why = f"`apt-get {' '.join(cmd[1:])}` failed: {last}"
                break
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM} ({why or 'not installed'}): "
                    "run `apt-get update && apt-get install -y --no-install-recommends chromium` as root")
    return CHROMIUM


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(ensure_chromium()), args=ARGS)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


A11Y = """() => {
  const out = [];
  if (document.documentElement.lang !== "en") out.push("no lang on <html>");
  if (document.querySelectorAll("main").length !== 1) out.push("not exactly one <main>");
  if (!document.querySelector("h1")) out.push("no <h1>");
  for (const t of document.querySelectorAll("table")) {
    if (!t.caption || !t.caption.textContent.trim()) out.push("a table without a caption");
    if (!t.querySelector("th[scope=col]")) out.push("a table without column headers");
  }
  for (const el of document.querySelectorAll("a, button")) {
    const name = (el.getAttribute("aria-label") || el.textContent || "").trim();
    if (!name) out.push("a link or button without a name: " + el.outerHTML.slice(0, 80));
  }
  for (const p of document.querySelectorAll("progress")) if (!p.getAttribute("aria-label")) out.push("unlabelled progress");
  return out;
}"""


def accessibility_problems(page) -> list[str]:
    """What a screen-reader or keyboard user would miss on the page as it is now (the structural checks; contrast
    is the stylesheet's, chosen for WCAG AA)."""
    return page.evaluate(A11Y)
