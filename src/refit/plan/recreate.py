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
from refit.platform import directory
from refit.platform.effects import extensions

VM_EXTENSION = extensions.VM_EXTENSION

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
    ops += entra_device_cleanup(sim, vm)
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
    enc = "properties.storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType"
    if st == "ConfidentialVM" and not get_path(body, enc):
        # Azure requires it (rule CVM1); the goal's own (DiskWithVMGuestState, with its customer key's
        # diskEncryptionSet) is kept. The image is the goal's too: a CVM boots a gallery version of a confidential
        # definition (from a VHD, seed 002), never a managed image (S8, S11).
        set_path(body, enc, "VMGuestStateOnly")
    ops.append(voc.put(vm["id"], body, f"create VM {vm['name']} again with the goal's properties "
                       "(same NIC, same data disks, new OS disk)", name="recreate_create"))
    ops += extensions_again(sim, vm)
    return ops, ""


def entra_device_cleanup(sim: Sim, vm: dict[str, Any]) -> list[Op]:
    """A Windows VM with AADLoginForWindows is joined to Entra ID by a device object named its hostname, which
    deleting the VM leaves behind; the recreated VM's join fails while a device of that name exists (rule EXT1,
    seed 002). So every device of that name the live state shows (the old VM's, and any older leftover) is deleted
    after the VM and before its extension runs again."""
    ext = next((e for e in sim.world.children(vm["id"], VM_EXTENSION) if extensions.is_aad_login(e)), None)
    if ext is None or (get_path(vm, "properties.storageProfile.osDisk.osType") or "").lower() != "windows":
        return []
    name = directory.hostname(vm).lower()
    return [voc.delete_entra_device(vm, d) for d in directory.devices(sim.cloud)
            if str(d.get("displayName") or "").lower() == name]


def extensions_again(sim: Sim, vm: dict[str, Any]) -> list[Op]:
    """Deleting a VM deletes its extensions: each is written again on the new VM, as it was (Azure never returns
    protectedSettings, https://learn.microsoft.com/azure/virtual-machines/extensions/features-windows, so an
    extension that had some gets its public settings only)."""
    ops = []
    for ext in sim.world.children(vm["id"], VM_EXTENSION):
        props = {k: copy.deepcopy(val) for k, val in (ext.get("properties") or {}).items()
                 if k not in ("provisioningState", "instanceView", "protectedSettings")}
        body = {"location": ext.get("location") or vm["location"], "properties": props}
        what = ".".join(str(props.get(k)) for k in ("publisher", "type"))
        ops.append(voc.put(ext["id"], body, f"install extension {ext['name']} ({what}) on the new {vm['name']}",
                           name="recreate_extension"))
    return ops


# A scale set's properties that Azure sets and a PUT must not carry (ARM returns them; the REST spec marks them
# readOnly: VirtualMachineScaleSetProperties in azure-rest-api-specs, compute/.../virtualMachineScaleSet.json).
VMSS_SERVER_FIELDS = ("provisioningState", "uniqueId", "timeCreated")
LB_POOLS = ("loadBalancerBackendAddressPools", "applicationGatewayBackendAddressPools")


