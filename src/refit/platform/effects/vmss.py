"""Microsoft.Compute/virtualMachineScaleSets: the model (PUT 201/200, PATCH 200, both with
Azure-AsyncOperation). Instances and rolling upgrades come with a later capability."""

from __future__ import annotations

import copy

from refit.arm import views as v
from refit.platform.cloud import Answer
from refit.platform.effects import flex_instances, register
from refit.platform.effects.base import ResourceType, new_guid, required


class ScaleSetType(ResourceType):
    type = v.VMSS
    create_timing = "vmss.create"
    update_timing = "vmss.update"
    delete_timing = "vmss.delete"
    actions = ("manualupgrade",)

    def action(self, cloud, doc, name, call):

        # manualupgrade (updateInstances): instances are not modelled yet; the operation takes the time an
        # in-place upgrade of every instance takes.
        body = call.body if isinstance(call.body, dict) else {}
        if not body.get("instanceIds"):
            raise required("M15", "instanceIds")
        doc["properties"]["provisioningState"] = "Updating"
        cloud.save(doc)
        op = cloud.begin(doc["id"], "action", name, cloud.timing["vmss.update_instances"], doc["location"],
                       call.api_version or "", {"instanceIds": list(body["instanceIds"])})
        return Answer(202, None, op, location=True)

    def finish_manualupgrade(self, cloud, op):
        doc = cloud.get(op.resource_id)
        if doc is not None:
            doc["properties"]["provisioningState"] = "Succeeded"
            cloud.priv(doc["id"]).pop("instances_behind", None)
            cloud.save(doc)
            flex_instances.upgrade(cloud, doc, op.data.get("instanceIds") or [])

    def accept(self, cloud, old, new, op):
        # Upgrade policy Manual: a model change reaches no instance until manualUpgrade (update-instances)
        # brings them to it (https://learn.microsoft.com/azure/virtual-machine-scale-sets/
        # virtual-machine-scale-sets-upgrade-policy: "Manual ... you must manually update each instance").
        if old is None:
            return
        mode = ((new["properties"].get("upgradePolicy") or {}).get("mode")) or "Manual"
        if mode == "Manual" and (old["properties"].get("virtualMachineProfile")
                                 != new["properties"].get("virtualMachineProfile")):
            cloud.priv(new["id"])["instances_behind"] = True

    def server_properties(self):
        return ("provisioningState", "timeCreated", "uniqueId")

    def build(self, cloud, rid, doc, old, call):
        # The region (ARM8), its zones (ARM9), and the values of the upgrade mode and the security type (M16) are
        # the catalog's.
        p = doc["properties"]
        sku = doc.get("sku") or (old or {}).get("sku")
        if not isinstance(sku, dict) or (old is None and not sku.get("name") and p.get("virtualMachineProfile")):
            raise required("M15", "sku")
        doc["sku"] = {**sku, "capacity": int(sku.get("capacity") or 0)}
        if old is None:
            p.setdefault("orchestrationMode", "Uniform")  # INFERRED API default when not given
            if p.get("orchestrationMode") == "Uniform":
                p.setdefault("upgradePolicy", {"mode": "Manual"})
            p.setdefault("platformFaultDomainCount", 1 if p["orchestrationMode"] == "Flexible" else 5)
            p.setdefault("singlePlacementGroup", p["orchestrationMode"] == "Uniform" and doc["sku"]["capacity"] <= 100)
            p["uniqueId"] = new_guid()
            p["timeCreated"] = cloud.now_iso()
        else:
            if "zones" not in doc and old.get("zones"):
                doc["zones"] = old["zones"]
            _keep_image(p, old["properties"])
        profile = p.get("virtualMachineProfile")
        if old is None and p["orchestrationMode"] == "Uniform" and not isinstance(profile, dict):
            raise required("M15", "virtualMachineProfile")
        # Whether the image exists and is usable here is the catalog's answer (rules G13, G14, G21).
        return doc

    def finish_delete(self, cloud, doc, op):
        # The set's extensions are part of its model (extensionProfile): they go with it, as a VM's do
        # (https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/delete deletes the set).
        for ext in cloud.world.children(doc["id"], "Microsoft.Compute/virtualMachineScaleSets/extensions"):
            cloud.remove(ext["id"])


def _keep_image(props: dict, old_props: dict) -> None:
    """An update whose model leaves the image out keeps the set's image: az sends `imageReference: null` on every
    `az vmss update` and `az vmss extension set` ("To avoid unnecessary permission check of image", azure-cli
    vm/custom.py get_vmss_by_aaz / update_vmss), and the set goes on running the image it has."""
    before = ((old_props.get("virtualMachineProfile") or {}).get("storageProfile") or {}).get("imageReference")
    storage = (props.get("virtualMachineProfile") or {}).get("storageProfile")
    if before and isinstance(storage, dict) and not storage.get("imageReference"):
        storage["imageReference"] = copy.deepcopy(before)


def instances_behind(cloud, vmss_id: str) -> bool:
    """Whether some instance does not run the set's latest model (`latestModelApplied: false`)."""
    return bool(cloud.priv(vmss_id).get("instances_behind"))


register(ScaleSetType())
