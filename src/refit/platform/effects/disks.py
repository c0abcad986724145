"""Microsoft.Compute/disks (DiskRP). PUT/PATCH answer 202 with Azure-AsyncOperation and Location, never
201: AAZ's `az disk create` rejects 201 ('Operation returned an invalid status Created';
reference/clients-against-a-local-endpoint.md section 2)."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType, invalid, new_guid, required
from refit.platform.rules import RULES, facts, images


def _tier(sku: str, size: int) -> str | None:
    # Premium SSD performance tiers by size (https://learn.microsoft.com/azure/virtual-machines/disks-types).
    if not sku.startswith("Premium") or sku == "PremiumV2_LRS":
        return None
    for cap, tier in ((4, "P1"), (8, "P2"), (16, "P3"), (32, "P4"), (64, "P6"), (128, "P10"), (256, "P15"),
                      (512, "P20"), (1024, "P30"), (2048, "P40"), (4096, "P50"), (8192, "P60"), (16384, "P70")):
        if size <= cap:
            return tier
    return "P80"


class DiskType(ResourceType):
    type = v.DISK
    put_create_status = 202
    put_update_status = 202
    patch_status = 202
    location_header_on_write = True
    readonly_properties = ("provisioningState", "LastOwnershipUpdateTime")
    create_timing = "disk.create"
    update_timing = "disk.update"
    delete_timing = "disk.delete"

    def server_properties(self):
        return ("provisioningState", "timeCreated", "uniqueId", "diskState", "diskSizeBytes", "hyperVGeneration",
                "osType", "creationData", "tier", "encryption", "networkAccessPolicy", "publicNetworkAccess",
                "supportedCapabilities", "securityProfile", "diskIOPSReadWrite", "diskMBpsReadWrite",
                "LastOwnershipUpdateTime")

    def build(self, cloud, rid, doc, old, call):
        # The catalog decides on the document built here: the SKU and security type values (D14, D19), the
        # zones (ARM9, D13), the creation data and the size on update (D15, D16), the image (G13, G21-G23).
        p = doc["properties"]
        sku = (doc.get("sku") or {}).get("name") or ((old or {}).get("sku") or {}).get("name") or "Standard_LRS"
        doc["sku"] = {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"}
        if old is not None:
            sent = ((call.body or {}).get("properties") or {}).get("creationData") if isinstance(call.body, dict) else None
            old_opt = (old["properties"]["creationData"].get("createOption") or "").lower()
            # creationData is set at creation only: another createOption reaches the catalog as sent (D15).
            changed = isinstance(sent, dict) and (sent.get("createOption") or "").lower() != old_opt
            p["creationData"] = sent if changed else old["properties"]["creationData"]
            size = int(p.get("diskSizeGB") or old["properties"].get("diskSizeGB") or 0)
            p["diskSizeGB"] = size
            p["diskSizeBytes"] = size * 1024**3
            p["tier"] = _tier(sku, size)
            if p["tier"] is None:
                p.pop("tier")
            doc["zones"] = old.get("zones") if "zones" not in doc else doc["zones"]
            return doc
        cd = p.get("creationData")
        if not isinstance(cd, dict) or not cd.get("createOption"):
            raise required("D17", "creationData.createOption")
        opt = next((o for o in facts.DISK_CREATE_OPTIONS if o.lower() == str(cd["createOption"]).lower()), None)
        if opt is None:
            raise invalid("D18", "creationData.createOption", cd["createOption"])
        cd["createOption"] = opt
        size = p.get("diskSizeGB")
        if opt == "Empty":
            if not size:
                raise required("D17", "diskSizeGB")
        elif opt == "FromImage":
            ref = cd.get("galleryImageReference") or cd.get("imageReference")
            if not isinstance(ref, dict) or not ref.get("id"):
                raise RULES["D17"].refuse(1)
            try:
                f = images.facts(cloud.world, ref, doc["location"])
            except ArmError:
                f = None  # an image that does not resolve here is the catalog's answer (rules G13, G21, G23)
            if f is not None:
                p.setdefault("osType", f.os_type)
                p["hyperVGeneration"] = f.hyper_v_generation
                p.setdefault("supportedCapabilities", {"architecture": f.architecture})  # the image's (rule SZ2)
                size = max(int(size or 0), f.size_gb)
        elif opt in ("Copy", "Restore", "CopyStart"):
            src_id = cd.get("sourceResourceId")
            src = cloud.get(src_id) if src_id else None
            if src is None:
                raise RULES["D20"].refuse(source=src_id)
            sp = src.get("properties", {})
            size = max(int(size or 0), int(sp.get("diskSizeGB") or 0))
            for k in ("osType", "hyperVGeneration"):
                if k in sp:
                    p.setdefault(k, sp[k])
        elif opt in ("Import", "ImportSecure"):
            if not cd.get("sourceUri"):
                raise required("D17", "creationData.sourceUri")
            size = int(size or 30)
        elif opt == "Upload":
            if not cd.get("uploadSizeBytes"):
                raise required("D17", "creationData.uploadSizeBytes")
            size = int(cd["uploadSizeBytes"]) // 1024**3 or 1
        size = int(size or 30)  # an unresolvable image leaves no size; the catalog answers such a write
        p["diskSizeGB"] = size
        p["diskSizeBytes"] = size * 1024**3
        t = _tier(sku, size)
        if t:
            p["tier"] = t
        p["timeCreated"] = cloud.now_iso()
        p["uniqueId"] = new_guid()
        p["diskState"] = "Unattached"
        p.setdefault("encryption", {"type": "EncryptionAtRestWithPlatformKey"})
        p.setdefault("networkAccessPolicy", "AllowAll")
        p.setdefault("publicNetworkAccess", "Enabled")
        if p.get("osType") or opt == "FromImage":
            p.setdefault("supportedCapabilities", {"architecture": "x64"})
        return doc

    def duration(self, cloud, old, new):
        if old is None and new["properties"]["creationData"]["createOption"] == "FromImage":
            return "disk.create_from_image", cloud.timing["disk.create_from_image"]
        return super().duration(cloud, old, new)


DISKS = register(DiskType())


def attach(cloud, disk_id: str, vm_id: str, allocated: bool) -> None:
    """Bookkeeping: a VM owns the disk (managedBy) and its state follows the VM's allocation."""
    d = cloud.get(disk_id)
    if d is None:
        return
    state = "Attached" if allocated else "Reserved"
    _owned(cloud, d, vm_id, state)
    cloud.save(d)


