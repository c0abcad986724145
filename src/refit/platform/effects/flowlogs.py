"""Microsoft.Network/networkWatchers and their flowLogs: Network Watcher, one per subscription and region, and the
flow logs it runs, each on one target (a network security group: the NSG flow logs Azure retires; a virtual
network, one of its subnets or a NIC: VNet flow logs) writing to a storage account.

Shape as the REST examples show it (specs network stable 2025-03-01 examples NetworkWatcherCreate.json,
NetworkWatcherFlowLogCreate.json / NetworkWatcherFlowLogGet.json): a watcher is `properties.provisioningState` only;
a flow log keeps what was sent (`targetResourceId`, `storageId`, `enabled`, `retentionPolicy`, `format`,
`flowAnalyticsConfiguration` for Traffic Analytics) and adds `targetResourceGuid` and `provisioningState`. Both are
written synchronously (INFERRED: the network RP answers 201 with an Azure-AsyncOperation that completes within
seconds; refit completes it at once, as it does every network write). Deleting a watcher deletes its flow logs
(https://learn.microsoft.com/azure/network-watcher/network-watcher-create#delete-a-network-watcher: "deleting
Network Watcher ... deletes ... flow logs"). What Azure refuses (a new NSG flow log, a target or storage account
that does not exist or is in another region, a second watcher in a region) is the catalog's (refit.platform.rules
.flowlogs).
"""

from __future__ import annotations

import uuid

from refit.arm.ids import id_key
from refit.arm.world import World
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType

WATCHER = "Microsoft.Network/networkWatchers"
FLOW_LOG = "Microsoft.Network/networkWatchers/flowLogs"
NSG = "Microsoft.Network/networkSecurityGroups"
VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
NIC = "Microsoft.Network/networkInterfaces"


class NetworkWatcherType(ResourceType):
    type = WATCHER
    create_timing = update_timing = "delete"

    def duration(self, cloud, old, new):
        return "delete", 0.0

    def finish_delete(self, cloud, doc, op):
        for fl in cloud.world.children(doc["id"], FLOW_LOG):
            cloud.remove(fl["id"])


class FlowLogType(ResourceType):
    type = FLOW_LOG
    readonly_properties = ("provisioningState", "targetResourceGuid")

    def duration(self, cloud, old, new):
        return "delete", 0.0

    def render(self, cloud, doc, call):
        out = dict(doc)
        target = (doc.get("properties") or {}).get("targetResourceId")
        if isinstance(target, str):
            # The target's resourceGuid: refit's networks keep none, so it is derived from the target's id (stable
            # across reads, as Azure's is; INFERRED value).
            out["properties"] = {**doc["properties"], "targetResourceGuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "refit:" + target.lower()))}
        return out


def is_nsg_target(doc: dict) -> bool:
    """Whether a flow log is an NSG flow log (its target a network security group)."""
    target = str((doc.get("properties") or {}).get("targetResourceId") or "")
    return f"/providers/{NSG}/".lower() in target.lower()


def _ref(d: object, key: str) -> str:
    v = ((d.get("properties") or {}) if isinstance(d, dict) else {}).get(key)
    return v.get("id") if isinstance(v, dict) and isinstance(v.get("id"), str) else ""


def nsg_networks(world: World, nsg_id: str) -> list[str]:
    """The virtual networks whose traffic an NSG sees, sorted: those with a subnet it is associated with (inline in
    the network or written on its own) and those of the NICs it is associated with. Their VNet flow logs log what
    the NSG's flow log logs (https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-migrate)."""
    key = id_key(nsg_id)
    out: set[str] = set()
    for vnet in world.of_type(VNET):
        if any(id_key(_ref(s, "networkSecurityGroup")) == key for s in (vnet.get("properties") or {}).get("subnets")
               or [] if isinstance(s, dict)):
            out.add(vnet["id"])
    for sub in world.of_type(SUBNET):
        if id_key(_ref(sub, "networkSecurityGroup")) == key:
            out.add(sub["id"].rsplit("/subnets/", 1)[0])
    for nic in world.of_type(NIC):
        if id_key(_ref(nic, "networkSecurityGroup")) == key:
            for cfg in (nic.get("properties") or {}).get("ipConfigurations") or []:
                sid = _ref(cfg, "subnet")
                if "/subnets/" in sid:
                    out.add(sid.rsplit("/subnets/", 1)[0])
    by_key = {id_key(x): x for x in out}
    return [by_key[k] for k in sorted(by_key)]


def flow_logs_on(world: World, target_id: str) -> list[dict]:
    """The flow logs whose target is `target_id` (any watcher)."""
    key = id_key(target_id)
    return [fl for fl in world.of_type(FLOW_LOG)
            if id_key(str((fl.get("properties") or {}).get("targetResourceId") or "")) == key]


register(NetworkWatcherType())
register(FlowLogType())
