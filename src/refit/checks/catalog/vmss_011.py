"""RF-VMSS-011: a scale set in fewer than two availability zones in a region that has them."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class SingleZoneScaleSet(Check):
    id = "RF-VMSS-011"
    title = "Scale set not spread across availability zones"
    severity = "high"
    resource_types = (v.VMSS,)
    rationale = (
        "A regional or single-zone scale set shares one datacenter's fate. In a region with availability zones, "
        "spreading across zones 1, 2 and 3 (with max fault-domain spreading) is the production default.")
    recommendation = ('Deploy across at least two zones. Zones can be added to an existing set (never removed): `az vmss '
        'update --zones` (the fix); instances already created stay in their zone, new ones spread, so scale '
        'out or replace instances to rebalance.')
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --zones 1 2 3",
        arm='"zones": ["1", "2", "3"]',
        terraform='zones = ["1", "2", "3"]')
    source = ('seed 001 section 1 (zones x FD table); APRL 1422c567; PSRule Azure.VMSS.AvailabilityZone; rule M5; '
        'VirtualMachineScaleSetUpdate.zones '
        '(learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/update); '
        'learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-use-availability-zones')
    notes = "Skipped (no result) in regions without availability zones."

    def evaluate(self, ev: Eval):
        loc = h.region(ev)
        if not loc or not df.region_has_zones(loc):
            return None
        zones = ev.get("zones") or []
        if len(zones) < 2:
            where = f"only zone {zones[0]}" if zones else "no zone (regional)"
            return self.failed(f"{where} in {loc}, a region with availability zones")
        return self.ok()


check = register(SingleZoneScaleSet())
