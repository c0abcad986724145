"""The catalog cases of the confidential-VM rules (CVM1-CVM8, rules/confidential.py), joined to test_catalog's
VIOLATIONS and PASSES: a write that violates each rule (the exact ArmError) and one that passes."""

from __future__ import annotations

from rulekit import LOC, SUB, Case, _base, definition, disk, edit, gallery, platform, rid, version, vm

CVM_IMAGE = platform("22_04-lts-cvm", offer="0001-com-ubuntu-confidential-vm-jammy")
OSD_SEC = "properties__storageProfile__osDisk__managedDisk__securityProfile"
GAL = gallery()
SUPPORTED = definition("cvm-sup", sec="ConfidentialVmSupported")
CONFIDENTIAL = definition("cvm", sec="ConfidentialVM")
ACCOUNT_ID = rid("storageAccounts", "stcvm", ns="Microsoft.Storage")
ACCOUNT = {**_base("Microsoft.Storage/storageAccounts", ACCOUNT_ID), "kind": "StorageV2",
           "sku": {"name": "Standard_LRS"}}
VHD = "https://stcvm.blob.core.windows.net/images/cvm-os.vhd"
RG = {"id": f"/subscriptions/{SUB}/resourceGroups/rg", "name": "rg", "type": "Microsoft.Resources/resourceGroups",
      "location": LOC, "properties": {"provisioningState": "Succeeded"}}
CVM_DISK = disk("cvm-os", sec="ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey")


def des(name: str, encryption_type: str | None = "ConfidentialVmEncryptedWithCustomerKey", key: bool = True):
    d = _base("Microsoft.Compute/diskEncryptionSets", rid("diskEncryptionSets", name))
    d["identity"] = {"type": "SystemAssigned"}
    if key:
        d["properties"]["activeKey"] = {"keyUrl": "https://kv.vault.azure.net/keys/cvm/1",
                                        "sourceVault": {"id": rid("vaults", "kv", ns="Microsoft.KeyVault")}}
    if encryption_type:
        d["properties"]["encryptionType"] = encryption_type
    return d


CVM_DES = des("des-cvm")
SSE_DES = des("des-sse", "EncryptionAtRestWithCustomerKey")


def cvm(name: str = "cvm1", enc: str | None = "DiskWithVMGuestState", des_id: str | None = None,
        size: str = "Standard_DC2as_v5"):
    d = vm(name, sec="ConfidentialVM", size=size, image=CVM_IMAGE)
    prof: dict = {}
    if enc:
        prof["securityEncryptionType"] = enc
    if des_id:
        prof["diskEncryptionSet"] = {"id": des_id}
    return edit(d, **{OSD_SEC: prof}) if prof else d


def vhd_version(definition_name: str, uri: str = VHD, account: str | None = ACCOUNT_ID, **kw):
    d = version(definition_name, uri=uri, **kw)
    sp = d["properties"]["storageProfile"]
    if account:
        sp["source"] = {**sp["source"], "storageAccountId": account}
        sp["osDiskImage"]["source"] = dict(sp["source"])
    return d


def encrypted(doc, i: int = 0, **security_profile):
    out = edit(doc)
    out["properties"]["publishingProfile"]["targetRegions"][i]["encryption"] = {
        "osDiskImage": {"securityProfile": security_profile}}
    return out


CVM4_TARGET = "publishingProfile.targetRegions[0].encryption.osDiskImage.securityProfile"
ENC_PATH = "storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType"
DES_TARGET = "managedDisk.securityProfile.diskEncryptionSet.id"

