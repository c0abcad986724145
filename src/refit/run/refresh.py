"""Tag-driven OS disk refresh (seed 003), done fast, safely and resumably.

The tag contract of seed 003, names configurable (`Tags`): a VM is in scope when tagged
`AutoRefresh=true` (compared case-insensitively, as the seed's `=~`); its `OsDiskName` tag names the
managed disk, in the VM's own resource group, that it should run; new disks are named `<vm>-<suffix>`.
refit adds one tag, `OsDiskPrevious`: the disk the VM ran before its last refit swap (rollback target;
also in the journal). The seed's scripts ignore it, so a fleet half-managed by them and half by refit
stays consistent: both treat `OsDiskName` as the desired state and the swap as its reconciler.

Commands: `plan_disks`/`run_disks`, `plan_tag`/`run_tag`, `plan_swap` + `start_swap`/`resume`,
`plan_rollback`, `status`, `plan_prune`/`run_prune`. Pre-checks are the rule catalog's: the VM document
as it would be after the swap is handed to `refit.platform.rules.validate_write`; no rule is re-encoded here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key, same_id
from refit.arm.paths import set_path
from refit.arm.world import World
from refit.platform.rules import facts, images, validate_write
from refit.run.campaign import (
    IN_SYNC,
    NOT_STARTED,
    PENDING,
    SKIPPED,
    TAGS_API,
    Campaign,
    Tags,
    disk_name,
    tag_of,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.waves import Member, Policy, plan_waves

DISK_API = "2025-01-02"
VERSION_API = "2026-03-03"
VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
# Managed disk names: 1-80 characters, alphanumerics, underscores, periods and hyphens; start with an
# alphanumeric, end with an alphanumeric or an underscore
# (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftcompute).
DISK_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")


@dataclass
class Selection:
    resource_groups: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # tag filters KEY=VALUE
    vms: list[str] = field(default_factory=list)  # ids or names

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Finding:
    """What the pre-checks say about one VM."""

    vm: str
    name: str
    status: str  # swap | in-sync | no-tag | invalid-name | missing-disk | incompatible | not-in-scope | ...
    reason: str = ""
    current: str | None = None
    target: str | None = None
    zone: str = ""
    rules: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"vm": self.vm, "name": self.name, "status": self.status, "reason": self.reason,
                "current_disk": disk_name(self.current), "target_disk": disk_name(self.target), "zone": self.zone,
                "rules": self.rules}


# ---- the fleet -------------------------------------------------------------------------------------------------
def load(session, client) -> World:
    """The fleet as ARM documents: every resource and resource group from Resource Graph (paged to the end,
    `Session.graph_query`), image versions with their replication status from a GET through refit's paced
    client (so that a campaign's own reads never push it into throttling)."""
    from refit.azure.fleet import _canonical_type
    from refit.run.sched import drive

    docs = session.graph_query("Resources")
    docs += session.graph_query("ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups'")
    out, versions = [], []
    for d in docs:
        d = {k: val for k, val in d.items() if val is not None}
        if d.get("type") == "microsoft.resources/subscriptions/resourcegroups":
            d["type"] = "Microsoft.Resources/resourceGroups"
        elif d.get("type") == "microsoft.compute/galleries/images/versions":
            versions.append(d["id"])
        out.append(_canonical_type(d))
    world = World(out)
    for vid in versions:
        body = drive(client, _get(client, vid, VERSION_API, {"$expand": "ReplicationStatus"}))
        if isinstance(body, dict):
            world.add(_canonical_type(body))
    return world


# ---- selection ------------------------------------------------------------------------------------------------
def _tag_filter(text: str) -> tuple[str, str]:
    k, eq, val = text.partition("=")
    if not eq or not k.strip():
        raise UserError(f"a tag filter is KEY=VALUE, e.g. --where env=prod; not '{text}'")
    return k.strip(), val.strip()


def select(world: World, tags: Tags, sel: Selection) -> tuple[list[v.Vm], list[Finding]]:
    """The in-scope VMs of the selection, and a finding for every explicitly named VM that is not one."""
    filters = [_tag_filter(w) for w in sel.where]
    rgs = {rg.lower() for rg in sel.resource_groups}
    scoped: list[v.Vm] = []
    for vm in world.vms():
        if (vm.tag(tags.scope) or "").lower() != tags.scope_value.lower():
            continue
        if rgs and (vm.rid.resource_group or "").lower() not in rgs:
            continue
        if any((vm.tag(k) or "").lower() != val.lower() for k, val in filters):
            continue
        scoped.append(vm)
    notes: list[Finding] = []
    if sel.vms:
        wanted = []
        for name in sel.vms:
            hits = [vm for vm in world.vms() if same_id(vm.id, name) or vm.name.lower() == name.lower()]
            if not hits:
                notes.append(Finding(name, name.rsplit("/", 1)[-1], "not-found", "no such VM in the subscription"))
                continue
            for vm in hits:
                if not any(s.key == vm.key for s in scoped):
                    notes.append(Finding(vm.id, vm.name, "not-in-scope",
                                         f"not tagged {tags.scope}={tags.scope_value}"
                                         + (" (or outside the --resource-group / --where filters)" if rgs or filters
                                            else "")))
                elif not any(w.key == vm.key for w in wanted):
                    wanted.append(vm)
        scoped = wanted
    return scoped, notes


def health_extension_vms(world: World) -> set[str]:
    """Keys of the VMs that carry the Application Health extension (their health gate includes HealthState)."""
    out = set()
    for ext in world.of_type(VM_EXTENSION):
        if (ext.get("properties") or {}).get("type") in facts.HEALTH_EXTENSION_TYPES:
            out.add(id_key(ResourceId.parse(ext["id"]).parent))  # type: ignore[arg-type]
    return out


def disk_id_for(vm: v.Vm, name: str) -> str:
    r = vm.rid
    return str(ResourceId.build(r.subscription, r.resource_group, v.DISK, name))


def critical_without_reservation(vms: list[v.Vm], tags: Tags) -> list[v.Vm]:
    key, _, val = tags.critical.partition("=")
    if not key:
        return []
    return [vm for vm in vms if (vm.tag(key) or "").lower() == val.lower() and not vm.capacity_reservation_group_id]


# ---- the catalog as pre-check ---------------------------------------------------------------------------------
def _deallocated(doc: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    d.setdefault("properties", {}).setdefault("extended", {})["instanceView"] = {
        "powerState": {"code": "PowerState/deallocated", "level": "Info", "displayStatus": "VM deallocated"}}
    return d


def swap_violations(world: World, vm: dict[str, Any], disk_id: str) -> list[tuple[str, ArmError]]:
    """What the rule catalog says about swapping this VM's OS disk to `disk_id`, with the VM deallocated as
    refit does it: the VM document after the swap goes to validate_write (rules that already fire without
    the swap are not the swap's)."""
    old = _deallocated(vm)
    new = copy.deepcopy(old)
    set_path(new, "properties.storageProfile.osDisk.managedDisk.id", disk_id)
    set_path(new, "properties.storageProfile.osDisk.name", disk_name(disk_id))
    base = {(x.rule.id, x.error.code, x.error.message) for x in validate_write(world, old, copy.deepcopy(old))}
    return [(x.rule.id, x.error) for x in validate_write(world, old, new)
            if (x.rule.id, x.error.code, x.error.message) not in base]


def check_swap(world: World, vm: v.Vm, tags: Tags) -> Finding:
    f = Finding(vm.id, vm.name, "swap", current=vm.os_disk_id, zone=vm.zone or "")
    want = vm.tag(tags.disk)
    if want is None or not want.strip():
        f.status, f.reason = "no-tag", f"{tags.disk} tag is not set or empty: no change"
        return f
    want = want.strip()
    if (vm.os_disk_name or "").lower() == want.lower() or disk_name(vm.os_disk_id).lower() == want.lower():
        f.status, f.reason = IN_SYNC, f"already runs {want}"
        return f
    if not DISK_NAME.match(want):
        f.status, f.reason = "invalid-name", (f"{tags.disk}='{want}' is not a managed disk name (1-80 letters, digits, "
                                              "'_', '.', '-'; starting with a letter or digit)")
        return f
    did = disk_id_for(vm, want)
    disk = world.get(did)
    if disk is None:
        f.status, f.reason = "missing-disk", (f"{tags.disk}='{want}' names no disk in resource group "
                                              f"{vm.rid.resource_group}")
        return f
    f.target = disk["id"]
    bad = swap_violations(world, vm.doc, disk["id"])
    if bad:
        f.status = "incompatible"
        f.rules = [r for r, _ in bad]
        f.reason = "; ".join(f"{r}: ({e.code}) {e.message}" for r, e in bad)
    return f


# ---- swap: planning and starting ---------------------------------------------------------------------------------
@dataclass
class SwapPlan:
    findings: list[Finding]
    waves: list[Any]  # refit.run.waves.Wave
    warnings: list[str]

    @property
    def to_swap(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "swap"]

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings],
                "waves": [{"n": w.n, "canary": w.canary, "zone": w.zone, "vms": [m.name for m in w.members]}
                          for w in self.waves],
                "warnings": self.warnings}


