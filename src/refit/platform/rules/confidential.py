"""Confidential VMs: the OS disk's confidential encryption, customer keys through a disk encryption set, and the
gallery versions a confidential VM is built from (issue 17 scope 2; seed 002 "Building reusable custom images for
Azure Confidential VMs").

What the other families already say: the image must support ConfidentialVM (S11), the size must be a confidential
one (S12), a managed image cannot be captured from a confidential VM (S8), a `*Supported` definition's version
cannot come from a VM (S9) and a `ConfidentialVM` definition's only from a VM, disk or snapshot (S10); a VM never
becomes or stops being confidential in place (U8). That is the field report's path: a confidential VM built, its OS
disk exported as a VHD, the VHD published into a ConfidentialVmSupported / TrustedLaunchAndConfidentialVmSupported
definition, and VMs created from it with a platform key or a customer key (CVM1-CVM8 below).

Sources: acd articles/confidential-computing/create-confidential-vm-from-compute-gallery.md (the two kinds of
confidential images, their sources and replication), the REST specs (ComputeRP SecurityEncryptionTypes, GalleryRP
OSDiskImageSecurityProfile / ConfidentialVMEncryptionType, DiskRP DiskEncryptionSetType), and the errors quoted
per rule. Where no public text gives Azure's answer the rule's source says INFERRED.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from refit.arm import views as v
from refit.arm.world import World
from refit.platform.rules.common import (
    INVALID_ENUM,
    REQUIRED,
    VERSION,
    VM,
    VMSS,
    boots_from_image,
    get,
    is_type,
    name_of,
    os_disk,
    parent_of,
    security_type,
    storage_profile_path,
    type_of_id,
    version_source,
)
from refit.platform.rules.registry import ErrorTemplate, rule

Doc = dict[str, Any] | None

DES = "Microsoft.Compute/diskEncryptionSets"
STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"

# ComputeRP SecurityEncryptionTypes (VMDiskSecurityProfile.securityEncryptionType).
ENCRYPTION_TYPES = ("VMGuestStateOnly", "DiskWithVMGuestState", "NonPersistedTPM")
# DiskRP DiskEncryptionSetType.
DES_TYPES = ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys",
             "ConfidentialVmEncryptedWithCustomerKey")
CVM_DES_TYPE = "ConfidentialVmEncryptedWithCustomerKey"
# GalleryRP ConfidentialVMEncryptionType (targetRegions[].encryption.osDiskImage.securityProfile).
IMAGE_ENCRYPTION_TYPES = ("EncryptedVMGuestStateOnlyWithPmk", "EncryptedWithPmk", "EncryptedWithCmk", "NonPersistedTPM")
# The disk a confidential source carries -> the image encryption type its version must say (acd
# create-confidential-vm-from-compute-gallery.md: "make sure the Confidential compute encryption type matches the
# source disk or snapshot's type"; the pairing of the two enums is INFERRED from their names).
DISK_TO_IMAGE_ENCRYPTION = {
    "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey": "EncryptedVMGuestStateOnlyWithPmk",
    "ConfidentialVM_DiskEncryptedWithPlatformKey": "EncryptedWithPmk",
    "ConfidentialVM_DiskEncryptedWithCustomerKey": "EncryptedWithCmk",
    "ConfidentialVM_NonPersistedTPM": "NonPersistedTPM",
}


def disk_security_type(encryption_type: str | None, customer_key: bool) -> str | None:
    """The managed disk securityProfile.securityType a confidential VM's OS disk gets (DiskRP DiskSecurityTypes):
    VMGuestStateOnly -> ..._VMGuestStateOnlyEncryptedWithPlatformKey, DiskWithVMGuestState -> ..._DiskEncrypted
    WithPlatformKey, or ..._DiskEncryptedWithCustomerKey with a disk encryption set (seed 002: PMK by default,
    CMK with the set)."""
    if encryption_type == "DiskWithVMGuestState":
        return ("ConfidentialVM_DiskEncryptedWithCustomerKey" if customer_key
                else "ConfidentialVM_DiskEncryptedWithPlatformKey")
    return {"VMGuestStateOnly": "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey",
            "NonPersistedTPM": "ConfidentialVM_NonPersistedTPM"}.get(encryption_type or "")


def _disk_security_path(doc: dict[str, Any]) -> str:
    return storage_profile_path(doc) + ".osDisk.managedDisk.securityProfile"


def encryption_type(doc: Doc) -> str | None:
    return get(os_disk(doc), "managedDisk.securityProfile.securityEncryptionType")


def customer_key_set(doc: Doc) -> str | None:
    """The disk encryption set id of a confidential OS disk's customer key (managedDisk.securityProfile.
    diskEncryptionSet.id)."""
    return get(os_disk(doc), "managedDisk.securityProfile.diskEncryptionSet.id")


# ---- CVM1: a confidential VM says how its OS disk is encrypted -------------------------------------------------
CVM1_MISSING = ErrorTemplate(400, "BadRequest", "Required parameter for Confidential VMs "
                             "'managedDisk.securityProfile.securityEncryptionType' is missing (null).")


@rule("CVM1", (VM, VMSS), "A confidential VM needs its OS disk's securityEncryptionType",
      "Azure/avdaccelerator#686 and #609 (the error, code BadRequest, from a deployment's details); "
      "Azure/bicep-registry-modules#5561. HTTP 400 INFERRED from the code",
      errors=(CVM1_MISSING,), operations=("create",), confidence="H")
def cvm1_encryption_type_required(world: World, old: Doc, new: Doc) -> list:
    """securityType ConfidentialVM on a VM or scale set whose OS disk is created from an image must say
    `osDisk.managedDisk.securityProfile.securityEncryptionType`: VMGuestStateOnly (the VM guest state encrypted,
    a platform key), DiskWithVMGuestState (the whole OS disk with it: platform key, or a customer key through
    `securityProfile.diskEncryptionSet`) or NonPersistedTPM. A VM attached to an existing confidential disk
    takes the disk's."""
    if new is None or security_type(new) != "ConfidentialVM" or not boots_from_image(new):
        return []
    return [] if encryption_type(new) else [CVM1_MISSING()]


