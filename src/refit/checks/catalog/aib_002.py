"""RF-AIB-002: an unrealistic buildTimeoutInMinutes."""

from __future__ import annotations

from refit.checks.context import IMAGE_TEMPLATE
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class UnrealisticBuildTimeout(Check):
    id = "RF-AIB-002"
    title = "Image Builder build timeout unrealistic"
    severity = "low"
    resource_types = (IMAGE_TEMPLATE,)
    rationale = (
        "buildTimeoutInMinutes caps the whole build. Too short and a healthy build (provision the build VM, "
        "customise, generalise, distribute) is cancelled; too long and a hung build holds its VM for hours "
        "before anyone learns it failed. 0 means the service default (240 minutes).")
    recommendation = ('Set it between 30 and 240 minutes, sized on real builds (longer only with Windows Update '
        'customizers). A template cannot be updated (Azure answers 409 Conflict): the fix submits it again '
        'with --build-timeout 90.')
    fix = Fix(
        az="az image builder create -g $RG -n $TEMPLATE --image-source $IMAGE_SOURCE --identity "
           "$IDENTITY --shared-image-destinations $GAL/$DEF=$LOCATION --vm-size Standard_D2as_v5 "
           "--build-timeout 90 --defer\n"
           "az image builder customizer add -g $RG -n $TEMPLATE --customizer-name harden --type "
           "shell --inline-script \"set -euo pipefail\" \"sudo apt-get update\" \"sudo apt-get -y install "
           "nginx\" --defer\n"
           "az image builder delete -g $RG -n $TEMPLATE\n"
           "az image builder update -g $RG -n $TEMPLATE",
        arm='"buildTimeoutInMinutes": 90',
        terraform="body = { properties = { buildTimeoutInMinutes = 90, ... } }")
    source = ('seed 001 section 2 (template fields table; runState durations 10-60+ min); Azure refuses an update '
        "(learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot, 'Update/Upgrade of "
        "image templates is currently not supported'; rule AIB1), so the fix rebuilds the template in az's "
        'object cache (az image builder create/customizer add --defer, then update: azure-cli vm/_help.py '
        "'image builder update'), deletes it and submits it again")

    def evaluate(self, ev: Eval):
        t = ev.get("properties.buildTimeoutInMinutes")
        minutes = int(t or 0) or df.AIB_DEFAULT_TIMEOUT_MINUTES
        if minutes < df.AIB_MIN_REALISTIC_TIMEOUT_MINUTES:
            return self.failed(f"buildTimeoutInMinutes {t}: a build rarely provisions, customises and distributes "
                               f"in under {df.AIB_MIN_REALISTIC_TIMEOUT_MINUTES} minutes")
        long_ok = any(str(c.get("type")) in df.AIB_LONG_CUSTOMIZERS for c in ev.get("properties.customize") or []
                      if isinstance(c, dict))
        if minutes > df.AIB_MAX_REALISTIC_TIMEOUT_MINUTES and not long_ok:
            return self.failed(f"buildTimeoutInMinutes {t}: a hung build holds its VM for {minutes} minutes "
                               "before it fails")
        return self.ok()


check = register(UnrealisticBuildTimeout())