def plan_swap(world: World, tags: Tags, sel: Selection, policy: Policy) -> SwapPlan:
    vms, notes = select(world, tags, sel)
    findings = notes + [check_swap(world, vm, tags) for vm in vms]
    by_key = {vm.key: vm for vm in vms}
    members = [Member(id_key(f.vm), f.name, f.zone) for f in findings if f.status == "swap"]
    warnings = [f"{vm.name} is tagged {tags.critical} and has no capacity reservation: a deallocated VM may not get "
                f"its hardware back; protect it first with `refit reserve --vm {vm.name}`"
                for vm in critical_without_reservation([by_key[m.key] for m in members], tags)]
    return SwapPlan(findings, plan_waves(members, policy), warnings)


def start_swap(journal: Journal, session, plan: SwapPlan, world: World, tags: Tags, policy: Policy, sel: Selection,
               clock_now: float) -> Run:
    health = health_extension_vms(world)
    rows: list[VmRow] = []
    for w in plan.waves:
        for m in w.members:
            f = next(x for x in plan.findings if id_key(x.vm) == m.key)
            vm = v.Vm(world.get(f.vm))  # type: ignore[arg-type]
            rows.append(VmRow("", f.vm, f.name, f.zone, w.n, f.current, f.target, PENDING, "", 0.0,
                              region=vm.location, health=vm.key in health))
    for f in plan.findings:
        if f.status != "swap":
            rows.append(VmRow("", f.vm, f.name, f.zone, -1, f.current, f.target,
                              IN_SYNC if f.status == IN_SYNC else SKIPPED, f"{f.status}: {f.reason}", 0.0))
    params = {"policy": policy.to_json(), "tags": tags.to_json(), "selection": sel.to_json(), "warnings": plan.warnings}
    waves = [(w.n, w.zone or "", len(w.members)) for w in plan.waves]
    return journal.new_run("swap", session.subscription, session.endpoint, params, clock_now, rows, waves)