# ---- CVM2: the value, and only for a confidential VM ----------------------------------------------------------
CVM2_NOT_CVM = ErrorTemplate(400, "BadRequest", "managedDisk.securityProfile.securityEncryptionType can be set only "
                             "for VMs and Virtual Machine Scale Sets with 'ConfidentialVM' security type.")


@rule("CVM2", (VM, VMSS), "securityEncryptionType is one of Azure's values, and only on a confidential VM",
      "specs ComputeRP SecurityEncryptionTypes ('It can be set only for Confidential VMs'; learn "
      "virtual-machines/create-or-update#securityencryptiontypes). INVALID_ENUM is CRP's wording (reference 9.1); the "
      "not-confidential message and its code are INFERRED",
      errors=(INVALID_ENUM, CVM2_NOT_CVM), confidence="M")
def cvm2_encryption_type_value(world: World, old: Doc, new: Doc) -> list:
    """`securityEncryptionType` is VMGuestStateOnly, DiskWithVMGuestState or NonPersistedTPM, and only a VM or
    scale set of securityType ConfidentialVM may carry one (a Standard or TrustedLaunch OS disk has no
    confidential encryption)."""
    enc = encryption_type(new) if new is not None else None
    if not enc:
        return []
    path = _disk_security_path(new).removeprefix("properties.") + ".securityEncryptionType"
    if enc not in ENCRYPTION_TYPES:
        return [INVALID_ENUM(value=enc, path="securityEncryptionType", target=path)]
    return [] if security_type(new) == "ConfidentialVM" else [CVM2_NOT_CVM()]


# ---- CVM3: a customer key is a confidential disk encryption set, over the whole disk --------------------------
CVM3_NOT_FOUND = ErrorTemplate(404, "NotFound", "The disk encryption set '{des}' could not be found.",
                               "managedDisk.securityProfile.diskEncryptionSet.id")
CVM3_TYPE = ErrorTemplate(400, "BadRequest", "The disk encryption set '{des}' has encryption type '{des_type}'. A "
                          "Confidential VM's OS disk needs a disk encryption set of encryption type "
                          "'ConfidentialVmEncryptedWithCustomerKey'.",
                          "managedDisk.securityProfile.diskEncryptionSet.id")
CVM3_GUEST_ONLY = ErrorTemplate(400, "BadRequest", "managedDisk.securityProfile.diskEncryptionSet can be set only "
                                "when managedDisk.securityProfile.securityEncryptionType is 'DiskWithVMGuestState'.")


