"""Microsoft.Compute/virtualMachines: model, power state, OS disk swap, instance view.

Wire behaviour (reference/azure-platform-rules.md 7a): PUT 201 (create) / 200 (update) and PATCH 200,
each with Azure-AsyncOperation; actions (start, deallocate, powerOff, restart) 202 with
Azure-AsyncOperation and Location and an empty body; allocation failures on start arrive
asynchronously as a Failed operation (A5).
"""

from __future__ import annotations

import uuid
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.platform import directory, vmimages
from refit.platform.cloud import Answer, Call, Cloud, Operation
from refit.platform.effects import disks, extensions, register
from refit.platform.effects.base import ResourceType, invalid, new_guid, required, same
from refit.platform.rules import RULES, confidential, facts, images

ALLOCATED = set(facts.ALLOCATED_POWER_STATES)
POWER_DISPLAY = {
    "running": "VM running", "deallocated": "VM deallocated", "stopped": "VM stopped", "starting": "VM starting",
    "deallocating": "VM deallocating", "stopping": "VM stopping", "restarting": "VM starting",
}


def power_state(cloud: Cloud, vm_id: str) -> str:
    return cloud.priv(vm_id).get("power", "running")


def set_power(cloud: Cloud, doc: dict[str, Any], power: str) -> None:
    """Record a VM's power state, privately and where Resource Graph shows it
    (`properties.extended.instanceView.powerState`, which ARM's GET does not return), so that the rule
    catalog and the planner read it from the document like any other fact."""
    cloud.priv(doc["id"])["power"] = power
    code = "starting" if power == "restarting" else power
    doc["properties"].setdefault("extended", {})["instanceView"] = {
        "powerState": {"code": f"PowerState/{code}", "level": "Info", "displayStatus": POWER_DISPLAY.get(power, power)}}


def is_allocated(cloud: Cloud, vm_id: str) -> bool:
    return power_state(cloud, vm_id) in ALLOCATED