def interrupted_swap(journal: Journal, session) -> Run | None:
    runs = journal.interrupted(session.subscription, ("swap", "rollback"))
    return runs[-1] if runs else None


def execute(client, journal: Journal, run: Run, on_event: Callable[..., None] | None = None, workers: int = 16) -> Run:
    """Run or resume a swap/rollback run (holding its lock)."""
    if not journal.acquire(run.id):
        raise UserError(f"run {run.id} is being executed by another refit process; wait for it or stop it first")
    try:
        tags = Tags(**run.params.get("tags", {}))
        policy = Policy(**run.params.get("policy", {}))
        return Campaign(client, journal, run, tags, policy, on_event, workers).execute()
    finally:
        journal.release(run.id)


# ---- rollback ------------------------------------------------------------------------------------------------------
def plan_rollback(world: World, journal: Journal, tags: Tags, run_id: str | None, names: list[str],
                  sel: Selection) -> tuple[list[Finding], list[VmRow]]:
    """VMs to roll back (to the previous disk the journal, else the VM's previous-disk tag, recorded)."""
    findings: list[Finding] = []
    rows: list[VmRow] = []
    targets: list[tuple[v.Vm, str | None]] = []
    health = health_extension_vms(world)
    if run_id:
        r = journal.run(run_id)
        if r is None or r.kind != "swap":
            raise UserError(f"no swap run '{run_id}' in the journal: `refit refresh status` lists the runs")
        for row in journal.vms(run_id):
            doc = world.get(row.vm)
            if row.wave < 0 or doc is None or not row.previous:
                continue
            targets.append((v.Vm(doc), row.previous))
    else:
        if not names and not (sel.resource_groups or sel.where):
            raise UserError("name the VMs to roll back, or --run ID, or a --resource-group / --where selection")
        vms, notes = select(world, tags, Selection(sel.resource_groups, sel.where, names))
        findings += notes
        for vm in vms:
            row = journal.latest_vm(vm.id)
            prev = row.previous if row is not None and same_id(row.target, vm.os_disk_id) else None
            if prev is None and vm.tag(tags.previous):
                prev = disk_id_for(vm, vm.tag(tags.previous).strip())  # type: ignore[union-attr]
            targets.append((vm, prev))
    for vm, prev in targets:
        f = Finding(vm.id, vm.name, "rollback", current=vm.os_disk_id, target=prev, zone=vm.zone or "")
        if not prev:
            f.status, f.reason = "no-previous", "no previous OS disk recorded (journal or tag): nothing to go back to"
        elif same_id(prev, vm.os_disk_id):
            f.status, f.reason = IN_SYNC, f"already runs {disk_name(prev)}"
        elif world.get(prev) is None:
            f.status, f.reason = "missing-disk", f"the recorded previous disk {disk_name(prev)} no longer exists"
        else:
            bad = swap_violations(world, vm.doc, prev)
            if bad:
                f.status, f.rules = "incompatible", [r for r, _ in bad]
                f.reason = "; ".join(f"{r}: ({e.code}) {e.message}" for r, e in bad)
        findings.append(f)
        if f.status == "rollback":
            # A rollback row: `previous` is where the VM goes back to, `target` the disk it leaves.
            rows.append(VmRow("", vm.id, vm.name, vm.zone or "", 0, prev, vm.os_disk_id, PENDING, "rollback requested",
                              0.0, region=vm.location, health=vm.key in health))
    return findings, rows


