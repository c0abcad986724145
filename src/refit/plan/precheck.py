"""What refit refuses before any search (one line, exit 2): a goal on a VM or scale set that does not exist, on a
type refit cannot plan for, or with a value the catalog's facts rule out whatever the state (a security type other
than Azure's, a VM size Azure does not offer)."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.plan.goal import GoalSet
from refit.platform.rules import RULES, facts

# Types refit plans changes to but never creates from a goal: a goal naming one that does not exist is a
# wrong name, not a request to create it (disks, capacity reservation groups and images are created).
_CHANGED_NOT_CREATED = {v.VM.lower(): "virtual machines", v.VMSS.lower(): "scale sets"}
# Goal values the catalog's facts enumerate: a value outside them is refused whatever the state, so it is
# answered before any search. (type, path) -> (accepted values, what they are)
_ENUMERATED = {
    (v.VM.lower(), "properties.securityProfile.securityType"): (facts.VM_SECURITY_TYPES, "security type"),
    (v.VMSS.lower(), "properties.virtualMachineProfile.securityProfile.securityType"):
        (facts.VM_SECURITY_TYPES, "security type"),
}


def check_goals(world: World, goals: GoalSet) -> None:
    from refit.platform.effects import known_type

    for g in goals.goals:
        rid = ResourceId.parse(g.resource)
        if not known_type(rid.type):
            raise UserError(f"goal resource type '{rid.type}' is not one refit can plan for")
        if world.get(ResourceId(rid.subscription, rid.resource_group)) is None:
            raise UserError(f"resource group '{rid.resource_group}' of goal {rid.name} does not exist "
                            f"(check the subscription and resource group in the goal's id)")
        parent = rid.parent
        if parent is not None and parent.namespace and world.get(parent) is None and not goals.for_resource(str(parent)):
            raise UserError(f"goal {g.resource} names a child of {parent}, which does not exist")
        t = rid.type.lower()
        if t in _CHANGED_NOT_CREATED and world.get(rid) is None:
            raise UserError(f"goal resource {g.resource} does not exist (check its name; refit plans changes to "
                            f"existing {_CHANGED_NOT_CREATED[t]}, it does not create them)")
        for path, val in g.properties.items():
            accepted, what = _ENUMERATED.get((t, path), (None, ""))
            if accepted is not None and val not in accepted:
                raise UserError(f"goal {rid.name}: {path} = {val!r} is not a {what} Azure accepts "
                                f"({', '.join(accepted)})")
            if (t, path) in _SIZES:
                _check_size(world, rid, path, val)


# Where a goal names a VM size: checked against the SKU table before any search (a size Azure does not
# offer is a wrong value, not a state to plan around).
_SIZES = {(v.VM.lower(), "properties.hardwareProfile.vmSize"), (v.VMSS.lower(), "sku.name")}


def _check_size(world: World, rid: ResourceId, path: str, val: Any) -> None:
    from refit.platform import skus

    doc = world.get(rid)
    region = (doc or {}).get("location")
    if region and skus.offered(val, region) is None:
        rule = RULES["SZ1"]
        raise UserError(f"goal {rid.name}: {path} = {val!r} is refused by {rule.id} ({rule.title}): Azure offers no "
                        f"VM size {val!r} in {region}; `az vm list-sizes -l {region}` lists those it does")
