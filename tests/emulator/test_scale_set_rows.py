"""Seed 001's troubleshooting rows 5, 6 and 7 as Azure shows them, and the instance machinery behind them (issue 12):
the prerequisites of automatic OS upgrade on a Flexible set (row 5), exactly one health source (row 6), a repair grace
period shorter than boot plus warm-up (row 7); scale-out and scale-in placement, Spot Priority Mix and evictions, the
set's actions on its instances. Over HTTPS, the clock frozen and moved by the control API."""

from __future__ import annotations

import copy
import json

RG = "rg-payments"
CANARY = "vmss-payments-eastus"
API = "2024-07-01"
GALLERY_API = "2024-03-03"


def _seed(raw, params=None):
    r = raw.post("/_refit/scenario", json={"name": "rollout", "params": params or {}})
    assert r.status_code == 200, r.text
    raw.post("/_refit/clock", json={"scale": 1e-9})


def _advance(raw, seconds):
    return raw.post("/_refit/clock", json={"advance": seconds}).json()["now"]


def _set(sub, name=CANARY):
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"


def _get(raw, path, **params):
    r = raw.get(path, params={"api-version": API, **params})
    assert r.status_code == 200, r.text
    return r.json()


def _instances(raw, sub, name=CANARY):
    return _get(raw, f"{_set(sub, name)}/virtualMachines")["value"]


def _model(raw, sub, name=CANARY):
    doc = _get(raw, _set(sub, name))
    return {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("id", "name", "type", "etag")}


def _put(raw, sub, body, name=CANARY, status=(200, 201)):
    r = raw.put(_set(sub, name), params={"api-version": API}, json=body)
    assert r.status_code in status, r.text
    return r


def _post(raw, path, body=None):
    r = raw.post(path, params={"api-version": API}, json=body)
    assert r.status_code in (200, 202), r.text
    return r


def _publish(raw, sub, version):
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/galPayments/images/payments-auth"
    src = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/payments-bake"
    r = raw.put(f"{base}/versions/{version}", params={"api-version": GALLERY_API}, json={
        "location": "eastus", "properties": {"publishingProfile": {"targetRegions": [{"name": "eastus"}]},
                                             "storageProfile": {"source": {"id": src}}}})
    assert r.status_code == 201, r.text


def _health_ext(model):
    return model["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"][0]


# ---- row 5: "Auto-OS upgrade silently does nothing on Flex" ---------------------------------------------------------
def _doctor(capsys, monkeypatch, server, *args):
    from refit.cli import main

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    capsys.readouterr()
    try:
        main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, "doctor", "-o", "json", *args])
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    return code, capsys.readouterr().out