def start_rollback(journal: Journal, session, rows: list[VmRow], findings: list[Finding], tags: Tags, policy: Policy,
                   clock_now: float, source_run: str | None) -> Run:
    extra = [VmRow("", f.vm, f.name, f.zone, -1, f.current, f.target, IN_SYNC if f.status == IN_SYNC else SKIPPED,
                   f"{f.status}: {f.reason}", 0.0) for f in findings if f.status != "rollback"]
    params = {"policy": policy.to_json(), "tags": tags.to_json(), "source_run": source_run}
    return journal.new_run("rollback", session.subscription, session.endpoint, params, clock_now, rows + extra,
                           [(0, "", len(rows))])


# ---- disks -----------------------------------------------------------------------------------------------------------
@dataclass
class DiskItem:
    vm: str
    name: str
    disk_id: str
    status: str  # create | exists | refused
    reason: str = ""
    body: dict[str, Any] | None = None
    version: str | None = None
    replicate: str | None = None  # region the version must first be replicated to

    def to_json(self) -> dict[str, Any]:
        return {"vm": self.vm, "name": self.name, "disk": ResourceId.parse(self.disk_id).name, "status": self.status,
                "reason": self.reason, "image_version": self.version, "replicate_to": self.replicate}


def _resolve_version(world: World, image: str, region: str) -> tuple[v.ImageVersion, bool]:
    """(the version a disk in `region` is built from, whether it is replicated there yet). A definition
    means its latest version (G13): the latest available in the region, else the latest anywhere."""
    kind = images.ref_kind(image)
    if kind not in ("version", "definition"):
        raise UserError(f"--image must be a gallery image definition or version id, not '{image}'")
    rid = ResourceId.parse(image)
    if kind == "version" and rid.name.lower() != "latest":
        doc = world.get(image)
        if doc is None:
            raise UserError(f"gallery image version {image} does not exist")
        ver = v.ImageVersion(doc)
        return ver, images.available_in(ver, region)
    definition = rid if kind == "definition" else rid.parent
    if world.get(definition) is None:
        raise UserError(f"gallery image definition {definition} does not exist")
    latest = images.latest_version(world, str(definition), region)
    if latest is not None:
        return latest, True
    cands = [x for x in world.image_versions(definition) if x.version >= (0, 0, 0) and not x.exclude_from_latest]  # type: ignore[arg-type]
    if not cands:
        raise UserError(f"gallery image definition {definition} has no version to build disks from")
    return max(cands, key=lambda x: x.version), False


