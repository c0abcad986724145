"""`refit reserve`: capacity-reservation protection of running VMs, through the planner's path.

A deallocated VM may not get its hardware back (reference 5b A1/A2). An On-Demand Capacity Reservation
keeps it: for a selection of running VMs refit writes one goal per VM, "associated with the capacity
reservation group of its region", and lets the planner find the safe order (section 10: a group with the
VMs' zones, reservations of capacity 0, association without deallocation for zonal VMs, then the
capacity raised to the count; regional VMs need a restart, which the plan states). Nothing here knows
those rules: the planner and the rule catalog do.
"""

from __future__ import annotations

from refit.arm import location
from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.plan.goal import GoalSet, parse
from refit.run.refresh.scope import Selection, tag_filter

CRG_PATH = "properties.capacityReservation.capacityReservationGroup.id"


def select_running(world: World, sel: Selection) -> tuple[list[v.Vm], list[str]]:
    """Running VMs of the selection (resource groups, tag filters, names/ids); notes for the others."""
    if not (sel.resource_groups or sel.where or sel.vms):
        raise UserError("select the VMs to protect: --vm NAME|ID, --resource-group RG or --where KEY=VALUE")
    filters = [tag_filter(w) for w in sel.where]
    rgs = {rg.lower() for rg in sel.resource_groups}
    out, notes = [], []
    names = {n.lower() for n in sel.vms}
    found = set()
    for vm in world.vms():
        if names and vm.name.lower() not in names and vm.key not in names:
            continue
        if rgs and (vm.rid.resource_group or "").lower() not in rgs:
            continue
        if any((vm.tag(k) or "").lower() != val.lower() for k, val in filters):
            continue
        found |= {vm.name.lower(), vm.key}
        if vm.capacity_reservation_group_id:
            notes.append(f"{vm.name}: already in capacity reservation group "
                         f"{ResourceId.parse(vm.capacity_reservation_group_id).name}")
            continue
        if vm.power_state != "running":
            notes.append(f"{vm.name}: not running ({vm.power_state or 'unknown'}): nothing to keep")
            continue
        out.append(vm)
    for n in names - found:
        notes.append(f"{n}: no such VM (with the other filters)")
    return out, notes


def group_id(world: World, vm: v.Vm, name: str | None, resource_group: str | None) -> str:
    """The group a VM goes into: the one named, else an existing group of its region and resource group that
    covers its zone (a regional group for a regional VM), else a new one: `crg-<region>`, or
    `crg-<region>-z<zone>` when `crg-<region>` exists but does not cover the zone (a group's zones are
    fixed when it is created, rule C1, so it cannot be extended to take the VM)."""
    r = vm.rid
    rg = resource_group or r.resource_group

    def gid(n: str) -> str:
        return str(ResourceId.build(r.subscription, rg, v.CAPACITY_RESERVATION_GROUP, n))

    if name:
        return gid(name)
    zones = [vm.zone] if vm.zone else []
    for doc in world.of_type(v.CAPACITY_RESERVATION_GROUP):
        g = ResourceId.parse(doc["id"])
        if (g.subscription.lower(), (g.resource_group or "").lower()) != (r.subscription.lower(), rg.lower()):
            continue
        if not location.same(doc.get("location"), vm.location):
            continue
        covered = doc.get("zones") or []
        if (not zones and not covered) or (zones and zones[0] in covered):
            return doc["id"]
    default = gid(f"crg-{location.normalize(vm.location)}")
    if world.get(default) is None or not zones:
        return default
    return gid(f"crg-{location.normalize(vm.location)}-z{zones[0]}")


def goals(world: World, vms: list[v.Vm], name: str | None = None, resource_group: str | None = None) -> GoalSet:
    """One goal per VM: associated with a capacity reservation group that can take it (created if missing)."""
    return parse({"goals": [{"resource": vm.id, "properties": {CRG_PATH: group_id(world, vm, name, resource_group)}}
                            for vm in vms]}, "reserve")
