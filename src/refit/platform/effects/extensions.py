"""Extensions, as child resources: a VM's (`virtualMachines/{vm}/extensions`, resources of their own) and a scale
set's (`virtualMachineScaleSets/{ss}/extensions`, the entries of its model's `extensionProfile`), and what a VM's
guest agent reports of them.

Shapes per the REST examples (specs ComputeRP stable 2024-07-01 examples virtualMachineExamples/VirtualMachine_Get.json:
the VM's extensions in its `resources[]`; VirtualMachine_Get_InstanceView.json: `vmAgent` with `vmAgentVersion`,
`statuses` ("Ready", "GuestAgent is running and accepting new configurations.") and `extensionHandlers`, and
`extensions[]` of `name`, `type` (publisher.type), `typeHandlerVersion`, `statuses`; virtualMachineScaleSetExamples/
VirtualMachineScaleSetExtension_Get_MaximumSet_Gen.json: `name`, `id`, `type`, `properties`). `protectedSettings`
are never returned (https://learn.microsoft.com/azure/virtual-machines/extensions/features-windows: "protected
settings ... encrypted ... not returned"; INFERRED for the exact omission).

A scale set's extension is part of its model: writing or deleting one writes the scale set, whose operation the
request follows (https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-set-extensions/create-or-update:
201/200, long-running). A guest agent reports only from a running VM: a stopped or deallocated VM's instance view
has no `vmAgent` (INFERRED); the agent's version is the one in the example for Windows and a waagent release for
Linux (INFERRED).
"""

from __future__ import annotations

import copy
from typing import Any

from refit.arm.ids import ResourceId
from refit.platform import directory
from refit.platform.cloud import Answer, Call, Cloud
from refit.platform.effects import register
from refit.platform.effects.base import GenericType, required
from refit.platform.effects.input import check_write
from refit.platform.rules import RULES
from refit.platform.rules.extensions import JOIN_FAILED

VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
VMSS_EXTENSION = "Microsoft.Compute/virtualMachineScaleSets/extensions"
AGENT_VERSION = {"windows": "2.7.41491.949", "linux": "2.13.1.1"}
Doc = dict[str, Any]


def _shown(props: Any) -> Doc:
    return {k: v for k, v in (props or {}).items() if k != "protectedSettings"} if isinstance(props, dict) else {}


def _status(t: str) -> Doc:
    return {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "time": t}


def handler_type(ext: Doc) -> str:
    """`publisher.type`, as instance views name an extension's handler."""
    p = ext.get("properties") if isinstance(ext.get("properties"), dict) else {}
    return ".".join(str(x) for x in (p.get("publisher"), p.get("type")) if x)


def instance_view(cloud: Cloud, ext: Doc) -> Doc:
    p = ext.get("properties") if isinstance(ext.get("properties"), dict) else {}
    state = str(p.get("provisioningState") or "Succeeded")
    status = _status(cloud.now_iso()) if state == "Succeeded" else {
        "code": f"ProvisioningState/{state.lower()}", "level": "Error" if state == "Failed" else "Info",
        "displayStatus": f"Provisioning {state.lower()}", "time": cloud.now_iso()}
    failed = (cloud.priv(ext["id"]).get("entra") or {}).get("message") if is_aad_login(ext) else None
    if failed and state == "Failed":
        status["message"] = failed  # what the handler reported (the failed join and the stale device: rule EXT1)
    return {"name": ext["name"], "type": handler_type(ext), "typeHandlerVersion": p.get("typeHandlerVersion", ""),
            "statuses": [status]}


# ---- AADLoginForWindows: the Microsoft Entra join (refit.platform.directory) -----------------------------------
# https://learn.microsoft.com/entra/identity/devices/howto-vm-sign-in-azure-ad-windows: publisher
# Microsoft.Azure.ActiveDirectory, type AADLoginForWindows; it joins the VM to Microsoft Entra ID.
AAD_PUBLISHER, AAD_TYPE = "Microsoft.Azure.ActiveDirectory", "AADLoginForWindows"


def is_aad_login(ext: Doc | None) -> bool:
    p = (ext or {}).get("properties") if isinstance((ext or {}).get("properties"), dict) else {}
    return str(p.get("publisher") or "").lower() == AAD_PUBLISHER.lower() and \
        str(p.get("type") or "").lower() == AAD_TYPE.lower()


