"""Small helpers the rule modules share: reading documents, comparing values, resolving images.

Nothing here decides anything: the rules do. Everything reads ARM documents and a World only.
"""

from __future__ import annotations

import functools
from typing import Any

from refit.arm import location
from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key, same_id
from refit.arm.paths import get_path, has_path
from refit.arm.world import World
from refit.platform.rules import images
from refit.platform.rules.registry import ErrorTemplate, memo

# A rule keeps the reference's row id in its citation; every source starts with this document.
REF = "reference/azure-platform-rules.md"

VM = v.VM
VMSS = v.VMSS
DISK = v.DISK
IMAGE = v.IMAGE
GALLERY = v.GALLERY
DEFINITION = v.IMAGE_DEFINITION
VERSION = v.IMAGE_VERSION
CRG = v.CAPACITY_RESERVATION_GROUP
CR = v.CAPACITY_RESERVATION
SNAPSHOT = "Microsoft.Compute/snapshots"
VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
VMSS_EXTENSION = "Microsoft.Compute/virtualMachineScaleSets/extensions"

VMSS_PROFILE = "properties.virtualMachineProfile"

# CRP's answers for a request that lacks a parameter or gives a value outside its enum. The family is
# Azure's (reference G17 quotes "Required parameter 'osProfile' is missing (null)."); which parameters each
# resource type requires is the REST spec's (specs ComputeRP / DiskRP / GalleryRP `required` lists). The
# target is the parameter's path unless a rule says otherwise.
REQUIRED = ErrorTemplate(400, "InvalidParameter", "Required parameter '{path}' is missing (null).", "{target}")
INVALID_ENUM = ErrorTemplate(400, "InvalidParameter", "The value '{value}' of parameter '{path}' is invalid.",
                              "{target}")
# The sentence a source that names CRP's generic family cites.
FAMILY = ("INFERRED: CRP's generic InvalidParameter wording (reference section 9.1; the family G17 quotes); "
          "no capture of this parameter's answer")

# An answer two rules share: an OS disk attached at creation (S4) or swapped in (D4) (S4/D4;
# Azure/azure-sdk-for-python#30479).
DISK_MISMATCH = ErrorTemplate(400, "BadRequest",
                              "Security type of VM is not compatible with the security type of attached OS Disk.")


def get(doc: Any, path: str, default: Any = None) -> Any:
    return get_path(doc, path, default)


def not_one_of(doc: Any, path: str, allowed: tuple[str, ...]) -> list[ArmError]:
    """INVALID_ENUM for the value at `path` (a dotted path into the document) when it is set and is not one of
    `allowed`; the message names the parameter as the request does (without the `properties.` prefix)."""
    value = get(doc, path)
    if value is None or value in allowed:  # (a write's enums are in Azure's casing already: schema.canonical)
        return []
    param = path.removeprefix("properties.")
    return [INVALID_ENUM(value=value, path=param, target=param)]


def present(doc: Any, path: str) -> bool:
    return has_path(doc, path) and get_path(doc, path) is not None


def typ(doc: dict[str, Any] | None) -> str:
    return ((doc or {}).get("type") or "").lower()


def is_type(doc: dict[str, Any] | None, arm_type: str) -> bool:
    return typ(doc) == arm_type.lower()


region = location.normalize  # 'East US' and 'eastus' are the same region (refit.arm.location)


def lower(x: Any) -> Any:
    return x.lower() if isinstance(x, str) else x


def norm(value: Any) -> Any:
    """A value as Azure compares it: strings (ids, enum values) case-insensitively, recursively."""
    if isinstance(value, str):
        return value.lower().rstrip("/") if value.startswith("/") else value.lower()
    if isinstance(value, dict):
        return {k.lower(): norm(x) for k, x in value.items() if x is not None}
    if isinstance(value, list):
        return [norm(x) for x in value]
    return value


def differs(a: Any, b: Any) -> bool:
    return norm(a) != norm(b)


def changed(old: dict[str, Any] | None, new: dict[str, Any] | None, path: str) -> bool:
    """Did this write change the value at `path`? (A create changes everything that is set.)"""
    if old is None:
        return new is not None and present(new, path)
    return differs(get(old, path), get(new, path))


