"""Managed disks (reference sections 1c and 2): a disk's security type is fixed (S5), a Trusted Launch
disk is not copied (S6), and zone-redundant disks have no zone (D13).

The disk RP's own answers continue the D family after the reference's rows (D14-D21): the request names
what the disk is created from (D17, D18) and a source that exists (D20), its SKU and security type are
Azure's values (D14, D19), its creation data is fixed (D15), it only grows (D16), it is not deleted
while a VM owns it (D21), and it grows while its VM runs only as live resize allows (D22)."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import same_id
from refit.arm.world import World
from refit.platform.rules import facts
from refit.platform.rules.common import (
    DISK,
    FAMILY,
    INVALID_ENUM,
    REF,
    REQUIRED,
    deallocated,
    get,
    lower,
    not_one_of,
    source_security_type,
    zones,
)
from refit.platform.rules.registry import ErrorTemplate, refusal, rule

Doc = dict[str, Any] | None

S5_CHANGE = ErrorTemplate(409, "PropertyChangeNotAllowed",
                          "Changing property 'securityProfile.securityType' is not allowed.", "securityProfile.securityType")
S6_COPY = ErrorTemplate(400, "BadRequest", "Security Type 'TrustedLaunch' is not supported for CreateOption 'Copy'")
D13_ZRS = ErrorTemplate(409, "OperationNotAllowed", "A disk with sku '{sku}' cannot be created in an availability zone.")


@rule("S5", DISK, "A disk's security type is immutable",
      f"{REF} S5; Azure/azure-powershell#24253 (title). HTTP 409 INFERRED from the PropertyChangeNotAllowed family",
      errors=(S5_CHANGE,), operations=("update",), confidence="M")
def s5_disk_security_type_immutable(world: World, old: Doc, new: Doc) -> list:
    """`securityProfile.securityType` is set when a disk is created; an update may not change it (an in-place
    Trusted Launch upgrade of a VM converts its OS disk, which is the platform's doing, not a disk write)."""
    if old is None or new is None:
        return []
    before = v.Disk(old).security_type or "Standard"
    after = get(new, "properties.securityProfile.securityType")
    if after is None or lower(after) == lower(before):
        return []
    return [S5_CHANGE()]


@rule("S6", DISK, "A Trusted Launch disk cannot be created by copy",
      f"{REF} S6; Azure/azure-powershell#24253. Code BadRequest / HTTP 400 INFERRED", errors=(S6_COPY,),
      operations=("create",), confidence="M")
def s6_trusted_launch_copy(world: World, old: Doc, new: Doc) -> list:
    """createOption Copy with securityType TrustedLaunch, or copying a disk/snapshot that carries Trusted
    Launch guest state, is refused: build the disk from a gallery image version instead."""
    if new is None or lower(get(new, "properties.creationData.createOption")) != "copy":
        return []
    st = get(new, "properties.securityProfile.securityType")
    src = get(new, "properties.creationData.sourceResourceId")
    if st == "TrustedLaunch" or source_security_type(world, src) == "TrustedLaunch":
        return [S6_COPY()]
    return []


@rule("D13", DISK, "A zone-redundant (ZRS) disk cannot be created in an availability zone",
      f"{REF} D13; Azure/terraform-azurerm-avm-res-compute-virtualmachine#236", errors=(D13_ZRS,),
      operations=("create",), confidence="H")
def d13_zrs_in_zone(world: World, old: Doc, new: Doc) -> list:
    """Premium_ZRS / StandardSSD_ZRS disks span the region's zones; giving one a zone is refused."""
    if new is None:
        return []
    sku = get(new, "sku.name") or ""
    return [D13_ZRS(sku=sku)] if zones(new) and sku.upper().endswith("_ZRS") else []


# ---- the disk RP's own answers (D14-D21: the reference has no row for them) ------------------------------------
@rule("D14", DISK, "sku.name is one of the disk SKUs",
      f"specs DiskRP DiskStorageAccountTypes (the values); the message is {FAMILY}", errors=(INVALID_ENUM,),
      confidence="H")
def d14_sku_value(world: World, old: Doc, new: Doc) -> list:
    """Standard_LRS, Premium_LRS, StandardSSD_LRS, UltraSSD_LRS, Premium_ZRS, StandardSSD_ZRS or PremiumV2_LRS
    (Standard_LRS when not given)."""
    return not_one_of(new, "sku.name", facts.DISK_SKUS)


D15_CREATION = ErrorTemplate(409, "PropertyChangeNotAllowed", "Changing property 'creationData' is not allowed.",
                             "creationData")


@rule("D15", DISK, "A disk's creation data is set when it is created",
      "specs DiskRP Disk.creationData ('Disk source information. CreationData information cannot be changed after "
      "the disk has been created.'); the answer is INFERRED from the PropertyChangeNotAllowed family (reference "
      "section 9.1)", errors=(D15_CREATION,), operations=("update",), confidence="M")
def d15_creation_data_immutable(world: World, old: Doc, new: Doc) -> list:
    """An update that sends `creationData` with another `createOption` is refused (one that repeats it, or
    leaves it out, keeps the disk's)."""
    if old is None or new is None:
        return []
    before = lower(get(old, "properties.creationData.createOption") or "")
    after = lower(get(new, "properties.creationData.createOption") or "")
    return [D15_CREATION()] if after != before else []


# The disk RP's text for a shrink (MicrosoftDocs/azure-docs#57951, a CRI quoting the response). The code is not in
# the capture: 400 BadRequest INFERRED. refit answered "Disk size reduction is not supported." before.
D16_SHRINK = ErrorTemplate(400, "BadRequest",
                           "The disk/snapshot resource with id {disk} cannot be resized down. Reducing disk/snapshot size "
                           "is not supported in Azure to prevent data loss. If you do need to reduce the size of the disk, "
                           "please create new snapshot/disks with the appropriate size. More information is available at "
                           "https://aka.ms/AzureDisksFAQ", "diskSizeGB")


@rule("D16", DISK, "A disk only grows",
      "MicrosoftDocs/azure-docs#57951 (the message, quoted); https://learn.microsoft.com/azure/virtual-machines/linux/"
      "expand-disks ('Shrinking an existing disk isn't supported'). Code BadRequest / HTTP 400 INFERRED",
      errors=(D16_SHRINK,), operations=("update",), confidence="M")
def d16_no_shrink(world: World, old: Doc, new: Doc) -> list:
    """An update with a `diskSizeGB` below the disk's size is refused: create a smaller disk and copy the data."""
    if old is None or new is None:
        return []
    before, after = get(old, "properties.diskSizeGB"), get(new, "properties.diskSizeGB")
    if before is None or after is None or int(after) >= int(before):
        return []
    return [D16_SHRINK(disk=new["id"])]


refusal("D17", DISK, "A new disk says what it is created from",
        f"{FAMILY}. Which parameters: specs DiskRP CreationData (createOption required; galleryImageReference / "
        "imageReference for FromImage, sourceUri for Import, uploadSizeBytes for Upload) and Disk.diskSizeGB "
        "('required for Empty')",
        doc="""A disk is created with `creationData.createOption`, and what that option needs: `diskSizeGB` (Empty),
        an image reference (FromImage), `sourceUri` (Import), `uploadSizeBytes` (Upload). Without it the disk
        cannot be built.""",
        errors=(REQUIRED, ErrorTemplate(400, "InvalidParameter", "Required parameter 'creationData.imageReference' or "
                                        "'creationData.galleryImageReference' is missing (null).",
                                        "creationData.imageReference")),
        operations=("create",), confidence="M")

refusal("D18", DISK, "createOption is one of the disk RP's",
        f"specs DiskRP DiskCreateOption (the values); the message is {FAMILY}",
        doc="""Empty, FromImage, Copy, Import, ImportSecure, Restore, Upload or CopyStart (case-insensitive): the
        option decides how the disk is built.""",
        errors=(INVALID_ENUM,), operations=("create",), confidence="H")


@rule("D19", DISK, "A disk's securityType is one of the disk RP's",
      f"{REF} 1a (specs DiskRP DiskSecurityTypes); the message is {FAMILY}", errors=(INVALID_ENUM,),
      operations=("create",), confidence="H")
def d19_security_type_value(world: World, old: Doc, new: Doc) -> list:
    """TrustedLaunch, one of the ConfidentialVM_* types, or Standard."""
    return not_one_of(new, "properties.securityProfile.securityType", facts.DISK_SECURITY_TYPES)


refusal("D20", DISK, "A disk copied or restored from a source needs the source",
        "INFERRED: the NotFound family (reference section 9.1); no capture of the disk RP's text",
        doc="""createOption Copy, Restore or CopyStart names `creationData.sourceResourceId`, a disk or snapshot that
        exists: the new disk takes its size, OS type and generation.""",
        errors=(ErrorTemplate(404, "NotFound", "Resource '{source}' was not found.", "creationData.sourceResourceId"),),
        operations=("create",), confidence="L")

D21_ATTACHED = ErrorTemplate(409, "OperationNotAllowed", "Disk {disk} is attached to VM {vm}.")


@rule("D21", DISK, "A disk a VM owns cannot be deleted",
      "ansible/ansible#54644 (the response quoted: 'Azure Error: OperationNotAllowed Message: Disk mdb57dc956081 is "
      "attached to VM /subscriptions/.../virtualMachines/trb57dc95608.'); HTTP 409 INFERRED from the family",
      errors=(D21_ATTACHED,), operations=("delete",), confidence="H")
def d21_attached_delete(world: World, old: Doc, new: Doc) -> list:
    """A disk with `managedBy` (attached to, or reserved by, a VM) is not deleted: detach it, or delete the VM
    with deleteOption Delete."""
    if old is None or not old.get("managedBy"):
        return []
    return [D21_ATTACHED(disk=old.get("name", ""), vm=old["managedBy"])]


D22_RESIZE = ErrorTemplate(409, "OperationNotAllowed",
                           "Cannot resize disk {disk} while it is attached to running VM {vm}. Resizing a disk of an "
                           "Azure Virtual Machine requires the virtual machine to be deallocated. Please stop your VM "
                           "and retry the operation.")
EXPAND_DOC = "https://learn.microsoft.com/azure/virtual-machines/linux/expand-disks#expand-without-downtime"
# Live resize ("expand without downtime", the restrictions include of the expand-disks pages): data disks only,
# not Ultra or Premium SSD v2, not shared, and not across 4 TiB (a disk of 4 TiB or less stays at or below it).
_LIVE_RESIZE_EXCLUDED_SKUS = ("UltraSSD_LRS", "PremiumV2_LRS")
_FOUR_TIB_GB = 4096


def _live_resize_allowed(disk: dict[str, Any], before: int, after: int) -> bool:
    sku = (disk.get("sku") or {}).get("name") or ""
    shared = int(get(disk, "properties.maxShares") or 1) > 1
    return (sku not in _LIVE_RESIZE_EXCLUDED_SKUS and not shared
            and not (before <= _FOUR_TIB_GB < after))


@rule("D22", (DISK, v.VM), "A disk grows while its VM runs only as the live-resize conditions allow",
      f"{EXPAND_DOC} (an OS disk, and a data disk outside the conditions: Ultra, Premium SSD v2, shared, or growing past "
      "4 TiB, need the VM deallocated); kubernetes/kubernetes#96706 (the answer quoted: OperationNotAllowed, inner "
      "code ChangeDiskSizeWhileAttachedNotAllowed); HTTP 409 INFERRED from the family",
      errors=(D22_RESIZE,), operations=("update",), confidence="H")
def d22_resize_needs_deallocation(world: World, old: Doc, new: Doc) -> list:
    """A larger `diskSizeGB` on a disk attached to a VM that is not deallocated is refused for the VM's OS disk
    and for a data disk the live-resize conditions exclude; so is a larger `storageProfile.osDisk.diskSizeGB` in
    the model of a VM that is not deallocated. (The documented conditions also need a VM size that supports it
    and api-version 2021-04-01 or later: not modelled.)"""
    if old is None or new is None:
        return []
    if (new.get("type") or "").lower() == v.VM.lower():
        before = get(old, "properties.storageProfile.osDisk.diskSizeGB")
        after = get(new, "properties.storageProfile.osDisk.diskSizeGB")
        if before is None or after is None or int(after) <= int(before) or deallocated(new):
            return []
        disk_id = get(new, "properties.storageProfile.osDisk.managedDisk.id") or ""
        return [D22_RESIZE(disk=disk_id.rsplit("/", 1)[-1] or get(new, "properties.storageProfile.osDisk.name"),
                           vm=new["id"])]
    before, after = get(old, "properties.diskSizeGB"), get(new, "properties.diskSizeGB")
    if before is None or after is None or int(after) <= int(before):
        return []
    vm = world.get(new.get("managedBy") or old.get("managedBy") or "")
    if vm is None or deallocated(vm):
        return []
    is_os_disk = same_id(v.Vm(vm).os_disk_id or "", new["id"])
    if not is_os_disk and _live_resize_allowed(new, int(before), int(after)):
        return []
    return [D22_RESIZE(disk=new.get("name", ""), vm=vm["id"])]
