"""Golden images through a Compute Gallery (seed 001 sections 3 and 4): publish a version to one canary region first,
promote it to the others, kill a bad one with `excludeFromLatest` (never delete it), and say where each version runs.

Every write is first performed on the platform model (`refit.plan.sim`: the same rule catalog Azure answers with), so
a version the definition cannot hold (its security type, generation, architecture or OS state, rules G*) or a region
that does not exist is refused before anything is sent; then it is sent and followed to the end of its operation
(a version's PUT completes when every target region has replicated: rule G16).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.azure import fleet
from refit.ops import vocabulary as voc
from refit.ops.op import Op, Request
from refit.plan.sim import Sim
from refit.platform import apis, regions
from refit.platform.rules import RULES
from refit.platform.rules import images as image_rules

Doc = dict[str, Any]
GALLERY_API = apis.GALLERY
STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
COMPUTE_API = apis.COMPUTE


# ---- reading -----------------------------------------------------------------------------------------------------
def _named(world: World, text: str, arm_type: str, what: str, shape: str) -> Doc:
    """The resource of `arm_type` an id names (UserError when it is not one, or not there)."""
    try:
        rid = ResourceId.parse(text)
    except ArmError as e:
        raise UserError(f"'{text}' is not a resource id: give the {what}'s id ({shape})") from e
    if arm_type == v.IMAGE_DEFINITION and rid.type.lower() == v.IMAGE_VERSION.lower():
        rid = rid.parent  # a version names its definition
    if rid.type.lower() != arm_type.lower():
        raise UserError(f"'{text}' is a {rid.type}, not a {what} ({shape})")
    doc = world.get(rid)
    if doc is None:
        raise UserError(f"no {what} {rid}: check the id (`refit inventory` lists what there is)")
    return doc


def definition_of(world: World, text: str) -> Doc:
    return _named(world, text, v.IMAGE_DEFINITION, "gallery image definition", ".../galleries/G/images/D")


def version_of(world: World, text: str) -> Doc:
    return _named(world, text, v.IMAGE_VERSION, "gallery image version", ".../galleries/G/images/D/versions/X.Y.Z")


def _region_states(doc: Doc) -> dict[str, str]:
    summary = ((doc.get("properties") or {}).get("replicationStatus") or {}).get("summary") or []
    return {regions.normalize(s.get("region", "")): s.get("state", "") for s in summary}


def _targets(doc: Doc) -> list[str]:
    pp = (doc.get("properties") or {}).get("publishingProfile") or {}
    return [regions.normalize(t.get("name", "")) for t in pp.get("targetRegions") or [] if isinstance(t, dict)]


@dataclass
class Running:
    """Who runs a version of a definition: scale sets (with their instances) and single VMs."""

    sets: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # set id -> version name -> instance names
    vms: dict[str, str] = field(default_factory=dict)  # VM id -> version name


def _booted(world: World, vm: Doc) -> str | None:
    """The gallery version a VM's OS disk was made from."""
    disk = world.get(((((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {})
                      .get("managedDisk") or {}).get("id"))
    ref = (((disk or {}).get("properties") or {}).get("creationData") or {}).get("galleryImageReference") or {}
    return ref.get("id")


def running(session, world: World, definition: Doc) -> Running:
    """Which sets, instances and VMs run which version of `definition` (a Uniform set's instances are read from
    `{set}/virtualMachines`, Resource Graph's resources table does not list them)."""
    key = id_key(definition["id"])
    out = Running()
    for vmss in world.of_type(v.VMSS):
        ref = str(v.Vmss(vmss).image_reference.get("id") or "")
        if not id_key(ref).startswith(key):
            continue
        status, _, body = fleet.send(session, "GET", f"{vmss['id']}/virtualMachines", COMPUTE_API)
        per: dict[str, list[str]] = {}
        for inst in (body or {}).get("value") or [] if status == 200 else []:
            vid = _booted(world, inst)
            name = vid.rstrip("/").rsplit("/", 1)[-1] if vid and id_key(vid).startswith(key) else "?"
            per.setdefault(name, []).append(inst.get("name", ""))
        out.sets[vmss["id"]] = per
    for vm in world.of_type(v.VM):
        if (vm.get("properties") or {}).get("virtualMachineScaleSet"):
            continue
        vid = _booted(world, vm)
        if vid and id_key(vid).startswith(key + "/versions/"):
            out.vms[vm["id"]] = vid.rstrip("/").rsplit("/", 1)[-1]
    return out


def status(session, world: World, definition: Doc) -> dict[str, Any]:
    """Per version: its target regions and their replication state, excludeFromLatest; per region: what `latest`
    resolves to; who runs which version."""
    versions = sorted(world.image_versions(definition["id"]), key=lambda x: x.version)
    where = sorted({r for x in versions for r in _targets(x.doc)})
    latest = {}
    for r in where:
        lv = image_rules.latest_version(world, definition["id"], r)
        latest[r] = lv.name if lv is not None else None
    who = running(session, world, definition)
    return {"definition": definition["id"],
            "versions": [{"name": x.name, "excludeFromLatest": x.exclude_from_latest,
                          "regions": {r: _region_states(x.doc).get(r, "") for r in _targets(x.doc)}} for x in versions],
            "latest": latest,
            "scaleSets": {sid: {ver: sorted(names) for ver, names in per.items()} for sid, per in who.sets.items()},
            "vms": who.vms}


# ---- writing ----------------------------------------------------------------------------------------------------
def _check(world: World, op) -> None:
    """Perform the write on the platform model first: a refusal there is bad input (exit 2), nothing is sent."""
    out = Sim.from_world(world).run(op)
    if not out.ok and out.error is not None:
        rule = f" (rule {out.rules[0]}: {RULES[out.rules[0]].title})" if out.rules and out.rules[0] in RULES else ""
        raise UserError(f"Azure would refuse it: ({out.error.code}) {out.error.message}{rule}")


def _regions(names: list[str], what: str) -> list[str]:
    out = []
    for n in names:
        r = regions.normalize(n)
        if not regions.known(r):
            raise UserError(f"{what}: '{n}' is not an Azure region (e.g. eastus, westus3)")
        out.append(r)
    return list(dict.fromkeys(out))


def is_vhd(source: str) -> bool:
    """A source given as a blob uri (https://{account}.blob.core.windows.net/...) rather than a resource id."""
    return source.lower().startswith(("https://", "http://"))


def _storage_profile(world: World, source: str, storage_account: str | None) -> Doc:
    """`storageProfile` of a new version: a resource id as `source.id`; a VHD as `osDiskImage.source` with the
    storage account that holds the blob (GalleryImageVersion_Create_WithVHD.json; the way a confidential VM's OS
    disk reaches a ConfidentialVmSupported definition, seed 002; whether the two match is rule CVM6)."""
    if is_vhd(source):
        if not storage_account:
            raise UserError(f"{source} is a VHD: give --storage-account with the id of the storage account that "
                            "holds it (/subscriptions/.../providers/Microsoft.Storage/storageAccounts/NAME)")
        _named(world, storage_account, STORAGE_ACCOUNT, "storage account",
               ".../providers/Microsoft.Storage/storageAccounts/NAME")
        return {"osDiskImage": {"source": {"uri": source, "storageAccountId": storage_account}}}
    if storage_account:
        raise UserError("--storage-account goes with a VHD source (its blob uri): drop it for a resource id source")
    if world.get(source) is None:
        raise UserError(f"no source {source}: a managed image, VM, disk, snapshot or image version to capture, or a "
                        "VHD's blob uri")
    return {"source": {"id": source}}


def publish_request(world: World, definition: Doc, version: str, source: str, targets: list[str],
                    storage_account: str | None = None) -> tuple[str, Doc]:
    """The PUT that publishes `version` of `definition` from `source` (a resource id, or a VHD's blob uri in
    `storage_account`) to `targets` (id, body)."""
    storage_profile = _storage_profile(world, source, storage_account)
    vid = f"{definition['id']}/versions/{version}"
    if world.get(vid) is not None:
        raise UserError(f"version {version} of {definition['name']} exists: publish a new version number "
                        "(a version is immutable; `refit release promote` adds regions to it)")
    body = {"location": definition["location"], "properties": {
        "publishingProfile": {"targetRegions": [{"name": r, "regionalReplicaCount": 1} for r in targets]},
        "storageProfile": storage_profile}}
    return vid, body


def publish(session, world: World, definition: Doc, version: str, source: str, region_names: list[str],
            canary: str | None, dry_run: bool = False, storage_account: str | None = None) -> dict[str, Any]:
    """Publish a version: to the canary region only (`canary`), else to `region_names` (default: the definition's).
    `source` is a resource id, or a VHD's blob uri held by `storage_account`."""
    if canary and region_names:
        raise UserError("--canary-region replicates to that region only: drop --regions (refit release promote adds "
                        "them once the canary succeeded)")
    targets = _regions([canary] if canary else (region_names or [definition["location"]]), "--regions")
    vid, body = publish_request(world, definition, version, source, targets, storage_account)
    _check(world, voc.put(vid, body, f"publish {version}"))
    if dry_run:
        return {"dry_run": True, "version": vid, "request": body}
    doc = fleet.execute(session, "PUT", vid, GALLERY_API, body)
    return {"dry_run": False, "version": vid, "regions": _region_states(_replicated(session, vid) or doc or {})}


def _replicated(session, vid: str) -> Doc | None:
    status_code, _, body = fleet.send(session, "GET", vid, GALLERY_API, params={"$expand": "ReplicationStatus"})
    return body if status_code == 200 else None


def promote(session, world: World, version: Doc, region_names: list[str], dry_run: bool = False) -> dict[str, Any]:
    """Add regions to a version and wait until each has replicated: those given, else every region where a scale set
    or VM runs one of the definition's versions."""
    definition = world.get(ResourceId.parse(version["id"]).parent) or {}
    have = _targets(version)
    wanted = _regions(region_names, "--regions") if region_names else sorted(
        {regions.normalize(d["location"]) for d in _consumers(world, definition)})
    add = [r for r in wanted if r not in have]
    if not add:
        return {"dry_run": dry_run, "version": version["id"], "added": [], "regions": _region_states(version)}
    pp = (version.get("properties") or {}).get("publishingProfile") or {}
    body = {"properties": {"publishingProfile": {"targetRegions": [
        *[{k: t[k] for k in ("name", "regionalReplicaCount", "storageAccountType", "excludeFromLatest") if k in t}
          for t in pp.get("targetRegions") or []],
        *[{"name": r, "regionalReplicaCount": 1} for r in add]]}}}
    _check(world, Op("promote", version["id"], Request("PATCH", version["id"], GALLERY_API, body)))
    if dry_run:
        return {"dry_run": True, "version": version["id"], "added": add, "request": body}
    fleet.execute(session, "PATCH", version["id"], GALLERY_API, body)
    return {"dry_run": False, "version": version["id"], "added": add,
            "regions": _region_states(_replicated(session, version["id"]) or {})}


def _consumers(world: World, definition: Doc) -> list[Doc]:
    key = id_key(definition.get("id") or "")
    out = []
    for vmss in world.of_type(v.VMSS):
        if id_key(str(v.Vmss(vmss).image_reference.get("id") or "")).startswith(key):
            out.append(vmss)
    for vm in world.of_type(v.VM):
        vid = _booted(world, vm)
        if vid and id_key(vid).startswith(key + "/versions/"):
            out.append(vm)
    return out


def kill(session, world: World, version: Doc, dry_run: bool = False) -> dict[str, Any]:
    """The kill switch: `excludeFromLatest` on the version (never a delete: it stays the rollback source for whoever
    runs it), cancel the rolling upgrades taking it, and say who already runs it and how to return them."""
    rid = ResourceId.parse(version["id"])
    definition = world.get(rid.parent) or {}
    body = {"properties": {"publishingProfile": {"excludeFromLatest": True}}}
    _check(world, Op("kill", version["id"], Request("PATCH", version["id"], GALLERY_API, body)))
    who = running(session, world, definition)
    upgrading = [sid for sid in who.sets if _taking(session, world, sid, version["id"])]
    on_it = {sid: sorted(per.get(rid.name, [])) for sid, per in who.sets.items() if per.get(rid.name)}
    vms = sorted(vm for vm, name in who.vms.items() if name == rid.name)
    previous = _previous(world, definition, rid.name)
    report: dict[str, Any] = {"dry_run": dry_run, "version": version["id"], "cancelled": [] if dry_run else upgrading,
                              "to_cancel": upgrading, "scaleSets": on_it, "vms": vms,
                              "previous": previous, "return": _return_command(world, previous, on_it, vms)}
    if dry_run:
        return report
    fleet.execute(session, "PATCH", version["id"], GALLERY_API, body)
    for sid in upgrading:
        fleet.execute(session, "POST", f"{sid}/rollingUpgrades/cancel", COMPUTE_API)
    return report


def _taking(session, world: World, set_id: str, version_id: str) -> bool:
    """Whether the set's rolling upgrade in progress is rolling this version out: an OS upgrade whose target is it
    (osUpgradeHistory's newest entry), or a model change to a model that names it."""
    code, _, latest = fleet.send(session, "GET", f"{set_id}/rollingUpgrades/latest", COMPUTE_API)
    if code != 200 or (((latest or {}).get("properties") or {}).get("runningStatus") or {}).get("code") != \
            "RollingForward":
        return False
    name = version_id.rstrip("/").rsplit("/", 1)[-1]
    code, _, hist = fleet.send(session, "GET", f"{set_id}/osUpgradeHistory", COMPUTE_API)
    newest = ((hist or {}).get("value") or [{}])[0] if code == 200 else {}
    props = newest.get("properties") or {}
    if (props.get("runningStatus") or {}).get("code") == "RollingForward":
        return (props.get("targetImageReference") or {}).get("exactVersion") == name
    vmss = world.get(set_id) or {}
    return id_key(str(v.Vmss(vmss).image_reference.get("id") or "")) == id_key(version_id)


def _previous(world: World, definition: Doc, name: str) -> str | None:
    """The version to return to: the highest other version not excluded from latest."""
    others = [x for x in world.image_versions(definition.get("id") or "")
              if x.name != name and not x.exclude_from_latest]
    return max(others, key=lambda x: x.version).id if others else None


def _return_command(world: World, previous: str | None, sets: dict[str, list[str]], vms: list[str]) -> list[str]:
    """The commands that bring what runs the killed version back: a set that tracks the definition takes `latest`
    again (now the previous version) with an OS rolling upgrade; a set or VM that names the version gets a plan that
    names the previous one."""
    out = []
    for sid in sets:
        rid = ResourceId.parse(sid)
        ref = str(v.Vmss(world.get(sid) or {}).image_reference.get("id") or "")
        if ref and image_rules.ref_kind(ref) == "definition":
            out.append(f"az vmss rolling-upgrade start -g {rid.resource_group} -n {rid.name}")
        elif previous:
            out.append(f"refit plan --resource {sid} --set properties.virtualMachineProfile.storageProfile."
                       f"imageReference.id={previous} --out plan.json && refit apply plan.json")
    for vm in vms if previous else []:
        out.append(f"refit plan --resource {vm} --set properties.storageProfile.imageReference.id={previous} "
                   "--out plan.json && refit apply plan.json")
    return out


# ---- building -------------------------------------------------------------------------------------------------------
IMAGE_TEMPLATE = "Microsoft.VirtualMachineImages/imageTemplates"
TEMPLATE_READ_ONLY = ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")


def _template_file(path: Path) -> tuple[str, Doc]:
    """(id, PUT body) of an image template in a JSON file, as `az image builder show` prints it."""
    try:
        doc = json.loads(path.read_text())
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from e
    except ValueError as e:
        raise UserError(f"{path} is not valid JSON: {e}") from e
    tid = doc.get("id") if isinstance(doc, dict) else None
    if not isinstance(tid, str):
        raise UserError(f"{path} names no `id`: add the template's resource id (/subscriptions/.../resourceGroups/RG/"
                        "providers/Microsoft.VirtualMachineImages/imageTemplates/NAME), as az image builder show prints")
    try:
        rid = ResourceId.parse(tid)
    except ArmError as e:
        raise UserError(f"{path}: `id` '{tid}' is not a resource id") from e
    if rid.type.lower() != IMAGE_TEMPLATE.lower():
        raise UserError(f"{path}: `id` names a {rid.type}, not an image template ({IMAGE_TEMPLATE})")
    body = {k: doc[k] for k in ("location", "identity", "tags", "properties") if k in doc}
    body["properties"] = {k: x for k, x in (body.get("properties") or {}).items() if k not in TEMPLATE_READ_ONLY}
    return tid, body


def build(session, world: World, template: str, dry_run: bool = False) -> dict[str, Any]:
    """Submit (from a file) and run an Image Builder template, follow the build to its end, and name the versions it
    published (its runOutputs). A build that does not succeed ends with Image Builder's own message
    (lastRunStatus.message)."""
    api = apis.api_version(IMAGE_TEMPLATE)
    path = Path(template)
    if path.suffix.lower() == ".json" or path.exists():
        if not path.is_file():
            raise UserError(f"template file {template} does not exist")
        tid, body = _template_file(path)
        submit = world.get(tid) is None
    else:
        tid, body, submit = template, {}, False
        try:
            rid = ResourceId.parse(tid)
        except ArmError as e:
            raise UserError(f"'{template}' is neither a JSON file nor an image template id") from e
        if rid.type.lower() != IMAGE_TEMPLATE.lower() or world.get(tid) is None:
            raise UserError(f"no image template {tid}: give its id or a JSON file of it")
    if dry_run:
        return {"dry_run": True, "template": tid, "submit": submit}
    if submit:
        fleet.execute(session, "PUT", tid, api, body)
    error = None
    try:
        fleet.execute(session, "POST", f"{tid}/run", api)
    except ArmError as e:  # the run's operation fails with the build (the template says why)
        error = {"code": e.code, "message": e.message}
    _, _, doc = fleet.send(session, "GET", tid, api)
    status = ((doc or {}).get("properties") or {}).get("lastRunStatus") or {}
    _, _, outs = fleet.send(session, "GET", f"{tid}/runOutputs", api)
    outputs = [{"name": o.get("name"), "artifactId": (o.get("properties") or {}).get("artifactId"),
                "provisioningState": (o.get("properties") or {}).get("provisioningState")}
               for o in (outs or {}).get("value") or []]
    return {"dry_run": False, "template": tid, "submitted": submit, "runState": status.get("runState"),
            "runSubState": status.get("runSubState"), "message": status.get("message", ""), "outputs": outputs,
            "ok": status.get("runState") == "Succeeded", "error": error}