class VirtualMachineType(ResourceType):
    type = v.VM
    create_timing = "vm.create"
    update_timing = "vm.update"
    delete_timing = "vm.delete"
    actions = ("start", "deallocate", "powerOff", "restart", "reapply", "redeploy", "runCommand")
    readonly_properties = ("provisioningState", "instanceView", "extended")

    # ---- building the model -------------------------------------------------------------------
    def build(self, cloud, rid, doc, old, call):
        # The catalog decides on the document built here: the region and its zones (ARM8, ARM9), the security
        # type's value (VM3), the NICs (VM5) and the capacity reservation group (C14) exist, the LUNs are unique
        # (VM6), and the platform rules of the S, U, D, C and G families.
        p = doc["properties"]
        if not (p.get("hardwareProfile") or {}).get("vmSize"):
            raise required("VM1", "hardwareProfile.vmSize")
        if old is not None and doc.get("zones") is None:
            doc["zones"] = old.get("zones")
        sp = p.get("storageProfile")
        if not isinstance(sp, dict) or not isinstance(sp.get("osDisk"), dict):
            raise required("VM1", "storageProfile.osDisk")
        sp.setdefault("dataDisks", [])  # GET shows the list, empty or not (VirtualMachine_Get.json)
        self._network(p, old)
        if old is None:
            p["vmId"] = new_guid()
            p["timeCreated"] = cloud.now_iso()
            self._create_storage(cloud, rid, doc)
        else:
            self._update_storage(cloud, rid, doc, old)
        return doc

    def _network(self, p, old):
        np_ = p.get("networkProfile")
        if old is None and not isinstance(np_, dict):
            raise required("VM1", "networkProfile")
        for nic in (np_ or {}).get("networkInterfaces") or []:
            if not (nic or {}).get("id"):
                raise required("VM1", "networkProfile.networkInterfaces[].id")

    def _create_storage(self, cloud, rid, doc):
        p, loc = doc["properties"], doc["location"]
        sp = p["storageProfile"]
        osd = sp["osDisk"]
        opt = str(osd.get("createOption") or "")
        sec = (p.get("securityProfile") or {}).get("securityType") or "Standard"
        plan: list[dict[str, Any]] = []  # disks to create or attach when accepted
        if opt.lower() == "fromimage":
            if not sp.get("imageReference"):
                raise required("VM1", "storageProfile.imageReference")
            try:
                f = images.facts(cloud.world, sp["imageReference"], loc)
            except ArmError:
                # An image that does not resolve here is the catalog's answer (rules G13, G14, G21).
                cloud.priv(rid)["pending_disks"] = []
                return
            name = osd.get("name") or f"{rid.name}_OsDisk_1_{uuid.uuid4().hex}"
            # A disk of that name already there fails the create (the catalog's VM7).
            disk_id = str(ResourceId.build(rid.subscription, rid.resource_group, v.DISK, name))
            sku = (osd.get("managedDisk") or {}).get("storageAccountType") or "Premium_LRS"  # INFERRED default
            size = int(osd.get("diskSizeGB") or f.size_gb)
            creation = {"createOption": "FromImage"}
            if f.kind == "gallery-version":
                # The version the reference resolved to (a definition or .../versions/latest means the latest
                # version in the region, G13): the disk records what it was made from.
                creation["galleryImageReference"] = {"id": f.source_id}
            elif f.kind == "managed-image":
                creation["sourceResourceId"] = f.source_id
            else:
                creation["imageReference"] = {"id": f.source_id}
            extra: dict[str, Any] = {"osType": f.os_type, "hyperVGeneration": f.hyper_v_generation,
                                     "supportedCapabilities": {"architecture": f.architecture}}
            disk_sec = (osd.get("managedDisk") or {}).get("securityProfile") or {}
            if sec == "ConfidentialVM":
                # The confidential disk type follows securityEncryptionType and the customer key's disk encryption
                # set (rules CVM1-CVM3; DiskRP DiskSecurityTypes, Disk_Create_WithSecurityProfile.json).
                des = (disk_sec.get("diskEncryptionSet") or {}).get("id")
                extra["securityProfile"] = {"securityType": confidential.disk_security_type(
                    disk_sec.get("securityEncryptionType"), bool(des))}
                if des:
                    extra["securityProfile"]["secureVMDiskEncryptionSetId"] = des
            elif sec != "Standard":
                extra["securityProfile"] = {"securityType": sec}
            plan.append({"create": disks.new_disk_doc(cloud, ResourceId.parse(disk_id), loc, doc.get("zones"), sku,
                                                      size, creation, extra)})
            ev = exact_version(f)
            if ev:
                sp["imageReference"] = {**sp["imageReference"], "exactVersion": ev}
            osd.update({"name": name, "createOption": "FromImage", "osType": f.os_type, "diskSizeGB": size,
                        "caching": osd.get("caching") or "ReadWrite",
                        "managedDisk": {"storageAccountType": sku, "id": disk_id,
                                        **({"securityProfile": disk_sec} if disk_sec else {})}})
            osd.setdefault("deleteOption", "Detach")
        elif opt.lower() == "attach":
            disk_id = (osd.get("managedDisk") or {}).get("id")
            if not disk_id:
                raise required("VM1", "storageProfile.osDisk.managedDisk.id")
            d = self._existing_disk(cloud, disk_id, loc)
            osd.update({"name": d["name"], "createOption": "Attach", "osType": osd.get("osType") or d["properties"].get("osType"),
                        "diskSizeGB": d["properties"].get("diskSizeGB")})
            osd["managedDisk"] = {"storageAccountType": d["sku"]["name"], "id": d["id"]}
            osd.setdefault("deleteOption", "Detach")
            plan.append({"attach": d["id"]})
        else:
            raise invalid("VM2", "storageProfile.osDisk.createOption", opt)
        plan += self._data_disks(cloud, rid, doc, [])
        cloud.priv(rid)["pending_disks"] = plan

    def _data_disks(self, cloud, rid, doc, old_list) -> list[dict[str, Any]]:
        p, loc = doc["properties"], doc["location"]
        out: list[dict[str, Any]] = []
        old_by_lun = {dd.get("lun"): dd for dd in old_list}
        for dd in p["storageProfile"].get("dataDisks") or []:
            lun = dd.get("lun")
            if lun is None:
                raise required("VM1", "storageProfile.dataDisks[].lun")
            # A LUN used twice is the catalog's (VM6).
            prev = old_by_lun.get(lun)
            if prev and same((prev.get("managedDisk") or {}).get("id"), (dd.get("managedDisk") or {}).get("id")):
                continue
            if prev and not (dd.get("managedDisk") or {}).get("id"):
                dd["managedDisk"] = prev["managedDisk"]
                continue
            opt = str(dd.get("createOption") or "").lower()
            if opt == "empty":
                if not dd.get("diskSizeGB"):
                    raise required("VM1", "storageProfile.dataDisks[].diskSizeGB")
                name = dd.get("name") or f"{rid.name}_disk{lun + 2}_{uuid.uuid4().hex}"
                did = str(ResourceId.build(rid.subscription, rid.resource_group, v.DISK, name))
                sku = (dd.get("managedDisk") or {}).get("storageAccountType") or "Premium_LRS"
                out.append({"create": disks.new_disk_doc(cloud, ResourceId.parse(did), loc, doc.get("zones"), sku,
                                                         int(dd["diskSizeGB"]), {"createOption": "Empty"})})
                dd.update({"name": name, "createOption": "Empty", "managedDisk": {"storageAccountType": sku, "id": did}})
            elif opt == "attach":
                did = (dd.get("managedDisk") or {}).get("id")
                if not did:
                    raise required("VM1", "storageProfile.dataDisks[].managedDisk.id")
                d = self._existing_disk(cloud, did, loc)
                dd.update({"name": d["name"], "diskSizeGB": d["properties"].get("diskSizeGB"),
                           "managedDisk": {"storageAccountType": d["sku"]["name"], "id": d["id"]}})
                out.append({"attach": d["id"]})
            else:
                raise invalid("VM2", "dataDisks[].createOption", dd.get("createOption"),
                              "storageProfile.dataDisks[].createOption")
            dd.setdefault("caching", "None")
            dd.setdefault("deleteOption", "Detach")
        return out

    def _existing_disk(self, cloud, disk_id, loc) -> dict[str, Any]:
        d = cloud.get(disk_id)
        if d is None:
            raise RULES["VM4"].refuse(disk=disk_id)
        # Region, zone, ownership and security type of the disk are the catalog's (rules D3-D9, D12, S4).
        return d

    def _update_storage(self, cloud, rid, doc, old):
        sp, osp = doc["properties"]["storageProfile"], old["properties"]["storageProfile"]
        osd, old_osd = sp["osDisk"], osp["osDisk"]
        new_id = (osd.get("managedDisk") or {}).get("id")
        old_id = (old_osd.get("managedDisk") or {}).get("id")
        plan: list[dict[str, Any]] = []
        if new_id and not same(new_id, old_id):
            d = self._existing_disk(cloud, new_id, doc["location"])
            # An OS disk swap: only the managed disk id (and with it the name) changes (D2).
            osd["managedDisk"] = {**(osd.get("managedDisk") or {}), "id": d["id"],
                                  "storageAccountType": d["sku"]["name"]}
            osd["name"] = d["name"]
            osd["diskSizeGB"] = d["properties"].get("diskSizeGB")
            plan.append({"release": old_id})
            plan.append({"attach": d["id"]})
        elif not new_id:
            osd["managedDisk"] = old_osd.get("managedDisk")
        grown = osd.get("diskSizeGB")
        if not (new_id and not same(new_id, old_id)) and grown and int(grown) > int(old_osd.get("diskSizeGB") or 0):
            # A larger OS disk in the model resizes the OS disk (the catalog's D22: only while deallocated).
            plan.append({"resize": ((osd.get("managedDisk") or {}).get("id"), int(grown))})
        for k in ("createOption", "osType"):
            if k not in osd and k in old_osd:
                osd[k] = old_osd[k]
        if not sp.get("imageReference") and osp.get("imageReference"):
            # An update that leaves the image out (or sends null: az does, "to avoid unnecessary permission check
            # of image", azure-cli vm/custom.py get_vm_to_update_by_aaz) keeps the VM's image.
            sp["imageReference"] = osp["imageReference"]
        old_data = osp.get("dataDisks") or []
        new_ids = {id_key((dd.get("managedDisk") or {}).get("id") or "") for dd in sp.get("dataDisks") or []}
        plan += self._data_disks(cloud, rid, doc, old_data)
        for dd in old_data:
            did = (dd.get("managedDisk") or {}).get("id")
            if did and id_key(did) not in new_ids and not any(
                    same(did, (n.get("managedDisk") or {}).get("id")) for n in sp.get("dataDisks") or []):
                plan.append({"release": did})
        cloud.priv(rid)["pending_disks"] = plan

    # ---- effects ------------------------------------------------------------------------------------
    def duration(self, cloud, old, new):
        if old is None:
            return "vm.create", cloud.timing["vm.create"]
        plan = cloud.priv(new["id"]).get("pending_disks") or []
        swapping = any("release" in s for s in plan) and any("attach" in s for s in plan)
        if swapping and is_allocated(cloud, new["id"]):
            return "vm.swap_os_disk", cloud.timing["vm.swap_os_disk"]
        return "vm.update", cloud.timing["vm.update"]

    def accept(self, cloud, old, new, op):
        priv = cloud.priv(new["id"])
        priv["etag"] = priv.get("etag", 0) + 1  # a new model, a new etag ("\"1\"" in VirtualMachine_Get.json)
        plan = priv.pop("pending_disks", [])
        if old is None:
            set_power(cloud, new, "starting")
        else:
            set_power(cloud, new, priv.get("power", "running"))
        allocated = old is None or is_allocated(cloud, new["id"])
        for step in plan:
            if "create" in step:
                cloud.save(step["create"])
                disks.attach(cloud, step["create"]["id"], new["id"], allocated)
            elif "attach" in step:
                disks.attach(cloud, step["attach"], new["id"], allocated)
            elif "release" in step:
                disks.release(cloud, step["release"])
            elif "resize" in step:
                disks.resize(cloud, *step["resize"])

    def finish(self, cloud, doc, op):
        priv = cloud.priv(doc["id"])
        if op.kind == "put" and op.data.get("old") is None:
            set_power(cloud, doc, "running")
            directory.created(cloud, doc)  # joined to Entra ID by no device yet (AADLoginForWindows joins it)
            if op.id != "scenario":  # a scenario's VMs start booted; a created VM's guest boots now
                from refit.platform.effects import health

                health.started(cloud, doc)
        priv.pop("failure", None)
        old = op.data.get("old")
        if old is not None:
            self._convert_os_disk(cloud, old, doc)

    def _convert_os_disk(self, cloud, old, doc) -> None:
        """An in-place security type change converts the OS disk: Standard -> TrustedLaunch gives it VM guest
        state (securityProfile TrustedLaunch), and a Gen1 VM becomes Gen2 (U5, one-way); the rollback to
        Standard removes the disk's security type (U4). acd trusted-launch-existing-vm(-gen-1).md"""
        before = (old["properties"].get("securityProfile") or {}).get("securityType") or "Standard"
        after = (doc["properties"].get("securityProfile") or {}).get("securityType") or "Standard"
        if before == after:
            return
        disk = cloud.get((doc["properties"]["storageProfile"]["osDisk"].get("managedDisk") or {}).get("id") or "")
        if disk is None:
            return
        dp = disk["properties"]
        if after == "TrustedLaunch":
            dp["securityProfile"] = {**(dp.get("securityProfile") or {}), "securityType": "TrustedLaunch"}
            dp["hyperVGeneration"] = "V2"
        elif after == "Standard":
            dp.pop("securityProfile", None)
        cloud.save(disk)

    def revert(self, cloud, doc, old):
        # The write is rejected: the disks go back to how the old model had them. A disk the rejected model
        # named but this VM never got (D8: another VM owns it) stays with its owner.
        for did in _disk_ids(doc):
            if did not in _disk_ids(old) and same((cloud.get(did) or {}).get("managedBy"), old["id"]):
                disks.release(cloud, did)
        for did in _disk_ids(old):
            disks.attach(cloud, did, old["id"], is_allocated(cloud, old["id"]))
        old["properties"]["provisioningState"] = "Succeeded"
        cloud.save(old)

    def finish_delete(self, cloud, doc, op):
        sp = doc["properties"]["storageProfile"]
        for d in [sp.get("osDisk") or {}, *(sp.get("dataDisks") or [])]:
            did = (d.get("managedDisk") or {}).get("id")
            if not did:
                continue
            if (d.get("deleteOption") or "Detach").lower() == "delete":
                cloud.remove(did)
            else:
                disks.release(cloud, did)
        for ext in cloud.world.children(doc["id"], "Microsoft.Compute/virtualMachines/extensions"):
            cloud.remove(ext["id"])

    # ---- actions ------------------------------------------------------------------------------------
    def action(self, cloud: Cloud, doc: dict[str, Any], name: str, call: Call) -> Answer:

        priv = cloud.priv(doc["id"])
        power = priv.get("power", "running")
        if name == "start":
            key, transitional = "vm.start", "starting"
            seconds = 1.0 if power == "running" else cloud.timing[key]
        elif name == "deallocate":
            key, transitional = "vm.deallocate", "deallocating"
            seconds = 1.0 if power == "deallocated" else cloud.timing[key]
        elif name == "powerOff":
            if power == "deallocated":
                key, transitional, seconds = "vm.powerOff", "deallocated", 1.0
            else:
                key, transitional = "vm.powerOff", "stopping"
                seconds = 1.0 if power == "stopped" else cloud.timing[key]
        elif name == "restart":
            if power in ("deallocated", "stopped"):
                raise RULES["VM8"].refuse()
            key, transitional, seconds = "vm.restart", "restarting", cloud.timing["vm.restart"]
        elif name == "runCommand":
            # https://learn.microsoft.com/azure/virtual-machines/run-command-overview: needs a running VM
            # (the agent executes the script). INFERRED error wording.
            body = call.body if isinstance(call.body, dict) else {}
            if not body.get("commandId"):
                raise required("VM1", "commandId")
            if power != "running":
                raise RULES["VM9"].refuse()
            key, transitional, seconds = "vm.run_command", power, cloud.timing["vm.run_command"]
        else:  # reapply, redeploy: no model change
            key, transitional, seconds = "vm.update", power, cloud.timing["vm.update"]
        priv["before"] = power
        set_power(cloud, doc, transitional)
        doc["properties"]["provisioningState"] = "Updating"
        cloud.save(doc)
        op = cloud.begin(doc["id"], "action", name, seconds, doc["location"], call.api_version or "")
        return Answer(202, None, op, location=True)

    def _settle(self, cloud, op, power):
        doc = cloud.get(op.resource_id)
        if doc is None:
            return None
        priv = cloud.priv(doc["id"])
        set_power(cloud, doc, power)
        priv.pop("failure", None)
        doc["properties"]["provisioningState"] = "Succeeded"
        allocated = power in ALLOCATED
        for did in _disk_ids(doc):
            disks.attach(cloud, did, doc["id"], allocated)
        cloud.save(doc)
        return doc

    def finish_start(self, cloud: Cloud, op: Operation) -> None:
        doc = cloud.get(op.resource_id)
        if doc is None:
            return
        from refit.platform.effects import health  # refresh health model (issue 4)

        err = allocation_fault(cloud, doc) or health.start_fault(cloud, doc)
        if err is not None:
            priv = cloud.priv(doc["id"])
            before = priv.get("before", "deallocated")
            set_power(cloud, doc, "deallocated" if before in ("starting", "running") else before)
            priv["failure"] = err.body()["error"]
            doc["properties"]["provisioningState"] = "Failed"
            cloud.save(doc)
            raise err
        self._settle(cloud, op, "running")
        health.started(cloud, doc)

    def finish_deallocate(self, cloud, op):
        self._settle(cloud, op, "deallocated")

    def finish_powerOff(self, cloud, op):
        self._settle(cloud, op, "deallocated" if cloud.priv(op.resource_id).get("before") == "deallocated" else "stopped")

    def finish_restart(self, cloud, op):
        self._settle(cloud, op, "running")

    def finish_reapply(self, cloud, op):
        self._settle(cloud, op, cloud.priv(op.resource_id).get("before", "running"))

    finish_redeploy = finish_reapply

    def finish_runCommand(self, cloud, op):  # Azure's action name
        self._settle(cloud, op, cloud.priv(op.resource_id).get("before", "running"))

    def adopt(self, cloud, doc):
        cloud.world.add(doc)
        code = get_path(doc, "properties.extended.instanceView.powerState.code") or "PowerState/running"
        cloud.priv(doc["id"])["power"] = code.split("/", 1)[1]

    # ---- reading ----------------------------------------------------------------------------------
    def server_properties(self):
        return ("provisioningState", "timeCreated", "vmId", "extended")

    def render(self, cloud, doc, call):
        if call is None:
            return doc  # Resource Graph and the rule catalog see `properties.extended`
        out = dict(doc)
        out["properties"] = {k: v for k, v in doc["properties"].items() if k != "extended"}
        if "instanceview" in (call.expand or "").lower():
            out["properties"]["instanceView"] = instance_view(cloud, doc)
        out["etag"] = f'"{cloud.priv(doc["id"]).get("etag", 1)}"'
        resources = extensions.vm_resources(cloud, doc)
        if resources:
            out["resources"] = resources
        return out

    def sub_get(self, cloud, doc, name, call):
        if name.lower() == "instanceview":
            return instance_view(cloud, doc)
        return None