def plan_disks(world: World, tags: Tags, sel: Selection, image: str, suffix: str,
               replicate: bool = True) -> tuple[list[DiskItem], list[Finding]]:
    vms, notes = select(world, tags, sel)
    items: list[DiskItem] = []
    for vm in vms:
        name = f"{vm.name}-{suffix}"
        did = disk_id_for(vm, name)
        item = DiskItem(vm.id, vm.name, did, "create")
        if not DISK_NAME.match(name):
            item.status, item.reason = "refused", f"'{name}' is not a valid managed disk name (check --suffix)"
            items.append(item)
            continue
        existing = world.get(did)
        if existing is not None:
            bad = swap_violations(world, vm.doc, existing["id"])
            item.status = "refused" if bad else "exists"
            item.reason = ("exists but cannot be swapped in: " + "; ".join(f"{r}: ({e.code}) {e.message}" for r, e in bad)
                           if bad else "already exists")
            items.append(item)
            continue
        try:
            ver, ready = _resolve_version(world, image, vm.location)
        except ArmError as e:
            item.status, item.reason = "refused", f"({e.code}) {e.message}"
            items.append(item)
            continue
        item.version = ver.id
        if not ready:
            targeted = any((t.get("name") or "").replace(" ", "").lower() == vm.location for t in ver.target_regions)
            if not replicate and not targeted:
                item.status, item.reason = "refused", (f"image version {ver.name} is not replicated to {vm.location}; "
                                                       "replicate it (drop --no-replicate) or pick another version")
                items.append(item)
                continue
            item.replicate = vm.location
        definition = v.ImageDefinition(world.get(ver.rid.parent) or {})  # type: ignore[arg-type]
        cur = world.get(vm.os_disk_id or "")
        sku = ((cur or {}).get("sku") or {}).get("name") or "Premium_LRS"
        size = max(int(((cur or {}).get("properties") or {}).get("diskSizeGB") or 0),
                   int(ver.get("properties.storageProfile.osDiskImage.sizeInGB") or 0))
        body: dict[str, Any] = {"location": vm.location, "sku": {"name": sku},
                                "tags": {"refit-vm": vm.name, "refit-image": ver.id},
                                "properties": {"creationData": {"createOption": "FromImage",
                                                                "galleryImageReference": {"id": ver.id}}}}
        if size:
            body["properties"]["diskSizeGB"] = size
        if vm.zone:
            body["zones"] = [vm.zone]
        st = facts.disk_security_type_for(vm.security_type)
        if st:
            body["properties"]["securityProfile"] = {"securityType": st}
        # The disk as it would be (what the server derives from the image included), asked of the catalog
        # twice: may it be created, and may it then be swapped onto the VM?
        doc = copy.deepcopy(body) | {"id": did, "name": name, "type": v.DISK}
        doc["properties"] = {**doc["properties"], "osType": definition.os_type or "Linux",
                             "hyperVGeneration": definition.hyper_v_generation, "diskState": "Unattached"}
        after = world
        if item.replicate:  # asked of the world as it will be once the version is replicated there
            rep = copy.deepcopy(ver.doc)
            pp = rep.setdefault("properties", {})
            targets = pp.setdefault("publishingProfile", {}).setdefault("targetRegions", [])
            if not any((t.get("name") or "").replace(" ", "").lower() == vm.location for t in targets):
                targets.append({"name": vm.location, "regionalReplicaCount": 1})
            summary = [x for x in (pp.get("replicationStatus") or {}).get("summary") or []
                       if (x.get("region") or "").replace(" ", "").lower() != vm.location]
            pp["replicationStatus"] = {"aggregatedState": "Completed",
                                       "summary": [*summary, {"region": vm.location, "state": "Completed", "progress": 100}]}
            after = World([*(d for d in world if id_key(d["id"]) != ver.key), rep])
        bad = [(x.rule.id, x.error) for x in validate_write(after, None, doc)]
        if not bad:
            bad = swap_violations(World([*after, doc]), vm.doc, did)
        if bad:
            item.status = "refused"
            item.reason = "; ".join(f"{r}: ({e.code}) {e.message}" for r, e in bad)
        item.body = body
        items.append(item)
    return items, notes


# ---- tag -------------------------------------------------------------------------------------------------------------
def plan_tag(world: World, tags: Tags, sel: Selection, suffix: str, force: bool = False) -> tuple[list[Finding], list[Finding]]:
    vms, notes = select(world, tags, sel)
    out = []
    for vm in vms:
        want = f"{vm.name}-{suffix}"
        f = Finding(vm.id, vm.name, "tag", current=vm.tag(tags.disk), target=want, zone=vm.zone or "")
        if (vm.tag(tags.disk) or "") == want:
            f.status, f.reason = IN_SYNC, f"{tags.disk} is already {want}"
        elif not DISK_NAME.match(want):
            f.status, f.reason = "invalid-name", f"'{want}' is not a valid managed disk name (check --suffix)"
        elif world.get(disk_id_for(vm, want)) is None and not force:
            f.status, f.reason = "missing-disk", (f"no disk {want} in {vm.rid.resource_group}: create it first "
                                                  "(`refit refresh disks`) or pass --force")
        out.append(f)
    return out, notes


def tag_body(tags: Tags, value: str) -> dict[str, Any]:
    return {"operation": "Merge", "properties": {"tags": {tags.disk: value}}}


