"""RF-VMSS-014: a scale set not on Trusted Launch."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class ScaleSetNotTrustedLaunch(Check):
    id = "RF-VMSS-014"
    title = "Scale set not on Trusted Launch"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "Trusted Launch (Gen2, Secure Boot, vTPM) protects the boot chain against rootkits and lets the boot be "
        "measured. A scale set on a Standard image cannot simply switch: the image reference and the security "
        "type must change in one update, through a TrustedLaunchSupported gallery definition (seed 000). "
        "`refit plan` finds that path.")
    recommendation = ("Plan the move with `refit plan --resource <id> --set "
                      "properties.virtualMachineProfile.securityProfile.securityType=TrustedLaunch` and apply it.")
    fix = Fix(
        az="refit plan --resource $VMSS_ID --set properties.virtualMachineProfile.securityProfile.securityType="
           "TrustedLaunch -o plan.json && refit apply plan.json",
        arm='"securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, '
            '"vTpmEnabled": true}}',
        terraform="secure_boot_enabled = true\nvtpm_enabled        = true")
    source = "seed 001 security notes; seed 000; reference section 1e (V1-V5); APRL 1c5e1e58"

    def evaluate(self, ev: Eval):
        sec = ev.get(f"{h.VMP}.securityProfile.securityType") or "Standard"
        if sec == "Standard":
            return self.failed("security type Standard; plan the move: refit plan --resource "
                               f"{ev.id} --set properties.virtualMachineProfile.securityProfile.securityType="
                               "TrustedLaunch")
        return self.ok()


check = register(ScaleSetNotTrustedLaunch())
