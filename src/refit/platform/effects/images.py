"""Microsoft.Compute/images: legacy managed images (PUT 201/200 with Azure-AsyncOperation)."""

from __future__ import annotations

from refit.arm import views as v
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType, required
from refit.platform.rules import RULES


class ManagedImageType(ResourceType):
    type = v.IMAGE
    create_timing = "image.create"
    update_timing = "vm.update"

    def build(self, cloud, rid, doc, old, call):
        p = doc["properties"]
        if old is not None:
            for k in ("sourceVirtualMachine", "storageProfile", "hyperVGeneration"):
                if k in old["properties"]:
                    p[k] = old["properties"][k]
            return doc
        p["hyperVGeneration"] = p.get("hyperVGeneration") or "V1"  # the API default; its values are rule I1's
        src = (p.get("sourceVirtualMachine") or {}).get("id")
        osd = (p.get("storageProfile") or {}).get("osDisk")
        if src:
            vm = cloud.get(src)
            if vm is None:
                raise RULES["I2"].refuse(source=src, target="sourceVirtualMachine.id")
            vosd = vm["properties"]["storageProfile"]["osDisk"]
            disk = cloud.get((vosd.get("managedDisk") or {}).get("id") or "") or {}
            p["storageProfile"] = {
                "osDisk": {"osType": vosd.get("osType") or "Linux", "osState": "Generalized",
                           "managedDisk": {"id": (vosd.get("managedDisk") or {}).get("id")},
                           "caching": "ReadWrite", "storageAccountType": (disk.get("sku") or {}).get("name", "Premium_LRS"),
                           "diskSizeGB": (disk.get("properties") or {}).get("diskSizeGB", 30)},
                "dataDisks": [], "zoneResilient": False,
            }
        elif isinstance(osd, dict):
            for k in ("osType", "osState"):
                if not osd.get(k):
                    raise required("I3", f"storageProfile.osDisk.{k}")
            ref = (osd.get("managedDisk") or {}).get("id") or (osd.get("snapshot") or {}).get("id")
            if ref and cloud.get(ref) is None:
                raise RULES["I2"].refuse(source=ref, target="storageProfile.osDisk")
            if not ref and not osd.get("blobUri"):
                raise RULES["I3"].refuse(1)
            if ref and not osd.get("diskSizeGB"):
                osd["diskSizeGB"] = (cloud.get(ref).get("properties") or {}).get("diskSizeGB", 30)
        else:
            raise RULES["I3"].refuse(2)
        return doc


register(ManagedImageType())
