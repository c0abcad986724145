"""The `vnet-flow-logs` intent: NSG flow logs to VNet flow logs, as Microsoft's migration goes
(https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-migrate; seed 002: "run both in parallel
temporarily to validate, then disable NSG flow logs").

For each selected virtual network an NSG logs (an NSG with an enabled flow log, associated with one of the network's
subnets or with a NIC in it), the plan creates a VNet flow log on the network, in the NSG flow log's watcher,
writing to the same storage account with the same retention, format and Traffic Analytics settings; then a
validation window during which both log (a step whose duration is the window: `refit apply` waits it out on the
target's clock and then checks each new VNet flow log still exists, enabled and Succeeded); then it disables the
NSG flow logs (a PUT of the flow log with `enabled: false`: the flowLogs PATCH of the network RP changes tags only).
An NSG flow log that also logs a network the intent does not select, with no VNet flow log of its own, is left
enabled (disabling it would stop logging there), and said so.

Every step runs on the platform model first (refit.plan.sim), so the catalog decides as Azure would: a VNet flow log
is refused if its storage account is in another region (FL2); a new NSG flow log would be (FL1), which is why the
migration never recreates one. The steps are one group, in this order, which `refit apply` keeps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from refit.arm import location
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.ops import vocabulary as voc
from refit.ops.op import Op, Request
from refit.plan.goal import Goal
from refit.plan.model import Blocker, Impossible, Plan, Step
from refit.plan.sim import Sim
from refit.platform.apis import api_version_for
from refit.platform.effects.flowlogs import FLOW_LOG, VNET, flow_logs_on, is_nsg_target, nsg_networks
from refit.platform.rules import RULES
from refit.platform.rules.facts import iso_seconds

DEFAULT_WINDOW = "PT24H"  # refit's default: a day of both logs (INFERRED: Microsoft names no length)
COPIED = ("retentionPolicy", "format", "flowAnalyticsConfiguration")  # what the VNet flow log takes from the NSG's
CREATE, DISABLE = "create_flow_log", "disable_flow_log"  # the steps' names in the plan


@dataclass
class Migration:
    ops: list[Op] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    selected: int = 0
    impossible: list[Impossible] = field(default_factory=list)


def _enabled(doc: dict[str, Any]) -> bool:
    return (doc.get("properties") or {}).get("enabled") is True


def _logging_nsg_flow_logs(world: World) -> list[dict[str, Any]]:
    return sorted((fl for fl in world.of_type(FLOW_LOG) if is_nsg_target(fl) and _enabled(fl)),
                  key=lambda d: id_key(d["id"]))


def _analytics(doc: dict[str, Any]) -> bool:
    ta = ((doc.get("properties") or {}).get("flowAnalyticsConfiguration") or {}).get(
        "networkWatcherFlowAnalyticsConfiguration") or {}
    return ta.get("enabled") is True


def _vnet_logged(world: World, vnet_id: str) -> bool:
    return any(_enabled(fl) for fl in flow_logs_on(world, vnet_id))


def _name_in(world: World, watcher_id: str, base: str) -> str:
    taken = {d["name"].lower() for d in world.children(watcher_id, FLOW_LOG)}
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _create_op(world: World, vnet: dict[str, Any], source: dict[str, Any]) -> Op:
    """The VNet flow log of `vnet`, in the watcher of the NSG flow log it replaces, with its storage and settings."""
    watcher_id = str(ResourceId.parse(source["id"]).parent)
    rid = f"{watcher_id}/flowLogs/{_name_in(world, watcher_id, vnet['name'] + '-flowlog')}"
    props: dict[str, Any] = {"targetResourceId": vnet["id"], "storageId": source["properties"].get("storageId"),
                             "enabled": True}
    for k in COPIED:
        if source["properties"].get(k) is not None:
            props[k] = copy.deepcopy(source["properties"][k])
    body: dict[str, Any] = {"location": source.get("location") or vnet.get("location"), "properties": props}
    if source.get("tags"):
        body["tags"] = copy.deepcopy(source["tags"])
    return voc.put(rid, body, f"create VNet flow log {rid.rsplit('/', 1)[-1]} on {vnet['name']} (storage "
                   f"{str(props['storageId']).rsplit('/', 1)[-1]}, as NSG flow log {source['name']})", name=CREATE)


def _disable_op(fl: dict[str, Any]) -> Op:
    body = {k: copy.deepcopy(fl[k]) for k in ("location", "tags") if fl.get(k) is not None}
    props = {k: copy.deepcopy(val) for k, val in fl["properties"].items()
             if k not in ("provisioningState", "targetResourceGuid")}
    body["properties"] = {**props, "enabled": False}
    back = copy.deepcopy(body)
    back["properties"]["enabled"] = True
    rid = fl["id"]
    return Op(DISABLE, rid, Request("PUT", rid, api_version_for(rid), body),
              rollback=Request("PUT", rid, api_version_for(rid), back),
              rollback_note="re-enabling an existing NSG flow log is allowed until the retirement (rule FL1 refuses "
                            "only new ones)",
              meta={"summary": f"disable NSG flow log {fl['name']} "
                               f"(on {str(fl['properties'].get('targetResourceId')).rsplit('/', 1)[-1]})"})


def migrate(world: World, intents: list[Any]) -> Migration:
    """The migration's steps for the `vnet-flow-logs` intents (their `where` selects virtual networks)."""
    out = Migration()
    nsg_logs = _logging_nsg_flow_logs(world)
    served = {id_key(fl["id"]): nsg_networks(world, fl["properties"]["targetResourceId"]) for fl in nsg_logs}
    window = 0.0
    covered: set[str] = set()  # vnet keys that will have a VNet flow log
    creates: list[Op] = []
    for it in intents:
        window = max(window, iso_seconds(it.window or DEFAULT_WINDOW))
        for vnet in sorted((d for d in world.of_type(VNET) if it.where.matches(d)), key=lambda d: id_key(d["id"])):
            out.selected += 1
            logs = [fl for fl in nsg_logs if any(id_key(n) == id_key(vnet["id"]) for n in served[id_key(fl["id"])])]
            if not logs:
                out.skipped.append((vnet["id"], "vnet-flow-logs: no NSG on it has an enabled flow log"))
                continue
            if id_key(vnet["id"]) in covered:
                continue
            covered.add(id_key(vnet["id"]))
            if _vnet_logged(world, vnet["id"]):
                continue  # its VNet flow log exists: only the NSG flow logs are left to disable
            # The settings to keep: an NSG flow log of the network's region (its watcher's), one with Traffic
            # Analytics on first (the network's traffic was analysed; it stays analysed).
            same_region = [fl for fl in logs if location.same(fl.get("location"), vnet.get("location"))] or logs
            creates.append(_create_op(world, vnet, sorted(same_region, key=lambda fl: not _analytics(fl))[0]))
    disables, kept = [], []
    for fl in nsg_logs:
        nets = served[id_key(fl["id"])]
        if not any(id_key(n) in covered for n in nets):
            continue
        missing = [n for n in nets if id_key(n) not in covered and not _vnet_logged(world, n)]
        if missing:
            kept.append((fl["id"], "vnet-flow-logs: left enabled: it also logs " + ", ".join(
                ResourceId.parse(n).name for n in missing) + ", which no VNet flow log covers (select it too)"))
            continue
        disables.append(_disable_op(fl))
    out.skipped += kept
    out.ops = list(creates)
    if creates and disables:
        out.ops.append(voc.validation_window([op.creates or op.resource for op in creates], window,
                                             "both flow logs log while the new ones are validated"))
    out.ops += disables
    out.goals = [Goal(resource=op.resource, properties={
        "properties.targetResourceId": op.request.body["properties"]["targetResourceId"],
        "properties.enabled": True}) for op in creates]
    out.goals += [Goal(resource=op.resource, properties={"properties.enabled": False}) for op in disables]
    return out


