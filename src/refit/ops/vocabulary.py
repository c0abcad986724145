"""The operation vocabulary (issue 3): constructors that each produce ONE concrete ARM request.

Names follow Azure's: imageReference, securityProfile, targetRegions, excludeFromLatest,
capacityReservationGroup. Rollbacks are requests too, where Azure has one.
"""

from __future__ import annotations

import copy
from typing import Any

from refit.arm.ids import ResourceId
from refit.arm.paths import get_path, set_path
from refit.ops.op import Op, Request
from refit.platform.apis import RESOURCES, api_version_for
from refit.platform.rules.facts import (
    PARTITION_TAG,  # rule U5's convention: the guest OS disk was converted to GPT
)

TL_UEFI = {"secureBootEnabled": True, "vTpmEnabled": True}  # docs recommend both (rules 1a, U1)


def body_from_paths(props: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for path, value in props.items():
        set_path(body, path, copy.deepcopy(value))
    return body


def _with_security_defaults(rtype: str, props: dict[str, Any]) -> dict[str, Any]:
    """A securityType change carries its uefiSettings (U1/V1: TL with vTPM+secure boot; U4/V5: back to
    Standard with uefiSettings null)."""
    out = dict(props)
    prefix = "properties.virtualMachineProfile.securityProfile" if rtype.endswith("virtualMachineScaleSets") else \
        "properties.securityProfile"
    st = out.get(prefix + ".securityType")
    if st is not None and not any(k.startswith(prefix + ".uefiSettings") for k in out):
        out[prefix + ".uefiSettings"] = dict(TL_UEFI) if st in ("TrustedLaunch", "ConfidentialVM") else None
    return out


def patch(doc: dict[str, Any], props: dict[str, Any], summary: str = "") -> Op:
    rid = doc["id"]
    props = _with_security_defaults(doc["type"], props)
    old = {p: get_path(doc, p) for p in props}
    return Op("patch", rid, Request("PATCH", rid, api_version_for(rid), body_from_paths(props)),
              rollback=Request("PATCH", rid, api_version_for(rid), body_from_paths(old)),
              meta={"summary": summary or f"PATCH {ResourceId.parse(rid).name}: " + ", ".join(
                  f"{'.'.join(p.split('.')[-2:])}={_short(v)}" for p, v in props.items() if not p.endswith("uefiSettings")),
                  "props": props})


def put(rid: str, body: dict[str, Any], summary: str, temporary: bool = False, name: str = "create") -> Op:
    return Op(name, rid, Request("PUT", rid, api_version_for(rid), body), temporary=temporary, creates=rid,
              rollback=Request("DELETE", rid, api_version_for(rid)), meta={"summary": summary})


def delete(rid: str, summary: str = "", name: str = "delete") -> Op:
    return Op(name, rid, Request("DELETE", rid, api_version_for(rid)),
              meta={"summary": summary or f"delete {ResourceId.parse(rid).name}"})


def action(rid: str, verb: str, body: Any = None, summary: str = "", rollback_verb: str | None = None) -> Op:
    rb = Request("POST", f"{rid}/{rollback_verb}", api_version_for(rid)) if rollback_verb else None
    return Op(verb, rid, Request("POST", f"{rid}/{verb}", api_version_for(rid), body), rollback=rb,
              meta={"summary": summary or f"{verb} {ResourceId.parse(rid).name}"})


def deallocate(vm_id: str) -> Op:
    return action(vm_id, "deallocate", rollback_verb="start")


def start(vm_id: str) -> Op:
    return action(vm_id, "start", rollback_verb="deallocate")


def guest_mbr_to_gpt(vm: dict[str, Any]) -> Op:
    """Convert the guest's OS disk from MBR to GPT (U5, acd trusted-launch-existing-vm-gen-1.md), through
    Run Command; the follow-up tags the OS disk so that rule U5 (which Azure cannot check) sees it. One-way."""
    windows = (get_path(vm, "properties.storageProfile.osDisk.osType") or "Linux").lower() == "windows"
    body = ({"commandId": "RunPowerShellScript", "script": ["MBR2GPT /validate /allowFullOS",
                                                             "MBR2GPT /convert /allowFullOS"]} if windows else
            {"commandId": "RunShellScript", "script": ["set -euo pipefail", "sgdisk --mbrtogpt /dev/sda",
                                                        "grub-install --target=x86_64-efi --efi-directory=/boot/efi"]})
    op = action(vm["id"], "runCommand", body, summary=f"convert {vm['name']}'s OS disk MBR -> GPT in the guest")
    op.name = "guest_mbr_to_gpt"
    op.irreversible = True
    disk = get_path(vm, "properties.storageProfile.osDisk.managedDisk.id")
    op.meta["followup"] = Request("PATCH", f"{disk}/providers/Microsoft.Resources/tags/default", RESOURCES,
                                  {"operation": "Merge", "properties": {"tags": {PARTITION_TAG: "GPT"}}}).to_json()
    op.rollback_note = "none: the MBR -> GPT conversion cannot be undone (the VM cannot go back to Gen1)"
    return op


def create_gallery(resource_group_id: str, name: str, location: str) -> Op:
    rid = f"{resource_group_id}/providers/Microsoft.Compute/galleries/{name}"
    return put(rid, {"location": location, "properties": {"description": "Images refit created"}},
               f"create gallery {name}", name="create_gallery")


def create_image_definition(gallery: dict[str, Any], name: str, security_type: str, generation: str, os_type: str,
                            os_state: str, temporary: bool) -> Op:
    rid = f"{gallery['id']}/images/{name}"
    body = {"location": gallery["location"], "properties": {
        "osType": os_type, "osState": os_state, "hyperVGeneration": generation,
        "identifier": {"publisher": "refit", "offer": name, "sku": security_type},
        "features": [{"name": "SecurityType", "value": security_type}]}}
    return put(rid, body, f"create image definition {name} ({security_type}, {generation})", temporary,
               name="create_image_definition")


def create_image_version(definition: dict[str, Any], version: str, source_id: str, regions: list[str],
                         temporary: bool) -> Op:
    rid = f"{definition['id']}/versions/{version}"
    body = {"location": definition["location"], "properties": {
        "publishingProfile": {"targetRegions": [{"name": r, "regionalReplicaCount": 1} for r in regions]},
        "storageProfile": {"source": {"id": source_id}}}}
    src = ResourceId.parse(source_id)
    return put(rid, body, f"create image version {definition['name']}/{version} from {src.types[-1][0]} {src.name}",
               temporary, name="create_image_version")


def replicate_version(version: dict[str, Any], region: str) -> Op:
    targets = copy.deepcopy(get_path(version, "properties.publishingProfile.targetRegions") or [])
    targets.append({"name": region, "regionalReplicaCount": 1})
    op = patch(version, {"properties.publishingProfile.targetRegions": targets},
               summary=f"replicate {version['name']} to {region}")
    op.name = "replicate_version"
    return op


def create_disk_from_image(disk_id: str, location: str, image_id: str, zone: str | None, security_type: str | None,
                           sku: str, extra: dict[str, Any] | None = None) -> Op:
    body: dict[str, Any] = {"location": location, "sku": {"name": sku}, "properties": {
        "creationData": {"createOption": "FromImage", "galleryImageReference": {"id": image_id}}}}
    if zone:
        body["zones"] = [zone]
    if security_type:
        body["properties"]["securityProfile"] = {"securityType": security_type}
    for p, v in (extra or {}).items():
        set_path(body, p, v)
    where = f"zone {zone}" if zone else "no zone"
    return put(disk_id, body, f"create disk {ResourceId.parse(disk_id).name} from {ResourceId.parse(image_id).name} "
               f"({where}{', ' + security_type if security_type else ''})", name="create_disk_from_image")


def update_instances(vmss_id: str) -> Op:
    """Manual upgrade mode: bring every instance to the latest model (V2)."""
    return action(vmss_id, "manualupgrade", {"instanceIds": ["*"]},
                  summary=f"update all instances of {ResourceId.parse(vmss_id).name} to the latest model")


AWAIT_ROLLING_UPGRADE = "await_rolling_upgrade"


def await_rolling_upgrade(vmss_id: str) -> Op:
    """Rolling mode: the model change started Azure's rolling upgrade; the step is that upgrade, watched through
    `rollingUpgrades/latest` until it completes (a Faulted or Cancelled one fails the step with its error)."""
    return Op(AWAIT_ROLLING_UPGRADE, vmss_id, Request("GET", f"{vmss_id}/rollingUpgrades/latest",
                                                      api_version_for(vmss_id)),
              meta={"summary": f"rolling upgrade of {ResourceId.parse(vmss_id).name} to the latest model"})


DELETE_ENTRA_DEVICE = "delete_entra_device"
GRAPH_DEVICES = "https://graph.microsoft.com/v1.0/devices"
# What deleting a device object takes (https://learn.microsoft.com/graph/api/device-delete, "Permissions").
DEVICE_DELETE_PERMISSION = ("Microsoft Graph Device.ReadWrite.All (application), or Directory.AccessAsUser.All for a "
                            "user who holds the Cloud Device Administrator (or Intune / Windows 365 Administrator) role")


def delete_entra_device(vm: dict[str, Any], device: dict[str, Any]) -> Op:
    """Delete the Entra device object named the VM's hostname before the recreated VM's AADLoginForWindows runs: the
    old VM's device is not deleted with it, and while it exists the new VM cannot join (rule EXT1, seed 002). One
    Microsoft Graph request (DELETE /devices/{id}), sent by `refit apply` with the same credential as ARM's. A
    deleted device cannot be restored (Graph's deletedItems holds no devices: INFERRED from its supported types)."""
    name, oid = device.get("displayName"), device["id"]
    return Op(DELETE_ENTRA_DEVICE, vm["id"], Request("DELETE", f"{GRAPH_DEVICES}/{oid}", ""), irreversible=True,
              rollback_note="none: a deleted Entra device cannot be restored; the recreated VM's join registers a "
                            "new one",
              meta={"summary": f"delete stale Entra device {name} (object id {oid}): recreated {vm['name']} cannot join "
                               "Entra ID under its hostname while it exists (Graph Device.ReadWrite.All or the Cloud "
                               "Device Administrator role)", "device": dict(device),
                    "permission": DEVICE_DELETE_PERMISSION})


VALIDATION_WINDOW = "validation_window"


def validation_window(flow_log_ids: list[str], seconds: float, why: str) -> Op:
    """Both flow logs logging side by side for `seconds` (the NSG -> VNet flow-log migration's validation window,
    https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-migrate): the step waits that long, then reads
    the new VNet flow logs (the first is the step's request) and fails unless each still exists, enabled and
    Succeeded. A read: it changes nothing, so nothing rolls it back."""
    first = flow_log_ids[0]
    hours = seconds / 3600
    return Op(VALIDATION_WINDOW, first, Request("GET", first, api_version_for(first)),
              meta={"summary": f"validation window: NSG and VNet flow logs both logging for {hours:g} h "
                               f"({len(flow_log_ids)} VNet flow log{'s' if len(flow_log_ids) != 1 else ''} to check)",
                    "window_s": seconds, "validate": list(flow_log_ids), "why": why})


def _short(v: Any) -> str:
    if isinstance(v, str) and v.startswith("/subscriptions/"):
        rid = ResourceId.parse(v)
        if rid.type.lower() == "microsoft.compute/galleries/images/versions":
            return f"{rid.types[1][1]}/{rid.name}"  # definition/version: a version's name alone says little
        return rid.name
    if isinstance(v, dict) and v.get("sku") and v.get("offer"):
        return ":".join(str(v.get(k) or "") for k in ("publisher", "offer", "sku", "version"))  # a platform image urn
    return str(v)
