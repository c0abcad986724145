"""A goal that names a gallery image definition that does not exist yet: the definition, its gallery when there is
none, and its first version built from the managed image the scale set runs now (the same bits), so that the set
can move onto the definition and follow its latest version from then on (the `track-latest` intent for a set on a
managed image: H4, automatic OS image upgrade needs a gallery definition or a platform image,
https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-upgrade).

The definition allows what the set runs and what its goal asks (TrustedLaunchSupported for a Gen2 image, the
portal's default for new definitions, so that a later move to Trusted Launch needs no new image). What is created
is permanent: the end state uses it.
"""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.arm.paths import get_path
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan.goal import Goal
from refit.plan.sim import Sim
from refit.platform import regions
from refit.platform.rules import facts, images

IMAGE_REF = "properties.virtualMachineProfile.storageProfile.imageReference"
SEC = "properties.virtualMachineProfile.securityProfile.securityType"
PREFERRED = "TrustedLaunchSupported"


def candidates(sim: Sim, goals: list[Goal]) -> list[Op]:
    out: list[Op] = []
    for g in goals:
        doc = sim.get(g.resource)
        want = g.properties.get(f"{IMAGE_REF}.id")
        if doc is None or doc["type"].lower() != v.VMSS.lower() or not isinstance(want, str):
            continue
        if images.ref_kind(want) != "definition" or (sim.get(want) is not None and sim.world.children(
                want, v.IMAGE_VERSION)):
            continue  # not a definition, or one that already has a version to boot
        ref = get_path(doc, IMAGE_REF) or {}
        src = ref.get("id")
        if not isinstance(src, str) or images.ref_kind(src) != "managed-image" or sim.get(src) is None:
            continue
        try:
            cur = images.facts(sim.world, ref, doc["location"])
        except ArmError:
            continue
        rid = ResourceId.parse(want)
        gallery = sim.get(str(rid.parent))
        if gallery is None:
            out.append(voc.create_gallery(str(ResourceId(rid.subscription, rid.resource_group)), rid.parent.name,
                                          doc["location"]))
            continue
        definition = sim.get(want)
        if definition is None:
            st = _security_type(cur.hyper_v_generation, {v.Vmss(doc).security_type or "Standard",
                                                         g.properties.get(SEC) or "Standard"})
            if st is not None:
                out.append(voc.create_image_definition(gallery, rid.name, st, cur.hyper_v_generation, cur.os_type,
                                                       cur.os_state, temporary=False))
            continue
        regs = sorted({regions.normalize(doc["location"]), regions.normalize(sim.get(src)["location"])})
        out.append(voc.create_image_version(definition, "1.0.0", src, regs, temporary=False))
    return out


def _security_type(generation: str, runs: set[str]) -> str | None:
    """The definition's SecurityType: TrustedLaunchSupported where it allows what the set runs and will run, else
    the first of the catalog's that does."""
    fits = [st for st in facts.DEFINITION_SECURITY_TYPES if st not in facts.GUEST_STATE_DEFINITIONS
            and all(facts.image_allows(st, generation, s) for s in runs)]
    return PREFERRED if PREFERRED in fits else (fits[0] if fits else None)
