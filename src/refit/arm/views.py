"""Read-only typed views over ARM JSON. They never copy the document into another model."""

from __future__ import annotations

from typing import Any

from refit.arm import location
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path

# Canonical type names (Azure's casing).
RESOURCE_GROUP = "Microsoft.Resources/resourceGroups"
VM = "Microsoft.Compute/virtualMachines"
VMSS = "Microsoft.Compute/virtualMachineScaleSets"
DISK = "Microsoft.Compute/disks"
IMAGE = "Microsoft.Compute/images"
GALLERY = "Microsoft.Compute/galleries"
IMAGE_DEFINITION = "Microsoft.Compute/galleries/images"
IMAGE_VERSION = "Microsoft.Compute/galleries/images/versions"
CAPACITY_RESERVATION_GROUP = "Microsoft.Compute/capacityReservationGroups"
CAPACITY_RESERVATION = "Microsoft.Compute/capacityReservationGroups/capacityReservations"


class View:
    """Base view: id, name, type, location, tags and path access."""

    arm_type = ""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc

    def get(self, path: str, default: Any = None) -> Any:
        return get_path(self.doc, path, default)

    @property
    def id(self) -> str:
        return self.doc.get("id", "")

    @property
    def rid(self) -> ResourceId:
        return ResourceId.parse(self.id)

    @property
    def key(self) -> str:
        return id_key(self.id)

    @property
    def name(self) -> str:
        return self.doc.get("name", "")

    @property
    def type(self) -> str:
        return self.doc.get("type", "")

    @property
    def location(self) -> str:
        return (self.doc.get("location") or "").lower()

    @property
    def tags(self) -> dict[str, str]:
        return self.doc.get("tags") or {}

    def tag(self, name: str) -> str | None:
        """Tag value by name; tag names are case-insensitive in Azure."""
        for k, v in self.tags.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def zones(self) -> list[str]:
        return list(self.doc.get("zones") or [])

    @property
    def zone(self) -> str | None:
        z = self.zones
        return z[0] if len(z) == 1 else None

    @property
    def provisioning_state(self) -> str | None:
        return self.get("properties.provisioningState")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"


class Vm(View):
    arm_type = VM

    @property
    def size(self) -> str | None:
        return self.get("properties.hardwareProfile.vmSize")

    @property
    def security_type(self) -> str:
        # Older API versions represent Standard as null/absent (azure-platform-rules 1a).
        return self.get("properties.securityProfile.securityType") or "Standard"

    @property
    def os_disk_id(self) -> str | None:
        return self.get("properties.storageProfile.osDisk.managedDisk.id")

    @property
    def os_disk_name(self) -> str | None:
        return self.get("properties.storageProfile.osDisk.name")

    @property
    def data_disk_ids(self) -> list[str]:
        return [d["managedDisk"]["id"] for d in self.get("properties.storageProfile.dataDisks") or []
                if (d.get("managedDisk") or {}).get("id")]

    @property
    def image_reference(self) -> dict[str, Any]:
        return self.get("properties.storageProfile.imageReference") or {}

    @property
    def capacity_reservation_group_id(self) -> str | None:
        return self.get("properties.capacityReservation.capacityReservationGroup.id")

    @property
    def power_state(self) -> str | None:
        """'running', 'deallocated', ... as Resource Graph shows it (properties.extended.instanceView),
        or from an instance view ($expand=instanceView); None when the document does not say."""
        code = self.get("properties.extended.instanceView.powerState.code")
        if not code:
            for st in self.get("properties.instanceView.statuses") or []:
                if (st.get("code") or "").startswith("PowerState/"):
                    code = st["code"]
        return code.split("/", 1)[1] if code else None

    @property
    def hyper_v_generation(self) -> str | None:
        """From the instance view when present (Azure reports it there)."""
        return self.get("properties.instanceView.hyperVGeneration")

    @property
    def nic_ids(self) -> list[str]:
        return [n["id"] for n in self.get("properties.networkProfile.networkInterfaces") or [] if n.get("id")]


class Vmss(View):
    arm_type = VMSS

    @property
    def security_type(self) -> str:
        return self.get("properties.virtualMachineProfile.securityProfile.securityType") or "Standard"

    @property
    def image_reference(self) -> dict[str, Any]:
        return self.get("properties.virtualMachineProfile.storageProfile.imageReference") or {}

    @property
    def orchestration_mode(self) -> str:
        return self.get("properties.orchestrationMode") or "Uniform"

    @property
    def upgrade_mode(self) -> str:
        return self.get("properties.upgradePolicy.mode") or "Manual"

    @property
    def capacity(self) -> int:
        return int(self.get("sku.capacity") or 0)