def zones(doc: dict[str, Any] | None) -> list[str]:
    return [str(z) for z in (doc or {}).get("zones") or []]


def name_of(rid: str | None) -> str:
    try:
        return ResourceId.parse(rid or "").name
    except ArmError:
        return rid or ""


def parent_of(rid: str) -> str | None:
    try:
        p = ResourceId.parse(rid).parent
    except ArmError:
        return None
    return str(p) if p is not None else None


def type_of_id(rid: str | None) -> str:
    try:
        return ResourceId.parse(rid or "").type.lower()
    except ArmError:
        return ""


# ---- VMs and scale sets --------------------------------------------------------------------------
def _per_write(fn):
    """Memoised for the duration of one validate_write (the documents do not change while the catalog reads
    them): several rules ask the same of the same old and new documents."""

    @functools.wraps(fn)
    def wrapper(*docs):
        m = memo()
        if m is None:
            return fn(*docs)
        key = (fn.__name__, *(id(d) for d in docs))
        if key not in m:
            m[key] = (docs, fn(*docs))  # the documents kept alive with the answer: their ids are not reused
        return m[key][1]

    return wrapper


@_per_write
def security_type(doc: dict[str, Any] | None) -> str:
    """A VM's or scale set's securityType; Standard when null/absent (older APIs, rules 1a)."""
    if doc is None:
        return "Standard"
    if is_type(doc, VMSS):
        return v.Vmss(doc).security_type
    return v.Vm(doc).security_type


def image_reference(doc: dict[str, Any] | None) -> dict[str, Any]:
    if doc is None:
        return {}
    if is_type(doc, VMSS):
        return v.Vmss(doc).image_reference
    return v.Vm(doc).image_reference


def size(doc: dict[str, Any] | None) -> str:
    if doc is None:
        return ""
    if is_type(doc, VMSS):
        return get(doc, "sku.name") or ""
    return v.Vm(doc).size or ""


def storage_profile_path(doc: dict[str, Any]) -> str:
    return f"{VMSS_PROFILE}.storageProfile" if is_type(doc, VMSS) else "properties.storageProfile"


def os_disk(doc: dict[str, Any] | None) -> dict[str, Any]:
    if doc is None:
        return {}
    return get(doc, storage_profile_path(doc) + ".osDisk") or {}


@_per_write
def boots_from_image(doc: dict[str, Any]) -> bool:
    """A scale set always does; a VM when its OS disk is created FromImage (not Attach)."""
    if is_type(doc, VMSS):
        return bool(image_reference(doc))
    return str(os_disk(doc).get("createOption") or "").lower() == "fromimage" and bool(image_reference(doc))


def power_state(doc: dict[str, Any] | None) -> str:
    """'running', 'deallocated', ... (Vm.power_state); a VM whose document does not say is taken as
    running, Azure's state after create (the conservative reading for rules that need deallocation)."""
    return (v.Vm(doc).power_state if doc else None) or "running"


def deallocated(doc: dict[str, Any] | None) -> bool:
    return power_state(doc) == "deallocated"


def disk_generation(disk: dict[str, Any] | None) -> str:
    """A disk without hyperVGeneration is Generation 1 (the DiskRP default)."""
    return get(disk, "properties.hyperVGeneration") or "V1"


def vm_generation(world: World, vm: dict[str, Any]) -> str:
    """A VM's Hyper-V generation: the instance view's, else its OS disk's."""
    gen = v.Vm(vm).hyper_v_generation
    if gen:
        return gen
    disk = world.get(v.Vm(vm).os_disk_id)
    return disk_generation(disk) if disk is not None else "V1"


@_per_write
def attached_disk_ids(vm: dict[str, Any] | None) -> list[str]:
    """Managed disk ids a VM document references (OS disk first)."""
    if vm is None:
        return []
    out = []
    osd = v.Vm(vm).os_disk_id
    if osd:
        out.append(osd)
    out += v.Vm(vm).data_disk_ids
    return out


