"""The rolling-upgrade engine and the set's other processes on the platform model itself (refit.platform, no HTTP):
each policy knob changes exactly what Azure's documentation says it changes. A Cloud on a manual clock, seeded with
the `rollout` scenario, moved from one pending operation to the next."""

from __future__ import annotations

import copy

import pytest

from refit.arm.ids import ResourceId
from refit.emulator import scenario
from refit.platform import writes
from refit.platform.clock import ManualClock
from refit.platform.cloud import Call, Cloud
from refit.platform.effects import health, repairs, rolling, vmss_instances

API = "2024-07-01"


@pytest.fixture
def cloud():
    c = Cloud()
    c.clock = ManualClock(1_000_000.0)
    scenario.apply(c, scenario.load("rollout"), {"capacity": 10, "second_capacity": 1})
    return c


def _set(c: Cloud, name="vmss-payments-eastus"):
    sub = c.subscriptions[0]["id"]
    return f"/subscriptions/{sub}/resourceGroups/rg-payments/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"


def _run(c: Cloud, until=None, limit=100_000.0):
    """Complete pending operations in time order until `until()` holds (or nothing is pending)."""
    end = c.now() + limit
    while (due := c.next_due()) is not None and c.now() < end:
        c.clock.advance(max(0.0, due - c.now()) + 1e-6)
        c.tick()
        if until is not None and until():
            return


def _write(c: Cloud, rid: str, body, method="PUT"):
    a = writes.write(c, ResourceId.parse(rid), Call(method, API, body))
    if a.op is not None:
        _run(c, lambda: c.ops[a.op.id].status != "InProgress")
    return a


def _model(c: Cloud, rid: str) -> dict:
    doc = copy.deepcopy(c.get(rid))
    return {k: v for k, v in doc.items() if k not in ("id", "name", "type")}


def _policy(c: Cloud, rid: str, **changes) -> None:
    m = _model(c, rid)
    m["properties"]["upgradePolicy"]["rollingUpgradePolicy"].update(changes)
    m["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"] = {"enableAutomaticOSUpgrade": False}
    m["properties"].pop("automaticRepairsPolicy", None)
    _write(c, rid, m)


def _publish(c: Cloud, version: str, unhealthy: bool = False) -> str:
    d = _set(c).split("/virtualMachineScaleSets/")[0] + "/galleries/galPayments/images/payments-auth"
    if unhealthy:
        c.settings["health"]["images"][f"payments-auth/{version}"] = {"state": "unhealthy"}
    src = d.split("/galleries/")[0] + "/disks/payments-bake"
    _write(c, f"{d}/versions/{version}", {"location": "eastus", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "eastus"}]}, "storageProfile": {"source": {"id": src}}}})
    return f"{d}/versions/{version}"


def _start_os(c: Cloud, rid: str):
    return writes.act(c, ResourceId.parse(rid), "osRollingUpgrade", Call("POST", API))


def _members(c: Cloud, rid: str):
    return vmss_instances.members(c, c.get(rid))


def _images(c: Cloud, rid: str) -> list[str]:
    return [vmss_instances.running_image(c, d).rsplit("/", 1)[-1] for d in _members(c, rid)]


def test_prioritize_unhealthy_instances_takes_the_unhealthy_ones_in_the_first_batch(cloud):
    c, rid = cloud, _set(cloud)
    _policy(c, rid, prioritizeUnhealthyInstances=True, maxUnhealthyInstancePercent=50, enableCrossZoneUpgrade=True)
    sick = [d["id"] for d in _members(c, rid)][7:9]
    for i in sick:  # two instances whose guest is stopped report Unknown (unhealthy for the upgrade)
        c.priv(i)["power"] = "stopped"
    target = _publish(c, "1.7.1")
    _start_os(c, rid)
    u = rolling.latest(c, c.get(rid))
    _run(c, lambda: u["batches"] and u["batch"] is not None)
    assert sorted(u["batch"]["ids"]) == sorted(sick)
    assert target.endswith("/1.7.1")


