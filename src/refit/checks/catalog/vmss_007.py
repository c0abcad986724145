"""RF-VMSS-007: no pause between rolling upgrade batches."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df
from refit.platform.rules.facts import iso_minutes


class NoPauseBetweenBatches(Check):
    id = "RF-VMSS-007"
    title = "No soak time between rolling upgrade batches"
    severity = "low"
    resource_types = (v.VMSS,)
    rationale = (
        "pauseTimeBetweenBatches (default PT0S) is the soak time that catches failures which appear minutes "
        "after an instance reports healthy (a leak, a downstream timeout). Without it the next batch starts "
        "at once.")
    recommendation = "Set pauseTimeBetweenBatches to a few minutes (PT2M-PT5M in production)."
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --pause-time-between-batches PT2M",
        arm='"rollingUpgradePolicy": {"pauseTimeBetweenBatches": "PT2M"}',
        terraform='rolling_upgrade_policy {\n  pause_time_between_batches = "PT2M"\n  ...\n}')
    source = "seed 001 section 4 (pauseTimeBetweenBatches: PT2M-PT5M); spec default PT0S (rules 4b)"

    def evaluate(self, ev: Eval):
        if not h.rolling_policy_in_effect(ev):
            return None
        pause = ev.get(f"{h.ROLLING}.pauseTimeBetweenBatches") or "PT0S"
        m = iso_minutes(pause)
        if m is None or m < df.ROLLING_PAUSE_MIN_MINUTES:
            return self.failed(f"pauseTimeBetweenBatches is {pause}: the next batch starts without soak time")
        return self.ok()


check = register(NoPauseBetweenBatches())