# ---- prune -------------------------------------------------------------------------------------------------------------
def plan_prune(world: World, journal: Journal, tags: Tags, sel: Selection, keep: int) -> list[dict[str, Any]]:
    """Per VM, its refresh disks (refit-vm tag, or named `<vm>-<suffix>` with the VM the longest matching name
    in its resource group), newest first; those beyond the newest `keep` that are unattached and neither the
    current, the desired (OsDiskName) nor the recorded previous disk are deleted."""
    if keep < 1:
        raise UserError("--keep must be >= 1 (the current disk is always kept)")
    vms, _ = select(world, tags, sel)
    by_rg: dict[str, list[v.Vm]] = {}
    for vm in world.vms():
        by_rg.setdefault((vm.rid.resource_group or "").lower(), []).append(vm)
    out = []
    for vm in vms:
        rg = (vm.rid.resource_group or "").lower()
        protected = {id_key(x) for x in (vm.os_disk_id, *vm.data_disk_ids) if x}
        for name in (vm.tag(tags.disk), vm.tag(tags.previous)):
            if name:
                protected.add(id_key(disk_id_for(vm, name.strip())))
        row = journal.latest_vm(vm.id)
        if row is not None:
            protected |= {id_key(x) for x in (row.previous, row.target) if x}
        mine = []
        for d in world.disks():
            if (d.rid.resource_group or "").lower() != rg:
                continue
            owner = d.tag("refit-vm")
            if owner is None:
                rivals = [o for o in by_rg.get(rg, []) if d.name.lower().startswith(o.name.lower() + "-")]
                owner = max(rivals, key=lambda o: len(o.name)).name if rivals else None
            if owner is not None and owner.lower() == vm.name.lower():
                mine.append(d)
        mine.sort(key=lambda d: d.time_created or "", reverse=True)
        for i, d in enumerate(mine):
            keep_it = i < keep
            why = "among the newest kept" if keep_it else ""
            if d.key in protected:
                keep_it, why = True, "current, desired or recorded previous disk"
            elif d.managed_by:
                keep_it, why = True, f"attached to {ResourceId.parse(d.managed_by).name}"
            out.append({"vm": vm.name, "disk": d.id, "name": d.name, "created": d.time_created,
                        "action": "keep" if keep_it else "delete", "why": why or "beyond the newest kept"})
    return out


# ---- status ------------------------------------------------------------------------------------------------------------
def status(world: World, journal: Journal, session, run_id: str | None, tags: Tags | None = None) -> dict[str, Any]:
    """A run (the latest of this subscription unless named), per wave and per VM, with each VM's live state:
    the OS disk it runs, the disk its tag asks for, in sync or not, its power state."""
    run = journal.run(run_id) if run_id else None
    if run_id and run is None:
        raise UserError(f"no run '{run_id}' in the journal ({journal.path})")
    if run is None:
        runs = journal.runs(session.subscription)
        run = runs[-1] if runs else None
    tags = tags or (Tags(**run.params.get("tags", {})) if run else Tags())
    rows = journal.vms(run.id) if run else []
    if run is None or run.kind == "prune":
        vms, _ = select(world, tags, Selection())
        keys = [vm.key for vm in vms]
    else:
        keys = [r.vm for r in rows]
    by_row = {r.vm: r for r in rows}
    out_vms = []
    for k in keys:
        doc = world.get(k)
        r = by_row.get(k)
        entry: dict[str, Any] = {"vm": (doc or {}).get("name") or (r.name if r else k.rsplit("/", 1)[-1]), "id": k}
        if r is not None:
            entry |= {"wave": r.wave, "state": r.state, "detail": r.detail, "previous": disk_name(r.previous),
                      "target": disk_name(r.target)}
        if doc is None:
            entry |= {"exists": False}
        else:
            vm = v.Vm(doc)
            desired = (vm.tag(tags.disk) or "").strip()
            entry |= {"zone": vm.zone or "", "os_disk": vm.os_disk_name or disk_name(vm.os_disk_id),
                      "desired": desired, "in_sync": bool(desired) and desired.lower() == disk_name(vm.os_disk_id).lower(),
                      "power": vm.power_state, "recorded_previous": vm.tag(tags.previous) or ""}
        out_vms.append(entry)
    live = [e for e in out_vms if "in_sync" in e]
    summary = {"vms": len(out_vms), "in_sync": sum(1 for e in live if e["in_sync"]),
               "running": sum(1 for e in live if e["power"] == "running"),
               "deallocated": sum(1 for e in live if e["power"] == "deallocated")}
    if run is not None:
        states: dict[str, int] = {}
        for r in rows:
            states[r.state] = states.get(r.state, 0) + 1
        summary["states"] = states
    return {"run": None if run is None else {"id": run.id, "kind": run.kind, "status": run.status,
                                              "message": run.message, "params": run.params,
                                              "started": run.clock_started, "finished": run.clock_finished},
            "waves": journal.waves(run.id) if run else [], "vms": out_vms, "summary": summary}


