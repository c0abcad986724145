"""RF-VMSS-002: a scale set with two health sources."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class TwoHealthSources(Check):
    id = "RF-VMSS-002"
    title = "More than one health source"
    severity = "high"
    resource_types = (v.VMSS,)
    rationale = (
        "A scale set may have exactly one source of health: the Application Health extension or a load balancer "
        "health probe. With both, orchestration features (automatic OS upgrade, automatic instance repairs) do "
        "not engage until one is removed, and nothing says so at deployment time.")
    recommendation = "Keep exactly one health source: remove the LB probe reference or the Application Health extension."
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --remove "
           "virtualMachineProfile.networkProfile.healthProbe\n"
           "az vmss update-instances -g $RG -n $VMSS --instance-ids '*'",
        arm='"networkProfile": { /* no "healthProbe" when the Application Health extension is used */ }',
        terraform="# remove health_probe_id, or the ApplicationHealth* extension block")
    source = "seed 001 troubleshooting row 6; reference rule H2; acd automatic-instance-repairs"

    def evaluate(self, ev: Eval):
        sources = h.health_sources(ev)
        if len(sources) > 1:
            return self.failed("both a load balancer health probe and the Application Health extension are "
                               "configured; orchestration features will not engage until one is removed")
        return self.ok()


check = register(TwoHealthSources())
