"""RF-RES-002: a capacity reservation group protecting critical VMs has no reservation in its DR region."""

from __future__ import annotations

from refit.arm import location
from refit.arm import views as v
from refit.checks import resiliency as res
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class NoReservationInDrRegion(Check):
    id = "RF-RES-002"
    title = "Reserved capacity of critical VMs missing in the DR region"
    severity = "medium"
    resource_types = (v.CAPACITY_RESERVATION_GROUP,)
    rationale = (
        "A capacity reservation guarantees the primary region's VMs their hardware; the failover needs the same "
        "guarantee in the DR region. When a region fails, every tenant with a DR plan creates VMs in its pair at "
        "once, and a size without a reservation there may not be allocated (AllocationFailed) exactly when it is "
        "needed. A warm standby (seed 002, layer 6) reserves the sizes the critical VMs use in the DR region, "
        "with no VM or only a small buffer running until the failover.")
    recommendation = ("Create a capacity reservation group in the DR region and reserve there the sizes the group "
                      "protects for its critical VMs (regional, or in the zones the failover uses). How many of them "
                      "is the recovery plan's choice: the fix reserves as many as the primary region.")
    fix = Fix(
        az="az capacity reservation group create -g $RG -n $CRG-dr -l $DR_REGION\n"
           "az capacity reservation create -g $RG -c $CRG-dr -n $CR-dr -l $DR_REGION --sku $SIZE --capacity $CAPACITY",
        arm='{"type": "Microsoft.Compute/capacityReservationGroups", "name": "crg-prod-dr", "location": "westus"},\n'
            '{"type": "Microsoft.Compute/capacityReservationGroups/capacityReservations", "name": "crg-prod-dr/cr-d2",\n'
            ' "location": "westus", "sku": {"name": "Standard_D2s_v5", "capacity": 2}}',
        terraform='resource "azurerm_capacity_reservation_group" "dr" {\n  name     = "crg-prod-dr"\n'
                  '  location = "westus"\n}\nresource "azurerm_capacity_reservation" "dr_d2" {\n'
                  '  name                          = "cr-d2"\n'
                  '  capacity_reservation_group_id = azurerm_capacity_reservation_group.dr.id\n'
                  '  sku {\n    name     = "Standard_D2s_v5"\n    capacity = 2\n  }\n}')
    source = ("APRL 587ca3e4 (Reserve Compute Capacity in DR regions; no Resource Graph query there); APRL 302fda08; "
              "seed 002 (On-Demand Capacity Reservations; six layers: 6 warm standby); region pairs: "
              "learn.microsoft.com/azure/reliability/cross-region-replication-azure; reference rules C6, C8")
    notes = ("Only reservations that serve a critical VM or scale set (--critical-tag) of the group count. Reservations in the "
             "DR region count whatever their group; a standby reservation there has no VM until the failover, so "
             "RF-CR-003 passes it. The DR region is the group's `refit-dr-region` tag, else its region's pair; a "
             "group in a nonpaired region without the tag is not judged.")

    def evaluate(self, ev: Eval):
        sizes = res.protected_sizes(ev, ev.doc)
        if not sizes:
            return None
        dr = res.dr_region(ev, ev.doc)
        if not dr or dr == location.normalize(ev.get("location")):
            return None
        there = res.reserved_in(ev, dr)
        missing = [(size, name, n) for key, (size, name, n) in sorted(sizes.items()) if there.get(key, 0) == 0]
        if missing:
            what = "; ".join(f"{name} reserves {n} x {size}" for size, name, n in missing)
            return self.failed(f"{what} for critical VMs, but its DR region {dr} has no reservation of "
                               f"{', '.join(size for size, _, _ in missing)}")
        return self.ok()


check = register(NoReservationInDrRegion())