TAGS_PATH = "/providers/Microsoft.Resources/tags/default"
__all__ = ["NOT_STARTED", "Tags", "tag_of"]  # re-exported from refit.run.campaign


# ---- executing disks / tag / prune (parallel, paced, journaled) ------------------------------------------------------
def _simple_run(client, tasks: dict[str, Callable[[], Any]], workers: int = 16) -> dict:
    from refit.run.sched import Scheduler

    sched = Scheduler(client, workers=workers)
    try:
        return sched.run(tasks)
    finally:
        sched.close()


def run_disks(client, journal: Journal, session, items: list[DiskItem], params: dict[str, Any], clock_now: float,
              on_event: Callable[..., None] | None = None) -> Run:
    """Replicate versions where needed, then create every planned disk (in parallel)."""
    from refit.azure.pacing import operation

    emit = on_event or (lambda *a, **k: None)
    rows = [VmRow("", i.vm, i.name, "", 0 if i.status == "create" else -1, None, i.disk_id,
                  PENDING if i.status == "create" else SKIPPED, i.reason, 0.0) for i in items]
    run = journal.new_run("disks", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])
    todo = [i for i in items if i.status == "create"]
    regions: dict[str, set[str]] = {}
    for i in todo:
        if i.replicate and i.version:
            regions.setdefault(i.version, set()).add(i.replicate)

    def replicate(version: str, wanted: set[str]):
        r = yield from _get(client, version, VERSION_API)
        targets = list(((r or {}).get("properties") or {}).get("publishingProfile", {}).get("targetRegions") or [])
        have = {(t.get("name") or "").replace(" ", "").lower() for t in targets}
        add = [{"name": reg, "regionalReplicaCount": 1} for reg in sorted(wanted) if reg not in have]
        journal.step(run.id, version, "replicate", "started", ", ".join(sorted(wanted)), client.clock.now())
        emit("replicate", version=ResourceId.parse(version).name, regions=sorted(wanted))
        if add:
            body = {"properties": {"publishingProfile": {"targetRegions": targets + add}}}
            yield from operation(client, "PATCH", version, VERSION_API, body)
        else:  # targeted already: wait for the replication in flight (G14/G16)
            from refit.azure.pacing import POLL_SECONDS, Wait

            while True:
                doc = yield from _get(client, version, VERSION_API, {"$expand": "ReplicationStatus"})
                states = {(s.get("region") or "").replace(" ", "").lower(): s.get("state")
                          for s in (((doc or {}).get("properties") or {}).get("replicationStatus") or {}).get("summary") or []}
                if all(states.get(reg) == "Completed" for reg in wanted):
                    break
                yield Wait(POLL_SECONDS * 12)
        journal.step(run.id, version, "replicate", "done", "", client.clock.now())

    res = _simple_run(client, {ver: (lambda ver=ver, w=w: replicate(ver, w)) for ver, w in regions.items()})
    failed_versions = {k: r.error for k, r in res.items() if not r.ok}

    def create(i: DiskItem):
        if i.version in failed_versions:
            e = failed_versions[i.version]
            journal.set_vm(run.id, i.vm, state="failed", detail=f"replication failed: {e}")
            return
        journal.step(run.id, i.vm, "create-disk", "started", i.disk_id, client.clock.now())
        try:
            yield from operation(client, "PUT", i.disk_id, DISK_API, i.body)
        except ArmError as e:
            journal.step(run.id, i.vm, "create-disk", "failed", f"({e.code}) {e.message}", client.clock.now())
            journal.set_vm(run.id, i.vm, state="failed", detail=f"({e.code}) {e.message}")
            emit("disk", vm=i.name, disk=ResourceId.parse(i.disk_id).name, state="failed", detail=e.message)
            return
        journal.step(run.id, i.vm, "create-disk", "done", "", client.clock.now())
        journal.set_vm(run.id, i.vm, state="created", detail="")
        emit("disk", vm=i.name, disk=ResourceId.parse(i.disk_id).name, state="created", detail="")

    res = _simple_run(client, {i.vm: (lambda i=i: create(i)) for i in todo})
    for k, r in res.items():
        if not r.ok:
            journal.set_vm(run.id, k, state="failed", detail=str(r.error))
    bad = [r for r in journal.vms(run.id) if r.state == "failed"]
    created = sum(1 for r in journal.vms(run.id) if r.state == "created")
    journal.finish_run(run.id, "failed" if bad else "completed",
                       f"{created} disks created" + (f", {len(bad)} failed" if bad else ""), client.clock.now())
    return journal.run(run.id)  # type: ignore[return-value]


