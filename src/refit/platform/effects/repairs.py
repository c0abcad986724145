"""Automatic instance repairs: an instance that stays unhealthy is repaired by the set's `repairAction`.

https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-instance-repairs:
- the policy `automaticRepairsPolicy {enabled, gracePeriod (PT10M-PT90M, default PT10M), repairAction (Replace, the
  default; Reimage; Restart)}` needs the set's one health source (rules H2, H10);
- an instance is repaired once it reports Unhealthy or Unknown ("An instance in an Unknown state is treated similar to
  an Unhealthy instance"; Initializing is not repaired: health-extension page) and the grace period, which "starts
  after a state change ... completes" and is "honored for newly created instances", has passed: counted here from the
  instance's last start (INFERRED for instances the set restarted itself);
- Replace deletes the instance and creates a new one from the latest model (a new instance id); Reimage gives it a new
  OS disk; Restart restarts it;
- "no more than 5% of the total instances in the scale set are repaired ... fewer than 20 instances, one unhealthy
  instance at a time";
- protected instances (either protection policy) are not repaired;
- `orchestrationServices[{serviceName: AutomaticRepairs, serviceState}]`: Running when enabled, Suspended after
  `setOrchestrationServiceState` Suspend, NotRunning when the policy is defined but not enabled; the platform suspends
  repairs itself when repaired instances keep coming back unhealthy: here after five repairs in a row with no repaired
  instance turning healthy (INFERRED count; the page gives none).
A grace period shorter than boot plus warm-up therefore repairs instances that were about to turn healthy, again and
again (seed 001, troubleshooting row 7).
"""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.platform.cloud import Answer, Cloud, Operation
from refit.platform.effects import health, rolling, vmss_instances
from refit.platform.rules import RULES, facts

Doc = dict[str, Any]
SERVICE = "AutomaticRepairs"
SUSPEND_AFTER = 5  # repairs in a row without a healthy repaired instance (INFERRED)


def policy(vmss: Doc) -> Doc:
    return (vmss.get("properties") or {}).get("automaticRepairsPolicy") or {}


def enabled(vmss: Doc) -> bool:
    return str(policy(vmss).get("enabled")).lower() == "true"


def grace_seconds(vmss: Doc) -> float:
    return facts.iso_seconds(policy(vmss).get("gracePeriod") or "PT10M")


def service_state(cloud: Cloud, vmss: Doc) -> str | None:
    if not policy(vmss):
        return None
    if not enabled(vmss):
        return "NotRunning"
    return "Suspended" if cloud.priv(vmss["id"]).get("repairs_suspended") else "Running"


def services(cloud: Cloud, vmss: Doc) -> list[Doc]:
    st = service_state(cloud, vmss)
    return [] if st is None else [{"serviceName": SERVICE, "serviceState": st}]


def set_state(cloud: Cloud, vmss: Doc, body: Doc, api: str) -> Answer:
    """POST setOrchestrationServiceState {serviceName: AutomaticRepairs, action: Suspend | Resume}."""
    name, action = str(body.get("serviceName") or ""), str(body.get("action") or "")
    if name.lower() != SERVICE.lower():
        raise RULES["M21"].refuse(param="serviceName", value=name)
    if action.lower() not in ("suspend", "resume"):
        raise RULES["M21"].refuse(param="action", value=action)
    if not enabled(vmss):
        raise RULES["M22"].refuse(name=vmss["name"])
    priv = cloud.priv(vmss["id"])
    if action.lower() == "suspend":
        priv["repairs_suspended"] = True
    else:
        priv.pop("repairs_suspended", None)
        priv["repairs_in_a_row"] = 0
    cloud.save(vmss)
    watch(cloud, vmss, api)
    op = cloud.begin(vmss["id"], "action", "accepted", 1.0, vmss["location"], api, {"accepted": True}, internal=True)
    return Answer(202, None, op, location=True)


