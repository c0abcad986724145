"""What a request body and a resource name must be before any effect reads them (family IN, and ARM5's
deserialisation answer): the REST specs' types, enums and ranges per resource type, and Azure's naming rules.

One table per resource type, written compactly (`SCHEMAS`): a dict is an object and names its properties, a
one-element list is an array of that item, a tuple is a string enum, `Int(lo, hi)` an integer range, and
`STR` / `INT` / `NUM` / `BOOL` / `OBJ` the spec's primitive types. Property names match case-insensitively and
a property the table does not name is not checked (Azure ignores unknown members). `null` is "not given"
everywhere (a PATCH's null removes the property). The tables name what the platform and its rules read;
enums already decided by a rule of their own (disk SKUs D14, create options VM2/D18, security types VM3/M16/D19,
upgrade mode M16, image definition values G26, managed image generation I1) and limits (replicas G20,
a reservation's capacity C15) are left to that rule.

Why strict types: the compute RPs deserialise the body with typed models (`diskSizeGB` is an int32,
`zones` a list of strings); a body that does not fit is refused before the RP looks at it. refit refuses
every JSON type that is not the declared one (INFERRED: .NET's deserialiser would coerce a few, such as
the number 5 into the string "5"; no client refit serves sends those). The planner simulates on the same
platform, so it refuses the same bodies.

The functions here decide and return what is wrong (`Problem`); `refit.platform.effects.input` raises the
rule's answer, as every refusal of stage "request" is raised by the effects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from refit.platform.rules.common import FAMILY, INVALID_ENUM
from refit.platform.rules.registry import EVERY_TYPE, ErrorTemplate, refusal

STR, INT, NUM, BOOL, OBJ = "string", "integer", "number", "boolean", "object"
NAMING = "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"


@dataclass(frozen=True)
class Int:
    """An integer the spec bounds (inclusive)."""

    lo: int
    hi: int


@dataclass(frozen=True)
class Problem:
    """What is wrong with a body or a name: the rule to answer with, which of its templates, and its fields."""

    rule: str
    which: int
    fields: dict[str, Any]


# ---- value sets of the REST specs (specs ComputeRP / DiskRP / GalleryRP common types) ----------------------
CACHING = ("None", "ReadOnly", "ReadWrite")  # CachingTypes / HostCaching
DELETE_OPTIONS = ("Delete", "Detach")  # DiskDeleteOptionTypes / DeleteOptions
OS_TYPES = ("Linux", "Windows")  # OperatingSystemTypes
OS_STATES = ("Generalized", "Specialized")  # OperatingSystemStateTypes
GENERATIONS = ("V1", "V2")  # HyperVGeneration
ARCHITECTURES = ("x64", "Arm64")  # Architecture
# StorageAccountTypes of a VM's managed disks (ComputeRP; the disk RP's own sku.name values are rule D14's).
VM_DISK_TYPES = ("Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS",
                 "PremiumV2_LRS")
PRIORITIES = ("Regular", "Low", "Spot")  # VirtualMachinePriorityTypes
EVICTION = ("Deallocate", "Delete")  # VirtualMachineEvictionPolicyTypes
ORCHESTRATION = ("Uniform", "Flexible")  # OrchestrationMode
NETWORK_ACCESS = ("AllowAll", "AllowPrivate", "DenyAll")  # DiskRP NetworkAccessPolicy
PUBLIC_ACCESS = ("Enabled", "Disabled")  # DiskRP PublicNetworkAccess
GALLERY_STORAGE = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")  # GalleryRP StorageAccountType
REPLICATION_MODES = ("Full", "Shallow")  # GalleryRP ReplicationMode

# ---- the tables ---------------------------------------------------------------------------------------------
# Every ARM resource (ARM's envelope). `properties` and `tags` that are not objects are rule ARM5's own answers
# (raised while the document is built); here only their contents are checked. Tag values are strings.
COMMON: dict[str, Any] = {
    "location": STR, "kind": STR, "managedBy": STR, "zones": [STR], "tags": {"*": STR}, "properties": {},
    "sku": {"name": STR, "tier": STR, "capacity": INT, "family": STR, "size": STR},
    "plan": {"name": STR, "publisher": STR, "product": STR, "promotionCode": STR},
    "identity": {"type": STR, "userAssignedIdentities": OBJ},
    "extendedLocation": {"name": STR, "type": STR},
}
_ID = {"id": STR}
_IMAGE_REFERENCE = {"id": STR, "publisher": STR, "offer": STR, "sku": STR, "version": STR, "exactVersion": STR,
                    "sharedGalleryImageId": STR, "communityGalleryImageId": STR}
_MANAGED_DISK = {"id": STR, "storageAccountType": VM_DISK_TYPES, "diskEncryptionSet": _ID,
                 "securityProfile": {"securityEncryptionType": STR, "diskEncryptionSet": _ID}}
# The OS disk of Azure VMs holds at most 4,095 GiB, a data disk 65,536 GiB (the largest, Ultra and Premium SSD v2;
# https://learn.microsoft.com/azure/virtual-machines/managed-disks-overview, disks-types); LUNs 0-63.
_OS_DISK = {"name": STR, "createOption": STR, "osType": OS_TYPES, "caching": CACHING, "diskSizeGB": Int(1, 4095),
            "deleteOption": DELETE_OPTIONS, "writeAcceleratorEnabled": BOOL, "managedDisk": _MANAGED_DISK,
            "diffDiskSettings": {"option": STR, "placement": STR}, "vhd": {"uri": STR}, "image": {"uri": STR}}
_DATA_DISK = {"lun": Int(0, 63), "name": STR, "createOption": STR, "caching": CACHING, "diskSizeGB": Int(1, 65536),
              "deleteOption": DELETE_OPTIONS, "writeAcceleratorEnabled": BOOL, "toBeDetached": BOOL,
              "managedDisk": _MANAGED_DISK}
_STORAGE = {"imageReference": _IMAGE_REFERENCE, "osDisk": _OS_DISK, "dataDisks": [_DATA_DISK],
            "diskControllerType": STR}
_SSH = {"publicKeys": [{"path": STR, "keyData": STR}]}
_OS_PROFILE = {"computerName": STR, "computerNamePrefix": STR, "adminUsername": STR, "adminPassword": STR,
               "customData": STR, "allowExtensionOperations": BOOL, "requireGuestProvisionSignal": BOOL,
               "linuxConfiguration": {"disablePasswordAuthentication": BOOL, "ssh": _SSH, "provisionVMAgent": BOOL,
                                      "patchSettings": {"patchMode": STR, "assessmentMode": STR}},
               "windowsConfiguration": {"provisionVMAgent": BOOL, "enableAutomaticUpdates": BOOL, "timeZone": STR,
                                        "patchSettings": {"patchMode": STR, "assessmentMode": STR}},
               "secrets": [{"sourceVault": _ID, "vaultCertificates": [{"certificateUrl": STR,
                                                                      "certificateStore": STR}]}]}
_SECURITY = {"securityType": STR, "encryptionAtHost": BOOL,
             "uefiSettings": {"secureBootEnabled": BOOL, "vTpmEnabled": BOOL}}
_DIAGNOSTICS = {"bootDiagnostics": {"enabled": BOOL, "storageUri": STR}}
_SCHEDULING = {"priority": PRIORITIES, "evictionPolicy": EVICTION, "billingProfile": {"maxPrice": NUM},
               "capacityReservation": {"capacityReservationGroup": _ID}, "licenseType": STR, "userData": STR,
               "securityProfile": _SECURITY, "diagnosticsProfile": _DIAGNOSTICS}
_EXTENSION = {"publisher": STR, "type": STR, "typeHandlerVersion": STR, "autoUpgradeMinorVersion": BOOL,
              "enableAutomaticUpgrade": BOOL, "settings": OBJ, "protectedSettings": OBJ, "suppressFailures": BOOL,
              "forceUpdateTag": STR, "provisionAfterExtensions": [STR]}
_IP_CONFIGURATION = {"name": STR, "properties": {"primary": BOOL, "subnet": _ID, "privateIPAddressVersion": STR,
                                                 "loadBalancerBackendAddressPools": [_ID],
                                                 "applicationGatewayBackendAddressPools": [_ID],
                                                 "publicIPAddressConfiguration": {"name": STR, "properties": OBJ}}}

VM: dict[str, Any] = {"properties": {
    "hardwareProfile": {"vmSize": STR, "vmSizeProperties": {"vCPUsAvailable": INT, "vCPUsPerCore": INT}},
    "storageProfile": _STORAGE, "osProfile": _OS_PROFILE,
    "networkProfile": {"networkInterfaces": [{"id": STR, "properties": {"primary": BOOL,
                                                                        "deleteOption": DELETE_OPTIONS}}],
                       "networkApiVersion": STR},
    "availabilitySet": _ID, "virtualMachineScaleSet": _ID, "proximityPlacementGroup": _ID, "host": _ID,
    "platformFaultDomain": INT, **_SCHEDULING}}
VMSS: dict[str, Any] = {
    "sku": {"capacity": Int(0, 1000)},  # a set holds at most 1,000 instances (virtual-machine-scale-sets FAQ)
    "properties": {
        "orchestrationMode": ORCHESTRATION, "platformFaultDomainCount": Int(1, 5), "singlePlacementGroup": BOOL,
        "overprovision": BOOL, "zoneBalance": BOOL, "doNotRunExtensionsOnOverprovisionedVMs": BOOL,
        "proximityPlacementGroup": _ID,
        "upgradePolicy": {"mode": STR,
                          "rollingUpgradePolicy": {"maxBatchInstancePercent": INT, "maxUnhealthyInstancePercent": INT,
                                                   "maxUnhealthyUpgradedInstancePercent": INT,
                                                   "pauseTimeBetweenBatches": STR, "prioritizeUnhealthyInstances": BOOL,
                                                   "enableCrossZoneUpgrade": BOOL, "maxSurge": BOOL},
                          "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": BOOL,
                                                       "disableAutomaticRollback": BOOL}},
        "automaticRepairsPolicy": {"enabled": BOOL, "gracePeriod": STR, "repairAction": STR},
        "scaleInPolicy": {"rules": [STR], "forceDeletion": BOOL},
        "virtualMachineProfile": {
            "storageProfile": _STORAGE, "osProfile": _OS_PROFILE,
            "networkProfile": {"healthProbe": _ID, "networkApiVersion": STR,
                               "networkInterfaceConfigurations": [{"name": STR, "properties": {
                                   "primary": BOOL, "enableAcceleratedNetworking": BOOL, "networkSecurityGroup": _ID,
                                   "ipConfigurations": [_IP_CONFIGURATION]}}]},
            "extensionProfile": {"extensionsTimeBudget": STR,
                                 "extensions": [{"name": STR, "properties": _EXTENSION}]},
            **_SCHEDULING}}}
DISK: dict[str, Any] = {"properties": {
    "creationData": {"createOption": STR, "sourceResourceId": STR, "sourceUri": STR, "storageAccountId": STR,
                     "uploadSizeBytes": INT, "logicalSectorSize": INT, "performancePlus": BOOL,
                     "imageReference": {"id": STR, "lun": INT},
                     "galleryImageReference": {"id": STR, "lun": INT, "sharedGalleryImageId": STR,
                                               "communityGalleryImageId": STR}},
    "diskSizeGB": Int(1, 65536), "osType": OS_TYPES, "hyperVGeneration": GENERATIONS, "maxShares": Int(1, 15),
    "diskIOPSReadWrite": INT, "diskMBpsReadWrite": INT, "burstingEnabled": BOOL, "tier": STR,
    "networkAccessPolicy": NETWORK_ACCESS, "publicNetworkAccess": PUBLIC_ACCESS, "diskAccessId": STR,
    "encryption": {"type": STR, "diskEncryptionSetId": STR},
    "securityProfile": {"securityType": STR, "secureVMDiskEncryptionSetId": STR},
    "supportedCapabilities": {"architecture": ARCHITECTURES, "acceleratedNetwork": BOOL, "diskControllerTypes": STR},
    "supportsHibernation": BOOL, "optimizedForFrequentAttach": BOOL, "dataAccessAuthMode": STR}}
SNAPSHOT: dict[str, Any] = {"properties": {
    "creationData": {"createOption": STR, "sourceResourceId": STR, "sourceUri": STR},
    "diskSizeGB": Int(1, 65536), "osType": OS_TYPES, "hyperVGeneration": GENERATIONS, "incremental": BOOL,
    "securityProfile": {"securityType": STR},
    "supportedCapabilities": {"architecture": ARCHITECTURES}}}
_IMAGE_DISK = {"lun": Int(0, 63), "osType": OS_TYPES, "osState": OS_STATES, "blobUri": STR, "managedDisk": _ID,
               "snapshot": _ID, "caching": CACHING, "diskSizeGB": Int(1, 65536), "storageAccountType": VM_DISK_TYPES}
IMAGE: dict[str, Any] = {"properties": {
    "sourceVirtualMachine": _ID, "hyperVGeneration": STR,
    "storageProfile": {"osDisk": _IMAGE_DISK, "dataDisks": [_IMAGE_DISK], "zoneResilient": BOOL}}}
GALLERY: dict[str, Any] = {"properties": {
    "description": STR, "identifier": {"uniqueName": STR}, "sharingProfile": {"permissions": STR},
    "softDeletePolicy": {"isSoftDeleteEnabled": BOOL}}}
DEFINITION: dict[str, Any] = {"properties": {
    "osType": STR, "osState": STR, "hyperVGeneration": STR, "architecture": ARCHITECTURES, "description": STR,
    "eula": STR, "privacyStatementUri": STR, "releaseNoteUri": STR, "endOfLifeDate": STR, "allowUpdateImage": BOOL,
    "identifier": {"publisher": STR, "offer": STR, "sku": STR},
    "features": [{"name": STR, "value": STR}],
    "recommended": {"vCPUs": {"min": INT, "max": INT}, "memory": {"min": INT, "max": INT}},
    "disallowed": {"diskTypes": [STR]},
    "purchasePlan": {"name": STR, "publisher": STR, "product": STR}}}
_VERSION_SOURCE = {"id": STR, "uri": STR, "storageAccountId": STR}
VERSION: dict[str, Any] = {"properties": {
    "publishingProfile": {
        "replicaCount": INT, "excludeFromLatest": BOOL, "endOfLifeDate": STR,
        "storageAccountType": GALLERY_STORAGE, "replicationMode": REPLICATION_MODES,
        "targetRegions": [{"name": STR, "regionalReplicaCount": INT, "storageAccountType": GALLERY_STORAGE,
                           "excludeFromLatest": BOOL, "encryption": OBJ}]},
    "storageProfile": {
        "source": _VERSION_SOURCE,
        "osDiskImage": {"hostCaching": CACHING, "sizeInGB": INT, "source": _VERSION_SOURCE},
        "dataDiskImages": [{"lun": Int(0, 63), "hostCaching": CACHING, "sizeInGB": INT, "source": _VERSION_SOURCE}]},
    "safetyProfile": {"allowDeletionOfReplicatedLocations": BOOL, "blockDeletionBeforeEndOfLife": BOOL}}}
CAPACITY_GROUP: dict[str, Any] = {"properties": {"sharingProfile": {"subscriptionIds": [_ID]}}}
CAPACITY_RESERVATION: dict[str, Any] = {"properties": {"platformFaultDomainCount": INT}}
EXTENSION: dict[str, Any] = {"properties": _EXTENSION}

SCHEMAS: dict[str, dict[str, Any]] = {t.lower(): s for t, s in (
    ("Microsoft.Compute/virtualMachines", VM),
    ("Microsoft.Compute/virtualMachineScaleSets", VMSS),
    ("Microsoft.Compute/disks", DISK),
    ("Microsoft.Compute/snapshots", SNAPSHOT),
    ("Microsoft.Compute/images", IMAGE),
    ("Microsoft.Compute/galleries", GALLERY),
    ("Microsoft.Compute/galleries/images", DEFINITION),
    ("Microsoft.Compute/galleries/images/versions", VERSION),
    ("Microsoft.Compute/capacityReservationGroups", CAPACITY_GROUP),
    ("Microsoft.Compute/capacityReservationGroups/capacityReservations", CAPACITY_RESERVATION),
    ("Microsoft.Compute/virtualMachines/extensions", EXTENSION),
    ("Microsoft.Compute/virtualMachineScaleSets/extensions", EXTENSION),
)}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


_RESOLVED: dict[str, dict[str, Any]] = {}


def schema_for(arm_type: str) -> dict[str, Any]:
    """The table of a type, ARM's envelope included (the envelope alone for a type without a table)."""
    t = arm_type.lower()
    if t not in _RESOLVED:
        _RESOLVED[t] = _merge(COMMON, SCHEMAS.get(t, {}))
    return _RESOLVED[t]


