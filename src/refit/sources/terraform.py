"""A Terraform plan (`terraform show -json PLAN`) -> ARM-shaped documents, with the azurerm provider's
defaults applied explicitly, so that every check is written once over ARM JSON (peers.md section 9: avoid
checkov's per-dialect duplication; checkov#4825: provider defaults not modelled -> false negatives).

Read: `resource_changes[]` (managed, not being deleted) with `change.after` / `change.after_unknown`
(https://developer.hashicorp.com/terraform/internals/json-format). An attribute known only after apply
stays unresolved at its ARM path (checks that read it are `unknown`), except a reference to another
resource of the same plan (`configuration...expressions.X.references`), which is resolved to that
resource's ARM id or attribute: `source_image_id = azurerm_shared_image.app.id` names the definition even
though its id is computed. Mapped types: azurerm VM/VMSS (linux, windows, orchestrated), extensions,
managed disks, images, shared image gallery/definition/version, capacity reservation group/reservation,
autoscale settings, network watcher flow logs, resource groups, and `azapi_resource` (any ARM type, its `body` as the document).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from refit.arm import location
from refit.arm.errors import UserError
from refit.arm.paths import deep_merge, set_path
from refit.arm.world import World
from refit.sources.base import Origin, Source, canonical_type

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
_SUB = re.compile(r"/subscriptions/([0-9a-fA-F-]{36})", re.I)

# azurerm schema defaults the doctor relies on when a plan omits an attribute (provider v3/v4 docs).
DEFAULTS: dict[str, dict[str, Any]] = {
    "azurerm_linux_virtual_machine_scale_set": {"upgrade_mode": "Manual", "priority": "Regular",
                                                "single_placement_group": True},
    "azurerm_windows_virtual_machine_scale_set": {"upgrade_mode": "Manual", "priority": "Regular",
                                                  "single_placement_group": True},
    "azurerm_orchestrated_virtual_machine_scale_set": {"priority": "Regular"},
    "automatic_instance_repair": {"grace_period": "PT30M"},  # azurerm v3 schema Default
    "azurerm_shared_image": {"hyper_v_generation": "V1"},
    "azurerm_shared_image_version.target_region": {"storage_account_type": "Standard_LRS", "regional_replica_count": 1},
    "azurerm_managed_disk": {"hyper_v_generation": None},
}


class _Values:
    """Attributes of one resource instance, with their unknown flags and reference resolution."""

    def __init__(self, plan: _Plan, rc: dict[str, Any], after: Any, unknown: Any, prefix: str = ""):
        self.plan, self.rc, self.after, self.unknown, self.prefix = plan, rc, after, unknown, prefix

    def _is_unknown(self, key: str) -> bool:
        u = self.unknown
        return isinstance(u, dict) and u.get(key) is True

    def get(self, key: str, arm: str | None = None, default: Any = None, sink: dict[str, str] | None = None) -> Any:
        if self._is_unknown(key):
            if not self.prefix:
                ref = self.plan.reference(self.rc, key)
                if ref is not None:
                    return ref
            if arm is not None and sink is not None:
                sink[arm] = f"{self.rc['address']}{self.prefix}.{key} is known only after apply"
            return None
        val = self.after.get(key) if isinstance(self.after, dict) else None
        if val is None:
            d = DEFAULTS.get(self.rc["type"], {}) if not self.prefix else {}
            return d.get(key, default)
        return val

    def blocks(self, key: str) -> list[_Values]:
        vals = self.after.get(key) if isinstance(self.after, dict) else None
        unk = self.unknown.get(key) if isinstance(self.unknown, dict) else None
        if not isinstance(vals, list):
            return []
        out = []
        for i, b in enumerate(vals):
            ub = unk[i] if isinstance(unk, list) and i < len(unk) else {}
            out.append(_Values(self.plan, self.rc, b, ub, f"{self.prefix}.{key}[{i}]"))
        return out

    def block(self, key: str) -> _Values | None:
        bs = self.blocks(key)
        return bs[0] if bs else None


class _Plan:
    def __init__(self, data: dict[str, Any], subscription: str):
        self.data = data
        self.subscription = subscription
        self.by_address: dict[str, dict[str, Any]] = {}
        self.instances: dict[str, list[dict[str, Any]]] = {}
        self.config: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self._config_modules(data.get("configuration", {}).get("root_module") or {}, "")

    def _config_modules(self, mod: dict[str, Any], prefix: str) -> None:
        for r in mod.get("resources") or []:
            self.config[f"{prefix}{r.get('address')}"] = r
        for name, call in (mod.get("module_calls") or {}).items():
            self._config_modules(call.get("module") or {}, f"{prefix}module.{name}.")

    def reference(self, rc: dict[str, Any], attr: str) -> Any:
        """The value of `attr` when its expression is a plain reference to another resource of this plan."""
        conf = self.config.get(_config_address(rc))
        refs = ((conf or {}).get("expressions") or {}).get(attr, {})
        refs = refs.get("references") if isinstance(refs, dict) else None
        module = rc.get("module_address")
        for ref in refs or []:
            parts = ref.split(".")
            if len(parts) < 3 or parts[0] in ("var", "local", "module", "data", "each", "count", "path"):
                continue
            target = (f"{module}." if module else "") + ".".join(parts[:2])
            inst = self.instances.get(target)
            if not inst or len(inst) != 1:
                continue
            want = parts[2]
            if want == "id":
                return self.ids.get(inst[0]["address"])
            val = (inst[0]["change"].get("after") or {}).get(want)
            if val is not None:
                return val
        return None


def _config_address(rc: dict[str, Any]) -> str:
    addr = rc["address"]
    return re.sub(r"\[[^\]]*\]$", "", addr) if rc.get("index") is not None else addr


def load(path: Path, subscription: str | None = None) -> Source:
    if not path.is_file():
        raise UserError(f"Terraform plan '{path}' does not exist")
    text = path.read_text()
    try:
        data = json.loads(text)
    except ValueError as e:
        raise UserError(f"{path}: not JSON; give the output of `terraform show -json PLANFILE` ({e})") from e
    if not isinstance(data, dict) or "format_version" not in data or ("resource_changes" not in data and "planned_values" not in data):
        raise UserError(f"{path}: not a Terraform plan; run `terraform plan -out plan.tfplan && "
                        "terraform show -json plan.tfplan > plan.json`")
    sub = subscription or _provider_subscription(data) or _first_subscription(text) or DEFAULT_SUBSCRIPTION
    plan = _Plan(data, sub)
    changes = [rc for rc in data.get("resource_changes") or []
               if rc.get("mode") == "managed" and (rc.get("change") or {}).get("actions") != ["delete"]
               and isinstance((rc.get("change") or {}).get("after"), dict)]
    for rc in changes:
        plan.by_address[rc["address"]] = rc
        plan.instances.setdefault(_config_address(rc), []).append(rc)
    src = Source("terraform", f"Terraform plan {path}", World())
    # Ids first (references to ids are resolved from them), in dependency-free passes.
    for _ in range(3):
        for rc in changes:
            rid = _arm_id(plan, rc)
            if rid:
                plan.ids[rc["address"]] = rid
    lines = _address_lines(text)
    skipped: set[str] = set()
    for rc in changes:
        mapper = MAPPERS.get(rc["type"])
        rid = plan.ids.get(rc["address"])
        if mapper is None or rid is None:
            if mapper is None and rc["type"].startswith("azurerm_"):
                skipped.add(rc["type"])
            continue
        vals = _Values(plan, rc, rc["change"]["after"], rc["change"].get("after_unknown") or {})
        unresolved: dict[str, str] = {}
        doc = mapper(vals, unresolved)
        if doc is None:
            continue
        doc["id"] = rid
        doc["name"] = rid.rstrip("/").split("/")[-1]
        doc["type"] = canonical_type(doc.get("type") or "")
        if isinstance(doc.get("location"), str):
            doc["location"] = location.normalize(doc["location"])
        src.world.add(doc)
        for p, why in unresolved.items():
            src.mark(rid, p, why)
        src.origins[rid.lower()] = Origin(str(path), lines.get(rc["address"]), _config_address(rc), rc.get("index"))
    # azapi_update_resource patches a resource managed elsewhere (the way to set what azurerm does not expose,
    # e.g. rollbackFailedInstancesOnPolicyBreach): merged into the target's document.
    for rc in changes:
        if rc["type"] != "azapi_update_resource":
            continue
        vals = _Values(plan, rc, rc["change"]["after"], rc["change"].get("after_unknown") or {})
        target, body = vals.get("resource_id"), vals.get("body")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        doc = src.world.get(target) if isinstance(target, str) else None
        if doc is None or not isinstance(body, dict):
            src.notes.append(f"{rc['address']}: its target or body is not known before apply; not applied")
            continue
        src.world.add({**deep_merge(doc, body), "id": doc["id"], "name": doc["name"], "type": doc["type"]})
    if skipped:
        src.notes.append("not mapped (no check reads them): " + ", ".join(sorted(skipped)))
    return src


def _provider_subscription(data: dict[str, Any]) -> str | None:
    cfg = (data.get("configuration") or {}).get("provider_config") or {}
    for p in cfg.values():
        sub = ((p.get("expressions") or {}).get("subscription_id") or {}).get("constant_value")
        if isinstance(sub, str) and sub:
            return sub
    return None


def _first_subscription(text: str) -> str | None:
    m = _SUB.search(text)
    return m.group(1) if m else None


def _address_lines(text: str) -> dict[str, int]:
    """The line of the first `"address": "..."` of each address (for SARIF locations), in one pass."""
    out: dict[str, int] = {}
    line, pos = 1, 0
    for m in re.finditer(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")', text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        try:
            out.setdefault(json.loads(m.group(1)), line)
        except ValueError:
            continue
    return out


# ---- ids -----------------------------------------------------------------------------------------------
_ARM_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    # azurerm type: (ARM type, the attributes naming each segment after the resource group)
    "azurerm_resource_group": ("Microsoft.Resources/resourceGroups", ()),
    "azurerm_linux_virtual_machine": ("Microsoft.Compute/virtualMachines", ("name",)),
    "azurerm_windows_virtual_machine": ("Microsoft.Compute/virtualMachines", ("name",)),
    "azurerm_linux_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", ("name",)),
    "azurerm_windows_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", ("name",)),
    "azurerm_orchestrated_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", ("name",)),
    "azurerm_managed_disk": ("Microsoft.Compute/disks", ("name",)),
    "azurerm_image": ("Microsoft.Compute/images", ("name",)),
    "azurerm_shared_image_gallery": ("Microsoft.Compute/galleries", ("name",)),
    "azurerm_shared_image": ("Microsoft.Compute/galleries/images", ("gallery_name", "name")),
    "azurerm_shared_image_version": ("Microsoft.Compute/galleries/images/versions",
                                     ("gallery_name", "image_name", "name")),
    "azurerm_capacity_reservation_group": ("Microsoft.Compute/capacityReservationGroups", ("name",)),
    "azurerm_monitor_autoscale_setting": ("Microsoft.Insights/autoscalesettings", ("name",)),
    "azurerm_network_watcher_flow_log": ("Microsoft.Network/networkWatchers/flowLogs", ("network_watcher_name", "name")),
}
_CHILD_OF: dict[str, tuple[str, str]] = {
    # azurerm type: (parent id attribute, child segment)
    "azurerm_virtual_machine_extension": ("virtual_machine_id", "extensions"),
    "azurerm_virtual_machine_scale_set_extension": ("virtual_machine_scale_set_id", "extensions"),
    "azurerm_capacity_reservation": ("capacity_reservation_group_id", "capacityReservations"),
}


def _arm_id(plan: _Plan, rc: dict[str, Any]) -> str | None:
    t = rc["type"]
    v = _Values(plan, rc, rc["change"]["after"], rc["change"].get("after_unknown") or {})
    if t in _CHILD_OF:
        attr, seg = _CHILD_OF[t]
        parent, name = v.get(attr), v.get("name")
        return f"{parent}/{seg}/{name}" if isinstance(parent, str) and name else None
    if t == "azapi_resource":
        rtype = str(v.get("type") or "").split("@")[0]
        parent, name = v.get("parent_id"), v.get("name")
        if not rtype or not isinstance(parent, str) or not name:
            return None
        ns, *segs = rtype.split("/")
        if "/providers/" in parent.lower() and len(segs) > 1:
            return f"{parent}/{segs[-1]}/{name}"
        return f"{parent}/providers/{rtype}/{name}"
    if t not in _ARM_TYPES:
        return None
    arm, attrs = _ARM_TYPES[t]
    if t == "azurerm_resource_group":
        name = v.get("name")
        return f"/subscriptions/{plan.subscription}/resourceGroups/{name}" if name else None
    rg = v.get("resource_group_name")
    names = [v.get(a) for a in attrs]
    if not rg or not all(isinstance(n, str) and n for n in names):
        return None
    ns, *segs = arm.split("/")
    tail = "/".join(f"{s}/{n}" for s, n in zip(segs, names, strict=True))
    return f"/subscriptions/{plan.subscription}/resourceGroups/{rg}/providers/{ns}/{tail}"


# ---- mappers: azurerm attributes -> ARM paths ------------------------------------------------------------------
def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    if value is not None:
        set_path(doc, path, value)


def _settings(v: Any) -> Any:
    if isinstance(v, str) and v:
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _security(v: _Values, doc: dict[str, Any], base: str, u: dict[str, str], os_disk: _Values | None) -> None:
    enc = os_disk.get("security_encryption_type") if os_disk else None
    sb, vtpm = v.get("secure_boot_enabled", f"{base}.securityProfile", sink=u), v.get("vtpm_enabled", f"{base}.securityProfile", sink=u)
    if enc:
        _put(doc, f"{base}.securityProfile.securityType", "ConfidentialVM")
    elif sb or vtpm:  # azurerm sets TrustedLaunch when either is enabled (expandSecurityProfile)
        _put(doc, f"{base}.securityProfile.securityType", "TrustedLaunch")
        _put(doc, f"{base}.securityProfile.uefiSettings", {"secureBootEnabled": bool(sb), "vTpmEnabled": bool(vtpm)})


def _image(v: _Values, doc: dict[str, Any], path: str, u: dict[str, str]) -> None:
    sid = v.get("source_image_id", f"{path}.id", sink=u)
    if sid:
        _put(doc, f"{path}.id", sid)
    ref = v.block("source_image_reference")
    if ref:
        _put(doc, path, {k: ref.get(k) for k in ("publisher", "offer", "sku", "version")})


def _common(v: _Values, arm_type: str, u: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": arm_type, "properties": {}}
    _put(doc, "location", v.get("location", "location", sink=u))
    tags = v.get("tags", "tags", sink=u)
    if tags:
        doc["tags"] = tags
    return doc


def _vmss(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    t = v.rc["type"]
    flex = t == "azurerm_orchestrated_virtual_machine_scale_set"
    doc = _common(v, "Microsoft.Compute/virtualMachineScaleSets", u)
    vmp = "properties.virtualMachineProfile"
    _put(doc, "sku.name", v.get("sku_name" if flex else "sku", "sku.name", sink=u))
    _put(doc, "sku.capacity", v.get("instances", "sku.capacity", default=0, sink=u))
    zones = v.get("zones", "zones", sink=u)
    if zones:
        doc["zones"] = [str(z) for z in zones]
    _put(doc, "properties.orchestrationMode", "Flexible" if flex else "Uniform")
    _put(doc, "properties.platformFaultDomainCount", v.get("platform_fault_domain_count",
                                                            "properties.platformFaultDomainCount", sink=u))
    _put(doc, "properties.upgradePolicy.mode", v.get("upgrade_mode", "properties.upgradePolicy.mode", sink=u))
    rp = v.block("rolling_upgrade_policy")
    if rp:
        base = "properties.upgradePolicy.rollingUpgradePolicy"
        for tf, arm in (("max_batch_instance_percent", "maxBatchInstancePercent"),
                        ("max_unhealthy_instance_percent", "maxUnhealthyInstancePercent"),
                        ("max_unhealthy_upgraded_instance_percent", "maxUnhealthyUpgradedInstancePercent"),
                        ("pause_time_between_batches", "pauseTimeBetweenBatches"),
                        ("prioritize_unhealthy_instances_enabled", "prioritizeUnhealthyInstances"),
                        ("maximum_surge_instances_enabled", "maxSurge"),
                        ("cross_zone_upgrades_enabled", "enableCrossZoneUpgrade")):
            _put(doc, f"{base}.{arm}", rp.get(tf, f"{base}.{arm}", sink=u))
        # azurerm has no argument for rollbackFailedInstancesOnPolicyBreach: Azure's default (false) applies.
    ao = v.block("automatic_os_upgrade_policy")
    if ao:
        base = "properties.upgradePolicy.automaticOSUpgradePolicy"
        en = ao.get("automatic_os_upgrade_enabled")
        en = ao.get("enable_automatic_os_upgrade") if en is None else en  # azurerm v3 name
        _put(doc, f"{base}.enableAutomaticOSUpgrade", bool(en))
        _put(doc, f"{base}.disableAutomaticRollback", ao.get("disable_automatic_rollback"))
    ar = v.block("automatic_instance_repair")
    if ar:
        _put(doc, "properties.automaticRepairsPolicy.enabled", bool(ar.get("enabled")))
        _put(doc, "properties.automaticRepairsPolicy.gracePeriod",
             ar.get("grace_period") or DEFAULTS["automatic_instance_repair"]["grace_period"])
        _put(doc, "properties.automaticRepairsPolicy.repairAction", ar.get("action"))
    _put(doc, f"{vmp}.networkProfile.healthProbe.id",
         v.get("health_probe_id", f"{vmp}.networkProfile.healthProbe.id", sink=u))
    exts = []
    for e in v.blocks("extension"):
        exts.append({"name": e.get("name"), "properties": {
            "publisher": e.get("publisher"), "type": e.get("type"), "typeHandlerVersion": e.get("type_handler_version"),
            "settings": _settings(e.get("settings")) or {}}})
    if exts:
        _put(doc, f"{vmp}.extensionProfile.extensions", exts)
    _image(v, doc, f"{vmp}.storageProfile.imageReference", u)
    _security(v, doc, vmp, u, v.block("os_disk"))
    prio = v.get("priority")
    if prio and prio != "Regular":
        _put(doc, f"{vmp}.priority", prio)
        _put(doc, f"{vmp}.evictionPolicy", v.get("eviction_policy"))
    sr = v.block("spot_restore")
    if sr and sr.get("enabled"):
        _put(doc, "properties.spotRestorePolicy", {"enabled": True, "restoreTimeout": sr.get("timeout") or "PT1H"})
    pm = v.block("priority_mix")
    if pm:
        _put(doc, "properties.priorityMixPolicy", {"baseRegularPriorityCount": pm.get("base_regular_count") or 0,
                                                   "regularPriorityPercentageAboveBase":
                                                       pm.get("regular_percentage_above_base")})
    _put(doc, f"{vmp}.capacityReservation.capacityReservationGroup.id",
         v.get("capacity_reservation_group_id", f"{vmp}.capacityReservation", sink=u))
    return doc


def _vm(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/virtualMachines", u)
    _put(doc, "properties.hardwareProfile.vmSize", v.get("size", "properties.hardwareProfile.vmSize", sink=u))
    zone = v.get("zone", "zones", sink=u)
    if zone:
        doc["zones"] = [str(zone)]
    _image(v, doc, "properties.storageProfile.imageReference", u)
    od = v.block("os_disk")
    if od:
        base = "properties.storageProfile.osDisk"
        _put(doc, f"{base}.name", od.get("name"))
        _put(doc, f"{base}.createOption", "FromImage")
        _put(doc, f"{base}.diskSizeGB", od.get("disk_size_gb"))
        _put(doc, f"{base}.managedDisk.storageAccountType", od.get("storage_account_type"))
        des = od.get("disk_encryption_set_id")
        if des:
            _put(doc, f"{base}.managedDisk.diskEncryptionSet.id", des)
        # A confidential VM's OS disk encryption and its customer key (azurerm os_disk security_encryption_type,
        # secure_vm_disk_encryption_set_id -> managedDisk.securityProfile, expandOSDiskSecurityProfile).
        _put(doc, f"{base}.managedDisk.securityProfile.securityEncryptionType", od.get("security_encryption_type"))
        _put(doc, f"{base}.managedDisk.securityProfile.diskEncryptionSet.id", od.get("secure_vm_disk_encryption_set_id"))
    _security(v, doc, "properties", u, od)
    _put(doc, "properties.capacityReservation.capacityReservationGroup.id",
         v.get("capacity_reservation_group_id", "properties.capacityReservation", sink=u))
    _put(doc, "properties.virtualMachineScaleSet.id",
         v.get("virtual_machine_scale_set_id", "properties.virtualMachineScaleSet", sink=u))
    prio = v.get("priority")
    if prio and prio != "Regular":
        _put(doc, "properties.priority", prio)
    return doc


def _extension(arm_type: str) -> Callable[[_Values, dict[str, str]], dict[str, Any]]:
    def m(v: _Values, u: dict[str, str]) -> dict[str, Any]:
        doc = {"type": arm_type, "properties": {}}
        _put(doc, "properties.publisher", v.get("publisher", "properties.publisher", sink=u))
        _put(doc, "properties.type", v.get("type", "properties.type", sink=u))
        _put(doc, "properties.typeHandlerVersion", v.get("type_handler_version", "properties.typeHandlerVersion", sink=u))
        _put(doc, "properties.settings", _settings(v.get("settings", "properties.settings", sink=u)))
        return doc

    return m


def _disk(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/disks", u)
    _put(doc, "sku.name", v.get("storage_account_type", "sku.name", sink=u))
    _put(doc, "properties.diskSizeGB", v.get("disk_size_gb", "properties.diskSizeGB", sink=u))
    _put(doc, "properties.osType", v.get("os_type"))
    _put(doc, "properties.hyperVGeneration", v.get("hyper_v_generation"))
    _put(doc, "properties.creationData.createOption", v.get("create_option"))
    _put(doc, "properties.creationData.galleryImageReference.id",
         v.get("gallery_image_reference_id", "properties.creationData.galleryImageReference", sink=u))
    _put(doc, "properties.creationData.imageReference.id",
         v.get("image_reference_id", "properties.creationData.imageReference", sink=u))
    _put(doc, "properties.encryption.diskEncryptionSetId",
         v.get("disk_encryption_set_id", "properties.encryption", sink=u))
    zone = v.get("zone", "zones", sink=u)
    if zone:
        doc["zones"] = [str(zone)]
    return doc


def _image_resource(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/images", u)
    _put(doc, "properties.hyperVGeneration", v.get("hyper_v_generation") or "V1")
    od = v.block("os_disk")
    if od:
        _put(doc, "properties.storageProfile.osDisk", {"osType": od.get("os_type"), "osState": od.get("os_state"),
                                                       "diskSizeGB": od.get("size_gb")})
    return doc


def _gallery(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    return _common(v, "Microsoft.Compute/galleries", u)


def _definition(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/galleries/images", u)
    p = doc["properties"]
    p["osType"] = v.get("os_type")
    p["osState"] = "Specialized" if v.get("specialized") else "Generalized"
    p["hyperVGeneration"] = v.get("hyper_v_generation") or "V1"
    ident = v.block("identifier")
    if ident:
        p["identifier"] = {k: ident.get(k) for k in ("publisher", "offer", "sku")}
    sec = None
    if v.get("confidential_vm_enabled"):
        sec = "ConfidentialVM"
    elif v.get("trusted_launch_enabled"):
        sec = "TrustedLaunch"
    elif v.get("trusted_launch_supported") and v.get("confidential_vm_supported"):
        sec = "TrustedLaunchAndConfidentialVmSupported"
    elif v.get("trusted_launch_supported"):
        sec = "TrustedLaunchSupported"
    elif v.get("confidential_vm_supported"):
        sec = "ConfidentialVmSupported"
    if sec:
        p["features"] = [{"name": "SecurityType", "value": sec}]
    _put(doc, "properties.endOfLifeDate", v.get("end_of_life_date"))
    return doc


def _version(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/galleries/images/versions", u)
    pp = "properties.publishingProfile"
    d = DEFAULTS["azurerm_shared_image_version.target_region"]
    regions = []
    for i, t in enumerate(v.blocks("target_region")):
        regions.append({"name": t.get("name", f"{pp}.targetRegions[{i}].name", sink=u),
                        "regionalReplicaCount": t.get("regional_replica_count") or d["regional_replica_count"],
                        "storageAccountType": t.get("storage_account_type") or d["storage_account_type"],
                        **({"excludeFromLatest": True} if t.get("exclude_from_latest_enabled") else {})})
    _put(doc, f"{pp}.targetRegions", regions)
    _put(doc, f"{pp}.excludeFromLatest", bool(v.get("exclude_from_latest")))
    _put(doc, f"{pp}.endOfLifeDate", v.get("end_of_life_date"))
    src = v.get("managed_image_id") or v.get("os_disk_snapshot_id")
    _put(doc, "properties.storageProfile.source.id", src)
    return doc


def _crg(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/capacityReservationGroups", u)
    zones = v.get("zones", "zones", sink=u)
    if zones:
        doc["zones"] = [str(z) for z in zones]
    return doc


def _cr(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Compute/capacityReservationGroups/capacityReservations", u)
    sku = v.block("sku")
    if sku:
        doc["sku"] = {"name": sku.get("name"), "capacity": sku.get("capacity") or 0}
    zone = v.get("zone", "zones", sink=u)
    if zone:
        doc["zones"] = [str(zone)]
    return doc


def _autoscale(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    doc = _common(v, "Microsoft.Insights/autoscalesettings", u)
    p = doc["properties"]
    p["enabled"] = v.get("enabled", default=True) is not False
    _put(doc, "properties.targetResourceUri", v.get("target_resource_id", "properties.targetResourceUri", sink=u))
    profiles = []
    for pr in v.blocks("profile"):
        cap = pr.block("capacity")
        rules = []
        for r in pr.blocks("rule"):
            mt, sa = r.block("metric_trigger"), r.block("scale_action")
            rules.append({
                "metricTrigger": {k2: mt.get(k1) for k1, k2 in (
                    ("metric_name", "metricName"), ("metric_resource_id", "metricResourceUri"), ("operator", "operator"),
                    ("threshold", "threshold"), ("statistic", "statistic"), ("time_aggregation", "timeAggregation"),
                    ("time_grain", "timeGrain"), ("time_window", "timeWindow"))} if mt else {},
                "scaleAction": {k2: sa.get(k1) for k1, k2 in (("direction", "direction"), ("type", "type"),
                                                              ("value", "value"), ("cooldown", "cooldown"))} if sa else {},
            })
        profiles.append({"name": pr.get("name"), "rules": rules,
                         "capacity": {k: cap.get(k) for k in ("default", "minimum", "maximum")} if cap else {}})
    p["profiles"] = profiles
    return doc


def _flow_log(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    """azurerm_network_watcher_flow_log (provider v4): `target_resource_id` (a VNet, subnet or NIC; or an NSG),
    `network_security_group_id` (v3's name for an NSG target, deprecated in v4), `storage_account_id`, `enabled`,
    `version`, `retention_policy {enabled, days}`, `traffic_analytics {...}`."""
    doc = _common(v, "Microsoft.Network/networkWatchers/flowLogs", u)
    target = v.get("target_resource_id", "properties.targetResourceId", sink=u)
    if target is None:
        target = v.get("network_security_group_id", "properties.targetResourceId", sink=u)
    _put(doc, "properties.targetResourceId", target)
    _put(doc, "properties.storageId", v.get("storage_account_id", "properties.storageId", sink=u))
    _put(doc, "properties.enabled", v.get("enabled", "properties.enabled", sink=u))
    version = v.get("version", "properties.format.version", sink=u)
    if version is not None:
        doc["properties"]["format"] = {"type": "JSON", "version": version}
    rp = v.block("retention_policy")
    if rp:
        doc["properties"]["retentionPolicy"] = {"enabled": rp.get("enabled"), "days": rp.get("days")}
    ta = v.block("traffic_analytics")
    if ta:
        doc["properties"]["flowAnalyticsConfiguration"] = {"networkWatcherFlowAnalyticsConfiguration": {
            "enabled": ta.get("enabled"), "workspaceId": ta.get("workspace_id"),
            "workspaceRegion": ta.get("workspace_region"), "workspaceResourceId": ta.get("workspace_resource_id"),
            "trafficAnalyticsInterval": ta.get("interval_in_minutes")}}
    return doc


def _resource_group(v: _Values, u: dict[str, str]) -> dict[str, Any]:
    return _common(v, "Microsoft.Resources/resourceGroups", u)


def _azapi(v: _Values, u: dict[str, str]) -> dict[str, Any] | None:
    body = v.get("body", "properties", sink=u)
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    doc = dict(body) if isinstance(body, dict) else {}
    doc["type"] = str(v.get("type") or "").split("@")[0]
    _put(doc, "location", v.get("location", "location", sink=u))
    doc.setdefault("properties", {})
    return doc


MAPPERS: dict[str, Callable[[_Values, dict[str, str]], dict[str, Any] | None]] = {
    "azurerm_linux_virtual_machine_scale_set": _vmss,
    "azurerm_windows_virtual_machine_scale_set": _vmss,
    "azurerm_orchestrated_virtual_machine_scale_set": _vmss,
    "azurerm_linux_virtual_machine": _vm,
    "azurerm_windows_virtual_machine": _vm,
    "azurerm_virtual_machine_extension": _extension("Microsoft.Compute/virtualMachines/extensions"),
    "azurerm_virtual_machine_scale_set_extension": _extension("Microsoft.Compute/virtualMachineScaleSets/extensions"),
    "azurerm_managed_disk": _disk,
    "azurerm_image": _image_resource,
    "azurerm_shared_image_gallery": _gallery,
    "azurerm_shared_image": _definition,
    "azurerm_shared_image_version": _version,
    "azurerm_capacity_reservation_group": _crg,
    "azurerm_capacity_reservation": _cr,
    "azurerm_monitor_autoscale_setting": _autoscale,
    "azurerm_network_watcher_flow_log": _flow_log,
    "azurerm_resource_group": _resource_group,
    "azapi_resource": _azapi,
}
