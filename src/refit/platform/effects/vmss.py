"""Microsoft.Compute/virtualMachineScaleSets: the model (PUT 201/200, PATCH 200, both with Azure-AsyncOperation), its
instances (vmss_instances.py), and the set's actions.

What a write does to the instances, when its operation completes:
- `sku.capacity` grows: new instances from the model (placed over zones and fault domains); shrinks: the scale-in
  policy's choice goes (vmss_instances.scale_in_order).
- `virtualMachineProfile` changes: a new model version. Upgrade policy Manual: "you must manually update each
  instance" (manualUpgrade, `az vmss update-instances`); Automatic: "all instances are upgraded at the same time";
  Rolling: "upgrades instances in batches" (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-
  scale-sets-upgrade-policy), the rolling-upgrade engine (rolling.py).

Actions (POST on the set; REST spec examples answer 200 or 202 with Location; azure-cli's calls per command in
reference/scale-sets-throttling-durable.md and the research notes): start, deallocate, powerOff, restart, reimage,
reimageall, delete (instances), manualupgrade, osRollingUpgrade, extensionRollingUpgrade, rollingUpgrades/cancel,
setOrchestrationServiceState. Each names instances by `instanceIds` (absent or '*': all; manualupgrade and delete
require them). An instance with protectFromScaleSetActions is left out of every action on the set (https://
learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-instance-protection: "protects from
operations initiated on the scale set (such as upgrade, reimage, deallocate, etc.)").
"""

from __future__ import annotations

import copy
from typing import Any

from refit.arm import views as v
from refit.platform.cloud import Answer, Cloud
from refit.platform.effects import register, rolling, vmss_instances
from refit.platform.effects.base import ResourceType, new_guid, required
from refit.platform.effects.vm import ALLOCATED, set_power
from refit.platform.rules import RULES

POWER_ACTIONS = {"start": ("vm.start", "starting", "running"), "deallocate": ("vm.deallocate", "deallocating", "deallocated"),
                 "powerOff": ("vm.powerOff", "stopping", "stopped"), "restart": ("vm.restart", "restarting", "running")}


