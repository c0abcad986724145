"""Automatic OS image upgrades: the platform rolls a new image version onto a set that tracks the latest one.

https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-upgrade:
- a set with `upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade` whose image is referenced as latest (a
  gallery definition without a version, rule H4) gets "a new version [of a custom image] ... replicated to the region"
  once it is latest there: replication Completed in the set's region and not `excludeFromLatest` (rules G13);
- it starts after a delay (timing `vmss.auto_os_upgrade_delay`; "It can take up to 3 hours ... to trigger the first
  image upgrade rollout") and runs as an OS rolling upgrade started by the Platform, under the rolling upgrade policy
  ("these features use the rolling upgrade policy configuration settings"), with automatic rollback of failed
  instances unless `disableAutomaticRollback` (rolling.py);
- Flexible prerequisites (seed 001 section 4; the page's "Requirements"): the Application Health extension, whose
  version on each instance matches the model, and no maxSurge. The catalog refuses a set without the extension (H3),
  with two health sources (H2) or with maxSurge (H7); an instance whose extension version differs from the model's
  makes the platform skip the set silently (seed 001 troubleshooting row 5: "Auto-OS upgrade silently does nothing"),
  recorded here as the reason the doctor reads (`blocked`).
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.platform.cloud import Cloud, Operation
from refit.platform.effects import rolling, vmss_instances
from refit.platform.rules import facts

Doc = dict[str, Any]


def enabled(vmss: Doc) -> bool:
    pol = ((vmss.get("properties") or {}).get("upgradePolicy") or {}).get("automaticOSUpgradePolicy") or {}
    return str(pol.get("enableAutomaticOSUpgrade")).lower() == "true"


def _model_health_version(vmss: Doc) -> str | None:
    prof = (vmss.get("properties") or {}).get("virtualMachineProfile") or {}
    for e in (prof.get("extensionProfile") or {}).get("extensions") or []:
        p = (e or {}).get("properties") or {}
        if facts.is_health_extension(p.get("type")):
            return str(p.get("typeHandlerVersion") or "")
    return None


def blocked(cloud: Cloud, vmss: Doc) -> str | None:
    """Why the platform would not start an automatic OS upgrade on this set now (None: nothing stops it)."""
    if not vmss_instances.flexible(vmss):
        return None
    want = _model_health_version(vmss)
    for d in vmss_instances.members(cloud, vmss):
        have = None
        for e in vmss_instances.extensions_of(cloud, d):
            p = e.get("properties") or {}
            if facts.is_health_extension(p.get("type")):
                have = str(p.get("typeHandlerVersion") or "")
        if have != want:
            return (f"instance {vmss_instances.instance_id(d)} runs Application Health extension version {have or 'none'}"
                    f", the model has {want or 'none'}: bring the instances to the model (update-instances)")
    return None


def _faulted_targets(cloud: Cloud, vmss: Doc) -> set[str]:
    return {str(u.get("target") or "").lower() for u in rolling.upgrades(cloud, vmss)
            if u["kind"] == "os" and u["startedBy"] == "Platform" and u["code"] == "Faulted"}


def consider(cloud: Cloud, vmss: Doc, api: str = "") -> None:
    """Schedule the platform's upgrade if a newer latest image is there for this set (once per target)."""
    priv = cloud.priv(vmss["id"])
    if not enabled(vmss) or "id" not in v.Vmss(vmss).image_reference:
        priv.pop("auto_os", None)
        return
    reason = blocked(cloud, vmss)
    state = priv.setdefault("auto_os", {})
    state["blocked"] = reason
    target = vmss_instances.target_image(cloud, vmss)
    if reason or target is None or rolling.running(cloud, vmss) is not None:
        return
    if target.lower() in _faulted_targets(cloud, vmss):
        return
    if not any(not rolling._same(vmss_instances.running_image(cloud, d), target)
               for d in vmss_instances.members(cloud, vmss)):
        return
    op = cloud.ops.get(state.get("timer") or "")
    if op is not None and op.status == "InProgress":
        return
    op = cloud.begin(vmss["id"], "action", "auto_os", cloud.timing["vmss.auto_os_upgrade_delay"], vmss["location"], api,
                     {}, internal=True)
    state.update({"timer": op.id, "target": target})
    cloud.touch(vmss["id"])


def due(cloud: Cloud, vmss: Doc, op: Operation) -> None:
    """The delay has passed: start with the version that is latest now (an excluded one is no longer it)."""
    state = cloud.priv(vmss["id"]).setdefault("auto_os", {})
    state.pop("timer", None)
    if not enabled(vmss) or blocked(cloud, vmss) or rolling.running(cloud, vmss) is not None:
        return
    target = vmss_instances.target_image(cloud, vmss)
    if target is None or target.lower() in _faulted_targets(cloud, vmss):
        return
    rolling.start(cloud, vmss, "os", "Platform", op.api_version, target)


def version_changed(cloud: Cloud, version_id: str) -> None:
    """A gallery image version finished replicating somewhere or changed (excludeFromLatest): the sets that track its
    definition look again."""
    definition = version_id.rstrip("/").rsplit("/versions/", 1)[0].lower()
    for vmss in cloud.world.of_type(v.VMSS):
        ref = str(v.Vmss(vmss).image_reference.get("id") or "").rstrip("/").lower()
        if ref == definition:
            consider(cloud, vmss)
