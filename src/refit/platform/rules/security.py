"""Security types, Hyper-V generation and images (reference section 1c; table 1b).

Which VM/VMSS security type may boot which image (S2, S3, S11), which VM size may run it (S1, S7, S12),
which OS disk a VM may be created on (S4), and which sources a managed image (S8) or a gallery image
version (S9, S10) may be built from. Seed 000's deadlock is S2 + S3: a Standard scale set on a Standard
image can neither take a TrustedLaunch-only image (S3) nor become TrustedLaunch on its image (S2); the
way out is a TrustedLaunchSupported definition (S9 allows a managed image source) taken together with
the securityType in ONE update (V1, acd trusted-launch-existing-vmss.md).
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.world import World
from refit.platform.rules import facts
from refit.platform.rules.common import (
    DISK_MISMATCH,
    IMAGE,
    REF,
    VERSION,
    VM,
    VMSS,
    VMSS_PROFILE,
    boots_from_image,
    changed,
    disk_generation,
    get,
    image_reference,
    is_type,
    os_disk,
    resolve,
    security_type,
    size,
    source_kind,
    source_security_type,
    version_source,
    vm_generation,
)
from refit.platform.rules.registry import ErrorTemplate, rule

Doc = dict[str, Any] | None

S1_SIZE = ErrorTemplate(400, "BadRequest",
                        "The VM size '{size}' is not supported for creation of VMs and Virtual Machine Scale Set with "
                        "'TrustedLaunch' security type. For more information, see https://aka.ms/TrustedLaunch-FAQ")
S2_IMAGE = ErrorTemplate(400, "BadRequest",
                         "Use of TrustedLaunch setting is not supported for the provided image. Please select Trusted "
                         "Launch Supported Gen2 OS Image. For more information, see https://aka.ms/TrustedLaunch-FAQ.")
S3_ONLY = ErrorTemplate(400, "BadRequest",
                        "The provided gallery image only supports creation of VMs and VM Scale Sets with "
                        "'{security_type}' security type.")
S7_GEN = ErrorTemplate(400, "BadRequest",
                       "The selected VM size '{size}' cannot boot Hypervisor Generation '{gen}'. If this was a Create "
                       "operation please check that the Hypervisor Generation of the Image matches the Hypervisor "
                       "Generation of the selected VM Size. If this was an Update operation please select a Hypervisor "
                       "Generation '{gen}' VM Size.")
S8_VM = ErrorTemplate(409, "OperationNotAllowed",
                      "Creation of managed images are not supported for virtual machine with {security_type} security "
                      "type.")
S8_DISK = ErrorTemplate(409, "OperationNotAllowed",
                        "Creation of managed images are not supported for disk with {security_type} security type.")
S9_SOURCE = ErrorTemplate(400, "InvalidParameter",
                          "The security type '{security_type}' is not supported for the source id '{source}'. "
                          "Currently only {kinds} sources are supported for '{security_type}' images.")
S10_SOURCE = ErrorTemplate(400, "InvalidParameter",
                           "Confidential VM is not supported for the source id '{source}'. Currently Snapshot, Disk and "
                           "VM sources are supported for the Confidential VM security type.",
                           "galleryImageVersion.properties.storageProfile.osDiskImage.source.id")
S11_IMAGE = ErrorTemplate(400, "InvalidParameter", "SecurityType '{disk_type}' is not supported by given image.",
                          "securityProfile.securityType")
S12_SIZE = ErrorTemplate(400, "BadRequest",
                         "The VM size '{size}' is not supported for creation of VMs and Virtual Machine Scale Set with "
                         "'ConfidentialVM' security type and managedDisk.securityProfile.securityEncryptionType set as "
                         "'{encryption}'")


def _security_path(doc: dict[str, Any]) -> str:
    return (f"{VMSS_PROFILE}.securityProfile.securityType" if is_type(doc, VMSS)
            else "properties.securityProfile.securityType")


def _image_path(doc: dict[str, Any]) -> str:
    return (f"{VMSS_PROFILE}.storageProfile.imageReference" if is_type(doc, VMSS)
            else "properties.storageProfile.imageReference")


def _size_path(doc: dict[str, Any]) -> str:
    return "sku.name" if is_type(doc, VMSS) else "properties.hardwareProfile.vmSize"


def _image_checked(old: Doc, new: dict[str, Any]) -> bool:
    """When does Azure check the image against the security type? A VM: at creation only (an in-place
    upgrade looks at the OS disk, U1/U5). A scale set: at creation and whenever its model's image or
    securityType changes (V1: both in one update)."""
    if not boots_from_image(new):
        return False
    if old is None:
        return True
    return is_type(new, VMSS) and (changed(old, new, _image_path(new)) or
                                   security_type(old) != security_type(new))


def _image_facts(world: World, old: Doc, new: Doc):
    if new is None or not _image_checked(old, new):
        return None
    f, _ = resolve(world, image_reference(new), new.get("location", ""))
    return f  # an unresolvable image is rule G13/G14/G21's answer


def _encryption(doc: dict[str, Any]) -> str:
    return (get(os_disk(doc), "managedDisk.securityProfile.securityEncryptionType") or "VMGuestStateOnly")


@rule("S1", (VM, VMSS), "Trusted Launch needs a Trusted Launch capable VM size",
      f"{REF} S1; Azure/azure-cli#28005 (error table); https://aka.ms/TrustedLaunch-FAQ (size list INFERRED in "
      "the SKU table, refit.platform.skus: TrustedLaunchDisabled)", errors=(S1_SIZE,), confidence="H")
def s1_trusted_launch_size(world: World, old: Doc, new: Doc) -> list:
    """A VM or scale set with securityType TrustedLaunch must use a size that supports Trusted Launch.
    Checked when the security type or the size is set or changed."""
    if new is None or security_type(new) != "TrustedLaunch":
        return []
    if old is not None and security_type(old) == "TrustedLaunch" and not changed(old, new, _size_path(new)):
        return []
    sz = size(new)
    return [] if not sz or facts.size_supports(sz, "TrustedLaunch") else [S1_SIZE(size=sz)]


@rule("S2", (VM, VMSS), "Trusted Launch needs a Trusted Launch capable Gen2 image",
      f"{REF} S2, V1; Azure/azure-cli#27975, #28005; acd trusted-launch-existing-vmss.md", errors=(S2_IMAGE,),
      confidence="H")
def s2_trusted_launch_image(world: World, old: Doc, new: Doc) -> list:
    """securityType TrustedLaunch on an image that is not Trusted Launch capable: a Gen1 image, a managed
    image or Standard definition, or a non-TL marketplace image (table 1b). For a scale set this is the
    answer to 'securityType first' in seed 000: change the image to a TrustedLaunchSupported definition in
    the SAME update (V1)."""
    if new is None or security_type(new) != "TrustedLaunch":
        return []
    f = _image_facts(world, old, new)
    if f is None or f.security_type in facts.GUEST_STATE_DEFINITIONS:
        return []  # a ConfidentialVM-only image is S3's answer
    return [] if facts.image_allows(f.security_type, f.hyper_v_generation, "TrustedLaunch") else [S2_IMAGE()]


@rule("S3", (VM, VMSS), "A TrustedLaunch (or ConfidentialVM) image definition boots only VMs of that security type",
      f"{REF} S3, V1; hashicorp/terraform-provider-azurerm#23148; kubermatic/machine-controller#2013. The "
      "ConfidentialVM-only variant of the message is INFERRED", errors=(S3_ONLY,), confidence="H")
def s3_guest_state_image_only(world: World, old: Doc, new: Doc) -> list:
    """A gallery image whose definition is `TrustedLaunch` carries VM guest state and boots TrustedLaunch
    VMs/scale sets only (likewise `ConfidentialVM`). Seed 000's 'image first' shortcut: a Standard scale
    set pointed at the TrustedLaunch definition."""
    if new is None:
        return []
    f = _image_facts(world, old, new)
    if f is None or f.security_type not in facts.GUEST_STATE_DEFINITIONS:
        return []
    return [] if security_type(new) == f.security_type else [S3_ONLY(security_type=f.security_type)]


@rule("S4", VM, "A VM created on an existing OS disk needs the disk's security type",
      f"{REF} S4; Azure/azure-sdk-for-python#30479; Azure/azure-powershell#24253", errors=(DISK_MISMATCH,),
      operations=("create",), confidence="H")
def s4_attached_os_disk_security(world: World, old: Doc, new: Doc) -> list:
    """createOption Attach: a TrustedLaunch VM needs a TrustedLaunch disk, a ConfidentialVM a ConfidentialVM_*
    disk and a Standard VM a disk without either (facts.disk_matches_vm). The swap of an existing VM's OS
    disk is rule D4."""
    if new is None or str(os_disk(new).get("createOption") or "").lower() != "attach":
        return []
    disk = world.get(v.Vm(new).os_disk_id)
    if disk is None:
        return []
    return [] if facts.disk_matches_vm(v.Disk(disk).security_type, security_type(new)) else [DISK_MISMATCH()]


def _boot_generation(world: World, old: Doc, new: dict[str, Any]) -> str | None:
    """The generation the VM/VMSS boots after this write, when the write could change the answer."""
    size_changed = old is not None and changed(old, new, _size_path(new))
    if is_type(new, VMSS):
        if old is None or size_changed or changed(old, new, _image_path(new)):
            f, _ = resolve(world, image_reference(new), new.get("location", ""))
            return f.hyper_v_generation if f else None
        return None
    if old is None:
        if boots_from_image(new):
            f, _ = resolve(world, image_reference(new), new.get("location", ""))
            return f.hyper_v_generation if f else None
        disk = world.get(v.Vm(new).os_disk_id)
        return disk_generation(disk) if disk is not None else None
    return vm_generation(world, old) if size_changed else None


@rule("S7", (VM, VMSS), "The VM size must boot the image's (or OS disk's) Hyper-V generation",
      f"{REF} S7; Azure/azure-cli#21264 (message prefix; the rest of the message is truncated in the source). "
      "Size generations: the SKU table's HyperVGenerations (refit.platform.skus)", errors=(S7_GEN,), confidence="H")
def s7_size_generation(world: World, old: Doc, new: Doc) -> list:
    """Gen1-only sizes (A series) cannot boot a Gen2 image/disk and Gen2-only sizes (v6, Arm64, Mv2,
    confidential) cannot boot a Gen1 one. Checked on create and when the size or a scale set's image changes."""
    if new is None:
        return []
    gen = _boot_generation(world, old, new)
    sz = size(new)
    if gen is None or not sz or gen in facts.size_generations(sz):
        return []
    return [S7_GEN(size=sz, gen=gen.lstrip("Vv"))]


