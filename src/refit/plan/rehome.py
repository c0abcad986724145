"""Image re-homing: the image a scale set must move to for a security type goal that names no image.

A scale set takes a security type in place only together with an image that allows it (V1: "ensure image
definition is marked as TrustedLaunchSupported", acd trusted-launch-existing-vmss.md), so a goal of only
`securityType: TrustedLaunch` on a set whose image does not allow it needs an image the user did not name. The
planner fills it in with the same operating system bits in a definition that allows the security type:

- a managed image or a gallery version: a version built from it, in a definition of the security type
  `facts.IN_PLACE_DEFINITION` names (an existing one when the state holds it, else a new definition and its
  version in a gallery of the set's resource group, or of the image's; a new gallery when there is none);
- a platform image: the Trusted Launch capable Gen2 SKU of the same publisher and offer
  (`vmimages.trusted_launch_sibling`).

Each candidate is one concrete request; the rule catalog, through the simulator, decides which are accepted.
Whether what is created is kept is decided after the search: what the end state uses is permanent.
"""

from __future__ import annotations

import contextlib
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan.goal import Goal, equal
from refit.plan.sim import Sim
from refit.platform import regions, vmimages
from refit.platform.rules import facts, images

SEC = "properties.virtualMachineProfile.securityProfile.securityType"
IMAGE_REF = "properties.virtualMachineProfile.storageProfile.imageReference"
_SHORT = {"TrustedLaunchSupported": "tls", "TrustedLaunchAndConfidentialVmSupported": "tlcvms",
          "ConfidentialVmSupported": "cvms"}


def candidates(sim: Sim, goals: list[Goal]) -> list[Op]:
    out: list[Op] = []
    for g in goals:
        doc = sim.get(g.resource)
        want = g.properties.get(SEC)
        if doc is None or doc["type"].lower() != v.VMSS.lower() or want not in facts.IN_PLACE_DEFINITION:
            continue
        if any("imagereference" in p.lower() for p in g.properties) or equal(v.Vmss(doc).security_type, want):
            continue  # the goal names the image (generate's bridges), or the security type is reached
        ref = get_path(doc, IMAGE_REF) or {}
        cur = _facts(sim, ref, doc["location"])
        if cur is None or facts.image_allows(cur.security_type, cur.hyper_v_generation, want):
            continue  # nothing to fill in: the direct change is the catalog's to accept or refuse
        if cur.kind == "platform":
            out += _platform(doc, ref, want)
        else:
            out += _gallery(sim, doc, ref, cur, want)
    return out


def _facts(sim: Sim, ref: dict[str, Any], region: str) -> images.ImageFacts | None:
    try:
        return images.facts(sim.world, ref, region)
    except ArmError:
        return None


def _platform(doc: dict[str, Any], ref: dict[str, Any], want: str) -> list[Op]:
    sib = vmimages.trusted_launch_sibling(ref.get("publisher", ""), ref.get("offer", ""), ref.get("sku", ""))
    if sib is None or sib.sku.lower() == str(ref.get("sku", "")).lower():
        return []
    version = ref.get("version") or "latest"
    if version.lower() != "latest" and version not in sib.versions:
        return []  # the same build is not published for the sibling: not the same bits
    new_ref = {"publisher": sib.publisher, "offer": sib.offer, "sku": sib.sku, "version": version}
    return [voc.patch(doc, {IMAGE_REF: new_ref, SEC: want})]