# ---- checking a body -----------------------------------------------------------------------------------------
def _kind(spec: Any) -> str:
    if isinstance(spec, dict):
        return OBJ
    if isinstance(spec, list):
        return "array"
    if isinstance(spec, tuple):
        return STR
    if isinstance(spec, Int):
        return INT
    return spec


def _fits(value: Any, kind: str) -> bool:
    if kind == OBJ:
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        # ARM's deserialiser (Newtonsoft) reads the strings "true" / "false" as booleans, and clients rely on it:
        # az vmss create sends `"primary": "true"` (azure-cli vm/_template_builder.py build_vmss_resource).
        return isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false"))
    if isinstance(value, bool):
        return False  # JSON true is no number (Python's bool is an int)
    if kind == INT:  # the specs' integers are int32 or int64: nothing past int64 deserialises
        return (isinstance(value, int) or (isinstance(value, float) and value.is_integer())) and -2**63 <= value < 2**63
    return isinstance(value, int | float)  # NUM


def _shown(value: Any) -> str:
    """A value as a deserialiser's message shows it: JSON, cut short (a 5,000-character string stays readable)."""
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def _param(path: str) -> str:
    # CRP names a parameter without the `properties.` envelope (common.not_one_of does the same).
    return path.removeprefix("properties.")