def release(cloud, disk_id: str) -> None:
    d = cloud.get(disk_id)
    if d is None:
        return
    _owned(cloud, d, None, "Unattached")
    cloud.save(d)


def _owned(cloud, d: dict[str, Any], vm_id: str | None, state: str) -> None:
    """The disk's owner and state; `LastOwnershipUpdateTime` is when they last changed (attached, detached, or its
    VM deallocated or started: DiskProperties in specs DiskRP stable 2023-04-02 disk.json)."""
    p = d["properties"]
    if d.get("managedBy") != vm_id or p.get("diskState") != state:
        p["LastOwnershipUpdateTime"] = cloud.now_iso()
    if vm_id is None:
        d.pop("managedBy", None)
    else:
        d["managedBy"] = vm_id
    p["diskState"] = state


def resize(cloud, disk_id: str | None, size: int) -> None:
    """A VM model's larger OS disk, applied to the disk (its size, bytes and Premium tier)."""
    d = cloud.get(disk_id) if disk_id else None
    if d is None:
        return
    p = d["properties"]
    p["diskSizeGB"] = size
    p["diskSizeBytes"] = size * 1024**3
    tier = _tier(d["sku"]["name"], size)
    if tier:
        p["tier"] = tier
    cloud.save(d)


def new_disk_doc(cloud, rid: ResourceId, location: str, zones: list[str] | None, sku: str, size: int,
                 creation: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A disk the platform creates implicitly (a VM's OS disk from an image)."""
    p: dict[str, Any] = {"creationData": creation, "diskSizeGB": size, "diskSizeBytes": size * 1024**3,
                         "timeCreated": cloud.now_iso(), "uniqueId": new_guid(), "diskState": "Unattached",
                         "encryption": {"type": "EncryptionAtRestWithPlatformKey"}, "networkAccessPolicy": "AllowAll",
                         "publicNetworkAccess": "Enabled", "provisioningState": "Succeeded"}
    p.update(extra or {})
    t = _tier(sku, size)
    if t:
        p["tier"] = t
    doc: dict[str, Any] = {"id": str(rid), "name": rid.name, "type": v.DISK, "location": location,
                           "sku": {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"},
                           "properties": p}
    if zones:
        doc["zones"] = list(zones)
    return doc