def test_row_5_automatic_os_upgrade_prerequisites_on_a_flexible_set(raw, sub, server, capsys, monkeypatch):
    _seed(raw)
    model = _model(raw, sub)
    # No health extension: Azure refuses to enable it (rule H3).
    bare = copy.deepcopy(model)
    bare["properties"]["virtualMachineProfile"].pop("extensionProfile")
    bare["properties"]["upgradePolicy"]["mode"] = "Manual"
    bare["properties"].pop("automaticRepairsPolicy")
    r = raw.put(_set(sub, "vmss-bare"), params={"api-version": API}, json=bare)
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) == (
        400, "BadRequest", "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because a health "
                           "probe or health extension was not specified.")
    # maxSurge with automatic OS upgrade on Flexible (rule H7).
    surge = copy.deepcopy(model)
    surge["properties"]["upgradePolicy"]["rollingUpgradePolicy"]["maxSurge"] = True
    r = raw.put(_set(sub), params={"api-version": API}, json=surge)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "BadRequest")
    assert "maxSurge" in r.json()["error"]["message"]
    # The extension version on the instances differs from the model's (Manual mode: the model change waits for
    # update-instances): Azure accepts the set and the platform silently does nothing.
    drift = copy.deepcopy(model)
    drift["properties"]["upgradePolicy"]["mode"] = "Manual"
    _health_ext(drift)["properties"]["typeHandlerVersion"] = "2.1"
    _put(raw, sub, drift)
    _advance(raw, 60)
    before = {i["name"]: i["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] for i in _instances(raw, sub)}
    assert {i["properties"]["latestModelApplied"] for i in _instances(raw, sub)} == {False}
    _publish(raw, sub, "1.7.1")
    _advance(raw, 300 + 900 + 600)
    r = raw.get(f"{_set(sub)}/rollingUpgrades/latest", params={"api-version": API})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "NotFound")
    assert _get(raw, f"{_set(sub)}/osUpgradeHistory")["value"] == []
    assert {i["name"]: i["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
            for i in _instances(raw, sub)} == before
    # The doctor reads the live instances and says why (RF-VMSS-001).
    code, out = _doctor(capsys, monkeypatch, server, "--check", "RF-VMSS-001")
    fails = [f for f in json.loads(out)["findings"] if f["status"] == "fail" and f["resource"].endswith(f"/{CANARY}")]
    assert code == 0 and len(fails) == 1
    assert fails[0]["message"].startswith("automatic OS upgrade will not run: instances whose Application Health "
                                          "extension differs from the model's 2.1: ")
    # The fix: align the instances (update-instances); the platform's upgrade then starts and completes.
    _post(raw, f"{_set(sub)}/manualupgrade", {"instanceIds": ["*"]})
    _advance(raw, 300)
    assert {i["properties"]["latestModelApplied"] for i in _instances(raw, sub)} == {True}
    for _ in range(100):
        _advance(raw, 120)
        r = raw.get(f"{_set(sub)}/rollingUpgrades/latest", params={"api-version": API})
        if r.status_code == 200 and r.json()["properties"]["runningStatus"]["code"] != "RollingForward":
            break
    assert r.json()["properties"]["runningStatus"]["code"] == "Completed"
    history = _get(raw, f"{_set(sub)}/osUpgradeHistory")["value"]
    assert [(h["properties"]["startedBy"], h["properties"]["targetImageReference"]["exactVersion"]) for h in history] == [
        ("Platform", "1.7.1")]


# ---- row 6: "Orchestration features won't engage at all: two health sources" ----------------------------------------
def test_row_6_two_health_sources_refuse_automatic_os_upgrade_and_repairs(raw, sub):
    _seed(raw)
    lb = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/loadBalancers/lb-payments"
    r = raw.put(lb, params={"api-version": "2024-05-01"}, json={
        "location": "eastus", "sku": {"name": "Standard"}, "properties": {
            "frontendIPConfigurations": [{"name": "fe", "properties": {"subnet": {"id": (
                f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet-eastus/"
                "subnets/app")}}}],
            "probes": [{"name": "ready", "properties": {"protocol": "Tcp", "port": 8443}}]}})
    assert r.status_code in (200, 201), r.text
    model = _model(raw, sub)
    uniform = copy.deepcopy(model)
    uniform.pop("zones")
    uniform["properties"].update({"orchestrationMode": "Uniform"})
    uniform["properties"].pop("automaticRepairsPolicy")
    uniform["properties"]["virtualMachineProfile"]["networkProfile"]["healthProbe"] = {"id": f"{lb}/probes/ready"}
    r = raw.put(_set(sub, "vmss-two-sources"), params={"api-version": API}, json=uniform)
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) == (
        400, "BadRequest", "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because both a "
                           "health probe and a health extension were provided. Remove the health probe or health "
                           "extension prior to enabling automatic OS upgrade.")
    repairs = copy.deepcopy(uniform)
    repairs["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"] = {"enableAutomaticOSUpgrade": False}
    repairs["properties"]["automaticRepairsPolicy"] = {"enabled": True, "gracePeriod": "PT30M"}
    r = raw.put(_set(sub, "vmss-two-sources"), params={"api-version": API}, json=repairs)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "BadRequest")
    assert r.json()["error"]["message"].startswith("Automatic repairs are not supported for this Virtual Machine Scale "
                                                   "Set because both a health probe and a health extension")
    # Removing one source (the probe) and the same set is accepted, its repairs service running.
    repairs["properties"]["virtualMachineProfile"]["networkProfile"].pop("healthProbe")
    repairs["properties"]["upgradePolicy"]["mode"] = "Manual"
    repairs["sku"]["capacity"] = 2
    _put(raw, sub, repairs, name="vmss-two-sources")
    _advance(raw, 300)
    view = _get(raw, f"{_set(sub, 'vmss-two-sources')}/instanceView")
    assert view["orchestrationServices"] == [{"serviceName": "AutomaticRepairs", "serviceState": "Running"}]
    assert [i["name"] for i in _instances(raw, sub, "vmss-two-sources")] == ["vmss-two-sources_0", "vmss-two-sources_1"]


