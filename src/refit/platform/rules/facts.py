"""Platform facts as data: the tables the rules, the planner and the doctor all read.

Every table cites its source (reference/azure-platform-rules.md row ids; the documents they quote).
Nothing here raises or answers requests: the rules (validators) in this package do that.
"""

from __future__ import annotations

import re
from typing import Any

from refit.arm.paths import get_path

# ---- security types (section 1a/1b; acd shared-image-galleries.md SecurityType table) -----------------
VM_SECURITY_TYPES = ("Standard", "TrustedLaunch", "ConfidentialVM")
DEFINITION_SECURITY_TYPES = ("Standard", "TrustedLaunchSupported", "TrustedLaunch", "ConfidentialVmSupported",
                             "ConfidentialVM", "TrustedLaunchAndConfidentialVmSupported")

# ---- value sets of the REST specs (the enum values a request may give; rules VM2, VM3, D14, D18, D19, G26,
# I1, M16) ------------------------------------------------------------------------------------------------
# Managed disk securityProfile.securityType (specs DiskRP DiskSecurityTypes; reference 1a) and Standard.
DISK_SECURITY_TYPES = ("TrustedLaunch", "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey",
                       "ConfidentialVM_DiskEncryptedWithPlatformKey", "ConfidentialVM_DiskEncryptedWithCustomerKey",
                       "ConfidentialVM_NonPersistedTPM", "Standard")
# Managed disk sku.name (specs DiskRP DiskStorageAccountTypes) and creationData.createOption (DiskCreateOption).
DISK_SKUS = ("Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS",
             "PremiumV2_LRS")
DISK_CREATE_OPTIONS = ("Empty", "FromImage", "Copy", "Import", "ImportSecure", "Restore", "Upload", "CopyStart")
# What refit's VM model builds: an OS disk from an image or an existing disk; data disks empty or existing
# (specs ComputeRP DiskCreateOptionTypes also has Copy and Restore, which refit does not model: refused).
VM_OS_DISK_CREATE_OPTIONS = ("FromImage", "Attach")
VM_DATA_DISK_CREATE_OPTIONS = ("Empty", "Attach")
# Scale set upgradePolicy.mode (specs ComputeRP UpgradeMode; reference 4b).
UPGRADE_MODES = ("Automatic", "Manual", "Rolling")
# Image definitions and managed images (specs GalleryRP / ComputeRP OperatingSystemTypes,
# OperatingSystemStateTypes, HyperVGeneration).
OS_TYPES = ("Linux", "Windows")
OS_STATES = ("Generalized", "Specialized")
HYPER_V_GENERATIONS = ("V1", "V2")

# Which VM/VMSS security types may boot an image of a given definition security type (table 1b).
# Standard-on-Gen1 is further limited by generation (see `image_allows`).
DEFINITION_ALLOWS: dict[str, frozenset[str]] = {
    "Standard": frozenset({"Standard"}),
    "TrustedLaunchSupported": frozenset({"Standard", "TrustedLaunch"}),
    "TrustedLaunch": frozenset({"TrustedLaunch"}),
    "ConfidentialVmSupported": frozenset({"Standard", "ConfidentialVM"}),
    "ConfidentialVM": frozenset({"ConfidentialVM"}),
    "TrustedLaunchAndConfidentialVmSupported": frozenset({"Standard", "TrustedLaunch", "ConfidentialVM"}),
}

# Definitions whose versions carry VM guest state (VMGS): private sharing only, sourced from a VM/disk/snapshot
# of that security type (table 1b "Typical source of versions").
GUEST_STATE_DEFINITIONS = frozenset({"TrustedLaunch", "ConfidentialVM"})

# Which version sources a definition of each security type accepts (S9, S10, table 1b).
# Source kinds: vhd, managed-image, gallery-version, vm, disk, snapshot.
# The "*Supported" definitions take sources WITHOUT VM guest state (table 1b). S9's captured message names
# VHD blobs, managed images and gallery versions, and refuses a VM id; a plain (Standard) Gen2 disk or
# snapshot carries no guest state either and is accepted here (INFERRED: the built-in scenarios publish
# TrustedLaunchSupported versions from disks), while a disk/snapshot that carries guest state is refused
# like a VM (rule S9, `GUEST_STATE_FREE_DEFINITIONS`).
VERSION_SOURCES: dict[str, frozenset[str]] = {
    "Standard": frozenset({"vhd", "managed-image", "gallery-version", "vm", "disk", "snapshot"}),
    "TrustedLaunchSupported": frozenset({"vhd", "managed-image", "gallery-version", "disk", "snapshot"}),  # S9
    "TrustedLaunchAndConfidentialVmSupported": frozenset({"vhd", "managed-image", "gallery-version", "disk",
                                                          "snapshot"}),  # INFERRED as S9
    "ConfidentialVmSupported": frozenset({"vhd", "managed-image", "gallery-version", "disk", "snapshot"}),  # INFERRED as S9
    "TrustedLaunch": frozenset({"vm", "disk", "snapshot"}),  # sources that carry VMGS (1b, section 10 row 2)
    "ConfidentialVM": frozenset({"vm", "disk", "snapshot"}),  # S10
}
# Definitions whose versions must come from sources without VM guest state (table 1b).
GUEST_STATE_FREE_DEFINITIONS = frozenset({"TrustedLaunchSupported", "TrustedLaunchAndConfidentialVmSupported",
                                          "ConfidentialVmSupported"})
