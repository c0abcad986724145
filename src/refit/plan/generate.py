"""Candidate operations from a state and a goal. Nothing here knows a scenario: it proposes the ops of
the vocabulary that could move the state toward the goal (including temporary bridge images), and the
rule catalog, through the simulator, decides which of them Azure accepts."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan import definitions, enablers, rehome
from refit.plan.goal import Goal, equal, unmet
from refit.plan.sim import Sim
from refit.platform import regions
from refit.platform.rules import facts, images

MAX_TEMPORARY = 2  # at most a bridge definition and its version per path
IMAGE_PATH_SUFFIX = "imagereference.id"
SECURITY_PATHS = ("properties.securityProfile.securityType", "properties.virtualMachineProfile.securityProfile.securityType")
CRG_PATH = "properties.capacityReservation.capacityReservationGroup.id"


@dataclass
class Context:
    goals: list[Goal]
    initial_power: dict[str, str]  # vm key -> power state at the start
    region: set[str] = field(default_factory=set)  # consumer regions
    # Settings the path may change for a goal and must restore (plan.enablers): resource key -> {path: start value}
    restore: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def start(cls, sim: Sim, goals: list[Goal], vms: list[dict[str, Any]] | None = None) -> Context:
        """The context of a group of goals in the state they start from (`vms`: those whose power state must end as
        it starts; every VM of the simulation by default)."""
        vms = sim.world.of_type(v.VM) if vms is None else vms
        return cls(goals=goals, initial_power={id_key(d["id"]): sim.power(d["id"]) for d in vms},
                   restore=enablers.restorable(sim, goals))

    def goal_for(self, rid: str) -> Goal | None:
        return next((g for g in self.goals if id_key(g.resource) == id_key(rid)), None)


# ---- goal satisfaction (explicit and implicit) ------------------------------------------------------
def satisfied(sim: Sim, ctx: Context, scale_sets: list[dict[str, Any]] | None = None) -> bool:
    """Whether the goals and the implicit goals hold (`scale_sets`: those whose instances must run the latest model;
    every scale set of the simulation by default)."""
    for g in ctx.goals:
        if unmet(sim.get(g.resource), g):
            return False
    for vm_key, p0 in ctx.initial_power.items():
        if sim.get(vm_key) is None:
            continue
        running = sim.power(vm_key) == "running"
        if (p0 == "running") != running:
            return False  # every VM ends as it started: running if it ran, not running if it did not
    for d in sim.world.of_type(v.VMSS) if scale_sets is None else scale_sets:
        if sim.instances_behind(d["id"]):
            return False  # instances must run the new model (V2): a manual upgrade or the rolling one
    return enablers.restored(sim, ctx.restore) and all(cr_capacity_ok(sim, ctx, g) for g in ctx.goals)


def _crg_vms(sim: Sim, ctx: Context, crg: str) -> list[dict[str, Any]]:
    out = []
    for g in ctx.goals:
        if equal(g.properties.get(CRG_PATH), crg) and sim.get(g.resource) is not None:
            out.append(sim.get(g.resource))
    return out


def cr_capacity_ok(sim: Sim, ctx: Context, g: Goal) -> bool:
    """Capacity goal (C3): each reservation of a group the goals associate VMs with reserves them all."""
    crg = g.properties.get(CRG_PATH)
    if not crg or sim.get(crg) is None:
        return True
    for cr in sim.world.children(crg, v.CAPACITY_RESERVATION):
        need = sum(1 for vm in _crg_vms(sim, ctx, crg) if _cr_matches(vm, cr))
        if int((cr.get("sku") or {}).get("capacity") or 0) < need:
            return False
    return True


def _cr_matches(vm: dict[str, Any], cr: dict[str, Any]) -> bool:
    if (v.Vm(vm).size or "").lower() != ((cr.get("sku") or {}).get("name") or "").lower():
        return False
    zones = cr.get("zones") or []
    return not zones or (vm.get("zones") or [None])[0] in zones


# ---- candidates -----------------------------------------------------------------------------------------
def candidates(sim: Sim, ctx: Context) -> list[Op]:
    # A set's rolling upgrade in progress is the next step of its path: nothing is planned across it (a write to
    # the set now would change the model the upgrade is rolling out).
    rolling = [voc.await_rolling_upgrade(d["id"]) for d in sim.world.of_type(v.VMSS) if sim.upgrade_running(d["id"])]
    if rolling:
        return rolling
    ops: list[Op] = []
    for g in ctx.goals:
        doc = sim.get(g.resource)
        if doc is None:
            ops += _create(sim, ctx, g)
            continue
        pending = unmet(doc, g)
        ops += _patches(sim, doc, pending)
        if doc["type"].lower() == v.VM.lower():
            ops += _vm_enablers(sim, ctx, doc, pending)
        ops += _capacity(sim, ctx, g, doc)
    ops += _restarts(sim, ctx)
    ops += rehome.candidates(sim, ctx.goals)
    ops += definitions.candidates(sim, ctx.goals)
    ops += enablers.candidates(sim, ctx.goals, ctx.restore)
    ops += _images(sim, ctx)
    ops += _manual_upgrades(sim)
    seen, out = set(), []
    for op in ops:
        if op.key not in seen:
            seen.add(op.key)
            out.append(op)
    return out


def _patches(sim: Sim, doc: dict[str, Any], pending: dict[str, Any]) -> list[Op]:
    if not pending:
        return []
    keys = sorted(pending)[:4]
    out = []
    for n in range(1, len(keys) + 1):
        for subset in itertools.combinations(keys, n):
            out.append(voc.patch(doc, {k: pending[k] for k in subset}))
    # Bridges: an image path may pass through another image first (any image the state holds).
    for p in keys:
        if not p.lower().endswith(IMAGE_PATH_SUFFIX):
            continue
        current = get_path(doc, p)
        others = [k for k in keys if k != p]
        for img in _image_ids(sim):
            if equal(current, img) or equal(pending[p], img):
                continue
            for n in range(0, len(others) + 1):
                for subset in itertools.combinations(others, n):
                    out.append(voc.patch(doc, {p: img, **{k: pending[k] for k in subset}}))
    return out


def _image_ids(sim: Sim) -> list[str]:
    ids = [d["id"] for d in sim.world.of_type(v.IMAGE_DEFINITION)]
    # A temporary bridge definition holds the one version the plan made for it: the definition is that version
    # (its latest), so the version is not a second bridge to try.
    ids += [d["id"] for d in sim.world.of_type(v.IMAGE_VERSION)
            if not sim.is_temporary(str(ResourceId.parse(d["id"]).parent))]
    return ids


def _vm_enablers(sim: Sim, ctx: Context, vm: dict[str, Any], pending: dict[str, Any]) -> list[Op]:
    out: list[Op] = []
    power = sim.power(vm["id"])
    if pending and power in ("running", "stopped"):
        out.append(voc.deallocate(vm["id"]))
    wants_tl = any(p in SECURITY_PATHS and val in ("TrustedLaunch", "ConfidentialVM") for p, val in pending.items())
    disk = sim.get(v.Vm(vm).os_disk_id or "")
    if wants_tl and disk is not None and power == "running":
        gen = get_path(disk, "properties.hyperVGeneration") or "V1"
        tags = {k.lower(): val for k, val in (disk.get("tags") or {}).items()}
        if gen == "V1" and tags.get(voc.PARTITION_TAG) != "GPT":
            out.append(voc.guest_mbr_to_gpt(vm))
    return out


def _restarts(sim: Sim, ctx: Context) -> list[Op]:
    """Power moves for the VMs of the goals: start one that is down (to end as it started, or because a
    step such as the guest conversion needs it running), deallocate one that was down before."""
    out = []
    for key, p0 in ctx.initial_power.items():
        doc = sim.get(key)
        if doc is None:
            continue
        now = sim.power(key)
        if now in ("deallocated", "stopped"):
            out.append(voc.start(doc["id"]))
        elif now == "running" and p0 != "running":
            out.append(voc.deallocate(doc["id"]))
    return out


def _manual_upgrades(sim: Sim) -> list[Op]:
    """Instances behind the model: Azure's rolling upgrade in progress brings them (Rolling mode); otherwise the
    manual upgrade does."""
    return [voc.await_rolling_upgrade(d["id"]) if sim.upgrade_running(d["id"]) else voc.update_instances(d["id"])
            for d in sim.world.of_type(v.VMSS) if sim.instances_behind(d["id"])]


def _temporaries(sim: Sim) -> int:
    return sum(1 for d in sim.world if sim.is_temporary(d["id"]))


def _images(sim: Sim, ctx: Context) -> list[Op]:
    """Image sources the goals may need: replication to consumer regions, bridge definitions and versions."""
    out: list[Op] = []
    consumers = []  # (goal doc, image path, current ref, wanted ref)
    for g in ctx.goals:
        doc = sim.get(g.resource)
        if doc is None:
            continue
        for p, want in g.properties.items():
            if p.lower().endswith(IMAGE_PATH_SUFFIX) and isinstance(want, str):
                consumers.append((doc, get_path(doc, p), want))
        if doc["type"].lower() == v.DISK.lower():
            continue
    # Goal disks to be created from an image, and images VMs of the goals will boot, need replication.
    wanted_versions: list[tuple[str, str]] = []  # (image id, region)
    for g in ctx.goals:
        for p, want in g.properties.items():
            if isinstance(want, str) and ("imagereference.id" in p.lower()):
                loc = (sim.get(g.resource) or {}).get("location") or _goal_location(sim, ctx, g)
                if loc:
                    wanted_versions.append((want, loc))
    for img, loc in wanted_versions:
        out += _replications(sim, img, loc)
    if _temporaries(sim) >= MAX_TEMPORARY or not consumers:
        return out
    # One bridge definition per path (its version is the other temporary), of a security type that lets the
    # consumer take the security type its goal asks for: a bridge that cannot boot the goal's security type
    # cannot be the image when the security type changes, so it bridges nothing.
    bridge_made = any(sim.is_temporary(d["id"]) for d in sim.world.of_type(v.IMAGE_DEFINITION))
    for doc, current, want in consumers:
        base = _facts_of(sim, current, doc["location"]) or _facts_of(sim, want, doc["location"])
        if base is None:
            continue
        wanted_security = {val for g in ctx.goals if id_key(g.resource) == id_key(doc["id"])
                           for p, val in g.properties.items() if p in SECURITY_PATHS and isinstance(val, str)}
        galleries = _galleries_near(sim, [current, want, doc["id"]])
        regions_needed = sorted({regions.normalize(doc["location"])})
        for gal in galleries:
            defs = sim.world.children(gal["id"], v.IMAGE_DEFINITION)
            have = {(v.ImageDefinition(d).security_type, v.ImageDefinition(d).hyper_v_generation,
                     v.ImageDefinition(d).os_type, v.ImageDefinition(d).os_state) for d in defs}
            # The first type (the catalog's order: the narrowest) that allows the goal's security type: a wider one
            # reaches the same states at the same cost.
            fitting = [st for st in (() if bridge_made else facts.DEFINITION_SECURITY_TYPES)
                       if all(facts.image_allows(st, base.hyper_v_generation, w) for w in wanted_security)]
            for st in fitting[:1] if wanted_security else fitting:
                key = (st, base.hyper_v_generation, base.os_type, base.os_state)
                if key in have:
                    continue
                name = _bridge_name(want, st)
                if sim.get(f"{gal['id']}/images/{name}") is None:
                    out.append(voc.create_image_definition(gal, name, st, base.hyper_v_generation, base.os_type,
                                                           base.os_state, temporary=True))
            for d in defs:
                if sim.world.children(d["id"], v.IMAGE_VERSION):
                    continue  # only empty definitions get a first version
                temporary = sim.is_temporary(d["id"])
                for src in _sources(sim, current, want, doc["location"]):
                    src_loc = regions.normalize((sim.get(src) or {}).get("location") or doc["location"])
                    regs = sorted(set(regions_needed) | {src_loc})
                    out.append(voc.create_image_version(d, "1.0.0", src, regs, temporary=temporary))
    return out


def _goal_location(sim: Sim, ctx: Context, g: Goal) -> str | None:
    # A disk to be created takes the location of the VM that will use it.
    for other in ctx.goals:
        for want in other.properties.values():
            if isinstance(want, str) and id_key(want) == id_key(g.resource):
                doc = sim.get(other.resource)
                if doc:
                    return doc.get("location")
    rg = ResourceId.parse(g.resource)
    rgdoc = sim.get(str(ResourceId(rg.subscription, rg.resource_group)))
    return (rgdoc or {}).get("location")


def _replications(sim: Sim, image_id: str, region: str) -> list[Op]:
    rid = ResourceId.parse(image_id)
    versions = []
    if rid.type.lower() == v.IMAGE_VERSION.lower() and rid.name.lower() != "latest":
        d = sim.get(image_id)
        versions = [d] if d else []
    elif rid.type.lower() in (v.IMAGE_DEFINITION.lower(), v.IMAGE_VERSION.lower()):
        definition = str(rid.parent) if rid.type.lower() == v.IMAGE_VERSION.lower() else str(rid)
        ivs = sorted(sim.world.image_versions(definition), key=lambda iv: iv.version, reverse=True)
        versions = [iv.doc for iv in ivs if not iv.exclude_from_latest][:1]
    out = []
    for d in versions:
        iv = v.ImageVersion(d)
        names = {regions.normalize(t.get("name", "")) for t in iv.target_regions}
        if regions.normalize(region) not in names:
            out.append(voc.replicate_version(d, regions.normalize(region)))
    return out


def _facts_of(sim: Sim, ref: Any, region: str) -> images.ImageFacts | None:
    if not isinstance(ref, str) or not ref:
        return None
    try:
        return images.facts(sim.world, ref, region)
    except ArmError:
        return None


def _galleries_near(sim: Sim, ids: list[Any]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for i in ids:
        if not isinstance(i, str) or not i.startswith("/"):
            continue
        rid = ResourceId.parse(i)
        if rid.type.lower().startswith(v.GALLERY.lower()):
            gal = ResourceId(rid.subscription, rid.resource_group, rid.namespace, rid.types[:1])
            cands = [sim.get(str(gal))]
        else:
            prefix = id_key(ResourceId(rid.subscription, rid.resource_group)) + "/"
            cands = [d for d in sim.world.of_type(v.GALLERY) if id_key(d["id"]).startswith(prefix)]
        for c in cands:
            if c and id_key(c["id"]) not in seen:
                seen.add(id_key(c["id"]))
                out.append(c)
    return out


def _sources(sim: Sim, current: Any, want: Any, region: str) -> list[str]:
    """Version sources to try: what the consumer runs now (the same bits: nothing else is needed when it is a
    source), else what it should run (resolved)."""
    out = []
    for ref in (current, want):
        if out:
            break
        if not isinstance(ref, str):
            continue
        kind = images.ref_kind(ref)
        if kind == "managed-image" and sim.get(ref):
            out.append(sim.get(ref)["id"])
        elif kind in ("version", "definition"):
            with contextlib.suppress(ArmError):  # not resolvable here: not a source
                out.append(images.resolve_gallery(sim.world, ref, region).id)
    return list(dict.fromkeys(out))


def _bridge_name(want: Any, security_type: str) -> str:
    base = ResourceId.parse(want).types[1][1] if isinstance(want, str) and "/images/" in want.lower() else "image"
    short = {"Standard": "std", "TrustedLaunchSupported": "tls", "TrustedLaunch": "tl", "ConfidentialVmSupported": "cvms",
             "ConfidentialVM": "cvm", "TrustedLaunchAndConfidentialVmSupported": "tlcvms"}[security_type]
    return f"{base}-{short}-bridge"[:80]


# ---- creations and capacity --------------------------------------------------------------------------------
def _create(sim: Sim, ctx: Context, g: Goal) -> list[Op]:
    rid = ResourceId.parse(g.resource)
    t = rid.type.lower()
    if t == v.DISK.lower():
        return _create_disk(sim, ctx, g)
    if t == v.CAPACITY_RESERVATION_GROUP.lower():
        return []  # created from the VMs that reference it (_capacity)
    body = voc.body_from_paths(g.properties)
    body.setdefault("location", _goal_location(sim, ctx, g))
    return [voc.put(g.resource, body, f"create {rid.name}")]


def _create_disk(sim: Sim, ctx: Context, g: Goal) -> list[Op]:
    users = [sim.get(o.resource) for o in ctx.goals
             if any(isinstance(w, str) and id_key(w) == id_key(g.resource) for w in o.properties.values())]
    users = [u for u in users if u]
    image = next((val for p, val in g.properties.items() if "imagereference.id" in p.lower()), None)
    loc = _goal_location(sim, ctx, g)
    if not image or not loc:
        body = voc.body_from_paths(g.properties)
        body.setdefault("location", loc)
        return [voc.put(g.resource, body, f"create disk {ResourceId.parse(g.resource).name}")]
    zones: list[str | None] = [None]
    secs: list[str | None] = [None]
    skus = ["Premium_LRS"]
    for u in users:
        if u.get("zones"):
            zones.insert(0, u["zones"][0])
        st = facts.disk_security_type_for(v.Vm(u).security_type)
        if st:
            secs.insert(0, st)
        cur = sim.get(v.Vm(u).os_disk_id or "")
        if cur and (cur.get("sku") or {}).get("name"):
            skus.insert(0, cur["sku"]["name"])
    extra = {p: val for p, val in g.properties.items() if "imagereference" not in p.lower() and p != "location"}
    out = []
    for z, s in itertools.product(dict.fromkeys(zones), dict.fromkeys(secs)):
        out.append(voc.create_disk_from_image(g.resource, loc, image, z, s, skus[0], extra))
    return out


def _capacity(sim: Sim, ctx: Context, g: Goal, doc: dict[str, Any]) -> list[Op]:
    crg = g.properties.get(CRG_PATH)
    if not crg:
        return []
    out: list[Op] = []
    vms = [d for d in _crg_vms(sim, ctx, crg)]
    group = sim.get(crg)
    if group is None:
        zones = sorted({z for vm in vms for z in (vm.get("zones") or [])})
        body: dict[str, Any] = {"location": doc["location"]}
        if zones:
            body["zones"] = zones
        return [voc.put(crg, body, f"create capacity reservation group {ResourceId.parse(crg).name}"
                        + (f" (zones {','.join(zones)})" if zones else " (regional)"), name="create_capacity_reservation_group")]
    existing = sim.world.children(crg, v.CAPACITY_RESERVATION)
    for vm in vms:
        size, zone = v.Vm(vm).size, (vm.get("zones") or [None])[0]
        if any(_cr_matches(vm, cr) for cr in existing):
            continue
        name = f"{size}-z{zone}" if zone else f"{size}-regional"
        body = {"location": group["location"], "sku": {"name": size, "capacity": 0}}
        if zone:
            body["zones"] = [zone]
        out.append(voc.put(f"{crg}/capacityReservations/{name}", body,
                           f"create capacity reservation {name} with capacity 0 (C3: associate first, then reserve)",
                           name="create_capacity_reservation"))
    for cr in existing:
        need = sum(1 for vm in vms if _cr_matches(vm, cr) and equal(v.Vm(vm).capacity_reservation_group_id, crg))
        have = int((cr.get("sku") or {}).get("capacity") or 0)
        if need > have and need == sum(1 for vm in vms if _cr_matches(vm, cr)):
            op = voc.patch(cr, {"sku.capacity": need}, summary=f"raise {cr['name']} to capacity {need}")
            op.name = "set_reservation_capacity"
            out.append(op)
    return out
