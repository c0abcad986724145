"""RF-VM-001: a VM not on Trusted Launch."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class VmNotTrustedLaunch(Check):
    id = "RF-VM-001"
    title = "VM not on Trusted Launch"
    severity = "medium"
    resource_types = (v.VM,)
    rationale = (
        "Trusted Launch (Secure Boot, vTPM) protects the boot chain and makes boot measurable. A Gen2 VM moves "
        "in place (deallocate, update the security type, start); a Gen1 VM needs its disk converted first and "
        "cannot go back. `refit plan` computes the steps and the downtime.")
    recommendation = ("Plan the move with `refit plan --resource <id> --set "
                      "properties.securityProfile.securityType=TrustedLaunch` and apply it in a maintenance window.")
    fix = Fix(
        az="refit plan --resource $VM_ID --set properties.securityProfile.securityType=TrustedLaunch "
           "--out plan.json\n"
           "refit apply plan.json --yes",
        arm='"securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, '
            '"vTpmEnabled": true}}',
        terraform="secure_boot_enabled = true\nvtpm_enabled        = true")
    notes = "A Flexible scale set's instances are left to the scale-set checks: they run the set's model."
    source = "seed 001 security notes; reference section 1d (U1-U5)"

    def evaluate(self, ev: Eval):
        if ev.get("properties.virtualMachineScaleSet.id"):
            return None  # a Flexible scale set's instance runs its set's model: the set's checks judge it
        sec = ev.get("properties.securityProfile.securityType") or "Standard"
        if sec == "Standard":
            return self.failed("security type Standard; plan the move: refit plan --resource "
                               f"{ev.id} --set properties.securityProfile.securityType=TrustedLaunch")
        return self.ok()


check = register(VmNotTrustedLaunch())