@rule("S8", IMAGE, "A managed image cannot be created from a Trusted Launch (or confidential) VM or disk",
      f"{REF} S8; hashicorp/packer#13189; taskcluster/community-tc-config#936; acd trusted-launch-portal.md. "
      "HTTP 409 INFERRED (usual for OperationNotAllowed); the disk and ConfidentialVM variants are INFERRED",
      errors=(S8_VM, S8_DISK), operations=("create",), confidence="H")
def s8_managed_image_from_guest_state(world: World, old: Doc, new: Doc) -> list:
    """Managed images cannot hold VM guest state: capturing one (`sourceVirtualMachine`) from a TrustedLaunch
    or ConfidentialVM VM, or from such an OS disk/snapshot, is refused. Use a gallery definition of security
    type TrustedLaunch instead (section 10)."""
    if new is None:
        return []
    vm_id = get(new, "properties.sourceVirtualMachine.id")
    vm = world.get(vm_id) if vm_id else None
    if vm is not None and security_type(vm) != "Standard":
        return [S8_VM(security_type=security_type(vm))]
    osd = get(new, "properties.storageProfile.osDisk") or {}
    src = (osd.get("managedDisk") or {}).get("id") or (osd.get("snapshot") or {}).get("id")
    st = source_security_type(world, src) if src else "Standard"
    return [S8_DISK(security_type=st)] if st != "Standard" else []


