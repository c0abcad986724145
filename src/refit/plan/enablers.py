"""Settings a change needs that the goal does not name: set for the change, and restored after it.

"Enabling Trusted launch on existing virtual machine Scale sets with data disks attached requires upgrade mode
set to Rolling upgrade with max surge" (rule V3, acd trusted-launch-existing-vmss.md): for a goal of only the
security type on such a set, the planner sets `facts.DATA_DISK_UPGRADE_POLICY` before the change, and afterwards
restores the upgrade policy the set had (an implicit goal, as every VM ends in the power state it started in: the
user asked for the security type, not for a new upgrade policy). Rolling mode in turn needs a health source (H1):
the catalog refuses the policy on a set without one, and the answer names that rule.
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.arm.paths import get_path
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan.goal import Goal, equal, unmet
from refit.plan.sim import Sim
from refit.platform.rules import facts

SEC = "properties.virtualMachineProfile.securityProfile.securityType"
DATA_DISKS = "properties.virtualMachineProfile.storageProfile.dataDisks"
ENABLE, RESTORE = "set_upgrade_policy", "restore_upgrade_policy"  # the ops' names in the plan


def restorable(sim: Sim, goals: list[Goal]) -> dict[str, dict[str, Any]]:
    """Per goal scale set that may need the policy: the values it starts with (to end with them)."""
    out: dict[str, dict[str, Any]] = {}
    for g in goals:
        doc = sim.get(g.resource)
        if doc is None or doc["type"].lower() != v.VMSS.lower() or SEC not in g.properties:
            continue
        paths = [p for p in facts.DATA_DISK_UPGRADE_POLICY if p not in g.properties]
        if paths and get_path(doc, DATA_DISKS):
            out[id_key(doc["id"])] = {p: get_path(doc, p) for p in paths}
    return out


def restored(sim: Sim, restore: dict[str, dict[str, Any]]) -> bool:
    return all(_same(get_path(sim.get(k), p), val) for k, vals in restore.items() if sim.get(k) is not None
               for p, val in vals.items())


def _same(actual: Any, initial: Any) -> bool:
    if initial is None:
        return actual in (None, False)  # left out, or Azure's default written back (maxSurge false)
    return equal(actual, initial)


def candidates(sim: Sim, goals: list[Goal], restore: dict[str, dict[str, Any]]) -> list[Op]:
    out: list[Op] = []
    for g in goals:
        key = id_key(g.resource)
        doc = sim.get(g.resource)
        if doc is None or key not in restore:
            continue
        if unmet(doc, g):
            policy = {p: val for p, val in facts.DATA_DISK_UPGRADE_POLICY.items() if p in restore[key]}
            if any(get_path(doc, p) != val for p, val in policy.items()):
                op = voc.patch(doc, policy, summary=f"PATCH {doc['name']}: upgradePolicy Rolling with maxSurge")
                op.name = ENABLE
                out.append(op)
        else:
            back = {p: val for p, val in restore[key].items() if not _same(get_path(doc, p), val)}
            if back:
                mode = restore[key].get("properties.upgradePolicy.mode") or "as it was"
                op = voc.patch(doc, back, summary=f"PATCH {doc['name']}: upgradePolicy back to {mode}")
                op.name = RESTORE
                out.append(op)
    return out
