"""RF-NET-001: an NSG flow log still logging (NSG flow logs retire; VNet flow logs replace them)."""

from __future__ import annotations

from refit.arm.ids import ResourceId
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.effects.flowlogs import FLOW_LOG, flow_logs_on, is_nsg_target, nsg_networks


def _name(rid: str) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1]


class NsgFlowLogInUse(Check):
    id = "RF-NET-001"
    title = "NSG flow log still in use"
    severity = "medium"
    resource_types = (FLOW_LOG,)
    rationale = (
        "NSG flow logs retire on September 30, 2027, and Azure creates no new one since June 30, 2025 "
        "(NsgFlowLogCreationBlocked). An enabled NSG flow log stops logging at the retirement, and one deployed again "
        "from a template or a plan fails on any subscription that never had it. Virtual network flow logs replace "
        "them: one log per virtual network, subnet or NIC, covering the traffic every NSG on it sees, with the same "
        "storage account and Traffic Analytics settings.")
    recommendation = (
        "Create a VNet flow log on each virtual network the NSG is associated with (through its subnets or its NICs), "
        "writing to the same storage account (and the same Log Analytics workspace when Traffic Analytics is on), keep "
        "both logging while you validate the new blobs and analytics, then disable the NSG flow log. "
        "`refit plan --intent vnet-flow-logs` plans exactly that for the whole fleet, with the validation window as a "
        "step.")
    fix = Fix(
        az=("# with Traffic Analytics on the NSG flow log, add --workspace WORKSPACE_ID --interval MINUTES (its "
            "flowAnalyticsConfiguration) to the create:\n"
            "az network watcher flow-log create --location $LOCATION --name $VNET-flowlog --vnet $VNET_ID "
            "--storage-account $STORAGE_ID --retention $RETENTION_DAYS\n"
            "# keep both logging while you check the VNet flow log's blobs (container insights-logs-flowlogflowevent) "
            "and Traffic Analytics, then:\n"
            "az network watcher flow-log update --location $LOCATION --name $FLOW_LOG --enabled false"),
        arm=('{"type": "Microsoft.Network/networkWatchers/flowLogs", "apiVersion": "2025-03-01",\n'
             ' "name": "NetworkWatcher_eastus/vnet-web-flowlog", "location": "eastus",\n'
             ' "properties": {"targetResourceId": "[resourceId(\'Microsoft.Network/virtualNetworks\', \'vnet-web\')]",\n'
             '                "storageId": "[resourceId(\'Microsoft.Storage/storageAccounts\', \'flowlogs01\')]",\n'
             '                "enabled": true}}\n'
             '// and, on the NSG flow log, after the validation window:\n'
             '"enabled": false'),
        terraform=('resource "azurerm_network_watcher_flow_log" "vnet_web" {\n'
                   '  name                 = "vnet-web-flowlog"\n'
                   '  network_watcher_name = "NetworkWatcher_eastus"\n'
                   '  resource_group_name  = "NetworkWatcherRG"\n'
                   '  target_resource_id   = azurerm_virtual_network.web.id\n'
                   '  storage_account_id   = azurerm_storage_account.flowlogs.id\n'
                   '  enabled              = true\n'
                   '  retention_policy {\n'
                   '    enabled = true\n'
                   '    days    = 30\n'
                   '  }\n'
                   '}\n'
                   '# and, on the NSG flow log, after the validation window:\n'
                   'enabled = false'))
    source = ("seed 002 (NSG flow logs retire: run both in parallel to validate, then disable the NSG ones); rule FL1; "
              "learn.microsoft.com/azure/network-watcher/nsg-flow-logs-overview (retirement), "
              "learn.microsoft.com/azure/network-watcher/nsg-flow-logs-migrate")
    notes = ("A disabled NSG flow log passes (it logs nothing; it can be deleted at leisure), and so does every VNet "
             "flow log. The finding names the virtual networks the NSG is associated with as far as the input shows "
             "them (live state: all of them; a template or a plan: those it holds). An NSG associated with no "
             "subnet or NIC logs nothing: disable its flow log.")

    def evaluate(self, ev: Eval):
        target = ev.get("properties.targetResourceId")
        if not isinstance(target, str) or not is_nsg_target(ev.doc):
            return self.ok("a VNet flow log" if isinstance(target, str) else "")
        if ev.get("properties.enabled") is not True:
            return self.ok("disabled NSG flow log")
        storage = ev.get("properties.storageId")
        networks = nsg_networks(ev.ctx.world, target)
        if not networks:
            return self.failed(f"NSG flow log on {_name(target)} is enabled; no subnet or NIC this input shows is "
                               "associated with the NSG: log the virtual networks it serves, if any, with VNet flow "
                               "logs, then disable this one")
        parts = []
        for vnet in networks:
            logged = any(fl["properties"].get("enabled") is True for fl in flow_logs_on(ev.ctx.world, vnet))
            parts.append(f"virtual network {vnet}" + (" (already has an enabled VNet flow log)" if logged else ""))
        where = ResourceId.parse(ev.id).types[0][1]
        return self.failed(f"NSG flow log on {_name(target)} (watcher {where}) is enabled, writing to storage account "
                           f"{storage}: log {', '.join(parts)} with a VNet flow log, then disable this one")


check = register(NsgFlowLogInUse())
