"""VM sizes (family SZ): a VM or scale set runs on a size Azure offers in its region (SZ1), of the CPU
architecture its image or OS disk was built for (SZ2). The sizes and their capabilities are the SKU table's
(refit.platform.skus: CpuArchitectureType); what a size's generation (S7), Trusted Launch (S1) and confidential
support (S12) allow is the security family's.
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.world import World
from refit.platform import regions, skus
from refit.platform.rules.common import (
    VM,
    VMSS,
    boots_from_image,
    changed,
    get,
    image_reference,
    is_type,
    resolve,
    size,
)
from refit.platform.rules.registry import ErrorTemplate, rule

Doc = dict[str, Any] | None

SZ1_UNKNOWN = ErrorTemplate(400, "InvalidParameter",
                            "The value {size} provided for the VM size is not valid. The valid sizes in the current "
                            "region are: {sizes}. Find out more on the valid VM sizes in each region at "
                            "https://aka.ms/azure-regions.", "vmSize")
SZ2_CREATE = ErrorTemplate(400, "BadRequest",
                           "Cannot create a VM of size '{size}' because this VM size only supports a CPU Architecture of "
                           "'{size_arch}', but an image or disk with CPU Architecture '{image_arch}' was given. Please "
                           "check that the CPU Architecture of the image or disk is compatible with that of the VM size.")
SZ2_RESIZE = ErrorTemplate(400, "BadRequest",
                           "Cannot resize a VM of size '{old}' with CPU Architecture '{old_arch}' to a VM of size "
                           "'{size}' with CPU Architecture '{size_arch}'.")


def _size_path(doc: dict[str, Any]) -> str:
    return "sku.name" if is_type(doc, VMSS) else "properties.hardwareProfile.vmSize"


def _size_set(old: Doc, new: dict[str, Any]) -> bool:
    """Azure checks the size when a VM or scale set is created and when a write changes it."""
    return old is None or changed(old, new, _size_path(new))


@rule("SZ1", (VM, VMSS), "The VM size must be one Azure offers in the region",
      "sassoftware/viya4-iac-azure#116 (HTTP 400 InvalidParameter 'The value Standard_B2s_v3 provided for the VM size "
      "is not valid. The valid sizes in the current region are: ...', quoted); the closing sentence and the target "
      "'vmSize' from a public terraform capture of the same answer. That a scale set's sku.name is answered alike is "
      "INFERRED. The sizes: refit.platform.skus", errors=(SZ1_UNKNOWN,), confidence="H")
def sz1_size_offered(world: World, old: Doc, new: Doc) -> list:
    """`hardwareProfile.vmSize` (a scale set's `sku.name`) names a size of the SKU table offered in the resource's
    region (`az vm list-skus`); `vmSize=Banana` is refused, listing the sizes the region has. A region Azure does
    not know is rule ARM7's answer."""
    if new is None or not _size_set(old, new):
        return []
    sz, loc = size(new), new.get("location")
    if not sz or not loc or not regions.known(loc) or skus.offered(sz, loc) is not None:
        return []
    return [SZ1_UNKNOWN(size=sz, sizes=",".join(s.name for s in skus.sizes_in(loc)))]


def _built_for(world: World, old: Doc, new: dict[str, Any]) -> str | None:
    """The CPU architecture the write's VM or scale set boots: its image's (create; a scale set's new image) or its
    OS disk's (a VM created on an existing disk, or resized). None when the write cannot change the answer or the
    image does not resolve (rules G13, G14, G21 answer that)."""
    image_changed = is_type(new, VMSS) and old is not None and changed(old, new, "properties.virtualMachineProfile"
                                                                                  ".storageProfile.imageReference")
    if not (_size_set(old, new) or image_changed):
        return None
    if old is None or is_type(new, VMSS):
        if boots_from_image(new):
            f, _ = resolve(world, image_reference(new), new.get("location", ""))
            return f.architecture if f is not None else None
        disk = world.get(v.Vm(new).os_disk_id) if is_type(new, VM) else None
        return _disk_architecture(disk) if disk is not None else None
    disk = world.get(v.Vm(old).os_disk_id)
    return _disk_architecture(disk) if disk is not None else None


def _disk_architecture(disk: dict[str, Any]) -> str:
    # A managed disk's supportedCapabilities.architecture (specs DiskRP SupportedCapabilities); x64 when absent.
    return get(disk, "properties.supportedCapabilities.architecture") or "x64"


@rule("SZ2", (VM, VMSS), "The VM size's CPU architecture must be the image's (or OS disk's)",
      "microsoft/lisa#4560 ('Cannot create a VM of size 'Standard_D2pds_v6' ... only supports a CPU Architecture of "
      "'Arm64'', quoted in part); the full message from a public New-AzVM capture, and 'DeploymentFailed -> "
      "BadRequest' from an az vm create capture. The resize message is INFERRED past its captured beginning "
      "('Cannot resize a VM of size X with CPU Architecture Arm64 to a VM of size Y with CPU Architecture'). The "
      "sizes' CpuArchitectureType: refit.platform.skus", errors=(SZ2_CREATE, SZ2_RESIZE), confidence="M")
def sz2_architecture(world: World, old: Doc, new: Doc) -> list:
    """An Arm64 size (Ampere Altra Dpsv5, Azure Cobalt Dpsv6) boots only an Arm64 image or disk, an x64 size only an
    x64 one: checked at creation, when the size changes (a resize keeps the OS disk), and when a scale set's image
    changes. An x64 VM cannot be resized to an Arm64 size, nor the reverse."""
    if new is None:
        return []
    sz = skus.find(size(new))
    if sz is None:
        return []  # an unknown size is SZ1's answer
    built_for = _built_for(world, old, new)
    if built_for is None or built_for.lower() == sz.architecture.lower():
        return []
    before = skus.find(size(old)) if old is not None and is_type(new, VM) else None
    if before is not None:  # a VM resized: its OS disk stays
        return [SZ2_RESIZE(old=before.name, old_arch=before.architecture, size=sz.name, size_arch=sz.architecture)]
    return [SZ2_CREATE(size=sz.name, size_arch=sz.architecture, image_arch=built_for)]