CVM_VIOLATIONS: list[Case] = [
    Case("CVM1", [], None, cvm(enc=None),
         (400, "BadRequest", "Required parameter for Confidential VMs 'managedDisk.securityProfile."
          "securityEncryptionType' is missing (null).", None)),
    Case("CVM2", [], None, cvm(enc="FullDisk"),
         (400, "InvalidParameter", "The value 'FullDisk' of parameter 'securityEncryptionType' is invalid.", ENC_PATH)),
    Case("CVM2", [], None, edit(vm("v", sec="TrustedLaunch", image=platform()),
                                **{OSD_SEC: {"securityEncryptionType": "VMGuestStateOnly"}}),
         (400, "BadRequest", "managedDisk.securityProfile.securityEncryptionType can be set only for VMs and Virtual "
          "Machine Scale Sets with 'ConfidentialVM' security type.", None), "a Trusted Launch VM"),
    Case("CVM3", [], None, cvm(des_id=CVM_DES["id"]),
         (404, "NotFound", f"The disk encryption set '{CVM_DES['id']}' could not be found.", DES_TARGET)),
    Case("CVM3", [SSE_DES], None, cvm(des_id=SSE_DES["id"]),
         (400, "BadRequest", "The disk encryption set 'des-sse' has encryption type 'EncryptionAtRestWithCustomerKey'. "
          "A Confidential VM's OS disk needs a disk encryption set of encryption type "
          "'ConfidentialVmEncryptedWithCustomerKey'.", DES_TARGET), "an at-rest customer key set"),
    Case("CVM3", [CVM_DES], None, cvm(enc="VMGuestStateOnly", des_id=CVM_DES["id"]),
         (400, "BadRequest", "managedDisk.securityProfile.diskEncryptionSet can be set only when managedDisk."
          "securityProfile.securityEncryptionType is 'DiskWithVMGuestState'.", None), "guest state only"),
    Case("CVM4", [GAL, SUPPORTED, ACCOUNT], None,
         encrypted(vhd_version("cvm-sup"), confidentialVMEncryptionType="EncryptedWithPmk"),
         (400, "InvalidParameter", "confidentialVMEncryptionType can be set only for an image version of a gallery "
          "image with 'ConfidentialVM' security type.", CVM4_TARGET)),
    Case("CVM4", [GAL, CONFIDENTIAL, CVM_DISK], None,
         encrypted(version("cvm", source=CVM_DISK["id"]), confidentialVMEncryptionType="EncryptedWithCmk"),
         (400, "InvalidParameter", "Required parameter 'secureVMDiskEncryptionSetId' is missing (null) for "
          "confidentialVMEncryptionType 'EncryptedWithCmk'.", CVM4_TARGET), "Cmk without its set"),
    Case("CVM4", [GAL, CONFIDENTIAL, CVM_DISK, SSE_DES], None,
         encrypted(version("cvm", source=CVM_DISK["id"]), confidentialVMEncryptionType="EncryptedWithCmk",
                   secureVMDiskEncryptionSetId=SSE_DES["id"]),
         (400, "InvalidParameter", f"The disk encryption set '{SSE_DES['id']}' of secureVMDiskEncryptionSetId must "
          "exist and have encryption type 'ConfidentialVmEncryptedWithCustomerKey'.", CVM4_TARGET), "a non-CVM set"),
    Case("CVM4", [GAL, CONFIDENTIAL, CVM_DISK], None,
         encrypted(version("cvm", source=CVM_DISK["id"]), confidentialVMEncryptionType="EncryptedWithPmk"),
         (400, "InvalidParameter", "confidentialVMEncryptionType 'EncryptedWithPmk' does not match the source's "
          "security type 'ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey' (expected "
          "'EncryptedVMGuestStateOnlyWithPmk').", CVM4_TARGET), "not the source disk's"),
    Case("CVM4", [GAL, CONFIDENTIAL, CVM_DISK], None,
         encrypted(version("cvm", source=CVM_DISK["id"]), confidentialVMEncryptionType="Pmk"),
         (400, "InvalidParameter", "The value 'Pmk' of parameter 'confidentialVMEncryptionType' is invalid.",
          CVM4_TARGET), "not a value"),
    Case("CVM5", [GAL, CONFIDENTIAL, CVM_DISK], None, version("cvm", source=CVM_DISK["id"], regions=(LOC, "westus")),
         (400, "InvalidParameter", "An image version of a gallery image with 'ConfidentialVM' security type can be "
          "replicated only within its source region 'eastus'; remove target region 'westus'.",
          "publishingProfile.targetRegions")),
    Case("CVM6", [GAL, SUPPORTED], None, vhd_version("cvm-sup", account=None),
         (400, "InvalidParameter", f"Required parameter 'storageAccountId' is missing (null): a VHD source needs the "
          f"id of the storage account that holds the blob '{VHD}'.", "storageProfile.osDiskImage.source.storageAccountId")),
    Case("CVM6", [RG, GAL, SUPPORTED], None, vhd_version("cvm-sup"),
         (404, "NotFound", f"The storage account '{ACCOUNT_ID}' could not be found.",
          "storageProfile.osDiskImage.source.storageAccountId"), "no such account"),
    Case("CVM6", [GAL, SUPPORTED, ACCOUNT], None,
         vhd_version("cvm-sup", uri="https://other.blob.core.windows.net/images/cvm-os.vhd"),
         (400, "InvalidParameter", "The VHD uri 'https://other.blob.core.windows.net/images/cvm-os.vhd' is not a blob "
          "of the storage account 'stcvm' (https://stcvm.blob.core.windows.net/...).",
          "storageProfile.osDiskImage.source.uri"), "another account's blob"),
    Case("CVM7", [], None, des("d", key=False),
         (400, "InvalidParameter", "Required parameter 'activeKey.keyUrl' is missing (null).",
          "properties.activeKey.keyUrl")),
    Case("CVM7", [], None, des("d", "Confidential"),
         (400, "InvalidParameter", "The value 'Confidential' of parameter 'encryptionType' is invalid.",
          "properties.encryptionType"), "not a value"),
    Case("CVM8", [], SSE_DES, edit(SSE_DES, properties__encryptionType="ConfidentialVmEncryptedWithCustomerKey"),
         (400, "BadRequest", "Changing property 'encryptionType' is not allowed.", "properties.encryptionType")),
]

