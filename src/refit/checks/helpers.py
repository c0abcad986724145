"""Readings several checks share (scale-set health, rolling policy in effect, image references), all
through `Eval` so that unresolved values make the check unknown."""

from __future__ import annotations

from typing import Any

from refit.arm import location
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.checks.model import Eval
from refit.platform.rules import facts
from refit.platform.rules import images as image_rules

VMP = "properties.virtualMachineProfile"
EXT_PROFILE = f"{VMP}.extensionProfile.extensions"
HEALTH_PROBE = f"{VMP}.networkProfile.healthProbe.id"
ROLLING = "properties.upgradePolicy.rollingUpgradePolicy"
AUTO_OS = "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade"
IMAGE_ID = f"{VMP}.storageProfile.imageReference"


def is_flex(ev: Eval) -> bool:
    return (ev.get("properties.orchestrationMode") or "Uniform").lower() == "flexible"


def upgrade_mode(ev: Eval) -> str:
    return ev.get("properties.upgradePolicy.mode") or "Manual"


def auto_os(ev: Eval) -> bool:
    return bool(ev.get(AUTO_OS))


def repairs_enabled(ev: Eval) -> bool:
    return bool(ev.get("properties.automaticRepairsPolicy.enabled"))


def rolling_policy_in_effect(ev: Eval) -> bool:
    """The rolling policy governs model changes in Rolling mode, and automatic OS upgrades in every mode
    (seed 001 section 4: automatic OS upgrade "always uses the rolling-upgrade policy regardless of mode")."""
    return upgrade_mode(ev).lower() == "rolling" or auto_os(ev)


def _ext_type(e: dict[str, Any]) -> str:
    return get_path(e, "properties.type") or get_path(e, "type") or ""


def health_extensions(ev: Eval, doc: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Application Health extensions in the model (extensionProfile) and as child extension resources."""
    d = ev.doc if doc is None else doc
    if d is ev.doc:
        exts = list(ev.get(EXT_PROFILE) or [])
    else:
        exts = list(ev.of(d, EXT_PROFILE) or []) if (d.get("type") or "").lower().endswith("virtualmachinescalesets") \
            else []
    for child in ev.ctx.extensions(d):
        ev.require("properties.type", "properties.typeHandlerVersion", "properties.settings", doc=child)
        exts.append(child)
    return [e for e in exts if facts.is_health_extension(_ext_type(e))]


def health_sources(ev: Eval) -> list[str]:
    ev.require(HEALTH_PROBE, EXT_PROFILE)
    return facts.health_sources(ev.doc, [e for e in ev.ctx.extensions(ev.doc)
                                         if facts.is_health_extension(_ext_type(e))])


def ext_settings(e: dict[str, Any]) -> dict[str, Any]:
    s = get_path(e, "properties.settings")
    if isinstance(s, str):  # Terraform and some templates carry settings as a JSON string
        import json

        try:
            s = json.loads(s)
        except ValueError:
            return {}
    return s if isinstance(s, dict) else {}


def major_minor(version: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(x) for x in str(version).split(".")[:2])
    except ValueError:
        return None


def short(rid: str) -> str:
    """`vmss-app` from a full id (reports stay readable; JSON carries the full id)."""
    try:
        r = ResourceId.parse(rid)
    except Exception:
        return rid
    return "/".join(n for _, n in r.types) or r.name


def image_kind(ref: str) -> str:
    if id_key(ref).endswith("/versions/latest"):
        return "latest-keyword"
    return image_rules.ref_kind(ref)


def region(ev: Eval, doc: dict[str, Any] | None = None) -> str:
    loc = ev.get("location") if doc is None else ev.of(doc, "location")
    return location.normalize(loc)
