"""RF-CR-003: a capacity reservation that no associated VM matches."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.ids import ResourceId
from refit.checks import capacity as cap
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class ReservationMatchesNoVm(Check):
    id = "RF-CR-003"
    title = "Capacity reservation matches no associated VM"
    severity = "medium"
    resource_types = (v.CAPACITY_RESERVATION,)
    rationale = (
        "A reservation protects only VMs of its exact size (and zone, in a zonal group). A reservation whose "
        "size or zone matches none of the group's VMs is billed like running VMs and protects nothing, while "
        "the VMs it was meant for run unprotected.")
    recommendation = ("Create the reservation for the size and zone of the VMs it should protect (size and zone "
                      "cannot be changed: create a new one), then delete the unused one.")
    fix = Fix(
        az="az capacity reservation create -g $RG --capacity-reservation-group $CRG -n $CR --sku Standard_D2s_v5 "
           "--zone 1 --capacity 0",
        arm='"sku": {"name": "Standard_D2s_v5", "capacity": 0}, "zones": ["1"]',
        terraform='sku {\n  name     = "Standard_D2s_v5"\n  capacity = 0\n}\nzone = "1"')
    source = "reference rules C4, C5, C6; seed 002"
    notes = "A zero-capacity reservation passes: it is the first step of protecting running VMs (rule C3)."

    def evaluate(self, ev: Eval):
        reserved = int(ev.get("sku.capacity") or 0)
        if reserved == 0:
            return self.ok("zero-size reservation")
        group = str(ResourceId.parse(ev.id).parent)
        if not any(cap.matches(ev, vm, ev.doc) for vm in cap.group_vms(ev, group)):
            zones = ev.get("zones") or []
            where = f" in zone {', '.join(zones)}" if zones else ""
            return self.failed(f"reserves {reserved} x {ev.get('sku.name')}{where}, but no VM associated with the "
                               "group has that size and zone")
        return self.ok()


check = register(ReservationMatchesNoVm())
