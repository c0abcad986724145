"""RF-VMSS-009: the whole-set unhealthy threshold is below the batch size."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules.facts import ROLLING_POLICY_RANGES


class UnhealthyThresholdBelowBatch(Check):
    id = "RF-VMSS-009"
    title = "Whole-set unhealthy threshold below the batch size"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "maxUnhealthyInstancePercent is checked before every batch and counts every unhealthy instance of the "
        "set, upgraded or not, including those made unhealthy by unrelated maintenance. Below "
        "maxBatchInstancePercent, one batch in flight plus any unrelated failure stops the upgrade.")
    recommendation = "Keep maxBatchInstancePercent at or below maxUnhealthyInstancePercent."
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --max-batch-instance-percent 20 "
           "--max-unhealthy-instance-percent 20",
        arm='"rollingUpgradePolicy": {"maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20}',
        terraform="rolling_upgrade_policy {\n  max_batch_instance_percent     = 20\n"
                  "  max_unhealthy_instance_percent = 20\n  ...\n}")
    source = ("seed 001 troubleshooting row 9; reference rule 4b (Azure Batch: 'the value of maxBatchInstancePercent "
              "should not be more than maxUnhealthyInstancePercent'); reference rule R2")

    def evaluate(self, ev: Eval):
        if not h.rolling_policy_in_effect(ev):
            return None
        batch = ev.get(f"{h.ROLLING}.maxBatchInstancePercent")
        unhealthy = ev.get(f"{h.ROLLING}.maxUnhealthyInstancePercent")
        batch = ROLLING_POLICY_RANGES["maxBatchInstancePercent"][2] if batch is None else batch
        unhealthy = ROLLING_POLICY_RANGES["maxUnhealthyInstancePercent"][2] if unhealthy is None else unhealthy
        if float(unhealthy) < float(batch):
            return self.failed(f"maxUnhealthyInstancePercent {unhealthy} is below maxBatchInstancePercent {batch}: "
                               "one batch in flight plus any unrelated unhealthy instance halts the upgrade")
        return self.ok()


check = register(UnhealthyThresholdBelowBatch())
