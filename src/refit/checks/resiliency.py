"""Readings the resiliency checks (RF-RES-*) share: a resource's DR region, what a capacity reservation group
protects, the reservations standing by in a region, and the tiers of standalone VMs.

The DR region of a resource is the `refit-dr-region` tag on it when set (an explicit choice: a nonpaired region's
secondary, or a pair you do not fail over to), else its region's Azure pair (refit.platform.regions.PAIRS). A
region with no pair and no tag has no DR region: the checks give no result for it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from refit.arm import location
from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key
from refit.checks import capacity as cap
from refit.checks.model import Eval
from refit.platform import regions

DR_TAG = "refit-dr-region"  # a tag whose value (a region) overrides the pair (docs/doctor.md, "Options")


def dr_region(ev: Eval, doc: dict[str, Any]) -> str | None:
    tagged = v.View(doc).tag(DR_TAG)
    if tagged:
        return location.normalize(tagged)
    loc = ev.get("location") if doc is ev.doc else ev.of(doc, "location")
    return regions.paired(loc or "")


def protected_sizes(ev: Eval, group: dict[str, Any]) -> dict[str, tuple[str, str, int]]:
    """size (lower case) -> (size, reservation name, reserved count) of the group's reservations that serve one of its
    critical VMs: the capacity a failover of those VMs needs in the DR region."""
    # VMs and scale sets (a group serves a scale set's instances: rule C9)
    members = [*cap.group_vms(ev, group["id"]), *ev.ctx.vmss_by_crg.get(id_key(group["id"]), [])]
    vms = [vm for vm in members if ev.ctx.is_critical(vm)]
    out: dict[str, tuple[str, str, int]] = {}
    for cr in ev.ctx.world.children(group["id"], v.CAPACITY_RESERVATION):
        ev.require("sku", "zones", doc=cr)
        n = int(ev.of(cr, "sku.capacity") or 0)
        if n > 0 and any(cap.matches(ev, vm, cr) for vm in vms):
            size = str(ev.of(cr, "sku.name") or "")
            _, name, had = out.get(size.lower(), (size, cr["name"], 0))
            out[size.lower()] = (size, name, had + n)
    return out


def reservation_region(ev: Eval, cr: dict[str, Any]) -> str:
    """A reservation's region: its own, else its group's (azurerm_capacity_reservation has no location: it is
    created in its group's)."""
    loc = ev.of(cr, "location") or ev.of(ev.ctx.world.get(str(ResourceId.parse(cr["id"]).parent)), "location")
    return location.normalize(loc or "")


def reserved_in(ev: Eval, region: str) -> dict[str, int]:
    """size (lower case) -> reservations (capacity > 0) in that region, whatever their group."""
    out: dict[str, int] = defaultdict(int)
    for cr in ev.ctx.world.of_type(v.CAPACITY_RESERVATION):
        if reservation_region(ev, cr) != region:
            continue
        n = int(ev.of(cr, "sku.capacity") or 0)
        if n > 0:
            out[str(ev.of(cr, "sku.name") or "").lower()] += n
    return out


def standby_for(ev: Eval, cr: dict[str, Any]) -> list[str]:
    """The groups (names) whose critical VMs this reservation is the DR standby of: it is in their DR region
    and reserves a size they protect (RF-RES-002). Such a reservation has no VM by design until a failover."""
    region = reservation_region(ev, cr)
    size = str(ev.of(cr, "sku.name") or "").lower()
    own = str(ResourceId.parse(cr["id"]).parent).lower()
    out = []
    for g in ev.ctx.world.of_type(v.CAPACITY_RESERVATION_GROUP):
        if id_key(g["id"]) == id_key(own) or dr_region(ev, g) != region:
            continue
        if size in protected_sizes(ev, g):
            out.append(g["name"])
    return sorted(out)


def tier_of(ev: Eval, vm: dict[str, Any]) -> str | None:
    """The tier a standalone VM belongs to: the value of its role tag (--role-tag, default `role`). Scale-set
    instances follow their set (RF-VMSS-011)."""
    if ev.of(vm, "properties.virtualMachineScaleSet.id"):
        return None
    return v.View(vm).tag(ev.ctx.options.role_tag) or None


def tier_members(ev: Eval, vm: dict[str, Any]) -> list[dict[str, Any]]:
    """The VMs of the same tier in the same subscription and region, vm included, sorted by name."""
    tier = tier_of(ev, vm)  # tag values are case-sensitive (tag names are not): learn.microsoft.com tag-resources
    loc = location.normalize(ev.of(vm, "location"))
    sub = ResourceId.parse(vm["id"]).subscription
    out = []
    for d in ev.ctx.world.of_type(v.VM):
        if tier_of(ev, d) != tier or location.normalize(ev.of(d, "location")) != loc:
            continue
        if ResourceId.parse(d["id"]).subscription == sub:
            ev.require("zones", doc=d)
            out.append(d)
    return sorted(out, key=lambda d: d["name"].lower())
