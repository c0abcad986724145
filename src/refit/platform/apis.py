"""The api-versions of refit and of Azure, the one api-version table in refit: the one refit sends for each
resource type (the one the official SDK sends, azure-mgmt-compute 39, azure-mgmt-resource 26: the versions their
operation groups are generated for, so that refit and the SDK read and write the same shapes), and the ones Azure
accepts for each type it serves (`PUBLISHED`, checked by `check` before any provider sees a request).
"""

from __future__ import annotations

import re

from refit.arm.ids import ResourceId

COMPUTE = "2026-04-01"  # virtualMachines, virtualMachineScaleSets, images, capacityReservationGroups (ComputeRP)
DISKS = "2025-01-02"  # disks, snapshots (DiskRP)
GALLERY = "2026-03-03"  # galleries, images, versions (GalleryRP)
RESOURCES = "2024-11-01"  # resource groups, tags at scope (Microsoft.Resources)

SENDS: dict[str, str] = {
    "microsoft.compute/virtualmachines": COMPUTE,
    "microsoft.compute/virtualmachines/extensions": COMPUTE,
    "microsoft.compute/virtualmachinescalesets": COMPUTE,
    "microsoft.compute/virtualmachinescalesets/extensions": COMPUTE,
    "microsoft.compute/images": COMPUTE,
    "microsoft.compute/capacityreservationgroups": COMPUTE,
    "microsoft.compute/capacityreservationgroups/capacityreservations": COMPUTE,
    "microsoft.compute/disks": DISKS,
    "microsoft.compute/snapshots": DISKS,
    "microsoft.compute/diskencryptionsets": DISKS,
    "microsoft.compute/galleries": GALLERY,
    "microsoft.compute/galleries/images": GALLERY,
    "microsoft.compute/galleries/images/versions": GALLERY,
    "microsoft.resources/resourcegroups": RESOURCES,
    "microsoft.resources/deployments": RESOURCES,  # az vm create / vmss create deploy with this one too
    "microsoft.resources/tags": RESOURCES,
}


def api_version(arm_type: str) -> str:
    """The api-version refit sends for a resource type (Azure's casing or not): the SDK's, else the type's newest
    published one (Microsoft.Network: refit has no SDK for it), else Microsoft.Resources'."""
    low = arm_type.lower()
    if low in SENDS:
        return SENDS[low]
    return latest(arm_type) if not arm_own(arm_type) and published(arm_type) else RESOURCES


def api_version_for(resource_id: str) -> str:
    """The api-version for the resource an id names (a tags-at-scope path is Microsoft.Resources/tags)."""
    if "/providers/microsoft.resources/tags/" in resource_id.lower():
        return RESOURCES
    return api_version(ResourceId.parse(resource_id).type)


# ---- what Azure accepts: the api-versions each served type publishes --------------------------------------------
# One tuple per resource provider family, oldest first as ARM lists them in NoRegisteredProviderFound; a type's
# list is its family's from the version that introduced the type (`_since`). Sources:
# - Compute, Disk and Gallery RPs: the stable/<version>/{ComputeRP,DiskRP,GalleryRP}.json inputs of the tags in
#   azure-rest-api-specs specification/compute/resource-manager/Microsoft.Compute/Compute/readme.md (the 2015-06-15
#   to 2017-12-01 compute.json / disk.json folders before the split), and the versions azure-mgmt-compute 39 is
#   generated for (ComputeRP 2026-04-01, DiskRP 2026-03-02, GalleryRP 2026-03-03); 2016-04-30-preview and
#   2017-10-30-preview are preview folders; skus: stable/2017-09-01, 2019-04-01, 2021-07-01/skus.json.
# - Network: ARM's own list for networkInterfaces as it answers it (Azure/azure-cli#28496, 2024: '2014-12-01-preview,
#   ..., 2023-09-01'), then the Network readme's later tags (specification/network/resource-manager/Microsoft.Network/
#   Network/readme.md, package-2023-11-01 to package-2025-09-01).
# - Microsoft.Resources (ARM itself): the list ARM quotes in InvalidApiVersionParameter (ansible-collections/azure#1739,
#   2024: '2024-08-01,...,2014-04'), with the specs' later stable folders (resources 2024-11-01, 2025-03-01,
#   2025-04-01: azure-mgmt-resource 26).
_COMPUTE_RP = (
    "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-04-30-preview", "2016-08-30", "2017-03-30",
    "2017-10-30-preview", "2017-12-01", "2018-04-01", "2018-06-01", "2018-10-01", "2019-03-01", "2019-07-01",
    "2019-12-01", "2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01",
    "2022-08-01", "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01",
    "2025-04-01", "2025-11-01", "2026-04-01")