@rule("CVM3", VM, "A confidential VM's customer key is a ConfidentialVmEncryptedWithCustomerKey disk encryption set",
      "Azure/azure-cli#22200 ('ARM URI of Disk Encryption Set ID ... should have encryption type set to "
      "ConfidentialVmEncryptedWithCustomerKey'); DiskRP DiskSecurityTypes (a customer key exists only as "
      "ConfidentialVM_DiskEncryptedWithCustomerKey, so only with DiskWithVMGuestState). Codes and messages INFERRED",
      errors=(CVM3_NOT_FOUND, CVM3_TYPE, CVM3_GUEST_ONLY), operations=("create",), confidence="M")
def cvm3_customer_key_set(world: World, old: Doc, new: Doc) -> list:
    """`osDisk.managedDisk.securityProfile.diskEncryptionSet` is the customer key of a confidential OS disk: a
    disk encryption set that exists and was created with encryptionType ConfidentialVmEncryptedWithCustomerKey,
    on a disk encrypted whole (securityEncryptionType DiskWithVMGuestState): the disk becomes
    ConfidentialVM_DiskEncryptedWithCustomerKey. Without it, the platform key (..._DiskEncryptedWithPlatformKey)."""
    des_id = customer_key_set(new) if new is not None else None
    if not des_id or security_type(new) != "ConfidentialVM":
        return []
    des = world.get(des_id)
    if des is None:
        return [CVM3_NOT_FOUND(des=des_id)]
    des_type = get(des, "properties.encryptionType") or "EncryptionAtRestWithCustomerKey"
    if des_type != CVM_DES_TYPE:
        return [CVM3_TYPE(des=name_of(des_id), des_type=des_type)]
    return [] if encryption_type(new) == "DiskWithVMGuestState" else [CVM3_GUEST_ONLY()]


# ---- CVM4: a version's confidential encryption per target region ----------------------------------------------
CVM4_NOT_CVM = ErrorTemplate(400, "InvalidParameter", "confidentialVMEncryptionType can be set only for an image "
                             "version of a gallery image with 'ConfidentialVM' security type.",
                             "publishingProfile.targetRegions[{i}].encryption.osDiskImage.securityProfile")
CVM4_CMK = ErrorTemplate(400, "InvalidParameter", "Required parameter 'secureVMDiskEncryptionSetId' is missing "
                         "(null) for confidentialVMEncryptionType 'EncryptedWithCmk'.",
                         "publishingProfile.targetRegions[{i}].encryption.osDiskImage.securityProfile")
CVM4_DES = ErrorTemplate(400, "InvalidParameter", "The disk encryption set '{des}' of secureVMDiskEncryptionSetId "
                         "must exist and have encryption type 'ConfidentialVmEncryptedWithCustomerKey'.",
                         "publishingProfile.targetRegions[{i}].encryption.osDiskImage.securityProfile")
CVM4_MATCH = ErrorTemplate(400, "InvalidParameter", "confidentialVMEncryptionType '{given}' does not match the "
                           "source's security type '{disk_type}' (expected '{expected}').",
                           "publishingProfile.targetRegions[{i}].encryption.osDiskImage.securityProfile")


def _source_disk_type(world: World, src: str | None) -> str | None:
    """The confidential disk type a version's source carries: a disk's or snapshot's securityType, or a VM's
    OS disk's."""
    doc = world.get(src) if src else None
    if doc is None:
        return None
    if is_type(doc, VM):
        disk = world.get(v.Vm(doc).os_disk_id)
        return get(disk, "properties.securityProfile.securityType") if disk else None
    return get(doc, "properties.securityProfile.securityType")


@rule("CVM4", VERSION, "A version's confidentialVMEncryptionType: ConfidentialVM definitions only, a key for Cmk, "
      "the source's type",
      "GalleryRP OSDiskImageSecurityProfile / ConfidentialVMEncryptionType (specs); Azure/azure-powershell#28657 (a "
      "ConfidentialVM version from a CVM with EncryptedWithPmk); hashicorp/packer-plugin-azure#373 (Cmk needs the "
      "set); acd create-confidential-vm-from-compute-gallery.md (the type matches the source disk's). Messages INFERRED",
      errors=(INVALID_ENUM, CVM4_NOT_CVM, CVM4_CMK, CVM4_DES, CVM4_MATCH), confidence="M")