def _gallery(sim: Sim, doc: dict[str, Any], ref: dict[str, Any], cur: images.ImageFacts, want: str) -> list[Op]:
    st = facts.IN_PLACE_DEFINITION[want]
    by_definition = images.ref_kind(ref.get("id") or "") == "definition"  # the set follows 'latest': keep doing so
    out: list[Op] = []
    equivalents = _equivalents(sim, cur, want)
    for ver in equivalents:
        if not images.available_in(v.ImageVersion(ver), doc["location"]):
            if not any(regions.normalize(t.get("name", "")) == regions.normalize(doc["location"])
                       for t in v.ImageVersion(ver).target_regions):
                out.append(voc.replicate_version(ver, regions.normalize(doc["location"])))
            continue
        target = str(ResourceId.parse(ver["id"]).parent) if by_definition else ver["id"]
        out.append(voc.patch(doc, {f"{IMAGE_REF}.id": target, SEC: want}))
    if equivalents:
        return out
    name = _name(cur.source_id, st)
    galleries = _galleries(sim, doc, cur.source_id)
    if not galleries:
        rid = ResourceId.parse(doc["id"])
        rg = str(ResourceId(rid.subscription, rid.resource_group))
        return [voc.create_gallery(rg, gallery_name(rid.resource_group), doc["location"])]
    gal = galleries[0]
    definition = sim.get(f"{gal['id']}/images/{name}")
    if definition is None:
        return [voc.create_image_definition(gal, name, st, cur.hyper_v_generation, cur.os_type, cur.os_state,
                                            temporary=False)]
    if not _fits(definition, cur, want):
        return []  # a definition of that name is there for something else: no name of refit's to take
    version = _version_name(cur.source_id)
    if sim.get(f"{definition['id']}/versions/{version}") is not None:
        return []
    src_loc = regions.normalize((sim.get(cur.source_id) or {}).get("location") or doc["location"])
    regs = sorted({regions.normalize(doc["location"]), src_loc})
    return [voc.create_image_version(definition, version, cur.source_id, regs, temporary=False)]


def _equivalents(sim: Sim, cur: images.ImageFacts, want: str) -> list[dict[str, Any]]:
    """Versions built from the image the set runs, in definitions that allow `want` without guest state."""
    out = []
    for ver in sim.world.of_type(v.IMAGE_VERSION):
        src = (get_path(ver, "properties.storageProfile.source.id")
               or get_path(ver, "properties.storageProfile.osDiskImage.source.id"))
        if not isinstance(src, str) or id_key(src) != id_key(cur.source_id):
            continue
        definition = sim.get(str(ResourceId.parse(ver["id"]).parent))
        if definition is not None and _fits(definition, cur, want):
            out.append(ver)
    return sorted(out, key=lambda d: id_key(d["id"]))


def _fits(definition: dict[str, Any], cur: images.ImageFacts, want: str) -> bool:
    d = v.ImageDefinition(definition)
    return (d.security_type not in facts.GUEST_STATE_DEFINITIONS
            and facts.image_allows(d.security_type, d.hyper_v_generation, want)
            and d.hyper_v_generation == cur.hyper_v_generation
            and (d.os_type or "").lower() == cur.os_type.lower() and (d.os_state or "").lower() == cur.os_state.lower())


def _galleries(sim: Sim, doc: dict[str, Any], source_id: str) -> list[dict[str, Any]]:
    """Galleries of the set's resource group, then of the image's."""
    out: list[dict[str, Any]] = []
    for rid in (doc["id"], source_id):
        with contextlib.suppress(ArmError):
            r = ResourceId.parse(rid)
            prefix = id_key(ResourceId(r.subscription, r.resource_group)) + "/"
            out += sorted((g for g in sim.world.of_type(v.GALLERY) if id_key(g["id"]).startswith(prefix)
                           and g not in out), key=lambda g: id_key(g["id"]))
    return out


def _name(source_id: str, security_type: str) -> str:
    """The definition's name: the image it holds, and what it allows (img-app-2026-01 -> img-app-2026-01-tls)."""
    rid = ResourceId.parse(source_id)
    base = rid.types[1][1] if rid.type.lower() == v.IMAGE_VERSION.lower() else rid.name
    return f"{base}-{_SHORT[security_type]}"[:80]


def _version_name(source_id: str) -> str:
    """A version keeps the number of the version it copies; from a managed image it is the first, 1.0.0."""
    rid = ResourceId.parse(source_id)
    return rid.name if rid.type.lower() == v.IMAGE_VERSION.lower() else "1.0.0"


def gallery_name(resource_group: str) -> str:
    """Gallery names take letters, digits, underscores and periods (acd create-gallery.md)."""
    return "gal_" + "".join(c if c.isalnum() or c in "_." else "_" for c in resource_group)[:76]
