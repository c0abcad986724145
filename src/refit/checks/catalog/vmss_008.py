"""RF-VMSS-008: failed instances are not rolled back on a policy breach."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class NoRollbackOnBreach(Check):
    id = "RF-VMSS-008"
    title = "Failed instances are not rolled back when the rolling policy is breached"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "When a rolling upgrade breaches its policy, rollbackFailedInstancesOnPolicyBreach restores the "
        "failed instances to the previous model (their previous OS disk). Off (the default), the upgrade "
        "stops with the broken instances left broken.")
    recommendation = "Set rollingUpgradePolicy.rollbackFailedInstancesOnPolicyBreach to true."
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --set "
           "upgradePolicy.rollingUpgradePolicy.rollbackFailedInstancesOnPolicyBreach=true",
        arm='"rollingUpgradePolicy": {"rollbackFailedInstancesOnPolicyBreach": true}',
        terraform="# azurerm does not expose it: set it with azapi\nresource \"azapi_update_resource\" \"rollback\" {\n"
                  "  type        = \"Microsoft.Compute/virtualMachineScaleSets@2024-07-01\"\n"
                  "  resource_id = azurerm_linux_virtual_machine_scale_set.app.id\n"
                  "  body = { properties = { upgradePolicy = { rollingUpgradePolicy = {\n"
                  "    rollbackFailedInstancesOnPolicyBreach = true } } } }\n}")
    source = "seed 001 section 4 (rollbackFailedInstancesOnPolicyBreach: typical true); reference rule R3"
    notes = ("The azurerm provider has no argument for this property, so a scale set managed only with azurerm "
             "always fails this check; the fix above sets it with azapi.")

    def evaluate(self, ev: Eval):
        if not h.rolling_policy_in_effect(ev):
            return None
        val = ev.get(f"{h.ROLLING}.rollbackFailedInstancesOnPolicyBreach")
        if not (df.ROLLBACK_ON_BREACH_DEFAULT if val is None else bool(val)):
            return self.failed("rollbackFailedInstancesOnPolicyBreach is off: a breached upgrade leaves the "
                               "failed instances on the bad model")
        return self.ok()


check = register(NoRollbackOnBreach())