def _walk(value: Any, spec: Any, path: str) -> Problem | None:
    if value is None:
        return None  # not given
    kind = _kind(spec)
    if not _fits(value, kind):
        return Problem("ARM5", 5, {"value": _shown(value), "type": kind, "path": path})
    if isinstance(spec, tuple) and value.lower() not in {s.lower() for s in spec}:
        return Problem("IN1", 0, {"value": _cut(value), "path": _param(path), "target": _param(path)})
    if isinstance(spec, Int) and not spec.lo <= value <= spec.hi:
        return Problem("IN1", 0, {"value": _shown(value), "path": _param(path), "target": _param(path)})
    if isinstance(spec, list):
        for i, item in enumerate(value):
            if item is None:  # an array's items are given: null is no value of the item's type (INFERRED)
                return Problem("ARM5", 5, {"value": "null", "type": _kind(spec[0]), "path": f"{path}[{i}]"})
            if p := _walk(item, spec[0], f"{path}[{i}]"):
                return p
    elif isinstance(spec, dict) and spec:
        for key, item in value.items():
            sub = spec.get("*") if "*" in spec else _child(spec, key)
            if sub is not None and (p := _walk(item, sub, f"{path}.{key}" if path else str(key))):
                return p
    return None


def _child(spec: dict[str, Any], key: str) -> Any:
    if key in spec:
        return spec[key]
    low = key.lower()
    return next((v for k, v in spec.items() if k.lower() == low), None)


