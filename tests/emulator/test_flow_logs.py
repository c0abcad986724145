"""Network Watcher and flow logs over the emulator's HTTPS API (issue 17 scope 3): Azure's shape, and its refusals
with their codes: a new NSG flow log (NsgFlowLogCreationBlocked, rule FL1) while an existing one may still be updated
and disabled; a target or storage account that does not exist or is in another region (InvalidResourceReference,
FL2); a second watcher in a region (NetworkWatcherCountLimitReached, FL3); VNet, subnet and NIC targets; a watcher's
delete taking its flow logs; and the scenario's `existing` flag, which seeds an NSG flow log as Azure holds it."""

from __future__ import annotations

import uuid

import pytest

from conftest import put_rg
from refit.arm.errors import UserError

NET = "2025-03-01"
STORAGE = "2025-08-01"


def _p(sub, rg, t, name):
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{t}/{name}"


def _put(raw, path, body, api=NET):
    return raw.put(path, params={"api-version": api}, json=body)


@pytest.fixture
def net(raw, sub):
    put_rg(raw, sub, "rg-net")
    put_rg(raw, sub, "NetworkWatcherRG")
    ids = {"nsg": _p(sub, "rg-net", "Microsoft.Network/networkSecurityGroups", "nsg-web"),
           "vnet": _p(sub, "rg-net", "Microsoft.Network/virtualNetworks", "vnet-a"),
           "vnet_w": _p(sub, "rg-net", "Microsoft.Network/virtualNetworks", "vnet-west"),
           "nic": _p(sub, "rg-net", "Microsoft.Network/networkInterfaces", "nic-a"),
           "st": _p(sub, "rg-net", "Microsoft.Storage/storageAccounts", "stflowa"),
           "st_w": _p(sub, "rg-net", "Microsoft.Storage/storageAccounts", "stfloww"),
           "nw": _p(sub, "NetworkWatcherRG", "Microsoft.Network/networkWatchers", "NetworkWatcher_eastus")}
    assert _put(raw, ids["nsg"], {"location": "eastus"}).status_code in (200, 201)
    assert _put(raw, ids["vnet"], {"location": "eastus", "properties": {
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [{"name": "web", "properties": {"addressPrefix": "10.1.0.0/24",
                                                   "networkSecurityGroup": {"id": ids["nsg"]}}}]}}).status_code in (200, 201)
    assert _put(raw, ids["vnet_w"], {"location": "westus2", "properties": {
        "addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}).status_code in (200, 201)
    assert _put(raw, ids["nic"], {"location": "eastus", "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": ids["vnet"] + "/subnets/web"}}}]}}).status_code in (200, 201)
    for key, loc in (("st", "eastus"), ("st_w", "westus2")):
        r = _put(raw, ids[key], {"location": loc, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}, STORAGE)
        assert r.status_code == 202, r.text
    w = _put(raw, ids["nw"], {"location": "eastus"})
    assert w.status_code == 201, w.text
    assert w.json() == {"id": ids["nw"], "name": "NetworkWatcher_eastus", "type": "Microsoft.Network/networkWatchers",
                        "location": "eastus", "properties": {"provisioningState": "Succeeded"}}
    return ids


def _flow_log(ids, target, storage="st", **props):
    return {"location": "eastus", "properties": {"targetResourceId": ids.get(target, target),
                                                 "storageId": ids[storage], "enabled": True, **props}}


def test_a_vnet_flow_log_is_created_with_azures_shape(raw, net):
    fl = f"{net['nw']}/flowLogs/vnet-a-flowlog"
    r = _put(raw, fl, _flow_log(net, "vnet", retentionPolicy={"days": 30, "enabled": True},
                                format={"type": "JSON", "version": 2}))
    assert r.status_code == 201, r.text
    got = raw.get(fl, params={"api-version": NET}).json()
    assert got["type"] == "Microsoft.Network/networkWatchers/flowLogs"
    assert got["properties"] == {"targetResourceId": net["vnet"], "storageId": net["st"], "enabled": True,
                                 "retentionPolicy": {"days": 30, "enabled": True},
                                 "format": {"type": "JSON", "version": 2}, "provisioningState": "Succeeded",
                                 "targetResourceGuid": str(uuid.UUID(got["properties"]["targetResourceGuid"]))}
    # A subnet and a NIC are VNet flow log targets too.
    for name, target in (("subnet", net["vnet"] + "/subnets/web"), ("nic", "nic")):
        assert _put(raw, f"{net['nw']}/flowLogs/{name}", _flow_log(net, target)).status_code == 201
    listed = raw.get(f"{net['nw']}/flowLogs", params={"api-version": NET}).json()["value"]
    assert sorted(d["name"] for d in listed) == ["nic", "subnet", "vnet-a-flowlog"]