# ---- the watcher ----------------------------------------------------------------------------------------------------
def watch(cloud: Cloud, vmss: Doc, api: str = "", inst: Doc | None = None) -> None:
    """Make sure a timer looks at the set when something may next need repair (one timer per set); `inst`: only that
    instance changed (it booted), so only it is looked at."""
    priv = cloud.priv(vmss["id"])
    if service_state(cloud, vmss) != "Running":
        return
    t = next_check(cloud, vmss) if inst is None else _eligible_at(cloud, vmss, inst)
    if t is None:
        return
    op = cloud.ops.get(priv.get("repairs_timer") or "")
    if op is not None and op.status == "InProgress":
        if op.end > t:
            op.end = t
            cloud._push(op)  # the earlier end is queued too; the later entry finds the op finished
        return
    op = cloud.begin(vmss["id"], "action", "repairs", max(0.0, t - cloud.now()), vmss["location"], api, {},
                     internal=True)
    priv["repairs_timer"] = op.id


def _eligible_at(cloud: Cloud, vmss: Doc, inst: Doc) -> float | None:
    """When this instance is due for repair if it stays as it is (None: it is not heading for one)."""
    if vmss_instances.protected(cloud, inst, "scale_in") or vmss_instances.protected(cloud, inst, "actions"):
        return None
    priv = cloud.priv(inst["id"])
    if priv.get("power", "running") != "running" or (inst["properties"].get("provisioningState") or "Succeeded") != \
            "Succeeded":
        return None  # being created, started or upgraded: looked at again when it boots (health.started)
    # The grace period "starts after a state change (PUT, PATCH or POST on the scale set) completes" and is honoured
    # for new instances: from the later of the set's last change and the instance's last boot.
    since = max(float(priv.get("booted_at") or 0.0), float(cloud.priv(vmss["id"]).get("changed_at") or 0.0))
    st = health.state(cloud, inst)
    if st in ("unhealthy", "unknown"):
        return max(cloud.now(), since + grace_seconds(vmss))
    t = health.settles_at(cloud, inst)
    if t is None:
        return None
    return max(t, since + grace_seconds(vmss))


def next_check(cloud: Cloud, vmss: Doc) -> float | None:
    times = [t for t in (_eligible_at(cloud, vmss, d) for d in vmss_instances.members(cloud, vmss)) if t is not None]
    return min(times) if times else None


def wake(cloud: Cloud, op: Operation) -> None:
    vmss = cloud.get(op.resource_id)
    if vmss is None or service_state(cloud, vmss) != "Running" or rolling.running(cloud, vmss) is not None:
        return
    now = cloud.now()
    insts = vmss_instances.members(cloud, vmss)
    due = [d for d in insts if health.state(cloud, d) in ("unhealthy", "unknown")
           and (_eligible_at(cloud, vmss, d) or now + 1) <= now]
    limit = 1 if len(insts) < 20 else max(1, len(insts) * 5 // 100)
    priv = cloud.priv(vmss["id"])
    for inst in due[:limit]:
        repair(cloud, vmss, inst)
        priv["repairs_in_a_row"] = int(priv.get("repairs_in_a_row", 0)) + 1
        priv.setdefault("repair_log", []).append({"time": cloud.now_iso(), "instance": vmss_instances.instance_id(inst),
                                                   "action": policy(vmss).get("repairAction") or "Replace"})
        del priv["repair_log"][:-50]
    if any(health.state(cloud, d) == "healthy" for d in vmss_instances.members(cloud, vmss)
           if cloud.priv(d["id"]).get("repaired")):
        priv["repairs_in_a_row"] = 0
    if int(priv.get("repairs_in_a_row", 0)) >= SUSPEND_AFTER:
        priv["repairs_suspended"] = True
    cloud.save(vmss)
    t = next_check(cloud, vmss)
    if t is not None and service_state(cloud, vmss) == "Running":
        op.end = max(t, now + 1.0)
        op.status = "InProgress"


def repair(cloud: Cloud, vmss: Doc, inst: Doc) -> None:
    from refit.platform.effects.vm import set_power

    action = str(policy(vmss).get("repairAction") or "Replace").lower()
    if action == "replace":
        vmss_instances.remove(cloud, inst)
        try:
            made = vmss_instances.add(cloud, vmss, 1, "", at_once=True)
        except ArmError:
            return
        for d in made:
            cloud.priv(d["id"]).update({"booted_at": cloud.now(), "repaired": True})
            cloud.save(d)
        return
    if action == "reimage":
        vmss_instances.new_os_disk(cloud, vmss, inst, vmss_instances.target_image(cloud, vmss))
        vmss_instances.commit(cloud, inst)
    set_power(cloud, inst, "running")
    cloud.priv(inst["id"]).update({"booted_at": cloud.now(), "repaired": True})
    cloud.save(inst)

