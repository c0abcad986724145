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
    recommendation = ("Deploy across at least two zones (zones can be added to an existing set since API "
                      "2023-03-01, never removed).")
    fix = Fix(
        az="az vmss create ... --zones 1 2 3 --platform-fault-domain-count 1",
        arm='"zones": ["1", "2", "3"]',
        terraform='zones = ["1", "2", "3"]')
    source = "seed 001 section 1 (zones x FD table); APRL 1422c567; PSRule Azure.VMSS.AvailabilityZone; rule M5"
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