CVM_PASSES: list[Case] = [
    Case("CVM1", [], None, cvm(enc="VMGuestStateOnly")),
    Case("CVM1", [CVM_DISK], None, vm("v", sec="ConfidentialVM", size="Standard_DC2as_v5", os_disk=CVM_DISK["id"]),
         note="attached to a confidential disk: the disk says"),
    Case("CVM2", [], None, cvm(enc="DiskWithVMGuestState")),
    Case("CVM3", [CVM_DES], None, cvm(des_id=CVM_DES["id"]), note="customer key, the whole disk"),
    Case("CVM3", [], None, cvm(), note="platform key"),
    Case("CVM4", [GAL, CONFIDENTIAL, CVM_DISK], None,
         encrypted(version("cvm", source=CVM_DISK["id"]), confidentialVMEncryptionType="EncryptedVMGuestStateOnlyWithPmk")),
    Case("CVM4", [GAL, SUPPORTED, ACCOUNT], None, vhd_version("cvm-sup"), note="a Supported version: no encryption"),
    Case("CVM5", [GAL, CONFIDENTIAL, CVM_DISK], None, version("cvm", source=CVM_DISK["id"])),
    Case("CVM5", [GAL, SUPPORTED, ACCOUNT], None, vhd_version("cvm-sup", regions=(LOC, "westus")),
         note="a Supported version replicates anywhere"),
    Case("CVM6", [RG, GAL, SUPPORTED, ACCOUNT], None, vhd_version("cvm-sup")),
    Case("CVM6", [RG, GAL, SUPPORTED], None, vhd_version(
        "cvm-sup", uri="https://a1b2c3.blob.core.windows.net/vhds/build.vhd",
        account=f"/subscriptions/{SUB}/resourceGroups/IT_rg_aib_1/providers/Microsoft.Storage/storageAccounts/a1b2c3"),
         note="Image Builder's staging account, in a group the world does not hold"),
    Case("CVM7", [], None, CVM_DES),
    Case("CVM8", [], SSE_DES, edit(SSE_DES, tags={"team": "sec"})),
]
