"""The rolling-upgrade engine: a scale set's instances brought to a new model or OS image batch by batch, gated by
their health, on the virtual clock.

One upgrade at a time per set, kept beside the set (`Cloud.priv(set)["upgrades"]`, persisted with it) and driven by
one internal timer operation (persisted with the operations), so an upgrade in flight survives an emulator restart.
Every wake-up advances the upgrade as far as the clock allows and sets the timer to the next moment anything can
change (a batch's upgrade ends, a health state settles, a pause ends).

Azure's rules, with their sources (https://learn.microsoft.com/azure/virtual-machine-scale-sets/ ...):
- batch: `maxBatchInstancePercent` of the set's instances, at least one ("minimum batch size of one virtual machine",
  virtual-machine-scale-sets-automatic-upgrade); unhealthy instances first with `prioritizeUnhealthyInstances`; the
  batch stays within one availability zone unless `enableCrossZoneUpgrade` ("ignore Availability Zone boundaries when
  determining batches", virtual-machine-scale-sets-configure-rolling-upgrades);
- `maxSurge`: new instances with the latest model are created first and the old ones deleted once the new are
  healthy (same page);
- health: an upgraded instance must report Healthy; "the upgrade waits up to 5 minutes for the instance to become
  healthy" (automatic-upgrade page), Initializing is waited out ("Wait for the state to be in Healthy, Unhealthy, or
  Unknown", virtual-machine-scale-sets-health-extension); an instance not healthy by then has failed;
- rollback: a failed instance gets its previous OS disk back when the upgrade is the platform's automatic OS upgrade
  ("by default the previous OS disk for the instance is restored", unless `disableAutomaticRollback`) or when the policy
  says `rollbackFailedInstancesOnPolicyBreach` and a policy is breached; "Manual trigger of OS image upgrades does not
  provide automatic rollback capabilities";
- after each batch: more than `maxUnhealthyUpgradedInstancePercent` of the upgraded instances unhealthy cancels the
  upgrade (MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade); more than `maxUnhealthyInstancePercent` of the
  whole set unhealthy stops it at the end of the batch (MaxUnhealthyInstancePercentExceededInRollingUpgrade); before
  the first batch the same check is MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade (the automatic-upgrade
  page's error list); `pauseTimeBetweenBatches` between batches;
- `rollingUpgrades/latest`: `policy`, `runningStatus{code, startTime, lastAction, lastActionTime}`, `progress{...}`,
  `error` (VirtualMachineScaleSetRollingUpgrade_GetLatest_MaximumSet_Gen.json).
Whether a Faulted upgrade's target is retried by the platform is not documented: it is not (INFERRED), so a version
that failed stays off a set until a newer version is latest or a user starts an upgrade.
"""

from __future__ import annotations

import copy
import math
import uuid
from typing import Any

from refit.arm import views as v
from refit.platform.clock import iso
from refit.platform.cloud import Answer, Cloud, Operation
from refit.platform.effects import health, vmss_instances
from refit.platform.effects.vm import set_power
from refit.platform.rules import RULES, facts

Doc = dict[str, Any]
TIMERS = ("rolling", "auto_os")
HEALTH_WAIT = 300.0  # "waits up to 5 minutes for the instance to become healthy" (automatic-upgrade page)
KEEP = 10  # upgrades remembered per set (the history shows the last five OS upgrades)
DEFAULTS = {"maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20, "maxUnhealthyUpgradedInstancePercent": 20,
            "pauseTimeBetweenBatches": "PT0S", "enableCrossZoneUpgrade": False, "prioritizeUnhealthyInstances": False,
            "rollbackFailedInstancesOnPolicyBreach": False, "maxSurge": False}  # RollingUpgradePolicy descriptions


def policy_of(vmss: Doc) -> Doc:
    sent = ((vmss.get("properties") or {}).get("upgradePolicy") or {}).get("rollingUpgradePolicy") or {}
    return {k: sent.get(k, d) if sent.get(k) is not None else d for k, d in DEFAULTS.items()}


def upgrades(cloud: Cloud, vmss: Doc) -> list[Doc]:
    return cloud.priv(vmss["id"]).setdefault("upgrades", [])


def latest(cloud: Cloud, vmss: Doc) -> Doc | None:
    ups = cloud.priv(vmss["id"]).get("upgrades") or []
    return ups[-1] if ups else None