def add_to(plan: Plan, world: World, intents: list[Any]) -> Migration:
    """Simulate the migration on the platform model and append it to the plan as one group (after the plan's
    own groups); a step the catalog refuses makes the migration impossible, with Azure's answer."""
    m = migrate(world, intents)
    if not m.ops:
        return m
    sim = Sim.from_world(world)
    group = max([s.group for s in plan.steps] + [0]) + 1
    steps: list[Step] = []
    for op in m.ops:
        res = sim.run(op)
        if not res.ok:
            err = res.error
            rule = RULES.get(res.rules[0]) if res.rules else None
            plan.impossible.append(Impossible(resource=op.resource, goal=op.request.body or {}, blocked_by=[Blocker(
                rule=rule.id if rule else "", title=rule.title if rule else "", source=rule.source if rule else "",
                code=err.code if err else "", message=err.message if err else "", attempted=op.describe())]))
            return m
        op.duration_s = res.duration
        op.why = op.meta.get("why") or ("NSG flow logs retire (rule FL1: none can be created since June 30, 2025); "
                                        "VNet flow logs replace them")
        op.rules = ("FL1",) if op.name != voc.VALIDATION_WINDOW else ()
        steps.append(Step.from_op(len(plan.steps) + len(steps) + 1, op, group))
    plan.steps += steps
    plan.goals += [g.model_dump() for g in m.goals]
    plan.groups.append({"group": group, "goals": [g.model_dump() for g in m.goals], "power": {}})
    return m

