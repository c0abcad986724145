"""Microsoft.Compute/virtualMachineScaleSets/virtualMachines: a Uniform scale set's instances.

An instance is a VM the set's model made (a VM's disks, power state and instance view: `vm.py`'s behaviour), shown
as the REST spec's VirtualMachineScaleSetVM (specs ComputeRP examples virtualMachineScaleSetExamples/
VirtualMachineScaleSetVM_Get_MaximumSet_Gen.json): `instanceId`, `sku`, `properties.latestModelApplied`,
`modelDefinitionApplied` ("VirtualMachineScaleSet"), `vmId`, `protectionPolicy`, `resources` (its extensions), and
the name `{set}_{instanceId}`. The client writes only `protectionPolicy` (and tags) of an instance
(https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-instance-protection: "PUT
.../virtualMachines/{instanceId}" with `protectionPolicy`); everything else is the set's model. A Flexible set's VMs
are VMs of their own (vm.py), not of this type.

Actions on one instance: start, deallocate, powerOff, restart (vm.py), reimage and reimageall (a new OS disk from the
instance's image), and delete. A protected instance (protectFromScaleSetActions) refuses none of these: protection
covers actions on the whole set (the page above: "does not prevent ... operations performed on individual instances").
"""

from __future__ import annotations

import copy

from refit.platform.cloud import Answer
from refit.platform.effects import register, vmss_instances
from refit.platform.effects.vm import VirtualMachineType, instance_view


class ScaleSetVmType(VirtualMachineType):
    type = vmss_instances.VMSS_VM
    create_timing = "vm.create"
    update_timing = "vm.update"
    delete_timing = "vm.delete"
    actions = ("start", "deallocate", "powerOff", "restart", "reimage", "reimageall", "redeploy", "runCommand")
    readonly_properties = ("provisioningState", "instanceView", "extended", "latestModelApplied",
                           "modelDefinitionApplied", "vmId")

    # ---- which instance a path names: a Uniform child, or a Flexible set's VM by its name -------------------------
    def view(self, cloud, rid):
        vmss = cloud.get(rid.parent)
        if vmss is None:
            return None
        if vmss_instances.flexible(vmss):
            return next((d for d in vmss_instances.members(cloud, vmss) if d["name"].lower() == rid.name.lower()), None)
        return cloud.get(rid)

    def views(self, cloud, parent):
        vmss = cloud.get(parent)
        return vmss_instances.members(cloud, vmss) if vmss is not None else []

    def own_write(self, cloud, rid, call):
        """A client's PUT names an instance that exists (instances are made by the set's capacity, not by PUT);
        on a Flexible set it writes the VM's protection policy."""
        from refit.platform import writes

        writes.check_parent(cloud, rid)
        doc = self.view(cloud, rid)
        if doc is None:
            if cloud.priv(rid).get("creating"):
                return None  # the set making its instance: the generic flow
            raise writes.not_found(rid)
        if doc["type"].lower() == self.type.lower():
            return None
        body = call.body if isinstance(call.body, dict) else {}
        pol = (body.get("properties") or {}).get("protectionPolicy") if isinstance(body.get("properties"), dict) else None
        if isinstance(pol, dict):
            doc["properties"]["protectionPolicy"] = {"protectFromScaleIn": bool(pol.get("protectFromScaleIn")),
                                                     "protectFromScaleSetActions": bool(pol.get(
                                                         "protectFromScaleSetActions"))}
            cloud.save(doc)
        return Answer(200, self.render(cloud, doc, call))

    def build(self, cloud, rid, doc, old, call):
        if old is None:
            return super().build(cloud, rid, doc, old, call)
        # A client's PUT of an instance changes its protection policy and tags; the rest is the set's model.
        kept = copy.deepcopy(old)
        if "protectionPolicy" in doc["properties"]:
            kept["properties"]["protectionPolicy"] = doc["properties"]["protectionPolicy"]
        if "tags" in doc:
            kept["tags"] = doc["tags"]
        return kept

    def duration(self, cloud, old, new):
        if old is None:
            return "vm.create", cloud.timing["vm.create"]
        return "vm.update", 0.0  # a protection policy change is synchronous (INFERRED)

    def render(self, cloud, doc, call):
        out = super().render(cloud, doc, call)
        if call is None:
            return out
        vmss = vmss_instances.set_of(cloud, doc) or {}
        out = dict(out)
        if doc["type"].lower() == self.type.lower():
            out["name"] = f"{vmss.get('name', '')}_{doc['name']}"  # "{scale-set-name}_{instance-id}"
        out["instanceId"] = doc["name"]  # a Flexible set's instance id is its VM's name (instance-ids page)
        out["sku"] = {"name": (doc["properties"].get("hardwareProfile") or {}).get("vmSize"), "tier": "Standard"}
        props = out["properties"] = dict(out["properties"])
        props["latestModelApplied"] = vmss_instances.latest_applied(cloud, vmss, doc) if vmss else True
        props["modelDefinitionApplied"] = "VirtualMachineScaleSet"
        props.setdefault("protectionPolicy", {"protectFromScaleIn": False, "protectFromScaleSetActions": False})
        exts = vmss_instances.extensions_of(cloud, doc)
        if exts:
            out["resources"] = [{"name": e["name"], "type": "Microsoft.Compute/virtualMachines/extensions",
                                 "location": doc.get("location"), "properties": {
                                     **{k: x for k, x in (e.get("properties") or {}).items() if k != "protectedSettings"},
                                     "provisioningState": "Succeeded"},
                                 "id": f"{doc['id']}/extensions/{e['name']}"} for e in exts]
        return out

    def action(self, cloud, doc, name, call):
        if name in ("reimage", "reimageall"):
            vmss = vmss_instances.set_of(cloud, doc)
            return reimage(cloud, vmss, [doc], call.api_version or "")
        if doc["type"].lower() != self.type.lower():
            from refit.platform.effects import handler_for

            return handler_for(doc["type"]).action(cloud, doc, name, call)  # a Flexible set's VM acts as a VM
        return super().action(cloud, doc, name, call)

    def sub_get(self, cloud, doc, name, call):
        if name.lower() == "instanceview":
            view = instance_view(cloud, doc)
            view["platformFaultDomain"] = int(cloud.priv(doc["id"]).get("fault_domain", 0))
            # Uniform: INFERRED 5 update domains. A Flexible set's VMs have none ("Update Domains | No", acd
            # virtual-machine-scale-sets-orchestration-modes): the VM's own view's 0.
            flex = doc["type"].lower() != self.type.lower()
            view["platformUpdateDomain"] = 0 if flex else int(cloud.priv(doc["id"]).get("seq", 0)) % 5
            return view
        return None

    def finish_reimage(self, cloud, op):
        finish_reimage(cloud, op)

    finish_reimageall = finish_reimage


