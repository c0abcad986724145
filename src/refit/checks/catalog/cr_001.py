"""RF-CR-001: a critical VM without a capacity reservation."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class CriticalWithoutReservation(Check):
    id = "RF-CR-001"
    title = "Critical VM without a capacity reservation"
    severity = "low"
    resource_types = (v.VM,)
    rationale = (
        "Quota, reserved instances and savings plans do not guarantee that a VM starts: a deallocated VM may "
        "not get its hardware back (AllocationFailed). A VM associated with an On-Demand Capacity Reservation "
        "gets priority and an SLA on start. The doctor warns for VMs tagged critical (`--critical-tag`, default "
        "tier=critical); the reservation costs the same as a running VM, so it stays a business decision.")
    recommendation = ("Reserve capacity for the critical VMs without downtime: `refit reserve` (zero-size reservation, "
                      "associate the running VMs, then raise the capacity).")
    fix = Fix(
        az="refit reserve --vm $VM --yes",
        arm='"capacityReservation": {"capacityReservationGroup": {"id": "[resourceId(\'Microsoft.Compute/'
            'capacityReservationGroups\', \'crg-prod\')]"}}',
        terraform="capacity_reservation_group_id = azurerm_capacity_reservation_group.prod.id")
    source = "seed 002 (On-Demand Capacity Reservations); issue 4; APRL 302fda08; reference rules C3, C7, C8"

    def evaluate(self, ev: Eval):
        if not ev.ctx.is_critical(ev.doc):
            return None
        if not ev.get("properties.capacityReservation.capacityReservationGroup.id"):
            name, value = ev.ctx.options.critical_tag
            return self.failed(f"tagged {name}={value} but not associated with a capacity reservation group: "
                               "a deallocation may not get its capacity back (refit reserve)")
        return self.ok()


check = register(CriticalWithoutReservation())
