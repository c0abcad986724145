"""`refit reserve`: capacity-reservation protection of running VMs, through the planner's path.

A deallocated VM may not get its hardware back (reference 5b A1/A2). An On-Demand Capacity Reservation
keeps it: for a selection of running VMs refit writes one goal per VM, "associated with the capacity
reservation group of its region", and lets the planner find the safe order (section 10: a group with the
VMs' zones, reservations of capacity 0, association without deallocation for zonal VMs, then the
capacity raised to the count; regional VMs need a restart, which the plan states). Nothing here knows
those rules: the planner and the rule catalog do.
"""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.plan.goal import GoalSet, parse
from refit.plan.intents import group_id
from refit.platform.rules import capacity as capacity_rules
from refit.platform.rules import facts
from refit.run.refresh.scope import Selection, resolve

CRG_PATH = "properties.capacityReservation.capacityReservationGroup.id"


def select_running(world: World, sel: Selection) -> tuple[list[v.Vm], list[str]]:
    """Running VMs of the selection (resource groups, tag filters, names/ids); notes for the others."""
    if not (sel.resource_groups or sel.where or sel.vms):
        raise UserError("select the VMs to protect: --vm NAME|ID, --resource-group RG or --where KEY=VALUE")
    out, notes = [], []
    for vm in resolve(world, sel):
        if vm.capacity_reservation_group_id:
            notes.append(f"{vm.name}: already in capacity reservation group "
                         f"{ResourceId.parse(vm.capacity_reservation_group_id).name}")
        elif vm.power_state != "running":
            notes.append(f"{vm.name}: not running ({vm.power_state or 'unknown'}): nothing to keep")
        else:
            out.append(vm)
    return out, notes


def goals(world: World, vms: list[v.Vm], name: str | None = None, resource_group: str | None = None) -> GoalSet:
    """One goal per VM: associated with a capacity reservation group that can take it (created if missing); and,
    in a group that exists, each reservation that serves the VMs raised to the allocated VMs it then serves."""
    targets = [(vm, group_id(world, vm, name, resource_group)) for vm in vms]
    out = [{"resource": vm.id, "properties": {CRG_PATH: gid}} for vm, gid in targets]
    out += capacity_goals(world, targets)
    return parse({"goals": out}, "reserve")


def capacity_goals(world: World, targets: list[tuple[v.Vm, str]]) -> list[dict]:
    """Associating a running VM with a full reservation overallocates it (rule C8): the VM holds its hardware but
    has no guarantee. So a reservation of an existing group that serves a joining VM (same size, its zone, rule
    C6) gets the capacity of every allocated VM it serves: those already associated plus those joining."""
    out = []
    for gid in dict.fromkeys(g for _, g in targets):
        if world.get(gid) is None:
            continue  # a new group: the planner creates its reservations and raises them
        joining = [vm.doc for vm, g in targets if g == gid]
        members = [d for d in capacity_rules.associated(world, gid) if d["type"].lower() == v.VM.lower()
                   and v.Vm(d).power_state in facts.ALLOCATED_POWER_STATES]
        for cr in world.children(gid, v.CAPACITY_RESERVATION):
            if not any(capacity_rules.matches(d, cr) for d in joining):
                continue
            n = sum(1 for d in members + joining if capacity_rules.matches(d, cr))
            if n > int((cr.get("sku") or {}).get("capacity") or 0):
                out.append({"resource": cr["id"], "properties": {"sku.capacity": n}})
    return out