# How S9/S10 name source kinds in their messages.
SOURCE_KIND_NAMES = {"vhd": "Vhd Blob", "managed-image": "User Image", "gallery-version": "Gallery Image Version",
                     "vm": "VM", "disk": "Disk", "snapshot": "Snapshot"}


def image_allows(definition_security_type: str, hyper_v_generation: str, vm_security_type: str) -> bool:
    """May a VM/VMSS of `vm_security_type` boot an image with these properties? (S1-S3, S7, table 1b)"""
    if vm_security_type in ("TrustedLaunch", "ConfidentialVM") and hyper_v_generation != "V2":
        return False  # S1/S2: Trusted Launch and CVM need Gen2
    return vm_security_type in DEFINITION_ALLOWS.get(definition_security_type or "Standard", frozenset({"Standard"}))


def disk_security_type_for(vm_security_type: str) -> str | None:
    """The managed disk securityProfile.securityType an OS disk needs for a VM of that type (S4/D4)."""
    return {"TrustedLaunch": "TrustedLaunch", "ConfidentialVM": "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey"}.get(
        vm_security_type)


def disk_matches_vm(disk_security_type: str | None, vm_security_type: str) -> bool:
    """S4/D4: a TL VM needs a TL disk, a CVM a ConfidentialVM_* disk, a Standard VM a disk without either."""
    d = disk_security_type or "Standard"
    if vm_security_type == "TrustedLaunch":
        return d == "TrustedLaunch"
    if vm_security_type == "ConfidentialVM":
        return d.startswith("ConfidentialVM")
    return d in ("Standard",)


# ---- VM sizes (S1, S12; https://aka.ms/TrustedLaunch-FAQ, confidential VM sizes) ----------------------
# Families without Trusted Launch support (Gen1-only or excluded series). INFERRED from the TL FAQ list.
TL_UNSUPPORTED_SIZE_PREFIXES = ("Standard_A", "Standard_Basic_A", "Standard_M", "Standard_G", "Standard_NV_",
                                "Standard_NC6", "Standard_H")
CVM_SIZE_MARKERS = ("DCas", "DCads", "ECas", "ECads", "DCes", "DCedsv", "ECes", "ECeds", "NCCads")  # series names
# Size names put the vCPU count inside the series name (DCasv5 -> Standard_DC2as_v5, DCedsv5 ->
# Standard_DC4eds_v5, NCCadsH100v5 -> Standard_NCC40ads_H100_v5): AMD SEV-SNP (a) and Intel TDX (e) sizes.
_CVM_SIZES = (re.compile(r"^Standard_(?:DC|EC)\d+[ae]d?s_v\d+$", re.I), re.compile(r"^Standard_NCC\d+ads_H100_v\d+$", re.I))


def is_confidential_size(size: str) -> bool:
    return any(p.search(size or "") for p in _CVM_SIZES)


def size_supports(size: str, security_type: str) -> bool:
    if security_type == "TrustedLaunch":
        return not any(size.startswith(p) for p in TL_UNSUPPORTED_SIZE_PREFIXES)
    if security_type == "ConfidentialVM":
        return is_confidential_size(size)
    return True


# ---- scale set policy ranges (section 4b; specs virtualMachineScaleSet.json) --------------------------
ROLLING_POLICY_RANGES: dict[str, tuple[int, int, int]] = {
    # field: (min, max, default)
    "maxBatchInstancePercent": (5, 100, 20),
    "maxUnhealthyInstancePercent": (5, 100, 20),
    "maxUnhealthyUpgradedInstancePercent": (0, 100, 20),
}
AUTOMATIC_REPAIRS_GRACE_MINUTES = (10, 90)  # PT10M (default) .. PT90M
EXTENSIONS_TIME_BUDGET_MINUTES = (15, 120)  # PT15M .. PT120M, default PT1H30M
HEALTH_EXTENSION_TYPES = ("ApplicationHealthLinux", "ApplicationHealthWindows")
HEALTH_EXTENSION_PUBLISHER = "Microsoft.ManagedServices"


def is_health_extension(extension_type: Any) -> bool:
    """The Application Health extension, by its `type`, compared as Azure compares extension types: without
    regard to case (`az vm extension set --name applicationhealthlinux` installs it; INFERRED from ARM's
    case-insensitive names, no doc states it for extension types)."""
    return isinstance(extension_type, str) and extension_type.lower() in {t.lower() for t in HEALTH_EXTENSION_TYPES}


