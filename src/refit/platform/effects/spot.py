"""Spot instances of a scale set: Spot Priority Mix and evictions.

Spot Priority Mix (https://learn.microsoft.com/azure/virtual-machine-scale-sets/spot-priority-mix): a Flexible set
whose model is `priority: Spot` with `priorityMixPolicy` runs `baseRegularPriorityCount` regular instances first,
then `regularPriorityPercentageAboveBase` percent of the instances above that base as regular and the rest as Spot
("Base VM count ... Percentage above base"). A fractional regular count rounds down: "With odd numbers, Spot VMs get the
extra VM" (capacity 41, base 10, 50 %: 15 regular, 16 Spot; capacity 20, base 10, 25 %: "2.5 rounded to 2"). Without a
mix, every instance has the model's priority.

Evictions are Azure's decision, not a call: the emulator's control API injects them (`POST /_refit/evictions`). An
evicted instance is deallocated or deleted as the model's `evictionPolicy` says (https://learn.microsoft.com/azure/
virtual-machines/spot-vms "Eviction policy": Deallocate, the default, or Delete); a deleted one lowers the set's
capacity (INFERRED: the set no longer counts an instance Azure took away).
"""

from __future__ import annotations

from typing import Any

from refit.platform.cloud import Cloud

Doc = dict[str, Any]


def _profile(vmss: Doc) -> Doc:
    return (vmss.get("properties") or {}).get("virtualMachineProfile") or {}


def is_spot_set(vmss: Doc) -> bool:
    return str(_profile(vmss).get("priority") or "Regular").lower() == "spot"


def regular_wanted(vmss: Doc, count: int) -> int:
    """How many of `count` instances the mix wants regular."""
    mix = (vmss.get("properties") or {}).get("priorityMixPolicy") or {}
    if not is_spot_set(vmss):
        return count
    if not mix:
        return 0
    base = max(0, int(mix.get("baseRegularPriorityCount") or 0))
    pct = max(0, min(100, int(mix.get("regularPriorityPercentageAboveBase") or 0)))
    above = max(0, count - base)
    return min(count, base) + above * pct // 100


def priority_of(cloud: Cloud, inst: Doc) -> str:
    return str(cloud.priv(inst["id"]).get("priority") or (inst.get("properties") or {}).get("priority") or "Regular")


def next_priority(cloud: Cloud, vmss: Doc, existing: list[Doc]) -> str:
    """Regular or Spot for the instance a scale-out adds next."""
    if not is_spot_set(vmss):
        return "Regular"
    regular = sum(1 for d in existing if priority_of(cloud, d) == "Regular")
    return "Regular" if regular < regular_wanted(vmss, len(existing) + 1) else "Spot"


def evict(cloud: Cloud, vmss: Doc, count: int) -> list[str]:
    """Evict up to `count` running Spot instances (newest first, INFERRED); the names of those evicted."""
    from refit.platform.effects import vmss_instances
    from refit.platform.effects.vm import power_state, set_power

    spot = [d for d in reversed(vmss_instances.members(cloud, vmss))
            if priority_of(cloud, d) == "Spot" and power_state(cloud, d["id"]) == "running"]
    out = []
    policy = str(_profile(vmss).get("evictionPolicy") or "Deallocate").lower()
    for inst in spot[:count]:
        out.append(vmss_instances.instance_id(inst))
        if policy == "delete":
            vmss_instances.remove(cloud, inst)
            vmss["sku"]["capacity"] = max(0, int(vmss["sku"].get("capacity") or 0) - 1)
        else:
            from refit.platform.effects import disks
            from refit.platform.effects.vm import _disk_ids

            set_power(cloud, inst, "deallocated")
            for did in _disk_ids(inst):
                disks.attach(cloud, did, inst["id"], False)
            cloud.priv(inst["id"])["evicted"] = cloud.now_iso()
            cloud.save(inst)
    cloud.save(vmss)
    return out