def _get(client, rid: str, api: str, params: dict[str, str] | None = None):
    from refit.azure.pacing import request

    r = yield from request(client, "GET", rid, api, params=params)
    if r.status >= 400:
        raise r.error()
    return r.body


def run_tag(client, journal: Journal, session, tags: Tags, findings: list[Finding], params: dict[str, Any],
            clock_now: float, on_event: Callable[..., None] | None = None) -> Run:
    from refit.azure.pacing import request

    emit = on_event or (lambda *a, **k: None)
    rows = [VmRow("", f.vm, f.name, f.zone, 0 if f.status == "tag" else -1, None, f.target,
                  PENDING if f.status == "tag" else (IN_SYNC if f.status == IN_SYNC else SKIPPED), f.reason, 0.0)
            for f in findings]
    run = journal.new_run("tag", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])

    def tag(f: Finding):
        journal.step(run.id, f.vm, "tag", "started", f"{tags.disk}={f.target}", client.clock.now())
        r = yield from request(client, "PATCH", f"{f.vm}{TAGS_PATH}", TAGS_API, tag_body(tags, f.target or ""),
                               resource=f.vm)
        if r.status >= 400:
            e = r.error()
            journal.step(run.id, f.vm, "tag", "failed", f"({e.code}) {e.message}", client.clock.now())
            journal.set_vm(run.id, f.vm, state="failed", detail=f"({e.code}) {e.message}")
            return
        journal.step(run.id, f.vm, "tag", "done", "", client.clock.now())
        journal.set_vm(run.id, f.vm, state="tagged", detail=f"{tags.disk}={f.target}")
        emit("tag", vm=f.name, value=f.target)

    _simple_run(client, {f.vm: (lambda f=f: tag(f)) for f in findings if f.status == "tag"})
    bad = [r for r in journal.vms(run.id) if r.state == "failed"]
    n = sum(1 for r in journal.vms(run.id) if r.state == "tagged")
    journal.finish_run(run.id, "failed" if bad else "completed", f"{n} VMs tagged" + (f", {len(bad)} failed" if bad else ""),
                       client.clock.now())
    return journal.run(run.id)  # type: ignore[return-value]


def run_prune(client, journal: Journal, session, items: list[dict[str, Any]], params: dict[str, Any], clock_now: float,
              on_event: Callable[..., None] | None = None) -> Run:
    """Delete the disks `plan_prune` marked, each re-read first: a disk attached since the plan is kept."""
    from refit.azure.pacing import operation, request

    emit = on_event or (lambda *a, **k: None)
    doomed = [i for i in items if i["action"] == "delete"]
    rows = [VmRow("", i["disk"], i["name"], "", 0, None, None, PENDING, i["vm"], 0.0) for i in doomed]
    run = journal.new_run("prune", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])

    def delete(i: dict[str, Any]):
        r = yield from request(client, "GET", i["disk"], DISK_API)
        if r.status == 404:
            journal.set_vm(run.id, i["disk"], state="deleted", detail="already gone")
            return
        if r.status >= 400:
            raise r.error()
        if (r.body or {}).get("managedBy"):
            journal.set_vm(run.id, i["disk"], state=SKIPPED, detail="attached since the plan: kept")
            return
        journal.step(run.id, i["disk"], "delete-disk", "started", "", client.clock.now())
        yield from operation(client, "DELETE", i["disk"], DISK_API)
        journal.step(run.id, i["disk"], "delete-disk", "done", "", client.clock.now())
        journal.set_vm(run.id, i["disk"], state="deleted", detail="")
        emit("prune", disk=i["name"], vm=i["vm"])

    res = _simple_run(client, {i["disk"]: (lambda i=i: delete(i)) for i in doomed})
    for k, r in res.items():
        if not r.ok:
            journal.set_vm(run.id, k, state="failed", detail=str(r.error))
    bad = [r for r in journal.vms(run.id) if r.state == "failed"]
    n = sum(1 for r in journal.vms(run.id) if r.state == "deleted")
    journal.finish_run(run.id, "failed" if bad else "completed", f"{n} disks deleted" + (f", {len(bad)} failed" if bad else ""),
                       client.clock.now())
    return journal.run(run.id)  # type: ignore[return-value]
