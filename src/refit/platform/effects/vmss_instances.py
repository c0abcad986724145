"""A scale set's instances: which there are, where they go, which model each runs, and what taking the model does.

Flexible orchestration: an instance is a real `Microsoft.Compute/virtualMachines` resource with
`properties.virtualMachineScaleSet.id` (seed 001 section 1; https://learn.microsoft.com/azure/virtual-machine-scale-sets/
virtual-machine-scale-sets-orchestration-modes "Flexible orchestration ... VMs are standard Azure IaaS VMs").
Uniform orchestration: an instance is `virtualMachineScaleSets/{set}/virtualMachines/{instanceId}` (vmss_vm.py).
Both kinds share the VM's state beside the document (power state, boot time, OS disk): `vm.py`'s.

Placement: a zonal set puts each new instance in the zone with the fewest instances (zone balance, "best effort" unless
`zoneBalance`: https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-use-availability-
zones "Zone balancing"), lowest zone first on a tie (INFERRED); a regional Flexible set with more than one fault
domain spreads its VMs over them the same way (platformFaultDomainCount). Scale-in (https://learn.microsoft.com/azure/
virtual-machine-scale-sets/virtual-machine-scale-sets-scale-in-policy): Default balances zones, then fault domains, then
removes the highest instance id (Flexible: the newest VM, INFERRED); NewestVM and OldestVM by creation time, zones
still balanced; instances protected from scale-in are never chosen.

Names: Uniform instances are `{set}_{instanceId}` with instance ids counting up from 0 and computer names
`{computerNamePrefix}{instanceId as 6 base-36 digits}` (https://learn.microsoft.com/azure/virtual-machine-scale-sets/
virtual-machine-scale-sets-instance-ids "computer name ... prefix ... base-36"); Flexible VMs are `{set}_{8 hex}`
with computer names `{prefix}{6 alphanumerics}` (as the portal and az show them; INFERRED from observed names).

The model an instance runs is counted: every change of the set's `virtualMachineProfile` is a new model version, and an
instance whose version is older shows `latestModelApplied: false` (VirtualMachineScaleSetVM_Get.json).
"""

from __future__ import annotations

import copy
import string
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.platform.cloud import Call, Cloud
from refit.platform.rules import confidential, facts
from refit.platform.rules import images as image_rules

VMSS_VM = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
NIC = "Microsoft.Network/networkInterfaces"
Doc = dict[str, Any]
_EXT_KEYS = ("publisher", "type", "typeHandlerVersion", "autoUpgradeMinorVersion", "enableAutomaticUpgrade",
             "settings")
_B36 = string.digits + string.ascii_lowercase


# ---- which instances a set has --------------------------------------------------------------------------------
def flexible(vmss: Doc) -> bool:
    return v.Vmss(vmss).orchestration_mode == "Flexible"


def members(cloud: Cloud, vmss: Doc) -> list[Doc]:
    """The set's instances, oldest first: its VMs (Flexible) or its virtualMachines children (Uniform)."""
    if flexible(vmss):
        sid = vmss["id"]
        key = id_key(sid)
        out = []
        for d in cloud.world.of_type(v.VM):
            ref = ((d.get("properties") or {}).get("virtualMachineScaleSet") or {}).get("id")
            # The set's own instances carry its id as written (_vm_body): equal strings need no case folding.
            if ref and (ref == sid or id_key(ref) == key):
                out.append(d)
    else:
        out = cloud.world.children(vmss["id"], VMSS_VM)
    private = cloud.private  # read, not cloud.priv(): no empty entry is made for a VM without state
    return sorted(out, key=lambda d: ((private.get(id_key(d["id"])) or {}).get("seq", 0), d["name"]))


def set_of(cloud: Cloud, inst: Doc) -> Doc | None:
    """The scale set an instance belongs to (None for a VM that is in none)."""
    if (inst.get("type") or "").lower() == VMSS_VM.lower():
        return cloud.get(ResourceId.parse(inst["id"]).parent)
    sid = ((inst.get("properties") or {}).get("virtualMachineScaleSet") or {}).get("id")
    return cloud.get(sid) if sid else None


def instance_id(inst: Doc) -> str:
    """The id Azure's scale-set calls name an instance by: Uniform's instanceId, a Flexible VM's name."""
    return inst["name"]


