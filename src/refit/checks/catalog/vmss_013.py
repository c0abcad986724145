"""RF-VMSS-013: evicted Spot instances are deallocated and never restored."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class SpotNotRestored(Check):
    id = "RF-VMSS-013"
    title = "Evicted Spot instances stay deallocated"
    severity = "low"
    resource_types = (v.VMSS,)
    rationale = (
        "With evictionPolicy Deallocate (the default) an evicted instance keeps its disks and waits, "
        "deallocated, counting against quota and capacity. Unless Spot restore (spotRestorePolicy) is on, "
        "nothing brings it back when capacity returns: the set shrinks after each reclaim.")
    recommendation = ('Enable spotRestorePolicy (updatable in place: the fix), or use evictionPolicy Delete for stateless '
        'work that autoscale recreates.')
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --enable-spot-restore true --spot-restore-timeout PT1H",
        arm='"spotRestorePolicy": {"enabled": true, "restoreTimeout": "PT1H"}',
        terraform='spot_restore {\n  enabled = true\n  timeout = "PT1H"\n}')
    source = ('seed 001 section 7 (eviction policy table), troubleshooting row 10; '
        'VirtualMachineScaleSetUpdate.spotRestorePolicy '
        '(learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/update)')

    def evaluate(self, ev: Eval):
        if (ev.get(f"{h.VMP}.priority") or "Regular").lower() != "spot":
            return None
        policy = ev.get(f"{h.VMP}.evictionPolicy") or df.SPOT_DEFAULT_EVICTION_POLICY
        if policy.lower() == "deallocate" and not ev.get("properties.spotRestorePolicy.enabled"):
            return self.failed("evictionPolicy Deallocate without spotRestorePolicy: evicted instances stay "
                               "deallocated and the set shrinks after every reclaim")
        return self.ok()


check = register(SpotNotRestored())