def vmss_path(sim: Sim, goal: Goal) -> tuple[list[Op], str, str]:
    """Blue/green, the way Azure's docs replace a scale set whose property cannot change in place (orchestration
    mode, a Confidential VM security type): create a second set beside it with the goal's properties and the same
    capacity, network and extensions, then delete the old one once the new one's PUT has completed (its instances
    created). Returns (ops, error, note): the note says what it costs. Scale sets keep no data on their instances'
    disks that survives a reimage, so nothing is kept; the note says so."""
    vmss = sim.get(goal.resource)
    if vmss is None:
        return [], "the scale set does not exist", ""
    name = vmss["name"]
    base = vmss["id"][: -len(name)]
    n = 2
    while sim.get(f"{base}{name}-{n}") is not None:
        n += 1
    new_name = f"{name}-{n}"
    body: dict[str, Any] = {k: copy.deepcopy(val) for k, val in vmss.items()
                            if k in ("location", "tags", "zones", "sku", "plan", "identity")}
    props = copy.deepcopy(vmss["properties"])
    for k in VMSS_SERVER_FIELDS:
        props.pop(k, None)
    prof = props.get("virtualMachineProfile") or {}
    prof.pop("timeCreated", None)
    linux = get_path(prof, "osProfile.linuxConfiguration") or {}
    if prof.get("osProfile") and not linux.get("disablePasswordAuthentication"):
        # Azure never returns adminPassword (VirtualMachineScaleSetOSProfile: "adminPassword ... not returned").
        return [], (f"{name} signs in with a password, which Azure never returns: create the new set by hand "
                    "with it, then delete this one"), ""
    body["properties"] = props
    for p, val in goal.properties.items():
        set_path(body, p, copy.deepcopy(val))
    if str(get_path(body, "properties.orchestrationMode") or "").lower() == "flexible" and \
            str(get_path(vmss, "properties.orchestrationMode") or "Uniform").lower() != "flexible":
        _to_flexible(props, goal, bool(body.get("zones")))
    st = get_path(body, "properties.virtualMachineProfile.securityProfile.securityType")
    if st in ("TrustedLaunch", "ConfidentialVM") and not get_path(body, "properties.virtualMachineProfile.securityProfile.uefiSettings"):
        set_path(body, "properties.virtualMachineProfile.securityProfile.uefiSettings", dict(voc.TL_UEFI))
    new_id = f"{base}{new_name}"
    capacity = int(get_path(vmss, "sku.capacity") or 0)
    ops = [voc.put(new_id, body, f"create scale set {new_name} beside {name} with the goal's properties "
                   f"({capacity} instances, same network and extensions)", name="bluegreen_create"),
           voc.delete(vmss["id"], f"delete scale set {name} and its instances (once {new_name}'s are created)",
                      name="bluegreen_delete")]
    nics = get_path(prof, "networkProfile.networkInterfaceConfigurations") or []
    pooled = any(get_path(ip, f"properties.{pool}") for nic in nics
                 for ip in get_path(nic, "properties.ipConfigurations") or [] for pool in LB_POOLS)
    ops[1].meta["down_while_running"] = not pooled  # without a shared pool, the old set's clients lose it (INFERRED)
    size = get_path(vmss, "sku.name") or "its size"
    note = (f"{capacity} more {size} instances run while both sets exist; "
            + ("both sets are in the same load balancer backend pools, so traffic moves without downtime"
               if pooled else f"no load balancer is in front of {name}: clients must move to {new_name}'s "
               "instances themselves")
            + "; instance disks are not kept (a scale set's instances are rebuilt from its model)")
    return ops, "", note


def _to_flexible(props: dict[str, Any], goal: Goal, zonal: bool) -> None:
    """What a Uniform set's model carries that a Flexible set refuses, unless the goal says otherwise: Flexible sets
    have no single placement group and no overprovisioning, and spread over at most 3 fault domains regionally
    and 1 when zonal (1: max spreading; rule M6). https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-orchestration-modes
    (feature comparison)."""
    said = {p.split(".")[-1] for p in goal.properties}
    if "singlePlacementGroup" not in said:
        props["singlePlacementGroup"] = False
    for k in ("overprovision", "doNotRunExtensionsOnOverprovisionedVMs"):
        if k not in said:
            props.pop(k, None)
    fd = int(props.get("platformFaultDomainCount") or 1)
    if "platformFaultDomainCount" not in said and (fd > 3 or (zonal and fd != 1)):
        props["platformFaultDomainCount"] = 1


def applies(sim: Sim, goal: Goal) -> bool:
    doc = sim.get(goal.resource)
    return doc is not None and doc["type"].lower() in (v.VM.lower(), v.VMSS.lower())
