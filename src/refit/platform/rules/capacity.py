"""On-demand capacity reservations (reference section 5; acd capacity-reservation-overview.md, -create.md,
-associate-vm.md, -overallocate.md, -modify.md).

A reservation lives in its group's region and zones (C2), one per size and zone (C4); only its capacity
changes (C5). Capacity 0 is valid (C3) and a group may be overallocated (C8): neither is refused. A VM
joins a group only where a reservation matches its size and zone (C6; on resize C11), a regional VM only
when deallocated (C7; a running zonal VM may join), and not with unsupported features (C12).
Reservations go before their group, and VMs leave before either goes (C10).

Continuing the family after the reference's rows: a VM names a group that exists (C14) and a reservation
names its size and a whole capacity (C15). And section 5b: a start that finds no capacity fails its
operation with Azure's allocation error (A1 zonal, A2 regional).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key, same_id
from refit.arm.world import World
from refit.platform.rules import facts
from refit.platform.rules.common import (
    CR,
    CRG,
    FAMILY,
    REF,
    REQUIRED,
    VM,
    VMSS,
    VMSS_PROFILE,
    changed,
    deallocated,
    get,
    is_type,
    lower,
    name_of,
    parent_of,
    region,
    size,
    zones,
)
from refit.platform.rules.registry import OPERATION, ErrorTemplate, refusal, rule

Doc = dict[str, Any] | None

C2_LOCATION = ErrorTemplate(400, "InvalidParameter",
                            "The location '{location}' of Capacity Reservation '{name}' must be the location "
                            "'{group_location}' of its Capacity Reservation Group.", "location")
C2_ZONE = ErrorTemplate(400, "InvalidParameter",
                        "The zone(s) '{zones}' of Capacity Reservation '{name}' must be one of the zones '{group_zones}' "
                        "of its Capacity Reservation Group.", "zones")
C4_DUPLICATE = ErrorTemplate(409, "Conflict",
                             "Capacity Reservation '{other}' for VM size '{size}' {scope} already exists in Capacity "
                             "Reservation Group '{group}'.")
C5_CHANGE = ErrorTemplate(409, "PropertyChangeNotAllowed", "Changing property '{prop}' is not allowed.", "{prop}")
C6_NO_MATCH = ErrorTemplate(400, "InvalidParameter",
                            "The Capacity Reservation Group '{group}' does not have a Capacity Reservation for VM size "
                            "'{size}' {scope}.", "capacityReservation.capacityReservationGroup.id")
C6_REGIONAL = ErrorTemplate(400, "InvalidParameter",
                            "The Virtual Machine '{vm}' has no zone and can only be associated with a regional Capacity "
                            "Reservation Group; '{group}' is zonal.", "capacityReservation.capacityReservationGroup.id")
C7_REGIONAL_RUNNING = ErrorTemplate(409, "OperationNotAllowed",
                                    "The Virtual Machine '{vm}' has no zone: it can be associated with Capacity "
                                    "Reservation Group '{group}' only when deallocated. Deallocate the VM, associate it, "
                                    "then start it.")
C10_CR = ErrorTemplate(409, "OperationNotAllowed",
                       "Capacity Reservation '{name}' cannot be deleted because Virtual Machines are associated with it: "
                       "{vms}. Disassociate them first.")
C10_GROUP_CR = ErrorTemplate(409, "OperationNotAllowed",
                             "Capacity Reservation Group '{name}' cannot be deleted before its Capacity Reservations: "
                             "{crs}.")
C10_GROUP_VM = ErrorTemplate(409, "OperationNotAllowed",
                             "Capacity Reservation Group '{name}' cannot be deleted because Virtual Machines or Virtual "
                             "Machine Scale Sets are associated with it: {vms}. Disassociate them first.")
C12_SIZE = ErrorTemplate(400, "NotSupported", "Capacity Reservation is not supported for VM size {size}.")
C12_FEATURE = ErrorTemplate(400, "NotSupported", "Capacity Reservation is not supported for {what}.")

GROUP = "properties.capacityReservation.capacityReservationGroup.id"
VMSS_GROUP = f"{VMSS_PROFILE}.capacityReservation.capacityReservationGroup.id"


def matches(vm: dict[str, Any], cr: dict[str, Any], read: Callable[[Any, str], Any] = get) -> bool:
    """Does a reservation serve this VM (or scale set)? Same size; and the VM's zone, unless the reservation is
    regional. `read` reads a path (the doctor passes its evaluator, which resolves template expressions)."""
    vm_size = read(vm, "sku.name") if is_type(vm, VMSS) else read(vm, "properties.hardwareProfile.vmSize")
    if lower(vm_size or "") != lower(read(cr, "sku.name") or ""):
        return False
    cz = [str(z) for z in read(cr, "zones") or []]
    return not cz or bool({str(z) for z in read(vm, "zones") or []} & set(cz))


def associated(world: World, group_id: str) -> list[dict[str, Any]]:
    """VMs and scale sets whose capacityReservationGroup is this group (virtualMachinesAssociated, C9)."""
    key = id_key(group_id)
    vms = [d for d in world.of_type(VM) if id_key(get(d, GROUP) or "") == key]
    return vms + [d for d in world.of_type(VMSS) if id_key(get(d, VMSS_GROUP) or "") == key]


def _scope(z: list[str]) -> str:
    return f"in zone '{','.join(z)}'" if z else "in the region"


# ---- reservations --------------------------------------------------------------------------------------------
@rule("C2", CR, "A reservation is in its group's region and zones",
      f"{REF} C2, C1; capacity-reservation-create ('A mismatch results in an error'). Messages INFERRED",
      errors=(C2_LOCATION, C2_ZONE), confidence="H")
def c2_reservation_in_group(world: World, old: Doc, new: Doc) -> list:
    """The reservation's location is its group's; a zonal group's reservation names one of the group's zones,
    a regional group's names none. (All-or-nothing allocation of the capacity itself is not modelled.)"""
    if new is None:
        return []
    group = world.get(parent_of(new["id"]))
    if group is None:
        return []
    if region(new.get("location")) != region(group.get("location")):
        return [C2_LOCATION(location=new.get("location"), name=new.get("name", ""), group_location=group.get("location"))]
    gz, cz = zones(group), zones(new)
    if (gz and (len(cz) != 1 or cz[0] not in gz)) or (not gz and cz):
        return [C2_ZONE(zones=",".join(cz), name=new.get("name", ""), group_zones=",".join(gz))]
    return []