# ---- row 7: "Instances churn/replace constantly outside any upgrade" ------------------------------------------------
def test_row_7_a_repair_grace_period_shorter_than_warm_up_replaces_instances_again_and_again(raw, sub):
    _seed(raw)
    # The application needs 15 minutes to warm up; the health extension's grace period stays at its default (5 s), so
    # a new instance turns Unknown long before it could be healthy; the repair grace period is the minimum, PT10M.
    r = raw.put("/_refit/health-model", json={"images": {"payments-auth/1.7.0": {"state": "unhealthy"}},
                                               "boot_seconds": 900})
    assert r.status_code == 200
    model = _model(raw, sub)
    model["properties"]["automaticRepairsPolicy"]["gracePeriod"] = "PT10M"
    _health_ext(model)["properties"]["settings"].pop("gracePeriod")
    model["sku"]["capacity"] = 11
    _put(raw, sub, model)
    _advance(raw, 30)  # the set's update completes (vmss.update) and the 11th VM is created
    names = {i["name"] for i in _instances(raw, sub)}
    assert len(names) == 11
    seen = set(names)
    states = []
    for _ in range(80):
        _advance(raw, 60)
        insts = _instances(raw, sub)
        seen |= {i["name"] for i in insts}
        states.append(_get(raw, f"{_set(sub)}/instanceView")["orchestrationServices"][0]["serviceState"])
    # Five replacements of the slow instance, each after PT10M, then the platform suspends repairs.
    assert len(seen) == 11 + 5
    assert states[-1] == "Suspended"
    assert len(_instances(raw, sub)) == 11
    # Raising the grace period above boot plus warm-up and resuming: the instance turns healthy and stays.
    model = _model(raw, sub)
    model["properties"]["automaticRepairsPolicy"]["gracePeriod"] = "PT30M"
    _put(raw, sub, model)
    _advance(raw, 60)
    _post(raw, f"{_set(sub)}/setOrchestrationServiceState", {"serviceName": "AutomaticRepairs", "action": "Resume"})
    names = {i["name"] for i in _instances(raw, sub)}
    _advance(raw, 3600)
    assert {i["name"] for i in _instances(raw, sub)} == names
    health = [_get(raw, f"{_set(sub)}/virtualMachines/{n}/instanceView")["vmHealth"]["status"]["code"] for n in names]
    assert set(health) == {"HealthState/healthy"}


# ---- placement, scale-in, Spot ----------------------------------------------------------------------------------------
def test_scale_out_balances_zones_and_scale_in_takes_the_newest_from_the_fullest_zone(raw, sub):
    _seed(raw, {"capacity": 4})
    model = _model(raw, sub)
    zones = lambda: sorted(i["zones"][0] for i in _instances(raw, sub))  # noqa: E731
    assert zones() == ["1", "1", "2", "3"]
    first = {i["name"] for i in _instances(raw, sub)}
    model["sku"]["capacity"] = 6
    _put(raw, sub, model)
    _advance(raw, 200)
    assert zones() == ["1", "1", "2", "2", "3", "3"]  # the two new ones went to the zones with fewest
    added = {i["name"]: i["zones"][0] for i in _instances(raw, sub) if i["name"] not in first}
    assert sorted(added.values()) == ["2", "3"]
    model["sku"]["capacity"] = 5
    _put(raw, sub, model)
    _advance(raw, 60)
    # Balanced zones: the Default policy removes the highest instance id, the newest VM (the one added in zone 3).
    left = {i["name"] for i in _instances(raw, sub)}
    assert zones() == ["1", "1", "2", "2", "3"]
    assert (first | added.keys()) - left == {n for n, z in added.items() if z == "3"}


def test_spot_priority_mix_and_evictions(raw, sub):
    _seed(raw, {"capacity": 1})
    model = _model(raw, sub)
    prof = model["properties"]["virtualMachineProfile"]
    prof.update({"priority": "Spot", "evictionPolicy": "Delete", "billingProfile": {"maxPrice": -1}})
    model["properties"]["priorityMixPolicy"] = {"baseRegularPriorityCount": 2, "regularPriorityPercentageAboveBase": 25}
    model["properties"]["upgradePolicy"]["mode"] = "Manual"
    model["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"] = {"enableAutomaticOSUpgrade": False}
    model.pop("zones")
    _put(raw, sub, model, name="vmss-spot", status=(201,))
    _advance(raw, 400)
    model["sku"]["capacity"] = 12
    _put(raw, sub, model, name="vmss-spot")
    _advance(raw, 400)
    insts = _instances(raw, sub, "vmss-spot")
    prio = [i["properties"].get("priority", "Regular") for i in insts]
    # base 2 regular, then 25 % of the 10 above the base regular, rounded down (2): 4 regular, 8 Spot.
    assert (prio.count("Regular"), prio.count("Spot")) == (4, 8)
    r = raw.post("/_refit/evictions", json={"scaleSet": _set(sub, "vmss-spot"), "count": 3})
    assert r.status_code == 200 and len(r.json()["evicted"]) == 3
    left = _instances(raw, sub, "vmss-spot")
    assert len(left) == 9
    assert [i["properties"].get("priority", "Regular") for i in left].count("Regular") == 4
    assert _get(raw, _set(sub, "vmss-spot"))["sku"]["capacity"] == 9
