"""Network Watcher and its flow logs (family FL): what Azure refuses when a flow log is written, and the one watcher
a subscription has per region. The flow-log effects (refit.platform.effects.flowlogs) store what these let through."""

from __future__ import annotations

from typing import Any

from refit.arm import location
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.platform.rules.common import parent_of, type_of_id
from refit.platform.rules.registry import ErrorTemplate, rule

WATCHER = "Microsoft.Network/networkWatchers"
FLOW_LOG = "Microsoft.Network/networkWatchers/flowLogs"
NSG = "microsoft.network/networksecuritygroups"
VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "microsoft.network/virtualnetworks/subnets"
Doc = dict[str, Any] | None

NSG_BLOCKED = ErrorTemplate(
    400, "NsgFlowLogCreationBlocked",
    "On September 30, 2027, Network Security Group (NSG) flow logs will be retired. As part of this retirement, "
    "creation of new NSG flow logs is blocked starting June 30, 2025, but you will be able to continue using and "
    "modifying settings for existing NSG flow logs that are previously deployed/configured until Sept 30th 2027. We "
    "recommend migrating to virtual network flow logs, which overcome the limitations of NSG flow logs. For "
    "migration, please refer to https://learn.microsoft.com/en-us/azure/network-watcher/nsg-flow-logs-migrate.")
REFERENCE = ErrorTemplate(
    400, "InvalidResourceReference",
    "Resource {ref} referenced by resource {id} was not found. Please make sure that the referenced resource exists, "
    "and that both resources are in the same region.")
WATCHER_LIMIT = ErrorTemplate(400, "NetworkWatcherCountLimitReached",
                              "Cannot create more than 1 network watchers for this subscription in this region.")


@rule("FL1", FLOW_LOG, "A new flow log cannot target a network security group (NSG flow logs retire)",
      "Azure/bicep-registry-modules#6049 quotes the answer (code NsgFlowLogCreationBlocked and the message); the "
      "status 400 is INFERRED (the network RP's validation answers are 400). The dates: "
      "https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-overview",
      errors=(NSG_BLOCKED,), operations=("create",), confidence="M")
def fl1_nsg_creation_blocked(world: World, old: Doc, new: Doc) -> list:
    """Since June 30, 2025 Azure creates no new NSG flow log: a flow log whose `targetResourceId` is a network
    security group is refused on create. An NSG flow log that already exists may still be updated (disabled,
    retention changed) until the retirement on September 30, 2027; new logging goes to VNet flow logs (target a
    virtual network, a subnet or a NIC)."""
    target = ((new or {}).get("properties") or {}).get("targetResourceId")
    return [NSG_BLOCKED()] if type_of_id(target) == NSG else []


def _region_of(world: World, rid: str) -> str | None:
    """The region of a flow log's target or storage account; None when it does not exist. A subnet is its virtual
    network's (inline in the network's document or written on its own)."""
    if type_of_id(rid) == SUBNET:
        vnet = world.get(parent_of(rid))
        if vnet is None:
            return None
        inline = any(id_key(s.get("id") or "") == id_key(rid) or (s.get("name") or "").lower() == rid.rsplit("/", 1)[-1]
                     .lower() for s in (vnet.get("properties") or {}).get("subnets") or [] if isinstance(s, dict))
        return vnet.get("location") if inline or world.get(rid) is not None else None
    doc = world.get(rid)
    return doc.get("location") if doc is not None else None


@rule("FL2", FLOW_LOG, "A flow log's target and storage account exist, in its network watcher's region",
      "The network RP's answer for a reference it cannot find, quoted in microsoft/MCW-Building-a-resilient-IaaS-"
      "architecture#35 and Azure/RDS-Templates#349 (400 InvalidResourceReference, 'Please make sure that the "
      "referenced resource exists, and that both resources are in the same region.'); that a flow log's references "
      "are answered so is INFERRED. The regions: https://learn.microsoft.com/azure/network-watcher/vnet-flow-logs-"
      "overview#considerations ('The storage account must be in the same region as the virtual network'), "
      "Azure/azure-cli#7065 and ansible-collections/azure#1814 (the target in the watcher's region)",
      errors=(REFERENCE,), confidence="M")
def fl2_references(world: World, old: Doc, new: Doc) -> list:
    """`targetResourceId` (a network security group, a virtual network, a subnet or a NIC) and `storageId` (the
    storage account the logs are written to) name resources that exist, in the region of the network watcher the
    flow log belongs to: Network Watcher is regional and logs only what is in its region, to a storage account
    there."""
    props = (new or {}).get("properties") or {}
    watcher = world.get(parent_of(new["id"]))
    region = (watcher or {}).get("location") or (new or {}).get("location")
    out = []
    for key in ("targetResourceId", "storageId"):
        ref = props.get(key)
        if not isinstance(ref, str):
            continue
        there = _region_of(world, ref)
        if there is None or not location.same(there, region):
            out.append(REFERENCE(ref=ref, id=new["id"]))
    return out[:1]


@rule("FL3", WATCHER, "A subscription has one network watcher per region",
      "Azure/azure-cli#15796 quotes the answer (code NetworkWatcherCountLimitReached and the message; the status 400 "
      "is INFERRED); https://learn.microsoft.com/azure/network-watcher/frequently-asked-questions (only one instance "
      "of Network Watcher per region)",
      errors=(WATCHER_LIMIT,), operations=("create",), confidence="H")
def fl3_one_watcher_per_region(world: World, old: Doc, new: Doc) -> list:
    """A network watcher is created only in a region where the subscription has none (in any resource group):
    `az network watcher configure` reuses the one there."""
    sub = ResourceId.parse(new["id"]).subscription.lower()
    for w in world.of_type(WATCHER):
        if (ResourceId.parse(w["id"]).subscription.lower() == sub and location.same(w.get("location"),
                                                                                    new.get("location"))
                and id_key(w["id"]) != id_key(new["id"])):
            return [WATCHER_LIMIT()]
    return []