def cvm4_version_confidential_encryption(world: World, old: Doc, new: Doc) -> list:
    """`targetRegions[].encryption.osDiskImage.securityProfile.confidentialVMEncryptionType` says how a
    `ConfidentialVM` definition's version is encrypted in that region: EncryptedVMGuestStateOnlyWithPmk,
    EncryptedWithPmk, or EncryptedWithCmk with `secureVMDiskEncryptionSetId` (a ConfidentialVmEncryptedWithCustomerKey
    disk encryption set); it must match the confidential disk its source carries. A `*Supported` definition's
    version has no guest state to encrypt: confidential encryption is chosen when a VM is created from it (CVM1)."""
    if new is None:
        return []
    definition = world.get(parent_of(new["id"]) or "")
    def_type = v.ImageDefinition(definition).security_type if definition else None
    src, _, _ = version_source(new)
    out = []
    for i, t in enumerate(get(new, "properties.publishingProfile.targetRegions") or []):
        sp = get(t, "encryption.osDiskImage.securityProfile") or {}
        given, des_id = sp.get("confidentialVMEncryptionType"), sp.get("secureVMDiskEncryptionSetId")
        if not given and not des_id:
            continue
        if given and given not in IMAGE_ENCRYPTION_TYPES:
            out.append(INVALID_ENUM(value=given, path="confidentialVMEncryptionType",
                                    target=f"publishingProfile.targetRegions[{i}].encryption.osDiskImage.securityProfile"))
        elif definition is not None and def_type != "ConfidentialVM":
            out.append(CVM4_NOT_CVM(i=i))
        elif given == "EncryptedWithCmk" and not des_id:
            out.append(CVM4_CMK(i=i))
        elif des_id and (world.get(des_id) is None or get(world.get(des_id), "properties.encryptionType") != CVM_DES_TYPE):
            out.append(CVM4_DES(i=i, des=des_id))
        else:
            disk_type = _source_disk_type(world, src)
            expected = DISK_TO_IMAGE_ENCRYPTION.get(disk_type or "")
            if given and expected and given != expected:
                out.append(CVM4_MATCH(i=i, given=given, disk_type=disk_type, expected=expected))
        if out:
            return out[:1]
    return []


# ---- CVM5: a ConfidentialVM version stays in its region --------------------------------------------------------
CVM5_REGION = ErrorTemplate(400, "InvalidParameter", "An image version of a gallery image with 'ConfidentialVM' "
                            "security type can be replicated only within its source region '{region}'; remove "
                            "target region '{target}'.", "publishingProfile.targetRegions")


@rule("CVM5", VERSION, "A ConfidentialVM definition's version replicates only within its source region",
      "https://learn.microsoft.com/azure/confidential-computing/create-confidential-vm-from-compute-gallery ('This "
      "image version can be replicated within the source region but cannot be replicated to a different region'). Code and message "
      "INFERRED", errors=(CVM5_REGION,), confidence="M")
def cvm5_confidential_version_region(world: World, old: Doc, new: Doc) -> list:
    """A version of a `ConfidentialVM` definition carries the VM guest state (and confidential disk encryption)
    of its source and is replicated within the source region only. To run the image in other regions publish it
    into a ConfidentialVmSupported (or TrustedLaunchAndConfidentialVmSupported) definition from a VHD: those
    versions replicate anywhere (CVM6)."""
    if new is None:
        return []
    definition = world.get(parent_of(new["id"]) or "")
    if definition is None or v.ImageDefinition(definition).security_type != "ConfidentialVM":
        return []
    home = _region(new.get("location"))
    for t in get(new, "properties.publishingProfile.targetRegions") or []:
        if isinstance(t, dict) and t.get("name") and _region(t["name"]) != home:
            return [CVM5_REGION(region=new.get("location"), target=t["name"])]
    return []


def _region(name: Any) -> str:
    return str(name or "").replace(" ", "").lower()


# ---- CVM6: a VHD source names its storage account ----------------------------------------------------------
CVM6_ACCOUNT = ErrorTemplate(400, "InvalidParameter", "Required parameter 'storageAccountId' is missing (null): a VHD "
                             "source needs the id of the storage account that holds the blob '{uri}'.",
                             "storageProfile.osDiskImage.source.storageAccountId")
CVM6_NOT_FOUND = ErrorTemplate(404, "NotFound", "The storage account '{account}' could not be found.",
                               "storageProfile.osDiskImage.source.storageAccountId")
CVM6_MISMATCH = ErrorTemplate(400, "InvalidParameter", "The VHD uri '{uri}' is not a blob of the storage account "
                              "'{account}' (https://{account}.blob.core.windows.net/...).",
                              "storageProfile.osDiskImage.source.uri")


