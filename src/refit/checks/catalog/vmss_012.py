"""RF-VMSS-012: Spot scale set without a regular-priority floor."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class SpotWithoutFloor(Check):
    id = "RF-VMSS-012"
    title = "Spot scale set without a regular-priority floor"
    severity = "high"
    resource_types = (v.VMSS,)
    rationale = (
        "Spot instances are evicted when Azure reclaims capacity, possibly all at once across a region. Spot "
        "Priority Mix keeps a floor of regular instances (baseRegularPriorityCount) that are never evicted; "
        "without it a reclaim takes the whole set.")
    recommendation = ('Set priorityMixPolicy.baseRegularPriorityCount to the capacity the service needs to stay up, and '
        'handle Preempt scheduled events in the guest. The mix is updatable and applies to future scaling '
        '(existing instances are not rebalanced): scale out or replace Spot instances to reach the floor.')
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --regular-priority-count 3 --regular-priority-percentage "
           "50",
        arm='"priorityMixPolicy": {"baseRegularPriorityCount": 3, "regularPriorityPercentageAboveBase": 50}',
        terraform="priority_mix {\n  base_regular_count            = 3\n  regular_percentage_above_base = 50\n}")
    source = ('seed 001 troubleshooting row 10, section 7 (Spot Priority Mix); '
        'VirtualMachineScaleSetUpdate.priorityMixPolicy; '
        "learn.microsoft.com/azure/virtual-machine-scale-sets/spot-priority-mix ('Changes to the mix "
        "configuration apply only to future scaling operations')")

    def evaluate(self, ev: Eval):
        if (ev.get(f"{h.VMP}.priority") or "Regular").lower() != "spot":
            return None
        base = ev.get("properties.priorityMixPolicy.baseRegularPriorityCount") or 0
        if int(base) <= 0:
            return self.failed("every instance is Spot: no regular-priority floor (priorityMixPolicy."
                               "baseRegularPriorityCount) survives an eviction")
        return self.ok()


check = register(SpotWithoutFloor())