def _windows(vm: Doc | None) -> bool:
    os_disk = (((vm or {}).get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}
    return str(os_disk.get("osType") or "").lower() == "windows"


def aad_login_of(cloud: Cloud, vm: Doc) -> Doc | None:
    """The VM's AADLoginForWindows extension, if it has one."""
    return next((e for e in cloud.world.children(vm["id"], VM_EXTENSION) if is_aad_login(e)), None)


def entra_status(cloud: Cloud, vm: Doc) -> Doc | None:
    """The VM instance view's status of its Entra join, for a Windows VM with AADLoginForWindows (None: no such
    extension, or its first run has not finished). The code and texts are INFERRED (no public instance view shows
    the join); the message quotes what `dsregcmd /status` prints (seed 002: "IsDeviceJoined: NO")."""
    ext = aad_login_of(cloud, vm) if _windows(vm) else None
    if ext is None or "entra" not in cloud.priv(ext["id"]):
        return None
    dev_id = directory.joined_device(cloud, vm)
    dev = directory.state(cloud)["devices"].get(dev_id) if dev_id else None
    if dev is not None:
        return {"code": "EntraDeviceJoin/joined", "level": "Info", "displayStatus": "Microsoft Entra joined",
                "message": f"AzureAdJoined : YES, DeviceId : {dev['deviceId']}", "time": cloud.now_iso()}
    why = cloud.priv(ext["id"])["entra"].get("message") or "the device object of this VM was deleted"
    return {"code": "EntraDeviceJoin/notJoined", "level": "Warning", "displayStatus": "Not Microsoft Entra joined",
            "message": f"AzureAdJoined : NO ({why})", "time": cloud.now_iso()}


class ExtensionType(GenericType):
    """A VM's extension: a resource of its own (written synchronously, INFERRED), except AADLoginForWindows on a
    Windows VM, whose write is the guest's Entra join on the clock (timing `vm.extension.aad_login`)."""

    def __init__(self):
        super().__init__(VM_EXTENSION)

    def duration(self, cloud, old, new):
        if is_aad_login(new) and _windows(cloud.get(ResourceId.parse(new["id"]).parent)):
            return "vm.extension.aad_login", cloud.timing["vm.extension.aad_login"]
        return super().duration(cloud, old, new)

    def finish(self, cloud, doc, op):
        """Every run of AADLoginForWindows (a PUT; a new forceUpdateTag is one) tries the join again."""
        vm = cloud.get(ResourceId.parse(doc["id"]).parent)
        if not is_aad_login(doc) or not _windows(vm):
            return
        dev, blocking = directory.join(cloud, vm)
        cloud.touch(vm["id"])
        priv = cloud.priv(doc["id"])
        if dev is not None:
            priv["entra"] = {"joined": True, "device": dev["id"]}
            return
        p = doc["properties"]
        fields = {"hostname": directory.hostname(vm), "device": blocking[0]["id"]}
        priv["entra"] = {"joined": False, "device": blocking[0]["id"], "message": JOIN_FAILED.format(**fields)}
        p["provisioningState"] = "Failed"
        cloud.save(doc)
        if op.id != "scenario":  # a scenario's extension starts in the state it describes
            raise RULES["EXT1"].refuse(name=doc["name"], publisher=p.get("publisher"), type=p.get("type"), **fields)

    def render(self, cloud, doc, call):
        if call is None:
            return doc
        out = {**doc, "properties": _shown(doc.get("properties"))}
        if call.expands("instanceView"):
            out["properties"]["instanceView"] = instance_view(cloud, doc)
        return out


def vm_resources(cloud: Cloud, vm: Doc) -> list[Doc]:
    """A VM's `resources[]`: its extensions as GET shows them."""
    return [{**e, "properties": _shown(e.get("properties"))} for e in cloud.world.children(vm["id"], VM_EXTENSION)]


def vm_agent(cloud: Cloud, vm: Doc, os_type: str) -> Doc:
    """`instanceView.vmAgent` of a running VM."""
    t = cloud.now_iso()
    handlers = []
    for e in cloud.world.children(vm["id"], VM_EXTENSION):
        handlers.append({"type": handler_type(e), "typeHandlerVersion": (e.get("properties") or {}).get(
            "typeHandlerVersion", ""), "status": {"code": "ProvisioningState/succeeded", "level": "Info",
                                                  "displayStatus": "Ready"}})
    return {"vmAgentVersion": AGENT_VERSION.get(os_type.lower(), AGENT_VERSION["linux"]),
            "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready",
                          "message": "GuestAgent is running and accepting new configurations.", "time": t}],
            "extensionHandlers": handlers}