def running(cloud: Cloud, vmss: Doc) -> Doc | None:
    u = latest(cloud, vmss)
    return u if u is not None and u["code"] == "RollingForward" else None


# ---- starting ---------------------------------------------------------------------------------------------------
def start(cloud: Cloud, vmss: Doc, kind: str, started_by: str, api: str, target: str | None = None) -> Doc:
    """Begin an upgrade of `kind` model | os | extension. A running one is Azure's refusal (rule M18)."""
    if running(cloud, vmss) is not None:
        raise RULES["M18"].refuse(name=vmss["name"])
    if vmss_instances.flexible(vmss) and not any(
            facts.is_health_extension(((e or {}).get("properties") or {}).get("type"))
            for e in (((vmss["properties"].get("virtualMachineProfile") or {}).get("extensionProfile") or {})
                      .get("extensions") or [])):
        # "the scale set must also use the application health extension" (configure-rolling-upgrades, Flexible)
        raise RULES["M25"].refuse()
    pol = policy_of(vmss)
    auto = ((vmss["properties"].get("upgradePolicy") or {}).get("automaticOSUpgradePolicy") or {})
    now = cloud.now()
    u: Doc = {"id": str(uuid.uuid4()), "kind": kind, "startedBy": started_by, "policy": pol, "code": "RollingForward",
              "startTime": now, "lastAction": "Start", "lastActionTime": now, "endTime": None,
              "target": target, "targetRef": _target_ref(cloud, vmss, target), "pending": [], "succeeded": [],
              "failed": [], "batch": None, "next": now, "error": None, "rolledBack": 0, "rollbackFailed": 0,
              "autoRollback": started_by == "Platform" and auto.get("disableAutomaticRollback") is not True,
              "region": vmss["location"]}
    u["pending"] = [d["id"] for d in _needing(cloud, vmss, u, vmss_instances.members(cloud, vmss))]
    ups = upgrades(cloud, vmss)
    ups.append(u)
    del ups[:-KEEP]
    op = cloud.begin(vmss["id"], "action", "rolling", 0.0, vmss["location"], api, {"upgrade": u["id"]}, internal=True)
    u["timer"] = op.id
    cloud.save(vmss)
    return u


def start_os(cloud: Cloud, vmss: Doc, api: str) -> Answer:
    """POST osRollingUpgrade (`az vmss rolling-upgrade start`): instances not on the latest OS image get it; "instances
    that are already running the latest available OS version are not affected" (automatic-upgrade page)."""
    target = vmss_instances.target_image(cloud, vmss)
    u = start(cloud, vmss, "os", "User", api, target)
    return Answer(202, None, cloud.ops[u["timer"]], location=True)  # the POST's operation is the upgrade


def start_extension(cloud: Cloud, vmss: Doc, api: str) -> Answer:
    """POST extensionRollingUpgrade: the model's extensions onto every instance, batch by batch."""
    u = start(cloud, vmss, "extension", "User", api)
    return Answer(202, None, cloud.ops[u["timer"]], location=True)


def cancel(cloud: Cloud, vmss: Doc, api: str) -> Answer:
    """POST rollingUpgrades/cancel: no further batch starts; the batch in flight finishes (INFERRED). Nothing running
    is Azure's refusal (rule M19)."""
    u = running(cloud, vmss)
    if u is None:
        raise RULES["M19"].refuse(name=vmss["name"])
    now = cloud.now()
    u.update({"code": "Cancelled", "lastAction": "Cancel", "lastActionTime": now, "endTime": now})
    cloud.save(vmss)
    return _accepted(cloud, vmss, api)


def _accepted(cloud: Cloud, vmss: Doc, api: str) -> Answer:
    # The POST's own operation: accepted by the set quickly (INFERRED duration); the upgrade goes on as the set's
    # rollingUpgrades/latest reports it.
    op = cloud.begin(vmss["id"], "action", "accepted", 1.0, vmss["location"], api, {"accepted": True}, internal=True)
    return Answer(202, None, op, location=True)


def _target_ref(cloud: Cloud, vmss: Doc, target: str | None) -> Doc:
    ref = copy.deepcopy(v.Vmss(vmss).image_reference)
    if target and ref.get("id"):
        ref["exactVersion"] = target.rstrip("/").rsplit("/", 1)[-1]
    return ref