def find(cloud: Cloud, vmss: Doc, ids: list[str]) -> list[Doc]:
    """The instances named by `ids` ('*': all). An id that names none is Azure's InvalidParameter (rule M17)."""
    every = members(cloud, vmss)
    if "*" in ids:
        return every
    by = {instance_id(d).lower(): d for d in every}
    out = []
    for i in ids:
        d = by.get(str(i).lower())
        if d is None:
            from refit.platform.rules import RULES

            raise RULES["M17"].refuse(ids=str(i))
        out.append(d)
    return out


# ---- the model each instance runs ------------------------------------------------------------------------------
def model_version(cloud: Cloud, vmss: Doc) -> int:
    return int(cloud.priv(vmss["id"]).get("model", 0))


def bump_model(cloud: Cloud, vmss: Doc) -> None:
    cloud.priv(vmss["id"])["model"] = model_version(cloud, vmss) + 1


def latest_applied(cloud: Cloud, vmss: Doc, inst: Doc) -> bool:
    return int(cloud.priv(inst["id"]).get("model", 0)) >= model_version(cloud, vmss)


def behind(cloud: Cloud, vmss: Doc) -> list[Doc]:
    return [d for d in members(cloud, vmss) if not latest_applied(cloud, vmss, d)]


def target_image(cloud: Cloud, vmss: Doc, region: str | None = None) -> str | None:
    """The image version (or platform image) id the set's model means now in its region: a definition reference is
    the latest version there (rules G13)."""
    ref = v.Vmss(vmss).image_reference
    if not ref:
        return None
    try:
        return image_rules.facts(cloud.world, ref, region or vmss["location"]).source_id
    except ArmError:
        return None  # an image that does not resolve here: the catalog refuses what needs it (G13, G14)


def running_image(cloud: Cloud, inst: Doc) -> str | None:
    from refit.platform.effects import health

    return health.image_of(cloud, inst)


# ---- placement ---------------------------------------------------------------------------------------------------
def _zone_of(d: Doc) -> str:
    z = d.get("zones") or []
    return str(z[0]) if z else ""


def _fd_of(cloud: Cloud, d: Doc) -> int:
    return int(cloud.priv(d["id"]).get("fault_domain", 0))


def fault_domains(vmss: Doc) -> int:
    return max(1, int((vmss.get("properties") or {}).get("platformFaultDomainCount") or 1))


def place(cloud: Cloud, vmss: Doc, existing: list[Doc]) -> tuple[str | None, int]:
    """(zone, fault domain) for the next instance: the least used, lowest first on a tie."""
    zones = [str(z) for z in vmss.get("zones") or []]
    zone = None
    if zones:
        count = {z: 0 for z in zones}
        for d in existing:
            z = _zone_of(d)
            if z in count:
                count[z] += 1
        zone = min(zones, key=lambda z: (count[z], zones.index(z)))
    fds = fault_domains(vmss)
    if fds == 1:
        return zone, 0  # one fault domain: nothing to count
    used = [0] * fds
    for d in existing:
        if _zone_of(d) == (zone or ""):
            fd = _fd_of(cloud, d)
            if fd < fds:
                used[fd] += 1
    return zone, min(range(fds), key=lambda f: (used[f], f))


def scale_in_order(cloud: Cloud, vmss: Doc, count: int) -> list[Doc]:
    """The `count` instances a scale-in removes, by the set's scaleInPolicy; protected instances are never chosen
    (a set with fewer unprotected instances removes what it can, INFERRED)."""
    rules = [str(r) for r in (((vmss.get("properties") or {}).get("scaleInPolicy") or {}).get("rules") or ["Default"])]
    rule = rules[0] if rules else "Default"
    pool = [d for d in members(cloud, vmss) if not protected(cloud, d, "scale_in")]
    out: list[Doc] = []
    for _ in range(min(count, len(pool))):
        by_zone: dict[str, list[Doc]] = {}
        for d in pool:
            by_zone.setdefault(_zone_of(d), []).append(d)
        # Balance first: take from the zone (then fault domain) with the most instances.
        biggest = max(by_zone.values(), key=len)
        cands = [d for d in pool if len(by_zone[_zone_of(d)]) == len(biggest)]
        if rule.lower() == "oldestvm":
            pick = min(cands, key=lambda d: cloud.priv(d["id"]).get("seq", 0))
        else:  # Default and NewestVM: the highest instance id / the newest VM
            pick = max(cands, key=lambda d: cloud.priv(d["id"]).get("seq", 0))
        out.append(pick)
        pool.remove(pick)
    return out


