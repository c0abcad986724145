"""The catalog cases of the storage-account (ST1, ST2) and flow-log rules (FL1-FL3, rules/storage.py and
rules/flowlogs.py), joined to test_catalog's VIOLATIONS and PASSES: a write that violates each rule (the exact
ArmError) and one that passes."""

from __future__ import annotations

from rulekit import LOC, Case, _base, edit, rid

from refit.platform.rules.flowlogs import NSG_BLOCKED

NW = "Microsoft.Network"
ST = "Microsoft.Storage/storageAccounts"


def account(name: str, rg: str = "rg", location: str = LOC):
    return {**_base(ST, rid("storageAccounts", name, rg=rg, ns="Microsoft.Storage"), location), "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"}}


WATCHER = _base(f"{NW}/networkWatchers", rid("networkWatchers", "NetworkWatcher_eastus", ns=NW))
NSG = _base(f"{NW}/networkSecurityGroups", rid("networkSecurityGroups", "nsg-web", ns=NW))
VNET = _base(f"{NW}/virtualNetworks", rid("virtualNetworks", "vnet-a", ns=NW))
VNET["properties"]["subnets"] = [{"name": "web", "id": VNET["id"] + "/subnets/web", "properties": {}}]
VNET_WEST = _base(f"{NW}/virtualNetworks", rid("virtualNetworks", "vnet-w", ns=NW), location="westus2")
ACCOUNT = account("stflow01")
WORLD = [WATCHER, NSG, VNET, VNET_WEST, ACCOUNT, account("stwest01", location="westus2")]


def flow_log(name: str, target: str, storage: str = ACCOUNT["id"], enabled: bool = True):
    d = _base(f"{NW}/networkWatchers/flowLogs", f"{WATCHER['id']}/flowLogs/{name}")
    d["properties"].update({"targetResourceId": target, "storageId": storage, "enabled": enabled})
    return d


def _ref(ref: str, fl: dict) -> tuple[int, str, str, None]:
    return (400, "InvalidResourceReference", f"Resource {ref} referenced by resource {fl['id']} was not found. Please "
            "make sure that the referenced resource exists, and that both resources are in the same region.", None)


NSG_LOG = flow_log("fl-nsg", NSG["id"])
WEST = flow_log("fl-west", VNET_WEST["id"])
WEST_STORAGE = flow_log("fl-ws", VNET["id"], rid("storageAccounts", "stwest01", ns="Microsoft.Storage"))
NO_STORAGE = flow_log("fl-ns", VNET["id"], rid("storageAccounts", "stnone", ns="Microsoft.Storage"))
BAD_SUBNET = flow_log("fl-sub", VNET["id"] + "/subnets/nope")

NETWORK_VIOLATIONS: list[Case] = [
    Case("ST1", [], None, account("FlowLogs01"), (400, "AccountNameInvalid", "FlowLogs01 is not a valid storage account "
         "name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case "
         "letters only.", "FlowLogs01")),
    Case("ST1", [], None, account("ab"), (400, "AccountNameInvalid", "ab is not a valid storage account name. Storage "
         "account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.",
         "ab"), "too short"),
    Case("ST2", [ACCOUNT], None, account("stflow01", rg="rg2"),
         (409, "StorageAccountAlreadyTaken", "The storage account named stflow01 is already taken.", "stflow01"),
         "another resource group"),
    Case("FL1", WORLD, None, NSG_LOG, (400, "NsgFlowLogCreationBlocked", NSG_BLOCKED.message, None)),
    Case("FL2", WORLD, None, WEST, _ref(VNET_WEST["id"], WEST), "a target in another region"),
    Case("FL2", WORLD, None, WEST_STORAGE, _ref(WEST_STORAGE["properties"]["storageId"], WEST_STORAGE),
         "a storage account in another region"),
    Case("FL2", WORLD, None, NO_STORAGE, _ref(NO_STORAGE["properties"]["storageId"], NO_STORAGE),
         "a storage account that does not exist"),
    Case("FL2", WORLD, None, BAD_SUBNET, _ref(BAD_SUBNET["properties"]["targetResourceId"], BAD_SUBNET),
         "a subnet the network does not have"),
    Case("FL3", WORLD, None, _base(f"{NW}/networkWatchers", rid("networkWatchers", "nw2", rg="rg2", ns=NW)),
         (400, "NetworkWatcherCountLimitReached", "Cannot create more than 1 network watchers for this subscription "
          "in this region.", None)),
]

NETWORK_PASSES: list[Case] = [
    Case("ST1", [], None, account("flowlogs01")),
    Case("ST2", [ACCOUNT], ACCOUNT, edit(ACCOUNT, tags={"a": "b"}), note="an update of the account"),
    Case("FL1", WORLD, None, flow_log("fl-vnet", VNET["id"]), note="a VNet flow log"),
    Case("FL1", [*WORLD, NSG_LOG], NSG_LOG, edit(NSG_LOG, properties__enabled=False),
         note="an existing NSG flow log disabled"),
    Case("FL2", WORLD, None, flow_log("fl-subnet", VNET["id"] + "/subnets/web"), note="a subnet target"),
    Case("FL3", WORLD, None, _base(f"{NW}/networkWatchers", rid("networkWatchers", "nw-west", ns=NW),
                                   location="westus2"), note="another region"),
]