def _needing(cloud: Cloud, vmss: Doc, u: Doc, insts: list[Doc]) -> list[Doc]:
    """The instances this upgrade still has to bring: behind the model (model), not on the target image (os), all of
    them (extension); never one protected from actions on the set."""
    out = []
    for d in insts:
        if vmss_instances.protected(cloud, d, "actions"):
            continue
        if u["kind"] == "model" and vmss_instances.latest_applied(cloud, vmss, d):
            continue
        if u["kind"] == "os" and (not u["target"] or _same(vmss_instances.running_image(cloud, d), u["target"])):
            continue
        out.append(d)
    return out


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and str(a).lower() == str(b).lower()


# ---- the engine -----------------------------------------------------------------------------------------------------
def wake(cloud: Cloud, op: Operation) -> None:
    vmss = cloud.get(op.resource_id)
    if vmss is None:
        return
    if op.name == "auto_os":
        from refit.platform.effects import auto_os

        auto_os.due(cloud, vmss, op)
        return
    if op.data.get("accepted"):
        return
    u = next((x for x in upgrades(cloud, vmss) if x["id"] == op.data.get("upgrade")), None)
    if u is None:
        return
    nxt = advance(cloud, vmss, u)
    cloud.save(vmss)
    if nxt is None:
        from refit.platform.effects import auto_os, repairs

        auto_os.consider(cloud, vmss, op.api_version)  # a newer version may have become latest meanwhile
        repairs.watch(cloud, vmss, op.api_version)
        if u["code"] != "Completed":
            raise error_of(u)  # the operation of a user's start ends as the upgrade did
    else:
        op.end = max(nxt, cloud.now())  # the same timer carries on (Cloud._complete re-queues it)
        op.status = "InProgress"


def advance(cloud: Cloud, vmss: Doc, u: Doc) -> float | None:
    """Move the upgrade on as far as now allows; when to look again (None: it has ended)."""
    for _ in range(10_000):  # each turn settles a batch or starts one; bounded for safety
        now = cloud.now()
        b = u.get("batch")
        if b is not None:
            if now < b["until"]:
                return b["until"]
            if not b.get("booted"):
                _boot(cloud, vmss, b)
            wait = _judge(cloud, vmss, u, b)
            if wait is not None:
                return wait
            u["batch"] = None
            u["batches"][-1]["end"] = now
            _end_of_batch(cloud, vmss, u)
            if u["code"] != "RollingForward":
                return None
            u["next"] = now + facts.iso_seconds(u["policy"]["pauseTimeBetweenBatches"])
            continue
        if u["code"] != "RollingForward":
            return None  # cancelled: the batch in flight has finished
        insts = {d["id"]: d for d in vmss_instances.members(cloud, vmss)}
        todo = _needing(cloud, vmss, u, [insts[i] for i in u["pending"] if i in insts])
        u["pending"] = [d["id"] for d in todo]
        if not todo:
            _finish(cloud, u, "Completed")
            return None
        if now < u["next"]:
            return u["next"]
        if not u["succeeded"] and not u["failed"] and _unhealthy_percent(cloud, list(insts.values())) > \
                u["policy"]["maxUnhealthyInstancePercent"]:
            _fault(cloud, u, 2, percent=round(_unhealthy_percent(cloud, list(insts.values()))),
                   limit=u["policy"]["maxUnhealthyInstancePercent"])
            return None
        _begin_batch(cloud, vmss, u, todo, len(insts))
    return None


def batch_size(policy: Doc, total: int) -> int:
    return max(1, math.floor(total * int(policy["maxBatchInstancePercent"]) / 100))