@rule("C4", CR, "One reservation per VM size and zone in a group",
      f"{REF} C4; capacity-reservation-create. Code Conflict / HTTP 409 and message INFERRED", errors=(C4_DUPLICATE,),
      operations=("create",), confidence="H")
def c4_one_per_size_and_zone(world: World, old: Doc, new: Doc) -> list:
    """A zonal group holds one reservation per size per zone, a regional group one per size."""
    if new is None:
        return []
    group = parent_of(new["id"]) or ""
    for other in world.children(group, CR):
        if same_id(other["id"], new["id"]):
            continue
        if lower(get(other, "sku.name")) == lower(get(new, "sku.name")) and sorted(zones(other)) == sorted(zones(new)):
            return [C4_DUPLICATE(other=other.get("name", ""), size=get(new, "sku.name"), scope=_scope(zones(new)),
                                 group=name_of(group))]
    return []


@rule("C5", CR, "Only a reservation's capacity changes",
      f"{REF} C5; capacity-reservation-modify ('Other changes ... such as VM size or location, aren't permitted'). "
      "Error INFERRED as the PropertyChangeNotAllowed shape", errors=(C5_CHANGE,), operations=("update",),
      confidence="H")
def c5_only_capacity(world: World, old: Doc, new: Doc) -> list:
    """sku.capacity may go up (it may then fail and leave the reservation Failed until restored) or down
    (always succeeds); the VM size and the zones may not change. Capacity 0 is valid (C3)."""
    if old is None or new is None:
        return []
    if get(new, "sku.name") is not None and lower(get(old, "sku.name")) != lower(get(new, "sku.name")):
        return [C5_CHANGE(prop="sku.name")]
    if sorted(zones(old)) != sorted(zones(new)):
        return [C5_CHANGE(prop="zones")]
    return []


@rule("C10", (CR, CRG), "Delete order: disassociate VMs, then reservations, then the group",
      f"{REF} C10; capacity-reservation-overview. Code OperationNotAllowed / HTTP 409 and messages INFERRED",
      errors=(C10_CR, C10_GROUP_CR, C10_GROUP_VM), operations=("delete",), confidence="H")