def _disk_ids(doc: dict[str, Any]) -> list[str]:
    sp = doc.get("properties", {}).get("storageProfile") or {}
    out = []
    for d in [sp.get("osDisk") or {}, *(sp.get("dataDisks") or [])]:
        did = (d.get("managedDisk") or {}).get("id")
        if did:
            out.append(did)
    return out


def exact_version(f: images.ImageFacts) -> str | None:
    """`imageReference.exactVersion`: "the version of platform image or marketplace image used to create the virtual
    machine. This readonly field differs from 'version', only if the value specified in 'version' field is 'latest'"
    (specs ComputeRP ImageReference); for a gallery image, the version the reference resolved to (INFERRED: live
    VMs made from a definition show it the same way)."""
    if f.kind == "gallery-version":
        return f.source_id.rstrip("/").rsplit("/", 1)[-1]
    if f.kind != "platform":
        return None
    if ":" in f.source_id:
        pub, offer, sku, version = [*f.source_id.split(":"), "", "", ""][:4]
    else:
        low = f.source_id.split("/")
        lower = [x.lower() for x in low]
        pick = (lambda k: low[lower.index(k) + 1] if k in lower and lower.index(k) + 1 < len(low) else "")  # noqa: E731
        pub, offer, sku, version = pick("publishers"), pick("offers"), pick("skus"), pick("versions")
    if version and version.lower() != "latest":
        return version
    known = vmimages.find(pub, offer, sku)
    return vmimages.latest(known) if known is not None else None


