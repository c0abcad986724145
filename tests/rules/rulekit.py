"""Builders of ARM documents shaped as the emulator stores them, and helpers to ask the catalog about a write."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.paths import set_path
from refit.arm.world import World
from refit.platform.rules import validate_write

SUB = "00000000-0000-4000-8000-000000000001"
LOC = "eastus"
Doc = dict[str, Any]


def rid(kind: str, *names: str, rg: str = "rg", ns: str = "Microsoft.Compute") -> str:
    types = kind.split("/")
    parts = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{ns}/{parts}"


def _base(arm_type: str, rid_: str, location: str | None = LOC, zones: list[str] | None = None,
          tags: dict[str, str] | None = None) -> Doc:
    doc: Doc = {"id": rid_, "name": rid_.rsplit("/", 1)[-1], "type": arm_type, "properties": {"provisioningState": "Succeeded"}}
    if location is not None:
        doc["location"] = location
    if zones:
        doc["zones"] = list(zones)
    if tags:
        doc["tags"] = dict(tags)
    return doc


def disk(name: str, *, gen: str | None = "V2", sec: str | None = None, zones: list[str] | None = None,
         location: str = LOC, sku: str = "Premium_LRS", os_type: str | None = "Linux", managed_by: str | None = None,
         tags: dict[str, str] | None = None, create_option: str = "Empty", **creation: Any) -> Doc:
    d = _base("Microsoft.Compute/disks", rid("disks", name), location, zones, tags)
    d["sku"] = {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"}
    p = d["properties"]
    p.update({"creationData": {"createOption": create_option, **creation}, "diskSizeGB": 30, "diskState": "Unattached"})
    if gen:
        p["hyperVGeneration"] = gen
    if os_type:
        p["osType"] = os_type
    if sec:
        p["securityProfile"] = {"securityType": sec}
    if managed_by:
        d["managedBy"] = managed_by
        p["diskState"] = "Attached"
    return d


def vm(name: str, *, size: str = "Standard_D2s_v5", sec: str | None = None, os_disk: str | None = None,
       image: dict[str, Any] | str | None = None, zones: list[str] | None = None, power: str | None = "running",
       location: str = LOC, crg: str | None = None, os_type: str = "Linux", data_disks: tuple[str, ...] = (),
       os_profile: bool = True, **props: Any) -> Doc:
    """A VM on an existing OS disk (Attach) or, with `image`, the create request from an image (FromImage)."""
    d = _base("Microsoft.Compute/virtualMachines", rid("virtualMachines", name), location, zones)
    p = d["properties"]
    p["hardwareProfile"] = {"vmSize": size}
    if sec:
        p["securityProfile"] = {"securityType": sec}
        if sec != "Standard":
            p["securityProfile"]["uefiSettings"] = {"secureBootEnabled": True, "vTpmEnabled": True}
    if image is not None:
        ref = {"id": image} if isinstance(image, str) else image
        osd: Doc = {"createOption": "FromImage", "name": f"{name}-os", "osType": os_type}
        if os_disk:
            osd["managedDisk"] = {"id": os_disk}
        p["storageProfile"] = {"imageReference": ref, "osDisk": osd}
    else:
        disk_id = os_disk or rid("disks", f"{name}-os")
        p["storageProfile"] = {"osDisk": {"createOption": "Attach", "name": disk_id.rsplit("/", 1)[-1], "osType": os_type,
                                          "managedDisk": {"id": disk_id, "storageAccountType": "Premium_LRS"}}}
    p["storageProfile"]["dataDisks"] = [{"lun": i, "createOption": "Attach", "name": dd.rsplit("/", 1)[-1],
                                         "managedDisk": {"id": dd}} for i, dd in enumerate(data_disks)]
    if os_profile and image is not None:
        p["osProfile"] = {"computerName": name, "adminUsername": "azureuser"}
    p["networkProfile"] = {"networkInterfaces": [{"id": rid("networkInterfaces", f"{name}-nic", ns="Microsoft.Network")}]}
    if crg:
        p["capacityReservation"] = {"capacityReservationGroup": {"id": crg}}
    if power:
        p["extended"] = {"instanceView": {"powerState": {"code": f"PowerState/{power}"}}}
    for path, value in props.items():
        set_path(d, path.replace("__", "."), value)
    return d


def vmss(name: str, *, image: dict[str, Any] | str, sec: str | None = None, size: str = "Standard_D2s_v5",
         mode: str = "Manual", health: tuple[str, ...] = ("extension",), orchestration: str = "Uniform",
         zones: list[str] | None = None, location: str = LOC, data_disks: int = 0, **props: Any) -> Doc:
    d = _base("Microsoft.Compute/virtualMachineScaleSets", rid("virtualMachineScaleSets", name), location, zones)
    d["sku"] = {"name": size, "tier": "Standard", "capacity": 2}
    ref = {"id": image} if isinstance(image, str) else image
    profile: Doc = {
        "storageProfile": {"imageReference": ref, "osDisk": {"createOption": "FromImage",
                                                             "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerNamePrefix": name, "adminUsername": "azureuser"},
        "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": True,
                                                                                           "ipConfigurations": []}}]},
    }
    if data_disks:
        profile["storageProfile"]["dataDisks"] = [{"lun": i, "createOption": "Empty", "diskSizeGB": 64}
                                                  for i in range(data_disks)]
    if sec:
        profile["securityProfile"] = {"securityType": sec}
        if sec != "Standard":
            profile["securityProfile"]["uefiSettings"] = {"secureBootEnabled": True, "vTpmEnabled": True}
    if "extension" in health:
        profile["extensionProfile"] = {"extensions": [{"name": "health", "properties": {
            "publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "typeHandlerVersion": "2.0"}}]}
    if "probe" in health:
        profile["networkProfile"]["healthProbe"] = {"id": rid("loadBalancers/probes", "lb", "http",
                                                              ns="Microsoft.Network")}
    d["properties"].update({"orchestrationMode": orchestration, "upgradePolicy": {"mode": mode},
                            "virtualMachineProfile": profile,
                            "platformFaultDomainCount": 1 if orchestration == "Flexible" else 5,
                            "singlePlacementGroup": orchestration == "Uniform"})
    for path, value in props.items():
        set_path(d, path.replace("__", "."), value)
    return d


def managed_image(name: str, *, gen: str = "V2", os_state: str = "Generalized", os_type: str = "Linux",
                  source_vm: str | None = None, os_disk: str | None = None, data_luns: tuple[int, ...] = ()) -> Doc:
    d = _base("Microsoft.Compute/images", rid("images", name))
    osd: Doc = {"osType": os_type, "osState": os_state}
    if os_disk:
        osd["managedDisk"] = {"id": os_disk}
    d["properties"].update({"hyperVGeneration": gen, "storageProfile": {
        "osDisk": osd, "dataDisks": [{"lun": lun} for lun in data_luns]}})
    if source_vm:
        d["properties"]["sourceVirtualMachine"] = {"id": source_vm}
    return d


def gallery(name: str = "gal") -> Doc:
    return _base("Microsoft.Compute/galleries", rid("galleries", name))


def definition(name: str, *, sec: str | None = "Standard", gen: str = "V2", os_state: str = "Generalized",
               os_type: str = "Linux", identifier: tuple[str, str, str] | None = None, gal: str = "gal") -> Doc:
    d = _base("Microsoft.Compute/galleries/images", rid("galleries/images", gal, name))
    pub, offer, sku = identifier or ("contoso", "app", name)
    d["properties"].update({"osType": os_type, "osState": os_state, "hyperVGeneration": gen,
                            "identifier": {"publisher": pub, "offer": offer, "sku": sku}})
    if sec:
        d["properties"]["features"] = [{"name": "SecurityType", "value": sec}]
    return d


def version(definition_name: str, name: str = "1.0.0", *, source: str | None = None, uri: str | None = None,
            regions: tuple[str, ...] = (LOC,), replicated: tuple[str, ...] | None = None, location: str = LOC,
            exclude: bool = False, data_luns: tuple[int, ...] = (), gal: str = "gal") -> Doc:
    d = _base("Microsoft.Compute/galleries/images/versions", rid("galleries/images/versions", gal, definition_name, name),
              location)
    src: Doc = {"id": source} if source else {"uri": uri or "https://sa.blob.core.windows.net/vhds/os.vhd"}
    done = regions if replicated is None else replicated
    d["properties"].update({
        "publishingProfile": {"targetRegions": [{"name": r, "regionalReplicaCount": 1} for r in regions],
                              "excludeFromLatest": exclude},
        "storageProfile": {"source": src, "osDiskImage": {"sizeInGB": 30, "source": src},
                           "dataDiskImages": [{"lun": lun, "sizeInGB": 64} for lun in data_luns]},
        "replicationStatus": {"aggregatedState": "Completed" if set(done) == set(regions) else "InProgress",
                              "summary": [{"region": r, "state": "Completed" if r in done else "Replicating"}
                                          for r in regions]}})
    return d


def crg(name: str = "crg", *, zones: list[str] | None = None, location: str = LOC) -> Doc:
    return _base("Microsoft.Compute/capacityReservationGroups", rid("capacityReservationGroups", name), location, zones)


def cr(name: str, *, size: str = "Standard_D2s_v5", capacity: int = 0, zones: list[str] | None = None,
       group: str = "crg", location: str = LOC) -> Doc:
    d = _base("Microsoft.Compute/capacityReservationGroups/capacityReservations",
              rid("capacityReservationGroups/capacityReservations", group, name), location, zones)
    d["sku"] = {"name": size, "capacity": capacity}
    return d


def ext(vm_or_vmss: Doc, name: str, publisher: str, ext_type: str, version: str = "1.0") -> Doc:
    t = vm_or_vmss["type"] + "/extensions"
    d = _base(t, f"{vm_or_vmss['id']}/extensions/{name}")
    d["properties"].update({"publisher": publisher, "type": ext_type, "typeHandlerVersion": version})
    return d


def lb(name: str, sku: str | None = "Basic") -> Doc:
    d = _base("Microsoft.Network/loadBalancers", rid("loadBalancers", name, ns="Microsoft.Network"))
    if sku:
        d["sku"] = {"name": sku}
    return d


def edit(doc: Doc, **paths: Any) -> Doc:
    """A copy of `doc` with dotted paths set (`__` stands for `.` in keyword names); None deletes."""
    out = copy.deepcopy(doc)
    for path, value in paths.items():
        path = path.replace("__", ".")
        if value is None:
            parent, _, last = path.rpartition(".")
            from refit.arm.paths import get_path

            container = get_path(out, parent) if parent else out
            if isinstance(container, dict):
                container.pop(last, None)
        else:
            set_path(out, path, copy.deepcopy(value))
    return out


def platform(sku: str = "22_04-lts-gen2", publisher: str = "Canonical", offer: str = "0001-com-ubuntu-server-jammy",
             version_: str = "latest") -> Doc:
    return {"publisher": publisher, "offer": offer, "sku": sku, "version": version_}


@dataclass
class Case:
    rule: str
    world: list[Doc]
    old: Doc | None
    new: Doc | None
    error: tuple[int, str, str, str | None] | None = None  # None: the rule finds nothing
    note: str = ""


def errors_of(rule_id: str, world: list[Doc], old: Doc | None, new: Doc | None) -> list[ArmError]:
    """What one rule answers for a write, asked through the registry (type and operation wiring included)."""
    w = World(copy.deepcopy(world))
    return [v.error for v in validate_write(w, old, new, include_unenforced=True) if v.rule.id == rule_id]