def protected(cloud: Cloud, inst: Doc, what: str) -> bool:
    """protectionPolicy: `scale_in` (protectFromScaleIn) or `actions` (protectFromScaleSetActions, which also protects
    from scale-in: https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-instance-
    protection)."""
    pol = (inst.get("properties") or {}).get("protectionPolicy") or {}
    if pol.get("protectFromScaleSetActions") is True:
        return True
    return what == "scale_in" and pol.get("protectFromScaleIn") is True


# ---- creating and removing instances -------------------------------------------------------------------------------
def _hex(cloud: Cloud) -> str:
    """32 hex digits from the cloud's seeded generator (names stay reproducible from one seed)."""
    return f"{cloud.rng.getrandbits(128):032x}"


def _b36(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out.rjust(width, "0")


def _priority(cloud: Cloud, vmss: Doc, existing: list[Doc]) -> str:
    """Regular or Spot for the next instance: Spot Priority Mix (spot.py) decides for a Spot set with a mix."""
    from refit.platform.effects import spot

    return spot.next_priority(cloud, vmss, existing)


def add(cloud: Cloud, vmss: Doc, count: int, api_version: str, at_once: bool) -> list[Doc]:
    """Create `count` instances from the set's model. `at_once`: they exist in their final state (a scenario's seed);
    otherwise each is created as Azure creates a VM (an operation of `vm.create`)."""
    made: list[Doc] = []
    existing = members(cloud, vmss)
    for _ in range(count):
        zone, fd = place(cloud, vmss, existing)
        priority = _priority(cloud, vmss, existing)
        doc = _create(cloud, vmss, zone, fd, priority, api_version, at_once)
        made.append(doc)
        existing.append(doc)
    return made


def materialise(cloud: Cloud) -> None:
    """After documents were adopted (Resource Graph, a snapshot): a set with fewer known instances than its capacity
    gets the missing ones from its model, on its latest model (Resource Graph's `resources` table lists a Flexible
    set's VMs but not a Uniform set's instances)."""
    for vmss in cloud.world.of_type(v.VMSS):
        missing = v.Vmss(vmss).capacity - len(members(cloud, vmss))
        if missing <= 0 or not isinstance((vmss.get("properties") or {}).get("virtualMachineProfile"), dict):
            continue
        cloud.priv(vmss["id"]).setdefault("model", 1)
        try:
            add(cloud, vmss, missing, "", at_once=True)
        except ArmError:
            continue  # a model this cloud cannot build instances of: the set stays a model


def _next_seq(cloud: Cloud, vmss: Doc) -> int:
    priv = cloud.priv(vmss["id"])
    seq = int(priv.get("next_instance", 0))
    priv["next_instance"] = seq + 1
    return seq


def _create(cloud: Cloud, vmss: Doc, zone: str | None, fd: int, priority: str, api_version: str,
            at_once: bool) -> Doc:
    from refit.platform import writes

    seq = _next_seq(cloud, vmss)
    rid = ResourceId.parse(vmss["id"])
    prof = copy.deepcopy(vmss["properties"].get("virtualMachineProfile") or {})
    if flexible(vmss):
        # "{scale-set-name}_{8-char-guid}", at most 44 characters (virtual-machine-scale-sets-instance-ids)
        name = f"{rid.name[:35]}_{_hex(cloud)[:8]}"
        vm_id = ResourceId.build(rid.subscription, rid.resource_group, v.VM, name)
        computer = _computer_name(cloud, vmss, prof, seq, flexible_set=True)
    else:
        name = str(seq)
        vm_id = rid.child("virtualMachines", name)
        computer = _computer_name(cloud, vmss, prof, seq, flexible_set=False)
    body = _vm_body(cloud, vmss, prof, vm_id, computer, zone, fd, priority, api_version, at_once)
    before = set(cloud.ops)
    cloud.priv(vm_id)["creating"] = True
    try:
        writes.write(cloud, vm_id, Call("PUT", api_version, body), render=False)
    finally:
        cloud.priv(vm_id).pop("creating", None)
    doc = cloud.get(vm_id)
    priv = cloud.priv(vm_id)
    priv.update({"seq": seq, "fault_domain": fd, "model": model_version(cloud, vmss), "priority": priority})
    if at_once:
        cloud.complete_now([o for o in cloud.ops if o not in before])
        doc = cloud.get(vm_id)
    apply_extensions(cloud, vmss, doc)
    if at_once:  # it exists as if long running (a scenario's; a surge's boot is set by the engine)
        cloud.priv(vm_id).pop("booted_at", None)
        cloud.priv(vm_id).pop("health_since", None)
    cloud.save(doc)
    return doc


def _computer_name(cloud: Cloud, vmss: Doc, prof: Doc, seq: int, flexible_set: bool) -> str:
    prefix = str(((prof.get("osProfile") or {}).get("computerNamePrefix")) or vmss["name"][:9])
    if flexible_set:
        return prefix + "".join(cloud.rng.choice(_B36) for _ in range(6))
    return prefix + _b36(seq)


def _vm_body(cloud: Cloud, vmss: Doc, prof: Doc, vm_id: ResourceId, computer: str, zone: str | None, fd: int,
             priority: str, api_version: str, at_once: bool) -> Doc:
    """The VM document an instance starts as: the set's model, its size, zone and fault domain."""
    sp = copy.deepcopy(prof.get("storageProfile") or {})
    osd = sp.setdefault("osDisk", {"createOption": "FromImage"})
    osd.setdefault("createOption", "FromImage")
    osd.pop("name", None)
    # An instance's OS disk goes with it: always for Uniform, by default for Flexible (deleteOption Delete, INFERRED).
    osd["deleteOption"] = osd.get("deleteOption") or "Delete" if flexible(vmss) else "Delete"
    if not flexible(vmss):
        osd["name"] = f"{vmss['name']}_{vm_id.name}_OsDisk_1_{_hex(cloud)}"
    for dd in sp.get("dataDisks") or []:
        dd.setdefault("deleteOption", "Delete")
    os_profile = {k: copy.deepcopy(x) for k, x in (prof.get("osProfile") or {}).items()
                  if k not in ("computerNamePrefix", "adminPassword", "customData")}
    os_profile["computerName"] = computer
    props: Doc = {"hardwareProfile": {"vmSize": (vmss.get("sku") or {}).get("name")},
                  "storageProfile": sp, "osProfile": os_profile,
                  "networkProfile": {"networkInterfaces": _nics(cloud, vmss, prof, vm_id, api_version)}}
    for k in ("securityProfile", "diagnosticsProfile", "billingProfile", "evictionPolicy", "userData",
              "capacityReservation"):
        if prof.get(k) is not None:
            props[k] = copy.deepcopy(prof[k])
    if priority == "Spot":
        props["priority"] = "Spot"
        props.setdefault("evictionPolicy", prof.get("evictionPolicy") or "Deallocate")
        props.setdefault("billingProfile", {"maxPrice": -1})
    else:
        props.pop("evictionPolicy", None)
        props.pop("billingProfile", None)
    if flexible(vmss):
        props["virtualMachineScaleSet"] = {"id": vmss["id"]}
        if fault_domains(vmss) > 1:
            props["platformFaultDomain"] = fd
    body: Doc = {"location": vmss["location"], "properties": props}
    if zone:
        body["zones"] = [zone]
    return body


def _nics(cloud: Cloud, vmss: Doc, prof: Doc, vm_id: ResourceId, api_version: str) -> list[Doc]:
    """One NIC per networkInterfaceConfiguration, created as Azure creates them for the instance (through the NIC's own
    flow). Named `{set}-{8 hex}-{configuration}`: a capacity-made Flexible VM's NIC "does not have VM name as prefix"
    (kubernetes-sigs/cloud-provider-azure#2670), the VM's `{set}_{8 hex}` with a hyphen is INFERRED."""
    from refit.platform import apis, writes

    out = []
    configs = ((prof.get("networkProfile") or {}).get("networkInterfaceConfigurations") or [])
    for i, cfg in enumerate(c for c in configs if isinstance(c, dict)):
        cp = cfg.get("properties") or {}
        nic_name = f"{vm_id.name.replace('_', '-')}-{cfg.get('name') or 'nic'}"
        nic_id = ResourceId.build(vm_id.subscription, vm_id.resource_group, NIC, nic_name)
        ipcs = []
        for ipc in cp.get("ipConfigurations") or []:
            ip = ipc.get("properties") or {}
            entry: Doc = {"name": ipc.get("name") or "ipconfig1", "properties": {
                "privateIPAllocationMethod": "Dynamic", "primary": ip.get("primary", True)}}
            for k in ("subnet", "loadBalancerBackendAddressPools", "applicationGatewayBackendAddressPools",
                      "applicationSecurityGroups"):
                if ip.get(k) is not None:
                    entry["properties"][k] = copy.deepcopy(ip[k])
            ipcs.append(entry)
        nic_body: Doc = {"location": vmss["location"], "properties": {"ipConfigurations": ipcs}}
        for k in ("enableAcceleratedNetworking", "enableIPForwarding", "networkSecurityGroup", "dnsSettings"):
            if cp.get(k) is not None:
                nic_body["properties"][k] = copy.deepcopy(cp[k])
        writes.write(cloud, nic_id, Call("PUT", apis.api_version(NIC), nic_body), render=False)
        out.append({"id": str(nic_id), "properties": {"primary": cp.get("primary", i == 0),
                                                      "deleteOption": cp.get("deleteOption") or "Delete"}})
    return out


def apply_extensions(cloud: Cloud, vmss: Doc, inst: Doc) -> None:
    """The model's extensions onto an instance: a Flexible VM's extension resources (one per type: a VM cannot run two
    of one type, https://learn.microsoft.com/azure/virtual-machines/extensions/overview), a Uniform instance's list."""
    model = [e for e in ((vmss["properties"].get("virtualMachineProfile") or {}).get("extensionProfile") or {})
             .get("extensions") or [] if isinstance(e, dict) and e.get("name")]
    before = health_settings(cloud, inst)
    _install(cloud, vmss, inst, model)
    after = health_settings(cloud, inst)
    if after is not None and after != before:
        # The Application Health extension starts (or restarts with new settings) on a running guest: it reports
        # Initializing again from now ("only occurs once at extension start time", health-extension page).
        cloud.priv(inst["id"])["health_since"] = cloud.now()


def _install(cloud: Cloud, vmss: Doc, inst: Doc, model: list[Doc]) -> None:
    if not flexible(vmss):
        cloud.priv(inst["id"])["extensions"] = [{"name": e["name"], "properties": {
            k: copy.deepcopy((e.get("properties") or {})[k]) for k in _EXT_KEYS if k in (e.get("properties") or {})}}
            for e in model]
        return
    existing = cloud.world.children(inst["id"], VM_EXTENSION)
    for ext in model:
        props = ext.get("properties") or {}
        kind = (str(props.get("publisher") or "").lower(), str(props.get("type") or "").lower())
        for old in existing:
            p = old.get("properties") or {}
            same_kind = (str(p.get("publisher") or "").lower(), str(p.get("type") or "").lower()) == kind
            if same_kind and old["name"].lower() != ext["name"].lower():
                cloud.remove(old["id"])
        cloud.save({"id": f"{inst['id']}/extensions/{ext['name']}", "name": ext["name"], "type": VM_EXTENSION,
                    "location": inst.get("location"),
                    "properties": {**{k: copy.deepcopy(props[k]) for k in _EXT_KEYS if k in props},
                                   "provisioningState": "Succeeded"}})


def extensions_of(cloud: Cloud, inst: Doc) -> list[Doc]:
    """The extensions an instance runs: a VM's extension resources, a Uniform instance's applied model's."""
    if (inst.get("type") or "").lower() == VMSS_VM.lower():
        return list(cloud.priv(inst["id"]).get("extensions") or [])
    return cloud.world.children(inst["id"], VM_EXTENSION)


def health_settings(cloud: Cloud, inst: Doc) -> Doc | None:
    """The Application Health extension's settings on an instance (None without the extension)."""
    for e in extensions_of(cloud, inst):
        p = e.get("properties") or {}
        if facts.is_health_extension(p.get("type")):
            return p.get("settings") if isinstance(p.get("settings"), dict) else {}
    return None


def remove(cloud: Cloud, inst: Doc) -> None:
    """An instance goes, with what Azure deletes with it (its OS disk and NICs with deleteOption Delete)."""
    from refit.platform.effects import handler_for
    from refit.platform.effects.vm import _disk_ids

    h = handler_for(inst["type"])
    op = _op(inst)
    h.finish_delete(cloud, inst, op)
    nics = [n for n in ((inst["properties"].get("networkProfile") or {}).get("networkInterfaces") or [])]
    prev = cloud.priv(inst["id"]).get("previous_os_disk")
    cloud.remove(inst["id"])
    for n in nics:
        if str((n.get("properties") or {}).get("deleteOption") or "Detach").lower() == "delete" and n.get("id"):
            cloud.remove(n["id"])
    if prev and prev not in _disk_ids(inst):
        cloud.remove(prev)


def _op(inst: Doc):
    from refit.platform.cloud import Operation

    return Operation(id="instance", resource_id=inst["id"], kind="delete", name="instance", namespace="Microsoft.Compute",
                     region="", start=0.0, end=0.0, api_version="")


# ---- taking the model ------------------------------------------------------------------------------------------------
def take_model(cloud: Cloud, vmss: Doc, inst: Doc, reimage: bool = False, image: str | None = None) -> bool:
    """Bring an instance to the set's latest model: its size, security profile and extensions, and a new OS disk when
    the model names another image or security type (or `reimage`: an OS upgrade, to `image`). The previous OS disk is
    kept until the upgrade is judged (rollback restores it). Returns whether the guest restarts.

    Azure: "changing the image recreates OS disks" (acd trusted-launch-existing-vmss.md); a model change reaches an
    instance when it is upgraded (virtual-machine-scale-sets-upgrade-policy). A model that still names the same image
    reference (a definition, `latest`) is no image change: a newer version reaches the instance by an OS upgrade or a
    reimage ("Reimage ... to the latest image", INFERRED from the automatic-upgrade page's manual trigger)."""
    prof = vmss["properties"].get("virtualMachineProfile") or {}
    p = inst["properties"]
    priv = cloud.priv(inst["id"])
    restart = False
    size = (vmss.get("sku") or {}).get("name")
    if size and (p.get("hardwareProfile") or {}).get("vmSize") != size:
        p.setdefault("hardwareProfile", {})["vmSize"] = size
        restart = True
    before_sec = (p.get("securityProfile") or {}).get("securityType") or "Standard"
    if prof.get("securityProfile") is not None:
        p["securityProfile"] = copy.deepcopy(prof["securityProfile"])
    elif "securityProfile" in p:
        p.pop("securityProfile")
    after_sec = (p.get("securityProfile") or {}).get("securityType") or "Standard"
    model_ref = ((prof.get("storageProfile") or {}).get("imageReference")) or {}
    had = p["storageProfile"].get("imageReference") or {}
    priv["image_before"] = copy.deepcopy(had)
    other_image = bool(model_ref) and _ref_key(model_ref) != _ref_key(had)
    if model_ref:
        p["storageProfile"]["imageReference"] = copy.deepcopy(model_ref)
    if reimage or other_image or before_sec != after_sec:
        target = image or target_image(cloud, vmss)
        if reimage or not _same_image(target, running_image(cloud, inst)) or before_sec != after_sec:
            new_os_disk(cloud, vmss, inst, target)
            restart = True
    priv.pop("image_before", None)
    apply_extensions(cloud, vmss, inst)
    priv["model"] = model_version(cloud, vmss)
    cloud.save(inst)
    return restart


def _ref_key(ref: Doc) -> tuple[str, ...]:
    return tuple(str(ref.get(k) or "").lower() for k in ("id", "publisher", "offer", "sku", "version"))


def _same_image(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and id_key(a) == id_key(b)


def new_os_disk(cloud: Cloud, vmss: Doc | None, inst: Doc, image_id: str | None) -> None:
    """Replace the instance's OS disk by a new one from `image_id` (its own image when None); the old one is kept
    beside it as `previous_os_disk` until commit() or rollback()."""
    from refit.platform.effects import disks

    p = inst["properties"]
    osd = p["storageProfile"]["osDisk"]
    old_id = (osd.get("managedDisk") or {}).get("id")
    old = cloud.get(old_id) if old_id else None
    rid = ResourceId.parse(inst["id"])
    base = f"{vmss['name']}_{rid.name}" if vmss is not None and not flexible(vmss) else rid.name
    name = f"{base}_OsDisk_1_{_hex(cloud)}"
    disk_id = ResourceId.build(rid.subscription, rid.resource_group, v.DISK, name)
    ref = image_id or (p["storageProfile"].get("imageReference") or {}).get("id")
    try:
        f = image_rules.facts(cloud.world, {"id": ref} if ref else p["storageProfile"].get("imageReference") or {},
                              inst["location"])
    except ArmError:
        f = None
    creation: Doc = {"createOption": "FromImage"}
    if f is not None and f.kind == "gallery-version":
        creation["galleryImageReference"] = {"id": f.source_id}
    elif f is not None and f.kind == "managed-image":
        creation["sourceResourceId"] = f.source_id
    elif f is not None:
        creation["imageReference"] = {"id": f.source_id}
    if f is not None and isinstance(p["storageProfile"].get("imageReference"), dict):
        from refit.platform.effects.vm import exact_version

        ev = exact_version(f)
        if ev:
            p["storageProfile"]["imageReference"] = {**p["storageProfile"]["imageReference"], "exactVersion": ev}
    sec = (p.get("securityProfile") or {}).get("securityType") or "Standard"
    extra: Doc = {"osType": f.os_type if f else (osd.get("osType") or "Linux"),
                  "hyperVGeneration": f.hyper_v_generation if f else "V2"}
    if sec == "ConfidentialVM":
        # A confidential instance's OS disk type follows its securityEncryptionType (rule CVM1; DiskRP DiskSecurityTypes).
        disk_sec = (osd.get("managedDisk") or {}).get("securityProfile") or {}
        extra["securityProfile"] = {"securityType": confidential.disk_security_type(
            disk_sec.get("securityEncryptionType"), bool((disk_sec.get("diskEncryptionSet") or {}).get("id")))}
    elif sec != "Standard":
        extra["securityProfile"] = {"securityType": sec}
    sku = (old or {}).get("sku", {}).get("name") or (osd.get("managedDisk") or {}).get("storageAccountType") \
        or "Premium_LRS"
    size = int((old or {}).get("properties", {}).get("diskSizeGB") or (f.size_gb if f else 30))
    cloud.save(disks.new_disk_doc(cloud, disk_id, inst["location"], inst.get("zones"), sku, size, creation, extra))
    disks.attach(cloud, str(disk_id), inst["id"], True)
    osd["managedDisk"] = {**(osd.get("managedDisk") or {}), "id": str(disk_id), "storageAccountType": sku}
    osd["name"] = name
    osd["diskSizeGB"] = size
    priv = cloud.priv(inst["id"])
    if old_id and not priv.get("previous_os_disk"):
        priv["previous_os_disk"] = old_id
        priv["previous_image"] = copy.deepcopy(priv.get("image_before") or p["storageProfile"].get("imageReference"))
        priv["previous_model"] = int(priv.get("model", 0))
        disks.release(cloud, old_id)
    elif old_id:
        cloud.remove(old_id)  # a second new disk before the first was judged: the intermediate one goes


def commit(cloud: Cloud, inst: Doc) -> None:
    """The upgrade held: the previous OS disk goes (reimage replaces it, INFERRED that it is deleted)."""
    priv = cloud.priv(inst["id"])
    prev = priv.pop("previous_os_disk", None)
    priv.pop("previous_model", None)
    priv.pop("previous_image", None)
    if prev:
        cloud.remove(prev)
    cloud.touch(inst["id"])


def rollback(cloud: Cloud, inst: Doc) -> bool:
    """Restore the previous OS disk (rolling upgrades' rollback of failed instances); the new one goes. False when the
    instance has no previous disk to go back to."""
    from refit.platform.effects import disks

    priv = cloud.priv(inst["id"])
    prev = priv.pop("previous_os_disk", None)
    model = priv.pop("previous_model", None)
    image = priv.pop("previous_image", None)
    if not prev or cloud.get(prev) is None:
        return False
    osd = inst["properties"]["storageProfile"]["osDisk"]
    cur = (osd.get("managedDisk") or {}).get("id")
    d = cloud.get(prev)
    osd["managedDisk"] = {**(osd.get("managedDisk") or {}), "id": d["id"], "storageAccountType": d["sku"]["name"]}
    osd["name"] = d["name"]
    osd["diskSizeGB"] = d["properties"].get("diskSizeGB")
    if image:
        inst["properties"]["storageProfile"]["imageReference"] = image
    if model is not None:
        priv["model"] = model  # it runs the previous model again: latestModelApplied false
    disks.attach(cloud, d["id"], inst["id"], True)
    if cur:
        cloud.remove(cur)
    cloud.save(inst)
    return True
