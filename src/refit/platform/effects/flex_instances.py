"""A Flexible scale set's instances are VMs of their own (`properties.virtualMachineScaleSet.id`): bringing them to
the latest model (manualUpgrade, `az vmss update-instances`) writes the model's extensions onto each VM.

Azure: with upgrade policy Manual "you must manually update each instance" to the latest model, for Flexible as
for Uniform orchestration (https://learn.microsoft.com/azure/virtual-machine-scale-sets/
virtual-machine-scale-sets-upgrade-policy, "Applies to: Flexible scale sets, Uniform scale sets"); a model's
extensions run on its instances (https://learn.microsoft.com/azure/virtual-machine-scale-sets/
virtual-machine-scale-sets-extension-sequencing). That the upgraded VM then carries the model's extension, by the
model's name, and no longer a differently named one of the same publisher and type, is INFERRED (a VM cannot run
two extensions of one type: https://learn.microsoft.com/azure/virtual-machines/extensions/overview).
"""

from __future__ import annotations

import copy
from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.platform.cloud import Cloud

VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
_KEYS = ("publisher", "type", "typeHandlerVersion", "autoUpgradeMinorVersion", "enableAutomaticUpgrade", "settings")


def members(cloud: Cloud, vmss_id: str) -> list[dict[str, Any]]:
    key = id_key(vmss_id)
    return [d for d in cloud.world.of_type(v.VM)
            if id_key(((d.get("properties") or {}).get("virtualMachineScaleSet") or {}).get("id") or "") == key]


def upgrade(cloud: Cloud, vmss: dict[str, Any], instance_ids: list[str]) -> None:
    """The model's extensions onto the Flexible set's member VMs named by `instance_ids` (`*`: every member)."""
    if (vmss.get("properties") or {}).get("orchestrationMode") != "Flexible":
        return
    wanted = {str(i).lower() for i in instance_ids}
    profile = ((vmss["properties"].get("virtualMachineProfile") or {}).get("extensionProfile") or {})
    model = [e for e in profile.get("extensions") or [] if isinstance(e, dict) and e.get("name")]
    for vm in members(cloud, vmss["id"]):
        if "*" not in wanted and vm["name"].lower() not in wanted:
            continue
        existing = cloud.world.children(vm["id"], VM_EXTENSION)
        for ext in model:
            props = ext.get("properties") or {}
            kind = (str(props.get("publisher") or "").lower(), str(props.get("type") or "").lower())
            for old in existing:
                p = old.get("properties") or {}
                same_kind = (str(p.get("publisher") or "").lower(), str(p.get("type") or "").lower()) == kind
                if same_kind and old["name"].lower() != ext["name"].lower():
                    cloud.remove(old["id"])
            cloud.save({"id": f"{vm['id']}/extensions/{ext['name']}", "name": ext["name"], "type": VM_EXTENSION,
                        "location": vm.get("location"),
                        "properties": {**{k: copy.deepcopy(props[k]) for k in _KEYS if k in props},
                                       "provisioningState": "Succeeded"}})