class Disk(View):
    arm_type = DISK

    @property
    def disk_state(self) -> str | None:
        return self.get("properties.diskState")

    @property
    def managed_by(self) -> str | None:
        return self.doc.get("managedBy")

    @property
    def os_type(self) -> str | None:
        return self.get("properties.osType")

    @property
    def hyper_v_generation(self) -> str | None:
        return self.get("properties.hyperVGeneration")

    @property
    def security_type(self) -> str | None:
        return self.get("properties.securityProfile.securityType")

    @property
    def sku(self) -> str | None:
        return self.get("sku.name")

    @property
    def creation_data(self) -> dict[str, Any]:
        return self.get("properties.creationData") or {}

    @property
    def time_created(self) -> str | None:
        return self.get("properties.timeCreated")


class ManagedImage(View):
    arm_type = IMAGE

    @property
    def hyper_v_generation(self) -> str:
        return self.get("properties.hyperVGeneration") or "V1"

    @property
    def source_vm_id(self) -> str | None:
        return self.get("properties.sourceVirtualMachine.id")

    @property
    def os_type(self) -> str | None:
        return self.get("properties.storageProfile.osDisk.osType")

    @property
    def os_state(self) -> str | None:
        return self.get("properties.storageProfile.osDisk.osState")


class Gallery(View):
    arm_type = GALLERY


class ImageDefinition(View):
    arm_type = IMAGE_DEFINITION

    @property
    def security_type(self) -> str:
        for f in self.get("properties.features") or []:
            if (f.get("name") or "").lower() == "securitytype":
                return f.get("value") or "Standard"
        return "Standard"

    @property
    def hyper_v_generation(self) -> str:
        return self.get("properties.hyperVGeneration") or "V1"

    @property
    def os_type(self) -> str | None:
        return self.get("properties.osType")

    @property
    def os_state(self) -> str | None:
        return self.get("properties.osState")

    @property
    def identifier(self) -> tuple[str, str, str]:
        i = self.get("properties.identifier") or {}
        return (i.get("publisher", ""), i.get("offer", ""), i.get("sku", ""))


class ImageVersion(View):
    arm_type = IMAGE_VERSION

    @property
    def version(self) -> tuple[int, int, int]:
        return version_tuple(self.name)

    @property
    def exclude_from_latest(self) -> bool:
        return bool(self.get("properties.publishingProfile.excludeFromLatest"))

    @property
    def target_regions(self) -> list[dict[str, Any]]:
        return self.get("properties.publishingProfile.targetRegions") or []

    @property
    def source_id(self) -> str | None:
        return (self.get("properties.storageProfile.source.id")
                or self.get("properties.storageProfile.osDiskImage.source.id"))

    def regional_state(self, region: str) -> str | None:
        """Replication state in one region (from replicationStatus), or None if not targeted."""
        for s in self.get("properties.replicationStatus.summary") or []:
            if location.same(s.get("region"), region):
                return s.get("state")
        return None

    def region_excluded_from_latest(self, region: str) -> bool:
        for t in self.target_regions:
            if location.same(t.get("name"), region):
                return bool(t.get("excludeFromLatest"))
        return False


class CapacityReservationGroup(View):
    arm_type = CAPACITY_RESERVATION_GROUP


class CapacityReservation(View):
    arm_type = CAPACITY_RESERVATION

    @property
    def size(self) -> str | None:
        return self.get("sku.name")

    @property
    def capacity(self) -> int:
        return int(self.get("sku.capacity") or 0)


def version_tuple(name: str) -> tuple[int, int, int]:
    """Major.Minor.Patch of a gallery image version name (rule G5); (-1,-1,-1) when malformed."""
    parts = name.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return (-1, -1, -1)
    return (int(parts[0]), int(parts[1]), int(parts[2]))


VIEW_BY_TYPE: dict[str, type[View]] = {
    v.arm_type.lower(): v
    for v in (Vm, Vmss, Disk, ManagedImage, Gallery, ImageDefinition, ImageVersion,
              CapacityReservationGroup, CapacityReservation)
}


def view(doc: dict[str, Any]) -> View:
    return VIEW_BY_TYPE.get((doc.get("type") or "").lower(), View)(doc)
