"""The api-version refit sends for each resource type: the one the official SDK sends
(azure-mgmt-compute 39, azure-mgmt-resource 26: the versions their operation groups are generated for),
so that refit and the SDK read and write the same shapes. The one api-version table in refit.
"""

from __future__ import annotations

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
    "microsoft.compute/galleries": GALLERY,
    "microsoft.compute/galleries/images": GALLERY,
    "microsoft.compute/galleries/images/versions": GALLERY,
    "microsoft.resources/resourcegroups": RESOURCES,
    "microsoft.resources/tags": RESOURCES,
}


def api_version(arm_type: str) -> str:
    """The api-version for a resource type (Azure's casing or not)."""
    return SENDS.get(arm_type.lower(), RESOURCES)


def api_version_for(resource_id: str) -> str:
    """The api-version for the resource an id names (a tags-at-scope path is Microsoft.Resources/tags)."""
    if "/providers/microsoft.resources/tags/" in resource_id.lower():
        return RESOURCES
    return api_version(ResourceId.parse(resource_id).type)
