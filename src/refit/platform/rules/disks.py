"""Managed disks (reference sections 1c and 2): a disk's security type is fixed (S5), a Trusted Launch
disk is not copied (S6), and zone-redundant disks have no zone (D13)."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.world import World
from refit.platform.rules.common import DISK, REF, get, lower, source_security_type, zones
from refit.platform.rules.registry import ErrorTemplate, rule

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
