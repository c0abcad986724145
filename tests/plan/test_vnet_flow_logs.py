"""Issue 17 scope 3: the `vnet-flow-logs` intent. For each virtual network whose NSGs log (through its subnets or a
NIC in it), a VNet flow log with the NSG flow log's storage account and settings, a validation window during which
both log, then the NSG flow logs disabled; planned exactly, applied with `refit apply` on the emulator, its states
read back during the window and at the end, and `refit doctor` clean afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from refit.arm.errors import UserError
from refit.azure.fleet import load_world
from refit.cli import main
from refit.plan import intents
from refit.plan.fleet import plan_file
from refit.run.stepgraph import dependencies

NET = "2025-03-01"
FLEET = """
name: flow-logs
resources:
- id: /subscriptions/{sub}/resourceGroups/rg-net
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Storage/storageAccounts/stflowlogs01
  location: eastus
  sku: {name: Standard_LRS}
  kind: StorageV2
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-web
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-db
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-app
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-spare
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-a
  location: eastus
  properties:
    addressSpace: {addressPrefixes: [10.1.0.0/16]}
    subnets:
    - name: web
      properties:
        addressPrefix: 10.1.0.0/24
        networkSecurityGroup: {id: "/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-web"}
    - name: db
      properties:
        addressPrefix: 10.1.1.0/24
        networkSecurityGroup: {id: "/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-db"}
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-b
  location: eastus
  tags: {tier: app}
  properties:
    addressSpace: {addressPrefixes: [10.2.0.0/16]}
    subnets:
    - name: app
      properties: {addressPrefix: 10.2.0.0/24}
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkInterfaces/nic-app
  location: eastus
  properties:
    networkSecurityGroup: {id: "/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-app"}
    ipConfigurations:
    - name: ipconfig1
      properties:
        subnet: {id: "/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-b/subnets/app"}
- id: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-quiet
  location: eastus
  properties:
    addressSpace: {addressPrefixes: [10.3.0.0/16]}
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus/flowLogs/fl-web
  existing: true
  location: eastus
  properties:
    targetResourceId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-web
    storageId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Storage/storageAccounts/stflowlogs01
    enabled: true
    retentionPolicy: {days: 30, enabled: true}
    format: {type: JSON, version: 2}
    flowAnalyticsConfiguration:
      networkWatcherFlowAnalyticsConfiguration:
        enabled: true
        workspaceId: 9f1d5a2e-0c4b-4e8a-9a1f-3b2c7d6e5f40
        workspaceRegion: eastus
        workspaceResourceId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.OperationalInsights/workspaces/law-net
        trafficAnalyticsInterval: 60
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus/flowLogs/fl-db
  existing: true
  location: eastus
  properties:
    targetResourceId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-db
    storageId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Storage/storageAccounts/stflowlogs01
    enabled: true
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus/flowLogs/fl-app
  existing: true
  location: eastus
  properties:
    targetResourceId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-app
    storageId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Storage/storageAccounts/stflowlogs01
    enabled: true
    retentionPolicy: {days: 7, enabled: true}
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus/flowLogs/fl-spare
  existing: true
  location: eastus
  properties:
    targetResourceId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-spare
    storageId: /subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Storage/storageAccounts/stflowlogs01
    enabled: false
