"""The last resort when no in-place path exists: recreate the resource with the goal's properties,
keeping what holds data or identity (the NIC, the data disks), and say what it costs."""

from __future__ import annotations

import copy
from typing import Any

from refit.arm import views as v
from refit.arm.paths import get_path, set_path
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan.goal import Goal
from refit.plan.sim import Sim

SERVER_FIELDS = ("provisioningState", "vmId", "timeCreated", "instanceView", "extended", "uniqueId")


def vm_path(sim: Sim, goal: Goal) -> tuple[list[Op], str]:
    """deallocate -> delete the VM (disks and NIC detach, as deleteOption Detach does) -> PUT it again with
    the goal's properties, a new OS disk from its image, the same NIC and the same data disks."""
    vm = sim.get(goal.resource)
    if vm is None:
        return [], "the VM does not exist"
    ops: list[Op] = []
    osd = get_path(vm, "properties.storageProfile.osDisk") or {}
    keeps = [d for d in [osd, *(get_path(vm, "properties.storageProfile.dataDisks") or [])]
             if (d.get("deleteOption") or "Detach").lower() == "delete"]
    if keeps:
        body = copy.deepcopy(get_path(vm, "properties.storageProfile"))
        for d in [body["osDisk"], *(body.get("dataDisks") or [])]:
            d["deleteOption"] = "Detach"
        op = voc.patch(vm, {"properties.storageProfile": body}, summary=f"keep {vm['name']}'s disks when it is deleted")
        ops.append(op)
    if sim.power(vm["id"]) in ("running", "stopped"):
        ops.append(voc.deallocate(vm["id"]))
    ops.append(voc.delete(vm["id"], f"delete VM {vm['name']} (NIC and disks are kept)", name="recreate_delete"))
    body: dict[str, Any] = {k: copy.deepcopy(val) for k, val in vm.items()
                            if k in ("location", "tags", "zones", "plan", "identity")}
    props = copy.deepcopy(vm["properties"])
    for k in SERVER_FIELDS:
        props.pop(k, None)
    body["properties"] = props
    image = get_path(vm, "properties.storageProfile.imageReference")
    sp = props["storageProfile"]
    if image:
        sp["osDisk"] = {"createOption": "FromImage", "name": f"{vm['name']}-os-recreated",
                        "managedDisk": {"storageAccountType": get_path(osd, "managedDisk.storageAccountType") or "Premium_LRS"}}
    else:
        return ops, (f"{vm['name']} has no image reference to build a new OS disk from; recreate it from a new "
                     "image by hand")
    for d in sp.get("dataDisks") or []:
        d["createOption"] = "Attach"
        d["managedDisk"] = {"id": get_path(d, "managedDisk.id")}
    for p, val in goal.properties.items():
        set_path(body, p, copy.deepcopy(val))
    st = get_path(body, "properties.securityProfile.securityType")
    if st in ("TrustedLaunch", "ConfidentialVM") and not get_path(body, "properties.securityProfile.uefiSettings"):
        set_path(body, "properties.securityProfile.uefiSettings", dict(voc.TL_UEFI))
    if st == "ConfidentialVM":
        set_path(body, "properties.storageProfile.osDisk.managedDisk.securityProfile",
                 {"securityEncryptionType": "VMGuestStateOnly"})
    ops.append(voc.put(vm["id"], body, f"create VM {vm['name']} again with the goal's properties "
                       "(same NIC, same data disks, new OS disk)", name="recreate_create"))
    return ops, ""


def applies(sim: Sim, goal: Goal) -> bool:
    doc = sim.get(goal.resource)
    return doc is not None and doc["type"].lower() == v.VM.lower()
