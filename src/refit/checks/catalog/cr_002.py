"""RF-CR-002: an overallocated capacity reservation group."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import capacity as cap
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class OverallocatedGroup(Check):
    id = "RF-CR-002"
    title = "Capacity reservation group overallocated"
    severity = "medium"
    resource_types = (v.CAPACITY_RESERVATION_GROUP,)
    rationale = (
        "Azure lets more VMs be associated with a reservation than it reserves (overallocation). The VMs beyond "
        "the reserved quantity have no capacity guarantee - first started, first protected - while the group "
        "looks like protection for all of them.")
    recommendation = ("Raise each overallocated reservation's capacity to the number of allocated VMs it covers "
                      "(for running VMs this only links the slots they already hold).")
    fix = Fix(
        az="az capacity reservation update -g $RG --capacity-reservation-group $CRG -n $CR "
           "--capacity $N",
        arm='"sku": {"name": "Standard_D2s_v5", "capacity": 4}',
        terraform='sku {\n  name     = "Standard_D2s_v5"\n  capacity = 4\n}')
    source = "seed 002 ('Associated vs Allocated', behaviour #3); reference rules C8, C9"

    def evaluate(self, ev: Eval):
        vms = cap.group_vms(ev, ev.id)
        over = []
        for cr in ev.ctx.world.children(ev.id, v.CAPACITY_RESERVATION):
            n = sum(1 for vm in vms if cap.matches(ev, vm, cr) and cap.allocated(vm))
            reserved = int(ev.of(cr, "sku.capacity") or 0)
            if n > reserved:
                over.append(f"{cr['name']}: {n} allocated VMs, {reserved} reserved")
        if over:
            return self.failed("overallocated, VMs beyond the reserved quantity are not protected: " + "; ".join(over))
        return self.ok()


check = register(OverallocatedGroup())