def reimage(cloud, vmss, instances, api_version: str) -> Answer:
    """Reimage instances: each gets a new OS disk from the image its model names (a definition: the latest version in
    the region) and boots it; the operation takes the timing model's `vmss.reimage_instance`."""
    for inst in instances:
        vmss_instances.new_os_disk(cloud, vmss, inst, vmss_instances.target_image(cloud, vmss) if vmss else None)
        vmss_instances.commit(cloud, inst)
        from refit.platform.effects.vm import set_power

        set_power(cloud, inst, "starting")
        inst["properties"]["provisioningState"] = "Updating"
        cloud.save(inst)
    # One Uniform instance: the instance's operation (its finish_reimage); otherwise, and for a Flexible set's VM
    # (a Microsoft.Compute/virtualMachines resource, whose own type finishes no scale-set reimage), the set's.
    one = len(instances) == 1 and (instances[0].get("type") or "").lower() == vmss_instances.VMSS_VM.lower()
    target = instances[0]["id"] if one or vmss is None else vmss["id"]
    op = cloud.begin(target, "action", "reimage", cloud.timing["vmss.reimage_instance"],
                     (vmss or instances[0])["location"], api_version, {"instances": [i["id"] for i in instances]})
    return Answer(202, None, op, location=True)


def finish_reimage(cloud, op) -> None:
    from refit.platform.effects import health
    from refit.platform.effects.vm import set_power

    for iid in op.data.get("instances") or []:
        inst = cloud.get(iid)
        if inst is None:
            continue
        set_power(cloud, inst, "running")
        inst["properties"]["provisioningState"] = "Succeeded"
        health.started(cloud, inst)
        cloud.save(inst)


register(ScaleSetVmType())
