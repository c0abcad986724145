"""Which image resources a path creates only for itself: decided on the state the path ends in.

The images a path creates (galleries, definitions, versions) are kept when the end state uses them, and are
temporary, offered for clean-up (`refit apply --cleanup`), when it does not: seed 000's bridge definition is
used only on the way to `app-tl`; the TrustedLaunchSupported copy of a scale set's managed image is the image the
set runs at the end. A resource is used when a document outside it references it, something inside it (a
gallery holds definitions, a definition its versions), or, for a version, its definition (a set that follows
'latest' runs the definition's versions).
"""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key
from refit.ops.op import Op
from refit.plan import search
from refit.plan.sim import Sim

IMAGE_CREATIONS = ("create_gallery", "create_image_definition", "create_image_version")


def classify(path: list[Op], end: Sim) -> None:
    """Set `temporary` on each image creation of the path: True when the end state does not use it."""
    created = [op for op in path if op.name in IMAGE_CREATIONS and op.creates]
    if not created:
        return
    refs: list[tuple[str, str]] = []  # (key of the referring document, key of what it references)
    for d in end.world:
        k = id_key(d["id"])
        refs += [(k, id_key(r)) for r in search._refs(d)]
    for op in created:
        key = id_key(op.creates)
        used = {key}
        rid = ResourceId.parse(op.creates)
        if rid.type.lower() == v.IMAGE_VERSION.lower():
            used.add(id_key(str(rid.parent)))
        op.temporary = not any(
            not (src == key or src.startswith(key + "/"))
            and (target in used or target.startswith(key + "/"))
            for src, target in refs)