_DISK_RP = (
    "2016-04-30-preview", "2017-03-30", "2018-04-01", "2018-06-01", "2018-09-30", "2019-03-01", "2019-07-01",
    "2019-11-01", "2020-05-01", "2020-06-30", "2020-09-30", "2020-12-01", "2021-04-01", "2021-08-01", "2021-12-01",
    "2022-03-02", "2022-07-02", "2023-01-02", "2023-04-02", "2023-10-02", "2024-03-02", "2025-01-02", "2026-03-02")
_GALLERY_RP = (
    "2018-06-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-09-30", "2021-07-01", "2021-10-01", "2022-01-03",
    "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03", "2025-03-03", "2026-03-03")
_SKUS = ("2017-03-30", "2017-09-01", "2019-04-01", "2021-07-01")
_NETWORK = (
    "2014-12-01-preview", "2015-05-01-preview", "2015-06-15", "2016-03-30", "2016-06-01", "2016-07-01", "2016-08-01",
    "2016-09-01", "2016-10-01", "2016-11-01", "2016-12-01", "2017-03-01", "2017-04-01", "2017-06-01", "2017-08-01",
    "2017-09-01", "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01", "2018-03-01", "2018-04-01", "2018-05-01",
    "2018-06-01", "2018-07-01", "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01",
    "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-01-01", "2020-03-01",
    "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01", "2021-01-01", "2021-02-01",
    "2021-03-01", "2021-04-01", "2021-05-01", "2021-06-01", "2021-08-01", "2021-12-01", "2022-01-01", "2022-05-01",
    "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01",
    "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-03-01",
    "2025-05-01", "2025-07-01", "2025-09-01")
ARM_OWN = (
    "2014-04", "2014-02-26", "2013-03-01", "2014-01-01", "2014-04-01", "2014-04-01-preview", "2015-01-01",
    "2015-11-01", "2016-02-01", "2016-06-01", "2016-07-01", "2016-09-01", "2017-03-01", "2017-05-01", "2017-05-10",
    "2017-06-01", "2017-08-01", "2017-12-01", "2018-01-01", "2018-02-01", "2018-05-01", "2018-06-01", "2018-07-01",
    "2018-08-01", "2018-09-01", "2018-11-01", "2019-03-01", "2019-05-01", "2019-05-10", "2019-06-01", "2019-07-01",
    "2019-08-01", "2019-09-01", "2019-10-01", "2019-11-01", "2020-01-01", "2020-05-01", "2020-06-01", "2020-07-01",
    "2020-08-01", "2020-09-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-01-01", "2022-03-01-preview",
    "2022-05-01", "2022-06-01", "2022-09-01", "2022-11-01-preview", "2022-12-01", "2023-03-01-preview", "2023-07-01",
    "2023-07-01-preview", "2024-03-01", "2024-06-01-preview", "2024-07-01", "2024-08-01", "2024-11-01", "2025-03-01",
    "2025-04-01")
# Resource Graph: specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/{preview,stable}/<version>.
_GRAPH = ("2018-09-01-preview", "2019-04-01", "2020-04-01-preview", "2020-09-01-preview", "2021-03-01",
          "2021-06-01-preview", "2022-10-01", "2024-04-01")
# Stored as documents, with no behaviour of their own: their specs' version folders
# (monitor autoscale_API.json, imagebuilder, msi).
_AUTOSCALE = ("2014-04-01", "2015-04-01", "2021-05-01-preview", "2022-10-01")
_IMAGE_BUILDER = ("2018-02-01-preview", "2019-02-01-preview", "2019-05-01-preview", "2020-02-14", "2021-10-01",
                  "2022-02-14", "2022-07-01", "2023-07-01", "2024-02-01")
_MSI = ("2015-08-31-preview", "2018-11-30", "2021-09-30-preview", "2022-01-31-preview", "2023-01-31",
        "2023-07-31-preview", "2024-11-30")
# Microsoft.Authorization: the specs' folders that define roleAssignments and roleDefinitions (specification/
# authorization/resource-manager/Microsoft.Authorization stable/2015-07-01 and stable/2022-04-01
# authorization-RoleAssignmentsCalls.json / -RoleDefinitionsCalls.json; the preview packages azure-mgmt-authorization
# ships, readme.python.md: 2018-01-01-preview, 2018-09-01-preview, 2020-04-01-preview), with the versions azure-cli's
# azure-mgmt-authorization 5.0.0b2 sends (roleAssignments 2022-04-01, roleDefinitions 2022-05-01-preview).
_ROLE_ASSIGNMENTS = ("2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview", "2022-04-01")
_ROLE_DEFINITIONS = ("2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview")
# Microsoft.Storage: the stable folders of specification/storage/resource-manager/Microsoft.Storage (2015-06-15 to
# 2025-08-01, the version azure-mgmt-storage 25, az's, is generated for).
_STORAGE = (
    "2015-06-15", "2016-01-01", "2016-05-01", "2016-12-01", "2017-06-01", "2017-10-01", "2018-02-01", "2018-07-01",
    "2018-11-01", "2019-04-01", "2019-06-01", "2021-01-01", "2021-02-01", "2021-04-01", "2021-06-01", "2021-08-01",
    "2021-09-01", "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01",
    "2025-06-01", "2025-08-01")


