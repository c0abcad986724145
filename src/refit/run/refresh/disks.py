"""`refresh disks`: create `<vm>-<suffix>` from a gallery image for every in-scope VM, replicating the
version to the VM's region first."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from refit.arm import location
from refit.arm import views as v
from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.platform.rules import facts, images, validate_write
from refit.run.campaign import (
    PENDING,
    SKIPPED,
    RunAll,
    Tags,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.refresh.precheck import swap_violations
from refit.run.refresh.scope import (
    DISK_API,
    DISK_NAME,
    VERSION_API,
    Selection,
    _get,
    check_suffix,
    disk_id_for,
    execute_simple,
    select,
)


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
               replicate: bool = True) -> list[DiskItem]:
    check_suffix(suffix)
    vms = select(world, tags, sel)
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
            targeted = any(location.normalize(t.get("name")) == vm.location for t in ver.target_regions)
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
            if not any(location.normalize(t.get("name")) == vm.location for t in targets):
                targets.append({"name": vm.location, "regionalReplicaCount": 1})
            summary = [x for x in (pp.get("replicationStatus") or {}).get("summary") or []
                       if location.normalize(x.get("region")) != vm.location]
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
    return items


def start_disks(journal: Journal, session, items: list[DiskItem], params: dict[str, Any], clock_now: float) -> Run:
    """The run in the journal: a row per VM, pending where its disk is to be created."""
    rows = [VmRow("", i.vm, i.name, "", 0 if i.status == "create" else -1, None, i.disk_id,
                  PENDING if i.status == "create" else SKIPPED, i.reason, 0.0) for i in items]
    return journal.new_run("disks", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])


def disks_decisions(client, journal: Journal, run: Run, items: list[DiskItem], emit: Callable[..., None]):
    """The run's decisions (refit.run.campaign.RunAll), whichever engine drives them: replicate the versions where
    needed, then create every planned disk (in parallel)."""
    from refit.azure.pacing import POLL_SECONDS, Wait, operation

    todo = [i for i in items if i.status == "create"]
    regions: dict[str, set[str]] = {}
    for i in todo:
        if i.replicate and i.version:
            regions.setdefault(i.version, set()).add(i.replicate)

    def replicate(version: str, wanted: set[str]):
        r = yield from _get(client, version, VERSION_API)
        targets = list(((r or {}).get("properties") or {}).get("publishingProfile", {}).get("targetRegions") or [])
        have = {location.normalize(t.get("name")) for t in targets}
        add = [{"name": reg, "regionalReplicaCount": 1} for reg in sorted(wanted) if reg not in have]
        journal.step(run.id, version, "replicate", "started", ", ".join(sorted(wanted)), client.clock.now())
        emit("replicate", version=ResourceId.parse(version).name, regions=sorted(wanted))
        if add:
            body = {"properties": {"publishingProfile": {"targetRegions": targets + add}}}
            yield from operation(client, "PATCH", version, VERSION_API, body)
        else:  # targeted already: wait for the replication in flight (G14/G16)
            while True:
                doc = yield from _get(client, version, VERSION_API, {"$expand": "ReplicationStatus"})
                states = {location.normalize(s.get("region")): s.get("state")
                          for s in (((doc or {}).get("properties") or {}).get("replicationStatus") or {}).get("summary") or []}
                if all(states.get(reg) == "Completed" for reg in wanted):
                    break
                yield Wait(POLL_SECONDS * 12)
        journal.step(run.id, version, "replicate", "done", "", client.clock.now())

    res = yield RunAll({ver: (lambda ver=ver, w=w: replicate(ver, w)) for ver, w in sorted(regions.items())},
                       gated=False)
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

    res = yield RunAll({i.vm: (lambda i=i: create(i)) for i in todo}, gated=False)
    for k, r in res.items():
        if not r.ok:
            journal.set_vm(run.id, k, state="failed", detail=str(r.error))
    rows = journal.vms(run.id)
    bad = [r for r in rows if r.state == "failed"]
    created = sum(1 for r in rows if r.state == "created")
    journal.finish_run(run.id, "failed" if bad else "completed",
                       f"{created} disks created" + (f", {len(bad)} failed" if bad else ""), client.clock.now())


def run_disks(client, journal: Journal, session, items: list[DiskItem], params: dict[str, Any], clock_now: float,
              on_event: Callable[..., None] | None = None) -> Run:
    """Replicate versions where needed, then create every planned disk (in parallel), on the local engine."""
    return execute_simple(client, journal, start_disks(journal, session, items, params, clock_now),
                          lambda run: disks_decisions(client, journal, run, items, on_event or (lambda *a, **k: None)))