# ---- power states (instance view `PowerState/<code>`) --------------------------------------------------------
# A VM holds its hardware (and its zone's capacity) in these; `deallocated` and `deallocating` release it
# (https://learn.microsoft.com/azure/virtual-machines/states-billing).
ALLOCATED_POWER_STATES = ("running", "starting", "stopped", "stopping", "restarting")


def health_sources(vmss: dict[str, Any], extensions: list[dict[str, Any]] | None = None) -> list[str]:
    """The health sources of a scale set (H1/H2): 'probe' (networkProfile.healthProbe) and/or 'extension'
    (Application Health extension in extensionProfile or as child extension resources)."""
    out = []
    if get_path(vmss, "properties.virtualMachineProfile.networkProfile.healthProbe.id"):
        out.append("probe")
    exts = list(get_path(vmss, "properties.virtualMachineProfile.extensionProfile.extensions") or [])
    exts += extensions or []
    for e in exts:
        if is_health_extension(get_path(e, "properties.type")):
            out.append("extension")
            break
    return out


def iso_minutes(duration: str | None) -> float | None:
    """ISO-8601 duration (PT10M, PT1H30M, PT90S) in minutes; None when absent or not a time duration."""
    if not duration:
        return None
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?", duration.strip())
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return d * 1440 + h * 60 + mi + s / 60


# ---- Hyper-V generation of VM sizes (S7; https://learn.microsoft.com/azure/virtual-machines/generation-2) -----
# INFERRED from the per-series "VM Generation Support" lines of the size pages: Av1/Basic A and Av2 boot
# Generation 1 only; v6 series, Arm64 ('p') sizes, Mv2/Mv3 and the confidential sizes boot Generation 2 only.
# Every other size boots both. Kept deliberately small: an unknown size is taken to boot both.
_GEN1_ONLY_SIZES = (re.compile(r"^Basic_A\d+$", re.I), re.compile(r"^Standard_A\d+$", re.I),
                    re.compile(r"^Standard_A\d+m?_v2$", re.I))
_GEN2_ONLY_SIZES = (re.compile(r"_v[6-9]$", re.I), re.compile(r"^Standard_[DE]\d+p", re.I),
                    re.compile(r"^Standard_M\d+\w*_v[23]$", re.I))


def size_generations(size: str) -> frozenset[str]:
    """The Hyper-V generations ('V1', 'V2') a VM size can boot (S7)."""
    if any(p.search(size or "") for p in _GEN1_ONLY_SIZES):
        return frozenset({"V1"})
    if any(p.search(size or "") for p in _GEN2_ONLY_SIZES) or is_confidential_size(size):
        return frozenset({"V2"})
    return frozenset({"V1", "V2"})


# ---- confidential VM disk encryption (S11/S12; specs DiskRP securityType enum) ------------------------
# VM osDisk.managedDisk.securityProfile.securityEncryptionType -> the disk securityType it produces.
CVM_ENCRYPTION_DISK_TYPES = {
    "VMGuestStateOnly": "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey",
    "DiskWithVMGuestState": "ConfidentialVM_DiskEncryptedWithPlatformKey",
    "NonPersistedTPM": "ConfidentialVM_NonPersistedTPM",
}

# ---- Trusted Launch upgrade of a Gen1 VM (U5; acd trusted-launch-existing-vm-gen-1.md) -----------------
# Azure cannot see the guest's partition table. refit records the guest conversion MBR -> GPT as a tag on
# the OS disk (set by the op that runs MBR2GPT); rule U5 reads it. Value GPT (case-insensitive).
PARTITION_TAG = "refit-partition-style"

# ---- Azure Disk Encryption (D5) and Service Fabric (H8) extensions ------------------------------------
ADE_EXTENSION_TYPES = ("AzureDiskEncryption", "AzureDiskEncryptionForLinux")
SERVICE_FABRIC_EXTENSION_TYPES = ("ServiceFabricNode", "ServiceFabricLinuxNode", "ServiceFabricMCNode")

# ---- gallery (G3, G20; acd shared-image-galleries.md) -----------------------------------------------------
# Features an image definition may change with allowUpdateImage=true (API 2024-03-03+, G3).
UPDATABLE_FEATURES = ("SecurityType", "DiskControllerTypes", "IsAcceleratedNetworkSupported", "IsHibernateSupported")
# Limits per subscription per region (G20).
GALLERY_LIMITS = {"galleries": 100, "images": 1000, "versions": 10000, "replicas": 100}

# ---- capacity reservations (C12; capacity-reservation-overview, Azure/azure-cli#18943) -----------------
# Sizes without the CapacityReservationSupported capability. INFERRED: the captured response names
# Standard_A0; the basic and first-generation A series (Av1) are taken as unsupported.
_CR_UNSUPPORTED_SIZES = (re.compile(r"^Basic_A\d+$", re.I), re.compile(r"^Standard_A\d+$", re.I))


def capacity_reservation_supported(size: str) -> bool:
    return not any(p.search(size or "") for p in _CR_UNSUPPORTED_SIZES)
