"""Azure's behaviour per resource type (the effects of writes and actions): one module per provider
family, one handler per type. The emulator serves them; the planner simulates with them."""

from __future__ import annotations

from refit.platform.effects.base import GenericType, ResourceType
from refit.platform.rules import RULES

_TYPES: dict[str, ResourceType] = {}


def register(h: ResourceType) -> ResourceType:
    _TYPES[h.type.lower()] = h
    return h


def known_type(rtype: str) -> bool:
    _ensure_loaded()
    return rtype.lower() in _TYPES


def handler_for(rtype: str) -> ResourceType:
    _ensure_loaded()
    h = _TYPES.get(rtype.lower())
    if h is None:
        ns, _, rest = rtype.partition("/")
        raise RULES["ARM4"].refuse(type=rest, namespace=ns)
    return h


def adopt(cloud, doc: dict) -> None:
    """Take an observed document into a Cloud, with the state Azure keeps beside it (see ResourceType.adopt)."""
    h = _TYPES.get((doc.get("type") or "").lower()) if known_type(doc.get("type") or "") else None
    if h is None:
        cloud.world.add(doc)
    else:
        h.adopt(cloud, doc)


def all_types() -> list[str]:
    _ensure_loaded()
    return [h.type for h in _TYPES.values()]


_loaded = False


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from refit.platform.effects import (  # noqa: F401
        authorization,
        capacity,
        deployments,
        disk_encryption_sets,
        disks,
        extensions,
        flowlogs,
        galleries,
        imagebuilder,
        images,
        network,
        resources,
        storage,
        vm,
        vmss,
        vmss_views,
        vmss_vm,
    )

    # Stored documents with no behaviour of their own: what checks read and VMs reference.
    for t, loc in (
        ("Microsoft.Compute/snapshots", True),
        ("Microsoft.Insights/autoscalesettings", True),
    ):
        register(GenericType(t, needs_location=loc))


__all__ = ["GenericType", "ResourceType", "adopt", "all_types", "handler_for", "known_type", "register"]