# .NET's JSON reader stops at 64 levels of nesting (Json.NET 13's default MaxDepth); INFERRED that the compute RPs
# keep the default. It also keeps refit's own recursion (copies, merges) far from Python's limit.
MAX_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Does `value` nest objects and arrays more than `limit` levels deep? (Iterative: no recursion to overflow.)"""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return True
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return False


def body_problem(arm_type: str, body: Any) -> Problem | None:
    """The first value of a PUT or PATCH body that its type's table refuses (document order), or None.
    A body that is not an object, and `properties` or `tags` that are not objects, are left to rule ARM5's
    own answers."""
    if not isinstance(body, dict):
        return None
    if too_deep(body):
        return Problem("ARM5", 6, {"depth": MAX_DEPTH})
    spec = schema_for(arm_type)
    for key, value in body.items():
        sub = _child(spec, key)
        if sub is None or (key.lower() in ("properties", "tags") and not isinstance(value, dict)):
            continue
        if p := _walk(value, sub, key):
            return p
    return None


def tags_problem(tags: dict[str, Any], path: str = "properties.tags") -> Problem | None:
    """A tag value that is not a string (the Tags resource at a scope; resources' tags go through `body_problem`)."""
    if too_deep(tags):
        return Problem("ARM5", 6, {"depth": MAX_DEPTH})
    return _walk(tags, {"*": STR}, path)


# ---- names ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NameRule:
    """One row of Azure's naming rules: length, the characters allowed, and how a name starts and ends."""

    low: int
    high: int
    pattern: str  # a full match over the name (length checked apart)
    param: str  # how the RP's answer names the parameter (`<param>.name`)
    network: bool = False  # answered by the network RP's InvalidResourceName


_WORD_80 = r"[A-Za-z0-9][A-Za-z0-9_.-]*(?<=[A-Za-z0-9_])"  # start alphanumeric, end alphanumeric or underscore
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules (Microsoft.Compute and
# Microsoft.Network). VMs and scale sets: the table's rows are for the host name; the note says the resource name
# has up to 64 characters, and Azure's PSRule (Azure.VM.Name, https://azure.github.io/PSRule.Rules.Azure/en/rules/
# Azure.VM.Name/) gives its characters: alphanumerics, underscores, periods and hyphens, starting with an
# alphanumeric and ending with an alphanumeric or underscore (Azure/azure-rest-api-specs#13271: the API takes '_').
# Capacity reservation groups and reservations have no row: INFERRED as availability sets'. Galleries (G24) and
# image versions (G5) have rules of their own. No served type takes a reserved word: those apply to resources whose
# name becomes a public DNS name (https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/
# error-reserved-resource-name).
NAME_RULES: dict[str, NameRule] = {t.lower(): r for t, r in (
    # Disks: the table says letters, digits, '_' and '-'; the portal (MicrosoftDocs/azure-docs#73751) and the
    # disk RP also take periods, with a first letter or digit and a last letter, digit or '_' (as snapshots).
    ("Microsoft.Compute/disks", NameRule(1, 80, _WORD_80, "disk")),
    ("Microsoft.Compute/snapshots", NameRule(1, 80, _WORD_80, "snapshot")),
    ("Microsoft.Compute/images", NameRule(1, 80, _WORD_80, "image")),
    ("Microsoft.Compute/availabilitySets", NameRule(1, 80, _WORD_80, "availabilitySet")),
    ("Microsoft.Compute/galleries/images", NameRule(1, 80, r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?",
                                                    "galleryImage")),
    ("Microsoft.Compute/virtualMachines", NameRule(1, 64, _WORD_80, "virtualMachine")),
    ("Microsoft.Compute/virtualMachineScaleSets", NameRule(1, 64, _WORD_80, "virtualMachineScaleSet")),
    ("Microsoft.Compute/capacityReservationGroups", NameRule(1, 80, _WORD_80, "capacityReservationGroup")),
    ("Microsoft.Compute/capacityReservationGroups/capacityReservations",
     NameRule(1, 80, _WORD_80, "capacityReservation")),
    ("Microsoft.Network/networkInterfaces", NameRule(1, 80, _WORD_80, "", network=True)),
    ("Microsoft.Network/virtualNetworks", NameRule(1, 80, _WORD_80, "", network=True)),
    ("Microsoft.Network/networkSecurityGroups", NameRule(1, 80, _WORD_80, "", network=True)),
    ("Microsoft.Network/publicIPAddresses", NameRule(1, 80, _WORD_80, "", network=True)),
    ("Microsoft.Network/loadBalancers", NameRule(1, 80, _WORD_80, "", network=True)),
    ("Microsoft.Network/applicationGateways", NameRule(1, 80, _WORD_80, "", network=True)),
)}
ARM_NAME_MAX = 260  # ARM's own limit on any resource name (microsoft/AzureStorageExplorer#4425)
RESOURCE_GROUP_MAX = 90
# Letters and digits (Unicode: \w), '-', '.', '(', ')' and '_'; not ending with a period (resource-name-rules,
# Microsoft.Resources).
_GROUP_CHAR = re.compile(r"[\w().-]")


def name_problem(arm_type: str, name: str) -> Problem | None:
    """Is `name` one Azure takes for a new resource of this type?"""
    t = arm_type.lower()
    if t == "microsoft.resources/resourcegroups":
        return group_name_problem(name)
    if len(name) > ARM_NAME_MAX:
        return Problem("IN2", 2, {"name": _cut(name), "length": len(name)})
    r = NAME_RULES.get(t)
    if r is None or (r.low <= len(name) <= r.high and re.fullmatch(r.pattern, name)):
        return None
    if r.network:
        return Problem("IN2", 1, {"name": _cut(name)})
    return Problem("IN2", 0, {"param": f"{r.param}.name"})


def group_name_problem(name: str) -> Problem | None:
    if len(name) > RESOURCE_GROUP_MAX:
        return Problem("IN3", 1, {"name": _cut(name), "length": len(name)})
    bad = "".join(dict.fromkeys(c for c in name if not _GROUP_CHAR.fullmatch(c)))
    if not bad and name.endswith("."):
        bad = "."  # a trailing period is refused as a character (INFERRED: the text for it is the same)
    return Problem("IN3", 0, {"name": name, "chars": bad}) if bad else None


def _cut(name: str) -> str:
    return name if len(name) <= 100 else name[:97] + "..."


# ---- the rules -----------------------------------------------------------------------------------------------
refusal("IN1", EVERY_TYPE, "Values are within the enums and ranges the REST spec declares",
        f"specs ComputeRP / DiskRP / GalleryRP (the enums: CachingTypes, DiskDeleteOptionTypes, StorageAccountTypes, "
        f"VirtualMachinePriorityTypes, OrchestrationMode, NetworkAccessPolicy, ...; the ranges: LUNs 0-63, an OS disk "
        f"of at most 4,095 GiB, a data disk of 1-65,536 GiB, at most 1,000 instances in a scale set); the message is "
        f"{FAMILY}",
        doc="""A value outside its enum (`caching: "Sometimes"`) or its range (`diskSizeGB: -5`, `lun: 64`) is refused
        before the resource is built. Enums are compared without regard to case, as CRP parses them.""",
        errors=(INVALID_ENUM,), confidence="M")

refusal("IN2", EVERY_TYPE, "A new resource's name keeps Azure's naming rules for its type",
        f"{NAMING} (length, characters, first and last character per type); microsoft/AzureStorageExplorer#4425 "
        "(the disk RP: 'The value of parameter disk.name is invalid.' for a name over 80 characters; ARM: 'The "
        "provided resource name ... has a length of ... which exceeds the maximum length of '260'.'); "
        "rh-mobb/documentation#204 and microsoft/navcontainerhelper#582 (the network RP's InvalidResourceName, "
        "quoted). The other compute types' texts, and the code of ARM's length answer, are INFERRED from these",
        doc="""The resource name in the path of a PUT that creates a resource is checked against its type's row of
        Azure's naming rules (disks: 1-80 letters, digits, '_', '.' and '-'; VMs and scale sets: up to 64 characters of
        letters, digits, '_', '.' and '-', starting with a letter or digit and ending with one or '_'; ...).
        No name has more than 260 characters (ARM's limit). `bad;name` and a 5,000-character name are refused.""",
        errors=(ErrorTemplate(400, "InvalidParameter", "The value of parameter {param} is invalid.", "{param}"),
                ErrorTemplate(400, "InvalidResourceName",
                              "Resource name {name} is invalid. The name can be up to 80 characters long. It must "
                              "begin with a word character, and it must end with a word character or with '_'. The "
                              "name may contain word characters or '.', '-', '_'."),
                ErrorTemplate(400, "InvalidResourceName",
                              "The provided resource name '{name}' has a length of '{length}' which exceeds the "
                              "maximum length of '260'.")),
        operations=("create",), confidence="M")

refusal("IN3", "Microsoft.Resources/resourceGroups", "A resource group's name is 1-90 letters, digits, '-', '.', "
        "'(', ')' and '_', not ending with a period",
        f"{NAMING} (Microsoft.Resources); microsoft/microsoft-foundry-for-vscode#53 (code InvalidResourceGroup and the "
        "message, quoted; it goes on 'For more details, visit <url>', the url redacted in the capture and left "
        "out here). The answer for a name over 90 characters is INFERRED from ARM's length answer (rule IN2)",
        doc="""A resource group is created only with a name of 1 to 90 letters or digits (Unicode), '-', '.', '(',
        ')' and '_', that does not end with a period.""",
        errors=(ErrorTemplate(400, "InvalidResourceGroup",
                              "The provided resource group name '{name}' has these invalid characters: '{chars}'. The "
                              "name can only be a letter, digit, '-', '.', '(', ')' or '_'."),
                ErrorTemplate(400, "InvalidResourceGroup",
                              "The provided resource group name '{name}' has a length of '{length}' which exceeds the "
                              "maximum length of '90'.")),
        operations=("create",), confidence="M")

__all__ = ["MAX_DEPTH", "SCHEMAS", "Int", "NameRule", "Problem", "body_problem", "name_problem", "schema_for", "tags_problem", "too_deep"]


# ---- enum values in Azure's casing ---------------------------------------------------------------------------
# Enums a rule of their own decides (see the module doc), which Azure also reads without regard to case:
# `az vmss create` sends upgradePolicy.mode "manual" and Azure answers "Manual" (azure-cli
# vm/_template_builder.py build_vmss_resource; the spec's UpgradeMode is an enum of .NET, parsed ignoring case).
RULE_ENUMS = {
    "microsoft.compute/virtualmachinescalesets": {
        "properties.upgradePolicy.mode": ("Automatic", "Manual", "Rolling"),
        "properties.virtualMachineProfile.securityProfile.securityType": ("Standard", "TrustedLaunch", "ConfidentialVM"),
    },
    "microsoft.compute/virtualmachines": {
        "properties.securityProfile.securityType": ("Standard", "TrustedLaunch", "ConfidentialVM"),
    },
}


def canonical(arm_type: str, body: Any) -> None:
    """Rewrite, in place, every enum value of the body that matches ignoring case to Azure's own casing
    (the deserialiser's enum parse; GET then shows `Manual`, not `manual`). Run after body_problem."""
    if not isinstance(body, dict):
        return
    _canon(body, schema_for(arm_type))
    for path, allowed in RULE_ENUMS.get(arm_type.lower(), {}).items():
        *parents, leaf = path.split(".")
        node: Any = body
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(leaf), str):
            node[leaf] = next((a for a in allowed if a.lower() == node[leaf].lower()), node[leaf])


def _canon(value: Any, spec: Any) -> None:
    if isinstance(spec, list) and isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(spec[0], tuple) and isinstance(item, str):
                value[i] = next((a for a in spec[0] if a.lower() == item.lower()), item)
            else:
                _canon(item, spec[0])
    elif isinstance(spec, dict) and isinstance(value, dict):
        for key, item in value.items():
            sub = spec.get("*") if "*" in spec else _child(spec, key)
            if isinstance(sub, tuple) and isinstance(item, str):
                value[key] = next((a for a in sub if a.lower() == item.lower()), item)
            elif sub is not None:
                _canon(item, sub)