class ScaleSetType(ResourceType):
    type = v.VMSS
    create_timing = "vmss.create"
    update_timing = "vmss.update"
    delete_timing = "vmss.delete"
    actions = ("manualupgrade", "start", "deallocate", "powerOff", "restart", "reimage", "reimageall", "delete",
               "osRollingUpgrade", "extensionRollingUpgrade", "rollingUpgrades/cancel", "setOrchestrationServiceState")

    # ---- the model ------------------------------------------------------------------------------------------------
    def server_properties(self):
        return ("provisioningState", "timeCreated", "uniqueId")

    def build(self, cloud, rid, doc, old, call):
        # The region (ARM8), its zones (ARM9), and the values of the upgrade mode and the security type (M16) are
        # the catalog's.
        p = doc["properties"]
        sku = doc.get("sku") or (old or {}).get("sku")
        if not isinstance(sku, dict) or (old is None and not sku.get("name") and p.get("virtualMachineProfile")):
            raise required("M15", "sku")
        if old is not None and not sku.get("name"):
            sku = {**old["sku"], **sku}  # az vmss scale PUTs only location and sku {capacity}
        doc["sku"] = {**sku, "capacity": int(sku.get("capacity") or 0)}
        if old is None:
            p.setdefault("orchestrationMode", "Uniform")  # INFERRED API default when not given
            if p.get("orchestrationMode") == "Uniform":
                p.setdefault("upgradePolicy", {"mode": "Manual"})
            # A null is not given (az vmss create's template sends `singlePlacementGroup: null` for Flexible); a
            # Flexible set's "will be set to false based on first VM deployed" (acd orchestration-modes).
            if p.get("platformFaultDomainCount") is None:
                p["platformFaultDomainCount"] = 1 if p["orchestrationMode"] == "Flexible" else 5
            if p.get("singlePlacementGroup") is None:
                p["singlePlacementGroup"] = p["orchestrationMode"] == "Uniform" and doc["sku"]["capacity"] <= 100
            p["uniqueId"] = new_guid()
            p["timeCreated"] = cloud.now_iso()
        else:
            for k in ("zones",):
                if k not in doc and old.get(k):
                    doc[k] = old[k]
            for k in ("orchestrationMode", "platformFaultDomainCount", "singlePlacementGroup", "upgradePolicy",
                      "virtualMachineProfile"):
                if k not in p and k in old["properties"]:  # a PUT of only `sku` (az vmss scale) keeps the model
                    p[k] = copy.deepcopy(old["properties"][k])
            _keep_image(p, old["properties"])
        profile = p.get("virtualMachineProfile")
        if old is None and p["orchestrationMode"] == "Uniform" and not isinstance(profile, dict):
            raise required("M15", "virtualMachineProfile")
        if doc["sku"]["capacity"] > 0 and not isinstance(profile, dict):
            raise required("M15", "virtualMachineProfile")  # instances are made from it (INFERRED for Flexible)
        # Whether the image exists and is usable here is the catalog's answer (rules G13, G14, G21).
        return doc

    def accept(self, cloud, old, new, op):
        if old is None or model_changed(old, new):
            vmss_instances.bump_model(cloud, new)

    def finish(self, cloud, doc, op):
        at_once = op.id in ("scenario", "sync")
        old = op.data.get("old")
        api = op.api_version or ""
        have = vmss_instances.members(cloud, doc)
        want = v.Vmss(doc).capacity
        if want > len(have):
            vmss_instances.add(cloud, doc, want - len(have), api, at_once)
        elif want < len(have):
            for inst in vmss_instances.scale_in_order(cloud, doc, len(have) - want):
                vmss_instances.remove(cloud, inst)
        from refit.platform.effects import auto_os, repairs

        cloud.priv(doc["id"])["changed_at"] = cloud.now()  # the repairs' grace period counts from here
        self._upgrade(cloud, doc, old, api)
        auto_os.consider(cloud, doc, api)
        repairs.watch(cloud, doc, api)

    def _upgrade(self, cloud, doc, old, api) -> None:
        if old is None or not model_changed(old, doc):
            return
        mode = v.Vmss(doc).upgrade_mode
        if mode == "Automatic":
            for inst in vmss_instances.behind(cloud, doc):
                if not vmss_instances.protected(cloud, inst, "actions"):
                    _upgrade_now(cloud, doc, inst)
        elif mode == "Rolling" and vmss_instances.behind(cloud, doc) and rolling.running(cloud, doc) is None:
            rolling.start(cloud, doc, "model", "User", api)  # a running upgrade carries on to the newest model

    def revert(self, cloud, doc, old):
        cloud.save(old)

    def finish_delete(self, cloud, doc, op):
        # Deleting the set deletes its instances (protection does not block it: instance-protection page above)
        # and its extensions (part of its model).
        for inst in vmss_instances.members(cloud, doc):
            vmss_instances.remove(cloud, inst)
        for ext in cloud.world.children(doc["id"], "Microsoft.Compute/virtualMachineScaleSets/extensions"):
            cloud.remove(ext["id"])

    # ---- actions --------------------------------------------------------------------------------------------------
    def action(self, cloud, doc, name, call):
        body = call.body if isinstance(call.body, dict) else {}
        api = call.api_version or ""
        if name == "osRollingUpgrade":
            return rolling.start_os(cloud, doc, api)
        if name == "extensionRollingUpgrade":
            return rolling.start_extension(cloud, doc, api)
        if name == "rollingUpgrades/cancel":
            return rolling.cancel(cloud, doc, api)
        if name == "setOrchestrationServiceState":
            from refit.platform.effects import repairs

            return repairs.set_state(cloud, doc, body, api)
        ids = body.get("instanceIds")
        if name in ("manualupgrade", "delete") and not ids:
            raise required("M15", "instanceIds")
        if ids is not None and not isinstance(ids, list):
            raise RULES["M17"].refuse(ids=str(ids))
        targets = [i for i in vmss_instances.find(cloud, doc, [str(x) for x in ids] if ids else ["*"])
                   if not vmss_instances.protected(cloud, i, "actions")]
        if name == "delete":
            for inst in targets:
                inst["properties"]["provisioningState"] = "Deleting"
                cloud.save(inst)
            return self._begin(cloud, doc, name, cloud.timing["vm.delete"], api, targets)
        if name == "manualupgrade":
            return self._begin(cloud, doc, name, cloud.timing["vmss.update_instances"], api, targets)
        if name in ("reimage", "reimageall"):
            from refit.platform.effects import vmss_vm

            if not targets:
                return self._begin(cloud, doc, name, 1.0, api, [])
            a = vmss_vm.reimage(cloud, doc, targets, api)
            return Answer(202, None, a.op, location=True)
        key, transitional, _ = POWER_ACTIONS[name]
        if name == "restart" and any(cloud.priv(i["id"]).get("power") in ("deallocated", "stopped") for i in targets):
            targets = [i for i in targets if cloud.priv(i["id"]).get("power") not in ("deallocated", "stopped")]
        for inst in targets:
            cloud.priv(inst["id"])["before"] = cloud.priv(inst["id"]).get("power", "running")
            set_power(cloud, inst, transitional)
            cloud.save(inst)
        return self._begin(cloud, doc, name, cloud.timing[key], api, targets)

    def _begin(self, cloud, doc, name, seconds, api, targets) -> Answer:
        doc["properties"]["provisioningState"] = "Updating"
        cloud.save(doc)
        op = cloud.begin(doc["id"], "action", name, seconds, doc["location"], api,
                         {"instances": [i["id"] for i in targets]})
        return Answer(202, None, op, location=True)

    def _settled(self, cloud, op) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        doc = cloud.get(op.resource_id)
        if doc is not None:
            doc["properties"]["provisioningState"] = "Succeeded"
            cloud.save(doc)
        return doc, [d for d in (cloud.get(i) for i in op.data.get("instances") or []) if d is not None]

    def finish_manualupgrade(self, cloud, op):
        from refit.platform.effects import auto_os

        doc, insts = self._settled(cloud, op)
        for inst in insts if doc is not None else []:
            _upgrade_now(cloud, doc, inst)
        if doc is not None:
            auto_os.consider(cloud, doc, op.api_version)  # aligned instances may unblock the platform's upgrade

    def finish_delete_instances(self, cloud, op):
        doc, insts = self._settled(cloud, op)
        for inst in insts:
            vmss_instances.remove(cloud, inst)
        if doc is not None:
            # Deleting instances lowers the capacity (VirtualMachineScaleSets_DeleteInstances; INFERRED that it is
            # by the number deleted).
            doc["sku"]["capacity"] = max(0, int(doc["sku"].get("capacity") or 0) - len(insts))
            cloud.save(doc)

    def _finish_power(self, cloud, op, final: str) -> None:
        from refit.platform.effects import disks, health
        from refit.platform.effects.vm import _disk_ids

        _, insts = self._settled(cloud, op)
        for inst in insts:
            priv = cloud.priv(inst["id"])
            end = final
            if op.name == "powerOff" and priv.get("before") == "deallocated":
                end = "deallocated"
            set_power(cloud, inst, end)
            for did in _disk_ids(inst):
                disks.attach(cloud, did, inst["id"], end in ALLOCATED)
            if end == "running" and (op.name == "restart" or priv.get("before") != "running"):
                health.started(cloud, inst)
            cloud.save(inst)

    def finish_start(self, cloud, op):
        self._finish_power(cloud, op, "running")

    def finish_deallocate(self, cloud, op):
        self._finish_power(cloud, op, "deallocated")

    def finish_powerOff(self, cloud, op):  # Azure's action name
        self._finish_power(cloud, op, "stopped")

    def finish_restart(self, cloud, op):
        self._finish_power(cloud, op, "running")

    def finish_reimage(self, cloud, op):
        from refit.platform.effects import vmss_vm

        self._settled(cloud, op)
        vmss_vm.finish_reimage(cloud, op)

    finish_reimageall = finish_reimage

    def finish_accepted(self, cloud, op):
        """The POST's own operation (osRollingUpgrade, extensionRollingUpgrade, rollingUpgrades/cancel,
        setOrchestrationServiceState: rolling.py and repairs.py begin it) ends: the set accepted the request; what it
        started goes on by its own timers and shows in rollingUpgrades/latest or the instance view."""

    def complete(self, cloud, op):
        if op.kind == "action" and op.name == "delete":
            return self.finish_delete_instances(cloud, op)
        if op.kind == "action" and op.name in rolling.TIMERS:
            return rolling.wake(cloud, op)
        if op.kind == "action" and op.name == "repairs":
            from refit.platform.effects import repairs

            return repairs.wake(cloud, op)
        return super().complete(cloud, op)

    # ---- reading ---------------------------------------------------------------------------------------------------
    def sub_get(self, cloud, doc, name, call):
        from refit.platform.effects import vmss_views

        low = name.lower()
        if low == "instanceview":
            return vmss_views.instance_view(cloud, doc)
        if low == "osupgradehistory":
            return {"value": vmss_views.os_upgrade_history(cloud, doc)}
        return None


def model_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The instances' model: the VM profile and the VM size (`sku.name`; a capacity change is not a new model)."""
    return (old["properties"].get("virtualMachineProfile") != new["properties"].get("virtualMachineProfile")
            or (old.get("sku") or {}).get("name") != (new.get("sku") or {}).get("name"))


def _upgrade_now(cloud: Cloud, vmss: dict[str, Any], inst: dict[str, Any]) -> None:
    """An instance takes the latest model at once (manualUpgrade, Automatic mode): nothing to judge, its previous OS
    disk goes."""
    from refit.platform.effects import health

    if vmss_instances.take_model(cloud, vmss, inst):
        set_power(cloud, inst, "running")
        health.started(cloud, inst)
    vmss_instances.commit(cloud, inst)
    cloud.save(inst)


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
    doc = cloud.get(vmss_id)
    return doc is not None and bool(vmss_instances.behind(cloud, doc))


register(ScaleSetType())