def _kinds_text(kinds: list[str]) -> str:
    names = [facts.SOURCE_KIND_NAMES[k] for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@rule("S9", VERSION, "A definition's security type decides which sources its versions may be built from",
      f"{REF} S9, table 1b; hashicorp/packer-plugin-azure#304 (TrustedLaunchSupported from a VM id). Plain Gen2 "
      "disks/snapshots accepted for *Supported definitions and the TrustedLaunch-definition message are INFERRED",
      errors=(S9_SOURCE,), operations=("create",), confidence="H")
def s9_version_source_kind(world: World, old: Doc, new: Doc) -> list:
    """A `TrustedLaunchSupported` (or `TrustedLaunchAndConfidentialVmSupported`, `ConfidentialVmSupported`)
    version needs a source WITHOUT VM guest state: a VHD, a managed ("user") image, a gallery version, or a
    disk/snapshot that carries no guest state; a VM id is refused. A `TrustedLaunch` definition takes the
    sources that carry guest state: a VM, a managed disk or a snapshot (facts.VERSION_SOURCES).
    ConfidentialVM definitions are rule S10."""
    if new is None:
        return []
    definition = world.get(str(v.ImageVersion(new).rid.parent))
    if definition is None:
        return []
    st = v.ImageDefinition(definition).security_type
    if st in ("Standard", "ConfidentialVM") or st not in facts.VERSION_SOURCES:
        return []
    src, uri, _ = version_source(new)
    kind = source_kind(world, src, uri)
    if kind == "unknown":
        return []
    refused = kind not in facts.VERSION_SOURCES[st]
    if st in facts.GUEST_STATE_FREE_DEFINITIONS and kind in ("disk", "snapshot"):
        gs = source_security_type(world, src)
        refused = gs == "TrustedLaunch" or gs.startswith("ConfidentialVM")
    if not refused:
        return []
    kinds = (["vhd", "managed-image", "gallery-version"] if st in facts.GUEST_STATE_FREE_DEFINITIONS
             else sorted(facts.VERSION_SOURCES[st], key=list(facts.SOURCE_KIND_NAMES).index))
    return [S9_SOURCE(security_type=st, source=src or uri, kinds=_kinds_text(kinds))]


@rule("S10", VERSION, "A ConfidentialVM image version needs a snapshot, disk or VM source",
      f"{REF} S10; hashicorp/packer-plugin-azure#372. Code InvalidParameter and HTTP 400 INFERRED",
      errors=(S10_SOURCE,), operations=("create",), confidence="H")
def s10_confidential_version_source(world: World, old: Doc, new: Doc) -> list:
    """A version of a `ConfidentialVM` definition cannot be built from a managed image, a VHD or another
    gallery version: only from a snapshot, a disk or a VM."""
    if new is None:
        return []
    definition = world.get(str(v.ImageVersion(new).rid.parent))
    if definition is None or v.ImageDefinition(definition).security_type != "ConfidentialVM":
        return []
    src, uri, _ = version_source(new)
    kind = source_kind(world, src, uri)
    if kind == "unknown" or kind in facts.VERSION_SOURCES["ConfidentialVM"]:
        return []
    return [S10_SOURCE(source=src or uri)]


@rule("S11", (VM, VMSS), "ConfidentialVM needs an image that supports it",
      f"{REF} S11; Azure/azure-cli#22200", errors=(S11_IMAGE,), confidence="H")
def s11_confidential_image(world: World, old: Doc, new: Doc) -> list:
    """securityType ConfidentialVM on an image whose definition does not allow it (table 1b: only
    ConfidentialVmSupported, TrustedLaunchAndConfidentialVmSupported and ConfidentialVM definitions, Gen2)."""
    if new is None or security_type(new) != "ConfidentialVM":
        return []
    f = _image_facts(world, old, new)
    if f is None or f.security_type in facts.GUEST_STATE_DEFINITIONS:
        return []  # a TrustedLaunch-only image is S3's answer
    if facts.image_allows(f.security_type, f.hyper_v_generation, "ConfidentialVM"):
        return []
    enc = _encryption(new)
    return [S11_IMAGE(disk_type=facts.CVM_ENCRYPTION_DISK_TYPES.get(enc, f"ConfidentialVM_{enc}"))]


@rule("S12", (VM, VMSS), "ConfidentialVM needs a confidential VM size",
      f"{REF} S12; confidential-containers/cloud-api-adaptor#1742 (sizes in facts.is_confidential_size)",
      errors=(S12_SIZE,), confidence="H")
def s12_confidential_size(world: World, old: Doc, new: Doc) -> list:
    """A ConfidentialVM VM or scale set must use a confidential size (DCasv5, ECasv5, DCesv5...). Checked when
    the security type or the size is set or changed."""
    if new is None or security_type(new) != "ConfidentialVM":
        return []
    if old is not None and security_type(old) == "ConfidentialVM" and not changed(old, new, _size_path(new)):
        return []
    sz = size(new)
    return [] if not sz or facts.size_supports(sz, "ConfidentialVM") else [S12_SIZE(size=sz, encryption=_encryption(new))]