def c10_delete_order(world: World, old: Doc, new: Doc) -> list:
    """A reservation with associated VMs (of its size and zone) cannot be deleted; a group with reservations,
    or with VMs or scale sets associated, cannot be deleted."""
    if old is None:
        return []
    if is_type(old, CR):
        group = parent_of(old["id"]) or ""
        vms = [d for d in associated(world, group) if is_type(d, VM) and matches(d, old)]
        return [C10_CR(name=old.get("name", ""), vms=", ".join(d["name"] for d in vms))] if vms else []
    crs = world.children(old["id"], CR)
    if crs:
        return [C10_GROUP_CR(name=old.get("name", ""), crs=", ".join(c["name"] for c in crs))]
    users = associated(world, old["id"])
    return [C10_GROUP_VM(name=old.get("name", ""), vms=", ".join(d["name"] for d in users))] if users else []


refusal("C15", CR, "A reservation names its VM size and a whole, non-negative capacity",
        f"specs ComputeRP capacityReservation.json (sku required; sku.capacity an integer, 0 allowed: {REF} C3); the "
        f"messages are {FAMILY}",
        doc="""`sku.name` is the VM size reserved and `sku.capacity` the number of instances: 0 or more.""",
        errors=(REQUIRED, ErrorTemplate(400, "InvalidParameter", "The value of parameter 'sku.capacity' is invalid.",
                                        "sku.capacity")),
        confidence="M")


# ---- VM association ---------------------------------------------------------------------------------------------
C14_MISSING = ErrorTemplate(404, "NotFound", "The Capacity Reservation Group '{group}' could not be found.",
                            "capacityReservation.capacityReservationGroup.id")


@rule("C14", VM, "A VM names a capacity reservation group that exists",
      "INFERRED: the NotFound family (reference section 9.1); no capture of CRP's text", errors=(C14_MISSING,),
      confidence="L")
def c14_group_exists(world: World, old: Doc, new: Doc) -> list:
    """`capacityReservation.capacityReservationGroup.id` names a group that exists."""
    group_id = get(new, GROUP)
    if not group_id or world.get(group_id) is not None:
        return []
    return [C14_MISSING(group=group_id)]


def _no_reservation(world: World, vm: dict[str, Any]) -> list:
    group_id = get(vm, GROUP)
    group = world.get(group_id) if group_id else None
    if group is None:
        return []  # no group or an unknown one (the provider answers 404)
    if zones(group) and not zones(vm):
        return [C6_REGIONAL(vm=vm.get("name", ""), group=group_id)]
    if any(matches(vm, cr) for cr in world.children(group_id, CR)):
        return []
    return [C6_NO_MATCH(group=group_id, size=size(vm), scope=_scope(zones(vm)))]


@rule("C6", VM, "A VM joins a group only where a reservation matches its size and zone",
      f"{REF} C6; capacity-reservation-overview; Azure/azure-sdk-for-java#42904 ('must contain a Capacity Reservation "
      "with matching VM size and zone(s)'). Messages INFERRED", errors=(C6_NO_MATCH, C6_REGIONAL), confidence="H")
def c6_matching_reservation(world: World, old: Doc, new: Doc) -> list:
    """Setting `capacityReservation.capacityReservationGroup.id` needs a reservation of the VM's size (in its
    zone, for a zonal reservation) in the group; a VM without a zone can use only a regional group. The
    reservation may be full or even of capacity 0: overallocation is allowed (C3, C8)."""
    if new is None or not get(new, GROUP):
        return []
    if old is not None and not changed(old, new, GROUP) and not changed(old, new, "zones"):
        return []
    return _no_reservation(world, new)


@rule("C11", VM, "A VM in a group is resized only to a size the group reserves",
      f"{REF} C11, C6; capacity-reservation-modify. Messages INFERRED (as C6)", errors=(C6_NO_MATCH,),
      operations=("update",), confidence="H")
def c11_resize_in_group(world: World, old: Doc, new: Doc) -> list:
    """Resizing a VM that stays in a group needs a reservation for the target size there (or remove the VM
    from the group first)."""
    if old is None or new is None or not get(new, GROUP) or changed(old, new, GROUP):
        return []
    if not changed(old, new, "properties.hardwareProfile.vmSize"):
        return []
    return _no_reservation(world, new)


@rule("C7", VM, "An existing regional VM joins a group only while deallocated",
      f"{REF} C7; capacity-reservation-associate-vm (regional: deallocate -> update -> start; zonal: without "
      "deallocation). Error INFERRED (409 OperationNotAllowed family)", errors=(C7_REGIONAL_RUNNING,),
      operations=("update",), confidence="H")