def _begin_batch(cloud: Cloud, vmss: Doc, u: Doc, todo: list[Doc], total: int) -> None:
    pol = u["policy"]
    if pol["prioritizeUnhealthyInstances"]:
        todo = sorted(todo, key=lambda d: 0 if health.state(cloud, d) in ("unhealthy", "unknown") else 1)
    zonal = bool(vmss.get("zones"))
    if zonal and not pol["enableCrossZoneUpgrade"]:
        zone = (todo[0].get("zones") or [""])[0]
        todo = [d for d in todo if (d.get("zones") or [""])[0] == zone]
    chosen = todo[: batch_size(pol, total)]
    now = cloud.now()
    surge = bool(pol["maxSurge"]) and u["kind"] == "model"
    b: Doc = {"ids": [d["id"] for d in chosen], "surge": [], "started": now, "booted": False, "judged": {}}
    restart = False
    if surge:
        made = vmss_instances.add(cloud, vmss, len(chosen), "", at_once=True)
        for d in made:
            set_power(cloud, d, "starting")
            cloud.save(d)
        b["surge"] = [d["id"] for d in made]
        restart = True
        seconds = cloud.timing["vm.create"]
    else:
        for d in chosen:
            if u["kind"] == "extension":
                vmss_instances.apply_extensions(cloud, vmss, d)
                continue
            reimage = u["kind"] == "os"
            restart = vmss_instances.take_model(cloud, vmss, d, reimage=reimage, image=u.get("target")) or restart
            set_power(cloud, d, "restarting")
            d["properties"]["provisioningState"] = "Updating"
            cloud.save(d)
        seconds = cloud.timing["vmss.reimage_instance"] if restart else cloud.timing["vm.update"]
    b["until"] = now + seconds
    b["restart"] = restart
    u["batch"] = b
    u.setdefault("batches", []).append({"start": now, "end": None, "instances": len(chosen), "surge": surge})
    u["pending"] = [i for i in u["pending"] if i not in b["ids"]]


def _boot(cloud: Cloud, vmss: Doc, b: Doc) -> None:
    """The batch's upgrade ends at `until`: its instances run and their guests boot from then."""
    for iid in (b["surge"] or b["ids"]):
        d = cloud.get(iid)
        if d is None:
            continue
        set_power(cloud, d, "running")
        d["properties"]["provisioningState"] = "Succeeded"
        if b["restart"]:
            cloud.priv(d["id"])["booted_at"] = b["until"]
        cloud.save(d)
    b["booted"] = True
    b["deadline"] = b["until"] + HEALTH_WAIT


def _judge(cloud: Cloud, vmss: Doc, u: Doc, b: Doc) -> float | None:
    """Judge each instance of the batch: healthy succeeds; not healthy by the deadline (Initializing waited out)
    fails. When to look again, or None when every instance is judged."""
    now = cloud.now()
    wait: list[float] = []
    for iid in (b["surge"] or b["ids"]):
        if iid in b["judged"]:
            continue
        d = cloud.get(iid)
        st = health.state(cloud, d) if d is not None else "unhealthy"
        if d is None or st is None or st == "healthy":
            b["judged"][iid] = d is not None
            continue
        settles = health.settles_at(cloud, d)
        if st == "initializing" or now < b["deadline"]:
            wait.append(min(t for t in (settles, b["deadline"]) if t is not None and t > now)
                        if any(t is not None and t > now for t in (settles, b["deadline"])) else now + 1)
            continue
        b["judged"][iid] = False
    if wait:
        return min(wait)
    ok = [i for i in b["ids"] if b["judged"].get(i, False)] if not b["surge"] else []
    if b["surge"]:
        for new_id, old_id in zip(b["surge"], b["ids"], strict=False):
            new, old = cloud.get(new_id), cloud.get(old_id)
            if b["judged"].get(new_id):
                if old is not None:
                    vmss_instances.remove(cloud, old)
                u["succeeded"].append(new_id)
            else:
                if new is not None:
                    vmss_instances.remove(cloud, new)  # the old instance stays: nothing to roll back
                u["failed"].append(old_id)
        return None
    for iid in b["ids"]:
        d = cloud.get(iid)
        if d is None:
            continue
        if iid in ok:
            vmss_instances.commit(cloud, d)
            u["succeeded"].append(iid)
        else:
            u["failed"].append(iid)
            if u["autoRollback"]:
                _roll_back(cloud, u, d)
    return None


def _roll_back(cloud: Cloud, u: Doc, d: Doc) -> None:
    if vmss_instances.rollback(cloud, d):
        u["rolledBack"] += 1
        cloud.priv(d["id"])["booted_at"] = cloud.now()
    else:
        u["rollbackFailed"] += 1


