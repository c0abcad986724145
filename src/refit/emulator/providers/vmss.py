"""Microsoft.Compute/virtualMachineScaleSets: the model (PUT 201/200, PATCH 200, both with
Azure-AsyncOperation). Instances and rolling upgrades come with a later capability."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.emulator import regions
from refit.emulator.providers import register
from refit.emulator.providers.base import ResourceType, new_guid

UPGRADE_MODES = ("Automatic", "Manual", "Rolling")


class ScaleSetType(ResourceType):
    type = v.VMSS
    min_api = "2015-06-15"
    create_timing = "vmss.create"
    update_timing = "vmss.update"
    delete_timing = "vmss.delete"
    child_types = ("extensions",)
    actions = ("manualupgrade",)

    def action(self, emu, doc, name, req):
        from refit.emulator.dispatch import lro

        # manualupgrade (updateInstances): instances are not modelled yet; the operation takes the time an
        # in-place upgrade of every instance takes.
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("instanceIds"):
            raise ArmError(400, "InvalidParameter", "Required parameter 'instanceIds' is missing (null).", "instanceIds")
        doc["properties"]["provisioningState"] = "Updating"
        emu.save(doc)
        op = emu.begin(doc["id"], "action", name, emu.timing["vmss.update_instances"], doc["location"],
                       req.api_version or "")
        return lro(emu, req, op, 202, None, location=True)

    def finish_manualupgrade(self, emu, op):
        doc = emu.get(op.resource_id)
        if doc is not None:
            doc["properties"]["provisioningState"] = "Succeeded"
            emu.save(doc)

    def server_properties(self):
        return ("provisioningState", "timeCreated", "uniqueId")

    def build(self, emu, rid, doc, old, req):
        p = doc["properties"]
        loc = doc["location"]
        if not regions.known(loc):
            raise ArmError(400, "LocationNotAvailableForResourceType",
                           f"The provided location '{loc}' is not available for resource type "
                           "'Microsoft.Compute/virtualMachineScaleSets'.")
        sku = doc.get("sku") or (old or {}).get("sku")
        if not isinstance(sku, dict) or (old is None and not sku.get("name") and p.get("virtualMachineProfile")):
            raise ArmError(400, "InvalidParameter", "Required parameter 'sku' is missing (null).", "sku")
        doc["sku"] = {**sku, "capacity": int(sku.get("capacity") or 0)}
        mode = (p.get("upgradePolicy") or {}).get("mode")
        if mode is not None and mode not in UPGRADE_MODES:
            raise ArmError(400, "InvalidParameter", f"The value '{mode}' of parameter 'upgradePolicy.mode' is invalid.",
                           "upgradePolicy.mode")
        if old is None:
            p.setdefault("orchestrationMode", "Uniform")  # INFERRED API default when not given
            if p.get("orchestrationMode") == "Uniform":
                p.setdefault("upgradePolicy", {"mode": "Manual"})
            p.setdefault("platformFaultDomainCount", 1 if p["orchestrationMode"] == "Flexible" else 5)
            p.setdefault("singlePlacementGroup", p["orchestrationMode"] == "Uniform" and doc["sku"]["capacity"] <= 100)
            p["uniqueId"] = new_guid()
            p["timeCreated"] = emu.now_iso()
        elif "zones" not in doc and old.get("zones"):
            doc["zones"] = old["zones"]
        profile = p.get("virtualMachineProfile")
        if old is None and p["orchestrationMode"] == "Uniform" and not isinstance(profile, dict):
            raise ArmError(400, "InvalidParameter", "Required parameter 'virtualMachineProfile' is missing (null).",
                           "virtualMachineProfile")
        # Whether the image exists and is usable here is the catalog's answer (rules G13, G14, G21).
        sec = ((profile or {}).get("securityProfile") or {}).get("securityType")
        if sec is not None and sec not in ("TrustedLaunch", "ConfidentialVM", "Standard"):
            raise ArmError(400, "InvalidParameter",
                           f"The value '{sec}' of parameter 'virtualMachineProfile.securityProfile.securityType' is invalid.",
                           "virtualMachineProfile.securityProfile.securityType")
        return doc


register(ScaleSetType())
