"""RF-VMSS-005: rolling upgrade batches larger than one fifth of the scale set."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df
from refit.platform.rules.facts import ROLLING_POLICY_RANGES


def per_batch(capacity: int, percent: float) -> int:
    # The orchestrator upgrades at least one instance per batch (INFERRED rounding: floor, minimum 1).
    return max(1, int(capacity * percent // 100))


class BatchTooLarge(Check):
    id = "RF-VMSS-005"
    title = "Rolling upgrade batch too large"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "maxBatchInstancePercent is the blast radius of a bad image: everything in the first batch takes it "
        "before the health gate can stop the rollout. Above 20% of the set (more than one instance on small "
        "sets), a bad bake takes out a large share of capacity at once.")
    recommendation = "Keep maxBatchInstancePercent at 20 or below (one instance per batch on small sets)."
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --max-batch-instance-percent 20",
        arm='"rollingUpgradePolicy": {"maxBatchInstancePercent": 20}',
        terraform="rolling_upgrade_policy {\n  max_batch_instance_percent = 20\n  ...\n}")
    source = "seed 001 section 4 (rolling policy table: typical prod value 20); spec default 20 (rules 4b)"

    def evaluate(self, ev: Eval):
        if not h.rolling_policy_in_effect(ev):
            return None
        pct = ev.get(f"{h.ROLLING}.maxBatchInstancePercent")
        pct = ROLLING_POLICY_RANGES["maxBatchInstancePercent"][2] if pct is None else pct
        cap = int(ev.get("sku.capacity") or 0)
        limit = max(1, int(cap * df.ROLLING_BATCH_MAX_PERCENT // 100))
        n = per_batch(cap, float(pct))
        if float(pct) > df.ROLLING_BATCH_MAX_PERCENT and n > limit:
            return self.failed(f"maxBatchInstancePercent {pct} upgrades {n} of {cap} instances per batch "
                               f"(at most {limit} at {df.ROLLING_BATCH_MAX_PERCENT}%)")
        return self.ok()


check = register(BatchTooLarge())