def _end_of_batch(cloud: Cloud, vmss: Doc, u: Doc) -> None:
    pol = u["policy"]
    upgraded = len(u["succeeded"]) + len(u["failed"])
    if upgraded and 100 * len(u["failed"]) / upgraded > int(pol["maxUnhealthyUpgradedInstancePercent"]):
        if pol["rollbackFailedInstancesOnPolicyBreach"] and not u["autoRollback"]:
            for iid in u["failed"]:
                d = cloud.get(iid)
                if d is not None:
                    _roll_back(cloud, u, d)
        _fault(cloud, u, 0, percent=round(100 * len(u["failed"]) / upgraded),
               limit=pol["maxUnhealthyUpgradedInstancePercent"])
        return
    insts = vmss_instances.members(cloud, vmss)
    if insts and _unhealthy_percent(cloud, insts) > int(pol["maxUnhealthyInstancePercent"]):
        _fault(cloud, u, 1, percent=round(_unhealthy_percent(cloud, insts)), limit=pol["maxUnhealthyInstancePercent"])


def _unhealthy_percent(cloud: Cloud, insts: list[Doc]) -> float:
    bad = sum(1 for d in insts if health.state(cloud, d) in ("unhealthy", "unknown"))
    return 100 * bad / len(insts) if insts else 0.0


def _fault(cloud: Cloud, u: Doc, which: int, **fields: Any) -> None:
    u["error"] = RULES["M24"].refuse(which, **fields).body()["error"]
    _finish(cloud, u, "Faulted")


def error_of(u: Doc):
    """The ArmError an upgrade that did not complete ends its operation with (rule M24)."""
    from refit.platform.rules.registry import rebuild

    if u["code"] == "Cancelled":
        return RULES["M24"].refuse(3)
    return rebuild(u["error"], 409, "M24")


def plan_facts(cloud: Cloud, vmss: Doc, u: Doc) -> Doc:
    """What a plan says of an upgrade it simulated: its batches and the downtime of one (none with maxSurge: the new
    instances are up before the old ones go)."""
    batches = u.get("batches") or []
    down = max(((b["end"] or b["start"]) - b["start"] for b in batches if not b["surge"]), default=0.0)
    return {"batches": len(batches), "batch_size": max((b["instances"] for b in batches), default=0),
            "per_batch_downtime_s": round(down, 3), "code": u["code"]}


def _finish(cloud: Cloud, u: Doc, code: str) -> None:
    u["code"] = code
    u["endTime"] = cloud.now()


# ---- views --------------------------------------------------------------------------------------------------------
def progress(u: Doc) -> Doc:
    b = u.get("batch") or {}
    in_progress = len(b.get("ids") or []) if u["code"] == "RollingForward" or b else 0
    return {"successfulInstanceCount": len(u["succeeded"]), "failedInstanceCount": len(u["failed"]),
            "inProgressInstanceCount": in_progress,
            "pendingInstanceCount": len(u["pending"]) if u["code"] == "RollingForward" else 0}


def status_body(vmss: Doc, u: Doc) -> Doc:
    """rollingUpgrades/latest as the REST example shows it."""
    props: Doc = {"policy": u["policy"],
                  "runningStatus": {"code": u["code"], "startTime": iso(u["startTime"]), "lastAction": u["lastAction"],
                                    "lastActionTime": iso(u["lastActionTime"])},
                  "progress": progress(u)}
    if u.get("error"):
        props["error"] = u["error"]
    return {"properties": props, "type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades",
            "location": vmss["location"], "tags": {}}


def history_entry(vmss: Doc, u: Doc) -> Doc:
    """One UpgradeOperationHistoricalStatusInfo (VirtualMachineScaleSet_GetOSUpgradeHistory_MaximumSet_Gen.json)."""
    rs: Doc = {"code": u["code"], "startTime": iso(u["startTime"])}
    if u.get("endTime") is not None:
        rs["endTime"] = iso(u["endTime"])
    props: Doc = {"runningStatus": rs, "progress": progress(u), "startedBy": u["startedBy"],
                  "targetImageReference": u.get("targetRef") or {},
                  "rollbackInfo": {"successfullyRolledbackInstanceCount": u["rolledBack"],
                                   "failedRolledbackInstanceCount": u["rollbackFailed"]}}
    if u.get("error"):
        props["error"] = u["error"]
    return {"properties": props, "type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades",
            "location": vmss["location"]}