def c7_regional_needs_deallocation(world: World, old: Doc, new: Doc) -> list:
    """Associating (or moving) an existing VM without a zone needs it deallocated; a running zonal VM may be
    associated in place."""
    if old is None or new is None or not get(new, GROUP) or not changed(old, new, GROUP):
        return []
    if zones(new) or deallocated(old):
        return []
    return [C7_REGIONAL_RUNNING(vm=new.get("name", ""), group=get(new, GROUP))]


_VM_FEATURES = (
    ("properties.priority", "Spot", "Spot Virtual Machines"),
    ("properties.host.id", None, "Virtual Machines on a Dedicated Host"),
    ("properties.hostGroup.id", None, "Virtual Machines on a Dedicated Host"),
    ("properties.availabilitySet.id", None, "Virtual Machines in an Availability Set"),
    ("properties.proximityPlacementGroup.id", None, "Virtual Machines in a Proximity Placement Group"),
    ("properties.additionalCapabilities.ultraSSDEnabled", True, "Virtual Machines with Ultra disks"),
    ("properties.additionalCapabilities.hibernationEnabled", True, "Virtual Machines with hibernation enabled"),
)


@rule("C12", (VM, VMSS, CR), "Capacity reservations do not serve every VM",
      f"{REF} C12; Azure/azure-cli#18943 (real response body for the size); capacity-reservation-overview "
      "(limitations). HTTP 400 and the feature messages INFERRED; sizes in facts.capacity_reservation_supported",
      errors=(C12_SIZE, C12_FEATURE), confidence="H")
def c12_unsupported(world: World, old: Doc, new: Doc) -> list:
    """Not for Spot VMs, Dedicated Hosts, availability sets, proximity placement groups, Ultra disks,
    hibernation, scale sets with singlePlacementGroup true, nor sizes without the CapacityReservationSupported
    capability (e.g. Standard_A0) — neither as a reservation's size nor for an associated VM."""
    if new is None:
        return []
    if is_type(new, CR):
        sz = get(new, "sku.name") or ""
        return [] if facts.capacity_reservation_supported(sz) else [C12_SIZE(size=sz)]
    if is_type(new, VMSS):
        if not get(new, VMSS_GROUP):
            return []
        if get(new, "properties.singlePlacementGroup") is True:
            return [C12_FEATURE(what="Virtual Machine Scale Sets with singlePlacementGroup set to true")]
        if lower(get(new, f"{VMSS_PROFILE}.priority")) == "spot":
            return [C12_FEATURE(what="Spot Virtual Machines")]
        sz = size(new)
        return [] if facts.capacity_reservation_supported(sz) else [C12_SIZE(size=sz)]
    if not get(new, GROUP):
        return []
    for path, value, what in _VM_FEATURES:
        got = get(new, path)
        if (value is None and got) or (value is not None and lower(got) == lower(value)):
            return [C12_FEATURE(what=what)]
    sz = v.Vm(new).size or ""
    return [] if facts.capacity_reservation_supported(sz) else [C12_SIZE(size=sz)]


# ---- allocation failures on start (5b) ---------------------------------------------------------------------------
refusal("A1", VM, "A zonal VM starts only where its zone has capacity (the operation fails)",
        f"{REF} A1, A5; openshift/release#5182; ad#41402 (wrapped in ResourceOperationFailure). Raised when the "
        "emulator is told there is no capacity (the control API's allocation_failed fault, or a health model image "
        "with allocation_failed)",
        doc="""Azure accepts the start and its operation fails: the zone has no capacity for the size. The VM stays
        deallocated; retry later, or in another zone or size.""",
        errors=(ErrorTemplate(409, "ZonalAllocationFailed",
                              "Allocation failed. We do not have sufficient capacity for the requested VM size in this "
                              "zone. Read more about improving likelihood of allocation success at "
                              "http://aka.ms/allocation-guidance"),),
        operations=("action",), asynchronous=True, stage=OPERATION, confidence="H")

refusal("A2", VM, "A regional VM starts only where the region has capacity (the operation fails)",
        f"{REF} A2, A5; vmware-tanzu/community-edition#3963; Azure/WALinuxAgent#3056. Raised as A1 is",
        doc="""Azure accepts the start and its operation fails: the region has no capacity for the size.""",
        errors=(ErrorTemplate(409, "AllocationFailed",
                              "Allocation failed. We do not have sufficient capacity for the requested VM size in this "
                              "region. Read more about improving likelihood of allocation success at "
                              "http://aka.ms/allocation-guidance"),),
        operations=("action",), asynchronous=True, stage=OPERATION, confidence="H")