"""


def _ids(sub):
    w = f"/subscriptions/{sub}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/" \
        "NetworkWatcher_eastus/flowLogs"
    n = f"/subscriptions/{sub}/resourceGroups/rg-net/providers"
    return w, n


@pytest.fixture
def fleet(session):
    session.control("POST", "scenario", {"yaml": FLEET})
    return session


def test_the_plan_creates_vnet_flow_logs_waits_the_window_then_disables_the_nsg_ones(fleet, sub):
    world = load_world(fleet)
    plan, exp = plan_file(world, intents.parse({"intents": [{"intent": "vnet-flow-logs", "window": "PT8H"}]}))
    w, n = _ids(sub)
    storage = f"{n}/Microsoft.Storage/storageAccounts/stflowlogs01"
    assert [(s.n, s.op, s.request["method"], s.request["path"], s.duration_seconds, s.group) for s in plan.steps] == [
        (1, "create_flow_log", "PUT", f"{w}/vnet-a-flowlog", 0.0, 1),
        (2, "create_flow_log", "PUT", f"{w}/vnet-b-flowlog", 0.0, 1),
        (3, "validation_window", "GET", f"{w}/vnet-a-flowlog", 8 * 3600.0, 1),
        (4, "disable_flow_log", "PUT", f"{w}/fl-app", 0.0, 1),
        (5, "disable_flow_log", "PUT", f"{w}/fl-db", 0.0, 1),
        (6, "disable_flow_log", "PUT", f"{w}/fl-web", 0.0, 1)]
    # vnet-a keeps fl-web's settings (Traffic Analytics on), vnet-b fl-app's (the NIC's NSG).
    web = world.get(f"{w}/fl-web")["properties"]
    assert plan.steps[0].request["body"] == {"location": "eastus", "properties": {
        "targetResourceId": f"{n}/Microsoft.Network/virtualNetworks/vnet-a", "storageId": storage, "enabled": True,
        "retentionPolicy": {"days": 30, "enabled": True}, "format": {"type": "JSON", "version": 2},
        "flowAnalyticsConfiguration": web["flowAnalyticsConfiguration"]}}
    assert plan.steps[1].request["body"] == {"location": "eastus", "properties": {
        "targetResourceId": f"{n}/Microsoft.Network/virtualNetworks/vnet-b", "storageId": storage, "enabled": True,
        "retentionPolicy": {"days": 7, "enabled": True}}}
    assert plan.steps[5].request["body"]["properties"]["enabled"] is False
    assert plan.steps[5].rollback["body"]["properties"]["enabled"] is True
    assert plan.steps[2].summary == ("validation window: NSG and VNet flow logs both logging for 8 h (2 VNet flow "
                                     "logs to check)")
    assert plan.totals()["duration_seconds"] == 8 * 3600.0
    assert sorted(exp.skipped) == [(f"{n}/Microsoft.Network/virtualNetworks/vnet-quiet",
                                    "vnet-flow-logs: no NSG on it has an enabled flow log")]
    assert exp.selected == 3
    # `refit apply` keeps the order: each step waits for the one before (one group).
    assert [sorted(d) for d in dependencies(plan.steps)] == [[], [0], [1], [2], [3], [4]]
    assert [g["resource"].rsplit("/", 1)[-1] for g in plan.groups[0]["goals"]] == [
        "vnet-a-flowlog", "vnet-b-flowlog", "fl-app", "fl-db", "fl-web"]


def test_an_nsg_flow_log_that_also_logs_an_unselected_network_stays_enabled(fleet, sub):
    w, n = _ids(sub)
    # nsg-web also guards a NIC in vnet-b; only vnet-b (tier=app) is selected: fl-web still logs vnet-a, which no VNet
    # flow log covers, so it stays enabled; fl-app (vnet-b only) is disabled after the window.
    fleet.control("POST", "scenario", {"reset": False, "yaml": "name: extra\nresources:\n"
                  f"- id: {n}/Microsoft.Network/networkInterfaces/nic-web-b\n  location: eastus\n  properties:\n"
                  f"    networkSecurityGroup: {{id: '{n}/Microsoft.Network/networkSecurityGroups/nsg-web'}}\n"
                  "    ipConfigurations:\n    - name: ipconfig1\n      properties:\n"
                  f"        subnet: {{id: '{n}/Microsoft.Network/virtualNetworks/vnet-b/subnets/app'}}\n"})
    plan, exp = plan_file(load_world(fleet), intents.parse({"intents": [
        {"intent": "vnet-flow-logs", "window": "PT1H", "where": {"tags": {"tier": "app"}}}]}))
    assert [(s.op, s.request["path"].rsplit("/", 1)[-1]) for s in plan.steps] == [
        ("create_flow_log", "vnet-b-flowlog"), ("validation_window", "vnet-b-flowlog"), ("disable_flow_log", "fl-app")]
    assert exp.skipped == [(f"{w}/fl-web", "vnet-flow-logs: left enabled: it also logs vnet-a, which no VNet flow "
                                           "log covers (select it too)")]


def test_bad_intent_input_is_one_line(fleet):
    for spec, msg in (({"intent": "vnet-flow-logs", "where": {"types": ["vm"]}},
                       "vnet-flow-logs selects virtual networks: 'types' (vm, vmss) does not apply"),
                      ({"intent": "vnet-flow-logs", "window": "a day"},
                       "'window' is vnet-flow-logs' validation window, an ISO 8601 duration such as PT24H"),
                      ({"intent": "gen2", "window": "PT1H"},
                       "'window' is vnet-flow-logs' validation window, an ISO 8601 duration such as PT24H")):
        with pytest.raises(UserError) as e:
            intents.parse({"intents": [spec]})
        assert msg in str(e.value)
    with pytest.raises(UserError, match="vnet-flow-logs selects no virtual network"):
        plan_file(load_world(fleet), intents.parse({"intents": [{"intent": "vnet-flow-logs",
                                                                  "where": {"resource_groups": ["rg-none"]}}]}))


def _flow_logs(session, w):
    from refit.azure.fleet import send

    _, _, body = send(session, "GET", w, NET)
    return {d["name"]: d["properties"]["enabled"] for d in body["value"]}


def test_applied_on_the_emulator_both_log_during_the_window_and_doctor_is_clean_after(fleet, server, sub, tmp_path,
                                                                                       capsys, monkeypatch):
    w, _ = _ids(sub)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    plan = tmp_path / "plan.json"
    base = ["--endpoint", server.url, "--subscription", sub]
    with pytest.raises(SystemExit) as e:
        main([*base, "plan", "--intent", "vnet-flow-logs", "--window", "PT8H", "--out", str(plan)])
    assert e.value.code == 0, capsys.readouterr().err
    capsys.readouterr()
    before = _flow_logs(fleet, w)
    assert before == {"fl-web": True, "fl-db": True, "fl-app": True, "fl-spare": False}
    # The doctor fails the three enabled NSG flow logs before.
    with pytest.raises(SystemExit):
        main([*base, "-o", "json", "doctor", "--check", "RF-NET-001"])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert sorted(f["resource"].rsplit("/", 1)[-1] for f in found if f["status"] == "fail") == [
        "fl-app", "fl-db", "fl-web"]

    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(server.cert), "REFIT_STATE_DIR": str(tmp_path / "state"),
           "HOME": str(tmp_path)}
    run = subprocess.Popen([sys.executable, "-m", "refit", *base, "-o", "json", "apply", str(plan), "--yes"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    during = None
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        now = _flow_logs(fleet, w)
        if "vnet-a-flowlog" in now and "vnet-b-flowlog" in now:
            during = now
            break
        time.sleep(0.05)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    # In the window (8 h of the emulator's clock: ~3 s here), the VNet flow logs log and the NSG ones still do.
    assert during == {"fl-web": True, "fl-db": True, "fl-app": True, "fl-spare": False, "vnet-a-flowlog": True,
                      "vnet-b-flowlog": True}
    report = json.loads(out)
    assert (report["ok"], report["done"], report["skipped"]) == (True, [1, 2, 3, 4, 5, 6], [])
    assert _flow_logs(fleet, w) == {"fl-web": False, "fl-db": False, "fl-app": False, "fl-spare": False,
                                    "vnet-a-flowlog": True, "vnet-b-flowlog": True}
    # Applied again: every step already true, no write, no second window.
    again = subprocess.run([sys.executable, "-m", "refit", *base, "-o", "json", "apply", str(plan), "--yes"], env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    assert (json.loads(again.stdout)["done"], json.loads(again.stdout)["skipped"]) == ([], [1, 2, 3, 4, 5, 6])
    with pytest.raises(SystemExit) as e:
        main([*base, "-o", "json", "doctor", "--check", "RF-NET-001"])
    assert e.value.code == 0
    after = json.loads(capsys.readouterr().out)["findings"]
    assert [f for f in after if f["status"] == "fail"] == []