@_per_write
def newly_attached(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    before = {id_key(d) for d in attached_disk_ids(old)}
    return [d for d in attached_disk_ids(new) if id_key(d) not in before]


@_per_write
def os_disk_swapped(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    if old is None or new is None:
        return False
    a, b = v.Vm(old).os_disk_id, v.Vm(new).os_disk_id
    return bool(a and b and not same_id(a, b))


# ---- images --------------------------------------------------------------------------------------
def resolve(world: World, ref: dict[str, Any] | str | None, location: str) -> tuple[images.ImageFacts | None,
                                                                                   ArmError | None]:
    """What an image reference means in `location` (images.facts), or the error resolving it gives."""
    if not ref:
        return None, None
    cache = memo()
    key = ("resolve", repr(ref), location)
    if cache is not None and key in cache:
        return cache[key]
    try:
        out: tuple[images.ImageFacts | None, ArmError | None] = (images.facts(world, ref, location), None)
    except ArmError as e:
        out = (None, e)
    if cache is not None:
        cache[key] = out
    return out


def image_data_luns(world: World, f: images.ImageFacts) -> list[int]:
    """The data disk LUNs an image brings (managed image dataDisks / version dataDiskImages)."""
    doc = world.get(f.source_id) if f.kind in ("gallery-version", "managed-image") else None
    if doc is None:
        return []
    disks = get(doc, "properties.storageProfile.dataDiskImages") or get(doc, "properties.storageProfile.dataDisks") or []
    return sorted(int(d.get("lun", 0)) for d in disks if isinstance(d, dict))


# ---- sources of images and image versions ---------------------------------------------------------
def source_kind(world: World, source_id: str | None, uri: str | None = None) -> str:
    """vhd | managed-image | gallery-version | vm | disk | snapshot | unknown (facts.VERSION_SOURCES)."""
    if not source_id:
        return "vhd" if uri else "unknown"
    t = type_of_id(source_id)
    return {IMAGE.lower(): "managed-image", VERSION.lower(): "gallery-version", VM.lower(): "vm",
            DISK.lower(): "disk", SNAPSHOT.lower(): "snapshot"}.get(t, "unknown")


def source_security_type(world: World, source_id: str | None) -> str:
    """The security type a source carries: a VM's securityType; a disk's or snapshot's
    securityProfile.securityType (TrustedLaunch / ConfidentialVM_*: they hold VM guest state)."""
    doc = world.get(source_id) if source_id else None
    if doc is None:
        return "Standard"
    if is_type(doc, VM):
        return v.Vm(doc).security_type
    return get(doc, "properties.securityProfile.securityType") or "Standard"


def source_generation(world: World, source_id: str | None) -> str | None:
    """Hyper-V generation of a version's source, None when unknown (VHD blobs, missing sources)."""
    doc = world.get(source_id) if source_id else None
    if doc is None:
        return None
    t = typ(doc)
    if t == VM.lower():
        return vm_generation(world, doc)
    if t == IMAGE.lower():
        return v.ManagedImage(doc).hyper_v_generation
    if t == VERSION.lower():
        d = world.get(parent_of(doc["id"]))
        return v.ImageDefinition(d).hyper_v_generation if d else None
    return disk_generation(doc)  # disks and snapshots


def source_os_state(world: World, source_id: str | None) -> str | None:
    """OS state of a version's source where the document says it: managed images (osDisk.osState) and
    gallery versions (their definition's osState). VMs and disks do not say (None)."""
    doc = world.get(source_id) if source_id else None
    if doc is None:
        return None
    if is_type(doc, IMAGE):
        return v.ManagedImage(doc).os_state
    if is_type(doc, VERSION):
        d = world.get(parent_of(doc["id"]))
        return v.ImageDefinition(d).os_state if d else None
    return None


def version_source(doc: dict[str, Any] | None) -> tuple[str | None, str | None, str]:
    """(source id, source uri, the path it was read from) of an image version document."""
    for path in ("properties.storageProfile.source", "properties.storageProfile.osDiskImage.source"):
        src = get(doc, path) or {}
        if src.get("id") or src.get("uri"):
            return src.get("id"), src.get("uri"), path
    return None, None, "properties.storageProfile.source"