def allocation_fault(cloud: Cloud, doc: dict[str, Any]) -> ArmError | None:
    """The `allocation_failed` fault (control API): fail this start with Azure's allocation error (A1/A2)."""
    f = (cloud.settings.get("faults") or {}).get("allocation_failed")
    if not f:
        return None
    targets = [t.lower() for t in f.get("vms") or []]
    if targets and doc["name"].lower() not in targets and id_key(doc["id"]) not in targets:
        return None
    if f.get("remaining") is not None:
        if f["remaining"] <= 0:
            return None
        f["remaining"] -= 1
    elif cloud.rng.random() >= float(f.get("fraction", 1.0)):
        return None
    return allocation_error(bool(doc.get("zones")))


def allocation_error(zonal: bool) -> ArmError:
    """Azure's allocation failure for a start (rules A1 zonal, A2 regional; reference section 5b)."""
    return (RULES["A1"] if zonal else RULES["A2"]).refuse()


def instance_view(cloud: Cloud, doc: dict[str, Any]) -> dict[str, Any]:
    priv = cloud.priv(doc["id"])
    power = priv.get("power", "running")
    ps = doc["properties"].get("provisioningState") or "Succeeded"
    t = cloud.now_iso()
    failure = priv.get("failure")
    if failure:
        prov = {"code": f"ProvisioningState/failed/{failure['code']}", "level": "Error",
                "displayStatus": "Provisioning failed", "message": failure["message"], "time": t}
    else:
        prov = {"code": f"ProvisioningState/{ps.lower()}", "level": "Info",
                "displayStatus": "Provisioning succeeded" if ps == "Succeeded" else ps, "time": t}
    view: dict[str, Any] = {
        "computerName": ((doc["properties"].get("osProfile") or {}).get("computerName") or doc["name"]),
        "osName": (doc["properties"]["storageProfile"]["osDisk"].get("osType") or "Linux").lower(),
        "disks": [{"name": d.rsplit("/", 1)[-1],
                   "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                                 "displayStatus": "Provisioning succeeded", "time": t}]} for d in _disk_ids(doc)],
        "statuses": [prov, {"code": f"PowerState/{'starting' if power == 'restarting' else power}", "level": "Info",
                            "displayStatus": POWER_DISPLAY.get(power, power)}],
    }
    gen = None
    osd = cloud.get((doc["properties"]["storageProfile"]["osDisk"].get("managedDisk") or {}).get("id") or "")
    if osd is not None:
        gen = osd["properties"].get("hyperVGeneration")
    if gen:
        view["hyperVGeneration"] = gen
    from refit.platform.effects import health  # Application Health extension -> vmHealth (issue 4)

    vm_health = health.vm_health(cloud, doc)
    if vm_health is not None:
        view["vmHealth"] = vm_health
    if power == "running":
        view["vmAgent"] = extensions.vm_agent(cloud, doc, view["osName"])
    exts = extensions.vm_extension_views(cloud, doc)
    if exts:
        view["extensions"] = exts
    entra = extensions.entra_status(cloud, doc)  # AADLoginForWindows: joined to Microsoft Entra ID or not
    if entra is not None:
        view["statuses"].append(entra)
    return view


VMS = register(VirtualMachineType())
