"""RF-CR-003: a capacity reservation that no associated VM matches."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.ids import ResourceId
from refit.checks import capacity as cap
from refit.checks import resiliency as res
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
    recommendation = ('Delete the reservation: its size and zone cannot be changed (`az capacity reservation update` '
        'changes only the capacity and the tags). To protect the VMs it was meant for, `refit reserve --vm '
        'NAME` reserves their size and zone without downtime.')
    fix = Fix(
        az="az capacity reservation delete -g $RG --capacity-reservation-group $CRG -n $CR --yes",
        arm='"sku": {"name": "Standard_D2s_v5", "capacity": 0}, "zones": ["1"]',
        terraform='sku {\n  name     = "Standard_D2s_v5"\n  capacity = 0\n}\nzone = "1"')
    source = ('reference rules C4, C5, C6; seed 002; az capacity reservation update (--capacity, --tags only); '
        'learn.microsoft.com/azure/virtual-machines/capacity-reservation-modify')
    notes = ("A zero-capacity reservation passes: it is the first step of protecting running VMs (rule C3). So does "
             "a reservation in the DR region of a group that reserves its size for critical VMs (RF-RES-002): a "
             "warm standby has no VM until the failover.")

    def evaluate(self, ev: Eval):
        reserved = int(ev.get("sku.capacity") or 0)
        if reserved == 0:
            return self.ok("zero-size reservation")
        group = str(ResourceId.parse(ev.id).parent)
        if not any(cap.matches(ev, vm, ev.doc) for vm in cap.group_vms(ev, group)):
            standby = res.standby_for(ev, ev.doc)
            if standby:  # RF-RES-002's warm standby: no VM by design until a failover
                return self.ok(f"DR standby for {', '.join(standby)}")
            zones = ev.get("zones") or []
            where = f" in zone {', '.join(zones)}" if zones else ""
            return self.failed(f"reserves {reserved} x {ev.get('sku.name')}{where}, but no VM associated with the "
                               "group has that size and zone")
        return self.ok()


check = register(ReservationMatchesNoVm())
