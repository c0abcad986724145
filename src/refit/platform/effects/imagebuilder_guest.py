"""Image Builder's customizers in the emulator's small model of the guest (INFERRED: the emulator runs nothing): what a
Shell or PowerShell customizer's own content makes of the build (imagebuilder.py's docstring says how)."""

from __future__ import annotations

import contextlib
import re
import shlex
from typing import Any


# ---- customizers in the emulator's model of the guest (module docstring) -------------------------------------------
def _errexit(words: list[str], on: bool) -> bool:
    """The errexit option after a `set ...` command (set -e, -euo pipefail, -o errexit; +e / +o errexit clear it)."""
    i = 1
    while i < len(words):
        w = words[i]
        if w in ("-o", "+o") and i + 1 < len(words):
            if words[i + 1] == "errexit":
                on = w == "-o"
            i += 2
            continue
        if len(w) > 1 and w[0] in "-+" and not w.startswith("--") and "e" in w[1:]:
            on = w[0] == "-"
        i += 1
    return on


_EXIT = re.compile(r"^exit(?:\s+(-?\d+))?\s*;?$")


def run_customizer(c: dict[str, Any], priv: dict[str, Any]) -> tuple[str, list[str]]:
    """(outcome, log) of one customizer: "ok", "failed" (the build fails) or "ignored" (a command failed and the
    script carried on: the image is broken)."""
    kind = c.get("type")
    provisioner = {"Shell": "shell", "PowerShell": "powershell", "File": "file", "WindowsRestart": "windows-restart",
                   "WindowsUpdate": "windows-update"}.get(str(kind), str(kind).lower())
    label = f"{provisioner} ({c.get('name')})" if c.get("name") else provisioner
    log = [f"(telemetry) Starting provisioner {label}"]
    failing = {str(x).strip() for x in priv.get("failing_commands") or []}
    if c.get("name") is not None and str(c.get("name")) in {str(x) for x in priv.get("failing_customizers") or []}:
        return "failed", [*log, f"==> azure-arm: Customizer {c.get('name')!r} failed"]
    if kind not in ("Shell", "PowerShell"):
        return "ok", [*log, f"(telemetry) ending {provisioner}"]
    if c.get("scriptUri") is not None:
        if str(c["scriptUri"]).strip() in failing:
            return "failed", [*log, "==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes "
                                    "are: [0]"]
        return "ok", [*log, f"(telemetry) ending {provisioner}"]
    inline = c.get("inline")
    inline = [inline] if isinstance(inline, str) else inline if isinstance(inline, list) else []
    lines = [s.strip() for raw in inline for s in str(raw).splitlines()]
    valid = [x for x in c.get("validExitCodes") or [0] if isinstance(x, int)] if kind == "PowerShell" else [0]
    errexit = False
    last_failed = ignored = False
    for line in lines:
        if not line or line.startswith("#"):
            continue
        m = _EXIT.match(line)
        if m:
            code = int(m.group(1) or (1 if last_failed else 0))
            if code in valid:
                return ("ignored" if ignored else "ok"), [*log, f"(telemetry) ending {provisioner}"]
            return "failed", [*log, f"==> azure-arm: Script exited with non-zero exit status: {code}. Allowed exit "
                                    f"codes are: {valid}"]
        if kind == "Shell" and (line.startswith("set ") or line == "set"):
            with contextlib.suppress(ValueError):  # unbalanced quotes: the options are left as they were
                errexit = _errexit(shlex.split(line), errexit)
            last_failed = False
            continue
        bad = line in failing or re.fullmatch(r"(sudo\s+)?(/bin/|/usr/bin/)?false", line) is not None or (
            kind == "PowerShell" and line.lower().startswith("throw"))
        if not bad:
            last_failed = False
            continue
        if errexit or (kind == "PowerShell" and line.lower().startswith("throw")):
            return "failed", [*log, f"==> azure-arm: {line}: exit status 1",
                              "==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]"]
        log.append(f"==> azure-arm: {line}: exit status 1 (ignored: errexit is off)")
        last_failed = ignored = True
    if last_failed:
        return "failed", [*log, "==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes are: "
                                "[0]"]
    return ("ignored" if ignored else "ok"), [*log, f"(telemetry) ending {provisioner}"]

