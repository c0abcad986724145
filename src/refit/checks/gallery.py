"""Gallery readings shared by the RF-GAL checks: consumers of a version, latest, target regions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key
from refit.checks import helpers as h
from refit.checks.model import Eval
from refit.platform.rules import doctor_facts as df

PP = "properties.publishingProfile"


def definition_of(version_id: str) -> str:
    return str(ResourceId.parse(version_id).parent)


def newest(ev: Eval, definition_id: str) -> dict[str, Any] | None:
    """The highest non-excluded version of a definition, whatever the region (what 'latest' should be)."""
    best, best_v = None, (-1, -1, -1)
    for d in ev.ctx.world.children(definition_id, v.IMAGE_VERSION):
        if ev.of(d, f"{PP}.excludeFromLatest"):
            continue
        ver = v.version_tuple(d["name"])
        if ver > best_v:
            best, best_v = d, ver
    return best


def consumers(ev: Eval, version: dict[str, Any]) -> list[tuple[dict[str, Any], str, str, str]]:
    """(consumer, path, region, how) of a version: pinned to it, or tracking latest of its definition while
    this version is the newest."""
    out = [(d, p, r, "pinned") for d, p, r in ev.ctx.consumers_by_image.get(id_key(version["id"]), [])]
    for d, p, _, _ in out:
        ev.require("location", p, doc=d)
    for d, p in ev.ctx.unknown_image_refs:  # a consumer whose image is not known could use this version
        ev.require(p, doc=d)
    definition = definition_of(version["id"])
    tracking = ev.ctx.consumers_by_image.get(id_key(definition), [])
    if tracking:
        n = newest(ev, definition)
        if n is not None and id_key(n["id"]) == id_key(version["id"]):
            out += [(d, p, r, "latest") for d, p, r in tracking]
            for d, p, _ in tracking:
                ev.require("location", p, doc=d)
    return out


def consumer_name(d: dict[str, Any]) -> str:
    """A consumer as reports name it: a VM's OS disk by its VM (`vm-01 (OS disk vm-01-os)`)."""
    owner = d.get("managedBy")
    if owner and str(d.get("type") or "").lower() == v.DISK.lower():
        return f"{h.short(owner)} (OS disk {d['name']})"
    return h.short(d["id"])


def targets(ev: Eval, version: dict[str, Any]) -> list[dict[str, Any]]:
    ts = ev.get(f"{PP}.targetRegions") if version is ev.doc else ev.of(version, f"{PP}.targetRegions")
    if not ts:
        return [{"name": version.get("location") or ""}]
    return [t for t in ts if isinstance(t, dict)]


def target_names(ev: Eval, version: dict[str, Any]) -> set[str]:
    return {df.normalize_region(t.get("name") or "") for t in targets(ev, version)}


def parse_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