@rule("CVM6", VERSION, "A VHD source names the storage account that holds the blob",
      "Azure/azure-rest-api-specs#10466 (GalleryRP: 'both the storage account resource ID and the vhd uri will have to "
      "be provided ... validate the storage accounts match'); specs GalleryImageVersion_Create_WithVHD.json. Codes, "
      "messages and the blob-endpoint form of the match INFERRED", errors=(CVM6_ACCOUNT, CVM6_NOT_FOUND, CVM6_MISMATCH),
      operations=("create",), confidence="M")
def cvm6_vhd_storage_account(world: World, old: Doc, new: Doc) -> list:
    """A version published from a VHD (`storageProfile.osDiskImage.source.uri`, the way a confidential VM's OS disk
    reaches a ConfidentialVmSupported definition) gives `storageAccountId` too: an existing storage account whose
    blob endpoint (https://{account}.blob.core.windows.net/) the uri is under. The blob itself is data plane:
    refit models that it is in that account, not its bytes. An account in a resource group the world does not hold
    (Image Builder's staging group) is taken as there."""
    if new is None:
        return []
    _, uri, path = version_source(new)
    if not uri:
        return []
    account_id = get(new, f"{path}.storageAccountId")
    if not account_id:
        return [CVM6_ACCOUNT(uri=uri)]
    if type_of_id(account_id) != STORAGE_ACCOUNT.lower() or (world.get(account_id) is None and _group_seen(world, account_id)):
        return [CVM6_NOT_FOUND(account=account_id)]
    account = name_of(account_id)
    host = (urlparse(uri).hostname or "").lower()
    if urlparse(uri).scheme != "https" or host != f"{account.lower()}.blob.core.windows.net":
        return [CVM6_MISMATCH(uri=uri, account=account)]
    return []


def _group_seen(world: World, account_id: str) -> bool:
    """Whether the account's resource group is one the world holds: an account in a group refit does not see (Image
    Builder's staging group IT_..., where Azure keeps the build's VHD) is taken as there (INFERRED modelling)."""
    rg = parent_of(account_id)
    while rg and type_of_id(rg) != "microsoft.resources/resourcegroups":
        rg = parent_of(rg)
    return bool(rg) and world.get(rg) is not None


# ---- CVM7: a disk encryption set names its key and what it is for ----------------------------------------------
@rule("CVM7", DES, "A disk encryption set names its Key Vault key and one of Azure's encryption types",
      "specs DiskRP DiskEncryptionSet_Create.json, DiskEncryptionSetType, KeyForDiskEncryptionSet (keyUrl required); "
      "REQUIRED / INVALID_ENUM are CRP's wording (reference 9.1), INFERRED for DiskRP",
      errors=(REQUIRED, INVALID_ENUM), confidence="M")
def cvm7_disk_encryption_set(world: World, old: Doc, new: Doc) -> list:
    """`properties.activeKey.keyUrl` (the Key Vault key) is required, and `encryptionType` is
    EncryptionAtRestWithCustomerKey, EncryptionAtRestWithPlatformAndCustomerKeys or
    ConfidentialVmEncryptedWithCustomerKey (the one a confidential VM's customer key needs, CVM3)."""
    if new is None:
        return []
    if not get(new, "properties.activeKey.keyUrl"):
        return [REQUIRED(path="activeKey.keyUrl", target="properties.activeKey.keyUrl")]
    t = get(new, "properties.encryptionType")
    if t and t not in DES_TYPES:
        return [INVALID_ENUM(value=t, path="encryptionType", target="properties.encryptionType")]
    return []


# ---- CVM8: the set of a confidential disk keeps its type ---------------------------------------------------------
CVM8_TYPE = ErrorTemplate(400, "BadRequest", "Changing property 'encryptionType' is not allowed.",
                          "properties.encryptionType")


@rule("CVM8", DES, "A disk encryption set's encryptionType is set at creation",
      "INFERRED: ARM's PropertyChangeNotAllowed family (reference U8); confidential-vm-faq.yml ('the PMK/CMK choice is "
      "fixed at creation')", errors=(CVM8_TYPE,), operations=("update",), confidence="L")
def cvm8_des_type_fixed(world: World, old: Doc, new: Doc) -> list:
    """The encryption type a disk encryption set was created with stays: the disks encrypted through it were
    encrypted for that purpose (a confidential VM's guest state and OS disk with ConfidentialVmEncryptedWithCustomerKey)."""
    if old is None or new is None:
        return []
    before = get(old, "properties.encryptionType")
    after = get(new, "properties.encryptionType")
    return [] if not after or before == after else [CVM8_TYPE()]
