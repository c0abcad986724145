"""RF-VMSS-006: maxUnhealthyUpgradedInstancePercent loose."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df
from refit.platform.rules.facts import ROLLING_POLICY_RANGES


class LooseRollbackTrigger(Check):
    id = "RF-VMSS-006"
    title = "Rolling upgrade tolerates too many unhealthy upgraded instances"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "maxUnhealthyUpgradedInstancePercent is the real rollback trigger: after each batch, if more than this "
        "share of already-upgraded instances is unhealthy, the upgrade is cancelled. A loose value lets a bad "
        "image keep rolling.")
    recommendation = "Keep maxUnhealthyUpgradedInstancePercent at 20 or below."
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --max-unhealthy-upgraded-instance-percent 20",
        arm='"rollingUpgradePolicy": {"maxUnhealthyUpgradedInstancePercent": 20}',
        terraform="rolling_upgrade_policy {\n  max_unhealthy_upgraded_instance_percent = 20\n  ...\n}")
    source = "seed 001 section 4 ('The real rollback trigger', typical 20); reference rule R3"

    def evaluate(self, ev: Eval):
        if not h.rolling_policy_in_effect(ev):
            return None
        val = ev.get(f"{h.ROLLING}.maxUnhealthyUpgradedInstancePercent")
        val = ROLLING_POLICY_RANGES["maxUnhealthyUpgradedInstancePercent"][2] if val is None else val
        if float(val) > df.ROLLING_UNHEALTHY_UPGRADED_MAX_PERCENT:
            return self.failed(f"maxUnhealthyUpgradedInstancePercent is {val}: a bad image keeps rolling until "
                               f"more than {val}% of upgraded instances are unhealthy "
                               f"(keep it at {df.ROLLING_UNHEALTHY_UPGRADED_MAX_PERCENT} or below)")
        return self.ok()


check = register(LooseRollbackTrigger())