def vm_extension_views(cloud: Cloud, vm: Doc) -> list[Doc]:
    """`instanceView.extensions[]` of a VM."""
    return [instance_view(cloud, e) for e in cloud.world.children(vm["id"], VM_EXTENSION)]


# ---- a scale set's extensions: entries of its model -----------------------------------------------------------
def _profile_extensions(vmss: Doc | None) -> list[Doc]:
    prof = ((vmss or {}).get("properties") or {}).get("virtualMachineProfile")
    ep = prof.get("extensionProfile") if isinstance(prof, dict) else None
    exts = ep.get("extensions") if isinstance(ep, dict) else None
    return [e for e in exts if isinstance(e, dict)] if isinstance(exts, list) else []


class ScaleSetExtensionType(GenericType):
    def __init__(self):
        super().__init__(VMSS_EXTENSION, needs_location=False)

    def _doc(self, vmss: Doc, ext: Doc) -> Doc:
        props = {**_shown(ext.get("properties")), "provisioningState": vmss["properties"].get(
            "provisioningState") or "Succeeded"}
        return {"id": f"{vmss['id']}/extensions/{ext.get('name')}", "name": ext.get("name"), "type": VMSS_EXTENSION,
                "properties": props}

    def view(self, cloud, rid):
        vmss = cloud.get(rid.parent)
        ext = next((e for e in _profile_extensions(vmss) if str(e.get("name", "")).lower() == rid.name.lower()), None)
        return None if ext is None else self._doc(vmss, ext)

    def views(self, cloud, parent):
        vmss = cloud.get(parent)
        return [self._doc(vmss, e) for e in _profile_extensions(vmss)]

    def own_write(self, cloud, rid, call):
        from refit.platform import writes

        writes.check_parent(cloud, rid)
        vmss = cloud.get(rid.parent)
        before = self.view(cloud, rid)
        check_write(rid, call.body, creating=before is None)
        body = call.body if isinstance(call.body, dict) else {}
        sent = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        if call.method == "PATCH":
            if before is None:
                raise writes.not_found(rid)
            old = next(e for e in _profile_extensions(vmss) if str(e.get("name")).lower() == rid.name.lower())
            sent = {**(old.get("properties") or {}), **sent}
        if not sent.get("publisher") or not sent.get("type"):
            raise required("M15", "properties.publisher" if not sent.get("publisher") else "properties.type")
        name = before["name"] if before is not None else rid.name
        model = self._model(vmss, name, {"name": name, "properties": {k: v for k, v in sent.items()
                                                                      if k != "provisioningState"}})
        a = writes.write(cloud, rid.parent, Call("PUT", call.api_version, model))
        return Answer(201 if before is None else 200, self.view(cloud, rid), a.op, location=a.location)

    def own_delete(self, cloud, rid, call):
        from refit.platform import writes

        writes.check_parent(cloud, rid)
        vmss = cloud.get(rid.parent)
        if self.view(cloud, rid) is None:
            return Answer(204)
        a = writes.write(cloud, rid.parent, Call("PUT", call.api_version, self._model(vmss, rid.name, None)))
        return Answer(202 if a.op is not None else 200, None, a.op, location=True)

    def _model(self, vmss: Doc, name: str, ext: Doc | None) -> Doc:
        """The scale set's model with extension `name` replaced by `ext` (or removed), as a PUT body."""
        model = copy.deepcopy({k: v for k, v in vmss.items() if k not in ("id", "name", "type")})
        prof = model["properties"].setdefault("virtualMachineProfile", {})
        ep = prof.setdefault("extensionProfile", {})
        kept = [e for e in _profile_extensions(vmss) if str(e.get("name", "")).lower() != name.lower()]
        ep["extensions"] = copy.deepcopy(kept) + ([ext] if ext is not None else [])
        return model


register(ExtensionType())
register(ScaleSetExtensionType())
