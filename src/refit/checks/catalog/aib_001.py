"""RF-AIB-001: a Shell customizer that does not stop on the first failing command."""

from __future__ import annotations

import shlex

from refit.checks.context import IMAGE_TEMPLATE
from refit.checks.model import UNKNOWN, Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


def strict_options(lines: list[str]) -> set[str]:
    """The shell options set by the leading `set` commands (before the first other command)."""
    found: set[str] = set()
    for raw in lines:
        for line in str(raw).splitlines():
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if not s.startswith("set "):
                return found
            try:
                words = shlex.split(s)[1:]
            except ValueError:
                return found
            i = 0
            while i < len(words):
                w = words[i]
                if w == "-o" and i + 1 < len(words):
                    found.add(words[i + 1])
                    i += 2
                    continue
                if w.startswith("-") and not w.startswith("--"):
                    letters = w[1:]
                    if letters.endswith("o") and i + 1 < len(words):  # -euo pipefail
                        found.update(letters[:-1])
                        found.add(words[i + 1])
                        i += 2
                        continue
                    found.update(letters)
                i += 1
    return found


class ShellWithoutStrictMode(Check):
    id = "RF-AIB-001"
    title = "Image Builder Shell customizer without set -euo pipefail"
    severity = "high"
    resource_types = (IMAGE_TEMPLATE,)
    rationale = (
        "A Shell customizer fails the build only if its last command fails. Without `set -euo pipefail` a "
        "failing apt-get, a typo'd variable or a broken pipe in the middle is ignored: the build reports "
        "Succeeded and ships a broken image into the gallery, where automatic OS upgrade rolls it out.")
    recommendation = ('Start every inline Shell customizer (and script) with `set -euo pipefail`. A template cannot be '
        'updated (Azure answers 409 Conflict): submit it again - the fix builds the corrected template in '
        "az's local cache, deletes the old one and creates it under the same name.")
    fix = Fix(
        az="az image builder create -g $RG -n $TEMPLATE --image-source $IMAGE_SOURCE --identity "
           "$IDENTITY --shared-image-destinations $GAL/$DEF=$LOCATION --vm-size Standard_D2as_v5 "
           "--build-timeout 90 --defer\n"
           "az image builder customizer add -g $RG -n $TEMPLATE --customizer-name harden --type "
           "shell --inline-script \"set -euo pipefail\" \"sudo apt-get update\" \"sudo apt-get -y install "
           "nginx\" --defer\n"
           "az image builder delete -g $RG -n $TEMPLATE\n"
           "az image builder update -g $RG -n $TEMPLATE",
        arm='{"type": "Shell", "name": "harden", "inline": ["set -euo pipefail", "sudo apt-get update", "..."]}',
        terraform='# azapi_resource "Microsoft.VirtualMachineImages/imageTemplates"\n'
                  'customize = [{ type = "Shell", name = "harden", inline = ["set -euo pipefail", "..."] }]')
    source = ("seed 001 troubleshooting row 12, section 2 ('Put set -euo pipefail first'); Azure refuses an update "
        "(learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot, 'Update/Upgrade of "
        "image templates is currently not supported'; rule AIB1), so the fix rebuilds the template in az's "
        'object cache (az image builder create/customizer add --defer, then update: azure-cli vm/_help.py '
        "'image builder update'), deletes it and submits it again")
    notes = "A scriptUri customizer is reported unknown: the doctor does not download the script."

    def evaluate(self, ev: Eval):
        customizers = [c for c in ev.get("properties.customize") or [] if isinstance(c, dict)]
        shells = [c for c in customizers if str(c.get("type") or "").lower() == "shell"]
        if not shells:
            return None
        bad, remote = [], []
        for c in shells:
            name = c.get("name") or "(unnamed)"
            if c.get("inline"):
                missing = [o for o in df.STRICT_SHELL_OPTIONS if o not in strict_options(list(c["inline"]))]
                if missing:
                    bad.append(f"{name} (missing {', '.join('-' + m if len(m) == 1 else '-o ' + m for m in missing)})")
            elif c.get("scriptUri"):
                remote.append(name)
        if bad:
            return self.failed("Shell customizers that keep going after a failing command: " + ", ".join(bad))
        if remote:
            return UNKNOWN, f"cannot tell: scripts not read ({', '.join(remote)}); make sure they start with set -euo pipefail"
        return self.ok()


check = register(ShellWithoutStrictMode())