def test_more_than_max_unhealthy_of_the_whole_set_stops_at_the_end_of_the_batch(cloud):
    c, rid = cloud, _set(cloud)
    _policy(c, rid, maxUnhealthyInstancePercent=20, maxUnhealthyUpgradedInstancePercent=100)
    _publish(c, "1.7.1")
    _start_os(c, rid)
    u = rolling.latest(c, c.get(rid))
    _run(c, lambda: u["batch"] is not None)
    for d in _members(c, rid)[5:8]:  # meanwhile 3 instances outside the batch stop: 30 % of the set unhealthy
        c.priv(d["id"])["power"] = "stopped"
    _run(c, lambda: u["code"] != "RollingForward")
    assert (u["code"], u["error"]["code"]) == ("Faulted", "MaxUnhealthyInstancePercentExceededInRollingUpgrade")
    assert (len(u["succeeded"]), len(u["failed"]), len(u["batches"])) == (2, 0, 1)  # the batch finished, no other


def test_a_users_os_upgrade_rolls_back_only_with_rollback_failed_instances_on_policy_breach(cloud):
    c, rid = cloud, _set(cloud)
    _policy(c, rid)
    before = {d["id"]: d["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] for d in _members(c, rid)}
    _publish(c, "1.7.0", unhealthy=True)
    a = _start_os(c, rid)
    _run(c, lambda: c.ops[a.op.id].status != "InProgress")
    u = rolling.latest(c, c.get(rid))
    assert (u["code"], u["startedBy"], c.ops[a.op.id].status) == ("Faulted", "User", "Failed")
    assert c.ops[a.op.id].error["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    # "Manual trigger of OS image upgrades does not provide automatic rollback": the failed two stay on 1.7.0.
    assert sorted(_images(c, rid)) == ["1.6.0"] * 8 + ["1.7.0"] * 2
    assert u["rolledBack"] == 0
    # With rollbackFailedInstancesOnPolicyBreach the breach restores them.
    for d in _members(c, rid):
        vmss_instances.rollback(c, d)
    _policy(c, rid, rollbackFailedInstancesOnPolicyBreach=True)
    _start_os(c, rid)
    _run(c, lambda: rolling.latest(c, c.get(rid))["code"] != "RollingForward")
    u = rolling.latest(c, c.get(rid))
    assert (u["code"], u["rolledBack"]) == ("Faulted", 2)
    assert _images(c, rid) == ["1.6.0"] * 10
    assert {d["id"]: d["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] for d in _members(c, rid)} == \
        before


def test_disable_automatic_rollback_leaves_the_platforms_failed_instances_on_the_new_image(cloud):
    c, rid = cloud, _set(cloud)
    m = _model(c, rid)
    m["properties"]["upgradePolicy"]["automaticOSUpgradePolicy"]["disableAutomaticRollback"] = True
    _write(c, rid, m)
    _publish(c, "1.7.0", unhealthy=True)
    _run(c, lambda: (rolling.latest(c, c.get(rid)) or {}).get("code") == "Faulted")
    u = rolling.latest(c, c.get(rid))
    assert (u["startedBy"], u["autoRollback"], u["rolledBack"]) == ("Platform", False, 0)
    assert sorted(_images(c, rid)) == ["1.6.0"] * 8 + ["1.7.0"] * 2


def test_cancel_lets_the_batch_in_flight_finish_and_starts_no_other(cloud):
    c, rid = cloud, _set(cloud)
    _policy(c, rid)
    _publish(c, "1.7.1")
    a = _start_os(c, rid)
    u = rolling.latest(c, c.get(rid))
    _run(c, lambda: u["batch"] is not None)
    writes.act(c, ResourceId.parse(rid), "rollingUpgrades/cancel", Call("POST", API))
    _run(c, lambda: c.ops[a.op.id].status != "InProgress")
    assert (u["code"], u["lastAction"], len(u["succeeded"]), len(u["batches"])) == ("Cancelled", "Cancel", 2, 1)
    assert (c.ops[a.op.id].status, c.ops[a.op.id].error["code"]) == ("Failed", "OperationPreempted")
    assert sorted(_images(c, rid)) == ["1.6.0"] * 8 + ["1.7.1"] * 2


def test_an_extension_rolling_upgrade_reaches_every_instance_without_a_reboot(cloud):
    c, rid = cloud, _set(cloud)
    _policy(c, rid)
    m = _model(c, rid)
    m["properties"]["upgradePolicy"]["mode"] = "Manual"
    m["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"].append({"name": "monitor", "properties": {
        "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent", "typeHandlerVersion": "1.0"}})
    _write(c, rid, m)
    booted = {d["id"]: c.priv(d["id"]).get("booted_at") for d in _members(c, rid)}
    a = writes.act(c, ResourceId.parse(rid), "extensionRollingUpgrade", Call("POST", API))
    _run(c, lambda: c.ops[a.op.id].status != "InProgress")
    assert rolling.latest(c, c.get(rid))["code"] == "Completed"
    assert all(sorted(e["name"] for e in vmss_instances.extensions_of(c, d)) == ["HealthExtension", "monitor"]
               for d in _members(c, rid))
    assert {d["id"]: c.priv(d["id"]).get("booted_at") for d in _members(c, rid)} == booted


def test_automatic_mode_upgrades_every_instance_at_once(cloud):
    c, rid = cloud, _set(cloud)
    m = _model(c, rid)
    m["properties"]["upgradePolicy"] = {"mode": "Automatic"}
    m["properties"].pop("automaticRepairsPolicy")
    _write(c, rid, m)
    m["sku"]["name"] = "Standard_D4s_v5"
    _write(c, rid, m)
    assert {d["properties"]["hardwareProfile"]["vmSize"] for d in _members(c, rid)} == {"Standard_D4s_v5"}
    assert all(vmss_instances.latest_applied(c, c.get(rid), d) for d in _members(c, rid))
    assert rolling.latest(c, c.get(rid)) is None


@pytest.mark.parametrize("action", ["Reimage", "Restart"])
def test_repairs_reimage_or_restart_keep_the_instance(cloud, action):
    c, rid = cloud, _set(cloud)
    m = _model(c, rid)
    m["properties"]["automaticRepairsPolicy"] = {"enabled": False}
    _write(c, rid, m)
    m["properties"]["automaticRepairsPolicy"] = {"enabled": True, "gracePeriod": "PT10M", "repairAction": action}
    _write(c, rid, m)
    sick = _members(c, rid)[3]
    # Its OS disk came from a version that cannot serve (as if someone had reimaged it to 1.7.0 by hand).
    disk = sick["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    bad = c.get(disk)["properties"]["creationData"]["galleryImageReference"]["id"].replace("1.6.0", "1.7.0")
    c.get(disk)["properties"]["creationData"]["galleryImageReference"]["id"] = bad
    assert health.state(c, sick) == "unhealthy"
    repairs.watch(c, c.get(rid))
    start = c.now()
    _run(c, lambda: c.priv(sick["id"]).get("repaired"), limit=3600)
    log = c.priv(rid)["repair_log"]
    assert [(e["instance"], e["action"]) for e in log] == [(sick["name"], action)]
    assert c.now() - start == pytest.approx(600, abs=1e-3)  # the grace period PT10M, then the repair
    assert sick["name"] in [d["name"] for d in _members(c, rid)]  # the instance stays (Replace would make another)
    now_disk = c.get(sick["id"])["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    assert (now_disk != disk) == (action == "Reimage")
    c.clock.advance(120)  # boot (50 s) and one probe (5 s) later, long before the next repair
    c.tick()
    # Reimage: a new OS disk from the latest version (1.6.0), healthy; Restart: the same disk, unhealthy again.
    assert health.state(c, c.get(sick["id"])) == ("healthy" if action == "Reimage" else "unhealthy")