def _since(family: tuple[str, ...], first: str) -> tuple[str, ...]:
    return tuple(v for v in family if v[:10] >= first)


_NETWORK_TYPES = ("networkInterfaces", "virtualNetworks", "virtualNetworks/subnets", "publicIPAddresses",
                  "networkSecurityGroups", "networkSecurityGroups/securityRules", "loadBalancers",
                  "loadBalancers/inboundNatRules", "loadBalancers/backendAddressPools", "loadBalancers/probes",
                  "applicationGateways")
# Every type the emulator serves outside Microsoft.Resources, in Azure's casing (provider registrations list them so).
PUBLISHED: dict[str, tuple[str, ...]] = {
    "Microsoft.Compute/virtualMachines": _COMPUTE_RP,
    "Microsoft.Compute/virtualMachines/extensions": _COMPUTE_RP,
    "Microsoft.Compute/virtualMachineScaleSets": _COMPUTE_RP,
    "Microsoft.Compute/virtualMachineScaleSets/extensions": _since(_COMPUTE_RP, "2017-03-30"),
    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines": _COMPUTE_RP,
    "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades": _since(_COMPUTE_RP, "2017-03-30"),
    "Microsoft.Compute/images": _since(_COMPUTE_RP, "2016-04-30"),
    "Microsoft.Compute/capacityReservationGroups": _since(_COMPUTE_RP, "2021-04-01"),
    "Microsoft.Compute/capacityReservationGroups/capacityReservations": _since(_COMPUTE_RP, "2021-04-01"),
    "Microsoft.Compute/locations": _COMPUTE_RP,  # vmSizes, usages, publishers/.../versions, operations
    "Microsoft.Compute/skus": _SKUS,
    "Microsoft.Compute/disks": _DISK_RP,
    "Microsoft.Compute/snapshots": _DISK_RP,
    # Disk encryption sets arrived with DiskRP 2019-07-01 (specs DiskRP stable/2019-07-01 diskEncryptionSet).
    "Microsoft.Compute/diskEncryptionSets": _since(_DISK_RP, "2019-07-01"),
    "Microsoft.Compute/galleries": _GALLERY_RP,
    "Microsoft.Compute/galleries/images": _GALLERY_RP,
    "Microsoft.Compute/galleries/images/versions": _GALLERY_RP,
    **{f"Microsoft.Network/{t}": _NETWORK for t in _NETWORK_TYPES},
    "Microsoft.ResourceGraph/resources": _GRAPH,
    "Microsoft.Insights/autoscalesettings": _AUTOSCALE,
    "Microsoft.VirtualMachineImages/imageTemplates": _IMAGE_BUILDER,
    "Microsoft.ManagedIdentity/userAssignedIdentities": _MSI,
    "Microsoft.Authorization/roleAssignments": _ROLE_ASSIGNMENTS,
    "Microsoft.Authorization/roleDefinitions": _ROLE_DEFINITIONS,
    "Microsoft.Storage/storageAccounts": _STORAGE,
    # Network Watcher arrived with 2016-09-01, its flowLogs as a child resource with 2019-11-01 (the first Network
    # folder whose networkWatcher.json has FlowLogs_CreateOrUpdate; INFERRED from the specs' history). az sends
    # 2022-01-01 for watchers and 2025-03-01 for flow logs (azure-cli 2.91 aaz network/watcher).
    "Microsoft.Network/networkWatchers": _since(_NETWORK, "2016-09-01"),
    "Microsoft.Network/networkWatchers/flowLogs": _since(_NETWORK, "2019-11-01"),
}
ARM_NAMESPACE = "microsoft.resources"  # resource groups, deployments, tags, subscriptions, resources, providers

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$")
_BY_TYPE = {k.lower(): v for k, v in PUBLISHED.items()}


def arm_own(arm_type: str) -> bool:
    """Whether ARM itself serves the type (Microsoft.Resources, or a path with no provider type)."""
    return arm_type.lower().startswith(ARM_NAMESPACE + "/") or "/" not in arm_type


def published(arm_type: str) -> tuple[str, ...]:
    """The api-versions Azure accepts for a type, oldest first (ARM's own list for Microsoft.Resources); a nested
    type this table does not name takes its top-level type's."""
    if arm_own(arm_type):
        return ARM_OWN
    low = arm_type.lower()
    return _BY_TYPE.get(low) or _BY_TYPE.get("/".join(low.split("/")[:2]), ())


def well_formed(version: str) -> bool:
    """YYYY-MM-DD, optionally -preview, -beta, -alpha or -privatepreview."""
    return bool(_DATE.match(version))


def latest(arm_type: str) -> str:
    """The newest published non-preview api-version (the one `az resource` picks from a provider's list)."""
    return next(v for v in reversed(published(arm_type)) if "preview" not in v)