def test_a_new_nsg_flow_log_is_refused(raw, net):
    r = _put(raw, f"{net['nw']}/flowLogs/nsg-web", _flow_log(net, "nsg"))
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "NsgFlowLogCreationBlocked"
    assert err["message"].startswith("On September 30, 2027, Network Security Group (NSG) flow logs will be retired.")
    assert err["message"].endswith("For migration, please refer to "
                                   "https://learn.microsoft.com/en-us/azure/network-watcher/nsg-flow-logs-migrate.")
    assert raw.get(f"{net['nw']}/flowLogs/nsg-web", params={"api-version": NET}).status_code == 404


def test_an_existing_nsg_flow_log_is_updated_and_disabled(raw, sub, session, net):
    fl = f"{net['nw']}/flowLogs/nsg-web"
    session.control("POST", "scenario", {"reset": False, "yaml": "name: legacy\nresources:\n"
                    f"- id: {fl}\n  existing: true\n  location: eastus\n  properties:\n"
                    f"    targetResourceId: {net['nsg']}\n    storageId: {net['st']}\n    enabled: true\n"})
    assert raw.get(fl, params={"api-version": NET}).json()["properties"]["enabled"] is True
    r = _put(raw, fl, _flow_log(net, "nsg", retentionPolicy={"days": 7, "enabled": True}))
    assert r.status_code == 200, r.text
    r = _put(raw, fl, {**_flow_log(net, "nsg"), "properties": {**_flow_log(net, "nsg")["properties"], "enabled": False}})
    assert r.status_code == 200, r.text
    assert raw.get(fl, params={"api-version": NET}).json()["properties"]["enabled"] is False


def test_existing_seeds_only_what_an_update_may_keep(session, net):
    fl = f"{net['nw']}/flowLogs/nsg-gone"
    missing = net["st"].replace("stflowa", "stnowhere")
    with pytest.raises(UserError) as e:
        session.control("POST", "scenario", {"reset": False, "yaml": "name: legacy\nresources:\n"
                        f"- id: {fl}\n  existing: true\n  location: eastus\n  properties:\n"
                        f"    targetResourceId: {net['nsg']}\n    storageId: {missing}\n    enabled: true\n"})
    assert "(InvalidResourceReference)" in str(e.value)
    with pytest.raises(UserError, match=r"resources\[0\]\.existing must be true or false"):
        session.control("POST", "scenario", {"reset": False, "yaml": f"name: x\nresources:\n- id: {fl}\n  existing: "
                        "yes please\n  location: eastus\n"})
    with pytest.raises(UserError, match=r"\(NsgFlowLogCreationBlocked\)"):  # without the flag: a create
        session.control("POST", "scenario", {"reset": False, "yaml": "name: legacy\nresources:\n"
                        f"- id: {fl}\n  location: eastus\n  properties:\n"
                        f"    targetResourceId: {net['nsg']}\n    storageId: {net['st']}\n    enabled: true\n"})


def test_targets_and_storage_must_exist_in_the_watchers_region(raw, net):
    fl = f"{net['nw']}/flowLogs/x"
    gone = net["st"].replace("stflowa", "stnowhere")
    for body, ref in ((_flow_log(net, "vnet_w"), net["vnet_w"]),  # a network in westus2, the watcher in eastus
                      (_flow_log(net, "vnet", "st_w"), net["st_w"]),  # a storage account in westus2
                      ({**_flow_log(net, "vnet"), "properties": {**_flow_log(net, "vnet")["properties"],
                                                                  "storageId": gone}}, gone)):
        r = _put(raw, fl, body)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == {"code": "InvalidResourceReference", "message": (
            f"Resource {ref} referenced by resource {fl} was not found. Please make sure that the referenced resource "
            "exists, and that both resources are in the same region.")}


def test_one_watcher_per_region_and_its_delete_takes_its_flow_logs(raw, sub, net):
    second = _p(sub, "rg-net", "Microsoft.Network/networkWatchers", "nw-two")
    r = _put(raw, second, {"location": "eastus"})
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "NetworkWatcherCountLimitReached",
                                 "message": "Cannot create more than 1 network watchers for this subscription in this "
                                            "region."}
    assert _put(raw, second.replace("nw-two", "NetworkWatcher_westus2"), {"location": "westus2"}).status_code == 201
    fl = f"{net['nw']}/flowLogs/vnet-a-flowlog"
    assert _put(raw, fl, _flow_log(net, "vnet")).status_code == 201
    assert raw.delete(net["nw"], params={"api-version": NET}).status_code in (200, 202)
    for _ in range(200):
        if raw.get(net["nw"], params={"api-version": NET}).status_code == 404:
            break
    assert raw.get(fl, params={"api-version": NET}).status_code == 404
