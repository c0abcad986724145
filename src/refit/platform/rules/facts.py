"""Platform facts as data: the tables the rules, the planner and the doctor all read.

Every table cites its source (reference/azure-platform-rules.md row ids; the documents they quote).
Nothing here raises or answers requests: the rules (validators) in this package do that.
"""

from __future__ import annotations

import re
from typing import Any

from refit.arm.paths import get_path
from refit.platform import skus

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


# ---- VM sizes (S1, S7, S12, C12, VM10, VM11): read from the SKU table (refit.platform.skus) ------------------
# A size the table does not know is refused by rule VM10; the answers below take it as able to do anything, so
# that no second rule refuses it for a reason of its own.
def is_confidential_size(size: str) -> bool:
    sz = skus.find(size)
    return sz is not None and sz.confidential is not None


def size_supports(size: str, security_type: str) -> bool:
    sz = skus.find(size)
    if sz is None:
        return True
    if security_type == "TrustedLaunch":
        return sz.trusted_launch  # the SKU's TrustedLaunchDisabled capability
    if security_type == "ConfidentialVM":
        return sz.confidential is not None
    return True


def size_architecture(size: str) -> str | None:
    """The size's CpuArchitectureType (x64 / Arm64); None for a size Azure does not offer."""
    sz = skus.find(size)
    return sz.architecture if sz is not None else None


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


def iso_seconds(duration: str | None, default: float = 0.0) -> float:
    """ISO-8601 duration in seconds (`default` when absent or not a time duration)."""
    m = iso_minutes(duration)
    return default if m is None else m * 60


# ---- Hyper-V generation of VM sizes (S7; the SKU's HyperVGenerations capability) ------------------------------
def size_generations(size: str) -> frozenset[str]:
    """The Hyper-V generations ('V1', 'V2') a VM size can boot (S7); both for a size the table does not know."""
    sz = skus.find(size)
    return frozenset(sz.generations) if sz is not None else frozenset({"V1", "V2"})


# ---- confidential VM disk encryption (S11/S12; specs DiskRP securityType enum) ------------------------
# VM osDisk.managedDisk.securityProfile.securityEncryptionType -> the disk securityType it produces.
CVM_ENCRYPTION_DISK_TYPES = {
    "VMGuestStateOnly": "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey",
    "DiskWithVMGuestState": "ConfidentialVM_DiskEncryptedWithPlatformKey",
    "NonPersistedTPM": "ConfidentialVM_NonPersistedTPM",
}

# ---- Trusted Launch upgrade of an existing scale set (V1, V3; acd trusted-launch-existing-vmss.md) -------------
# The image definition security type a scale set's gallery image must have for the set to take a security type in
# place: "For Azure compute gallery OS image, ensure image definition is marked as TrustedLaunchSupported" (V1). A
# TrustedLaunch definition carries VM guest state and is usable only once the set IS TrustedLaunch (V1, S3).
IN_PLACE_DEFINITION = {"TrustedLaunch": "TrustedLaunchSupported"}
# "Enabling Trusted launch on existing virtual machine Scale sets with data disks attached requires upgrade mode set
# to Rolling upgrade with max surge" (V3): the upgrade policy that rule asks for, as goal paths.
DATA_DISK_UPGRADE_POLICY = {"properties.upgradePolicy.mode": "Rolling",
                            "properties.upgradePolicy.rollingUpgradePolicy.maxSurge": True}

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
# The SKU's CapacityReservationSupported capability (the captured refusal names Standard_A0; the Av1 and Basic A
# series are taken as unsupported in the table, INFERRED).
def capacity_reservation_supported(size: str) -> bool:
    sz = skus.find(size)
    return sz is None or sz.capacity_reservation
