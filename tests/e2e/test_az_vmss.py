"""The real az CLI (PyPI azure-cli, own venv) driving a Flexible scale set through its life against the emulator
(issue 12's acceptance): create over three zones, the Application Health extension, a Rolling policy and a rolling
upgrade of a model change, reimage, scale-out, a user-started OS rolling upgrade and its cancel, automatic repairs,
an automatic OS upgrade to a newly published gallery version, and the OS upgrade history. Every command's effect is
read back with az.

The emulator's clock runs at the test scale while az waits for an operation, and stands nearly still (scale 1e-9)
while the test watches an upgrade: then the commands are sent with --no-wait and the test moves the clock with
`POST /_refit/clock {"advance": seconds}`.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from az_venv import az_fixture, az_tools_fixture  # noqa: F401 (the az and az_tools fixtures)

from conftest import TEST_TIME_SCALE

pytestmark = pytest.mark.e2e

RG = "rg-vmss"
SS = "ss-web"
HEALTH = {"protocol": "http", "port": 80, "requestPath": "/health", "gracePeriod": 60}
ROLLING = {"maxBatchInstancePercent": 34, "pauseTimeBetweenBatches": "PT1M"}


class Clock:
    """The emulator's virtual clock through its control API."""

    def __init__(self, raw):
        self.raw = raw

    def _post(self, body):
        r = self.raw.post("/_refit/clock", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def run(self):  # operations az waits for complete in milliseconds
        self._post({"scale": TEST_TIME_SCALE})

    def hold(self):  # time moves only when the test moves it
        self._post({"scale": 1e-9})

    def advance(self, seconds: float):
        self._post({"advance": seconds})


def _instances(az):
    return az("vmss", "list-instances", "-g", RG, "-n", SS)


def _latest(az):
    return az("vmss", "rolling-upgrade", "get-latest", "-g", RG, "-n", SS)


def _os_disk(az, name):
    return az("vm", "show", "-g", RG, "-n", name)["storageProfile"]["osDisk"]["managedDisk"]["id"]


def _source_version(az, disk_id):
    """The gallery image version an OS disk was made from."""
    return az("disk", "show", "--ids", disk_id)["creationData"]["galleryImageReference"]["id"]


def test_az_vmss_flexible_scale_set_lifecycle(az, raw, sub):
    clock = Clock(raw)
    rg_id = f"/subscriptions/{sub}/resourceGroups/{RG}"
    az("group", "create", "-n", RG, "-l", "eastus")

    # A gallery image for later: definition `app`, version 1.0.0 from a captured (here: empty) OS disk.
    disk = az("disk", "create", "-g", RG, "-n", "golden-1", "--size-gb", "30", "--os-type", "Linux",
              "--hyper-v-generation", "V2")
    az("sig", "create", "-g", RG, "--gallery-name", "gal")
    definition = az("sig", "image-definition", "create", "-g", RG, "--gallery-name", "gal",
                    "--gallery-image-definition", "app", "--publisher", "contoso", "--offer", "app", "--sku", "web",
                    "--os-type", "Linux", "--hyper-v-generation", "V2")["id"]
    assert definition == f"{rg_id}/providers/Microsoft.Compute/galleries/gal/images/app"
    v1 = az("sig", "image-version", "create", "-g", RG, "--gallery-name", "gal", "--gallery-image-definition", "app",
            "--gallery-image-version", "1.0.0", "--os-snapshot", disk["id"], "--target-regions", "eastus")
    assert (v1["id"], v1["provisioningState"]) == (f"{definition}/versions/1.0.0", "Succeeded")

    # ---- 1. create: three instances, one per zone ---------------------------------------------------------------
    out = az("vmss", "create", "-g", RG, "-n", SS, "--orchestration-mode", "Flexible", "--zones", "1", "2", "3",
             "--instance-count", "3", "--image", "Ubuntu2204", "--admin-username", "azureuser",
             "--generate-ssh-keys", "--lb", "")["VMSS"]
    # az prints the template's output: reference() of the set, its properties.
    assert (out["provisioningState"], out["orchestrationMode"], out["platformFaultDomainCount"],
            out["singlePlacementGroup"]) == ("Succeeded", "Flexible", 1, False)
    shown = az("vmss", "show", "-g", RG, "-n", SS)
    assert (shown["zones"], shown["sku"]["capacity"]) == (["1", "2", "3"], 3)
    insts = _instances(az)
    assert len(insts) == 3
    assert sorted(i["zones"] for i in insts) == [["1"], ["2"], ["3"]]
    for i in insts:
        assert re.fullmatch(rf"{SS}_[0-9a-f]{{8}}", i["name"]), i["name"]  # {scale-set-name}_{8-char-guid}
        assert (i["instanceId"], i["type"], i["provisioningState"], i["latestModelApplied"]) == (
            i["name"], "Microsoft.Compute/virtualMachines", "Succeeded", True)
        # `latest` as asked, and the version it was made from (ImageReference.exactVersion, read-only)
        assert i["storageProfile"]["imageReference"] == {
            "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
            "version": "latest", "exactVersion": "22.04.202611180"}
    names = [i["name"] for i in insts]
    first = names[0]

    # ---- 2. the Application Health extension, brought to the instances by update-instances ---------------------
    out = az("vmss", "extension", "set", "-g", RG, "--vmss-name", SS, "--name", "ApplicationHealthLinux",
             "--publisher", "Microsoft.ManagedServices", "--version", "2.0", "--settings", json.dumps(HEALTH))
    assert out["virtualMachineProfile"]["extensionProfile"]["extensions"] == [{
        "name": "ApplicationHealthLinux", "publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux",
        "typeHandlerVersion": "2.0", "autoUpgradeMinorVersion": True, "settings": HEALTH}]
    # The model changed; a set without an upgrade policy is Manual: the instances wait for update-instances.
    assert [i["latestModelApplied"] for i in _instances(az)] == [False, False, False]
    assert "vmHealth" not in az("vmss", "get-instance-view", "-g", RG, "-n", SS, "--instance-id", first)
    clock.hold()
    az("vmss", "update-instances", "-g", RG, "-n", SS, "--instance-ids", "*", "--no-wait")
    assert [i["latestModelApplied"] for i in _instances(az)] == [False, False, False]
    clock.advance(300 + 60)  # the timing model's vmss.update_instances, then the extension's grace period
    assert [i["latestModelApplied"] for i in _instances(az)] == [True, True, True]
    for name in names:
        view = az("vmss", "get-instance-view", "-g", RG, "-n", SS, "--instance-id", name)
        assert (view["vmHealth"]["status"]["code"], view["vmHealth"]["status"]["displayStatus"]) == (
            "HealthState/healthy", "Healthy")
        # Max spreading (platformFaultDomainCount 1) shows one fault domain; a Flexible set has no update domains.
        assert (view["platformFaultDomain"], view["platformUpdateDomain"]) == (0, 0)
        assert [(e["name"], e["type"], e["typeHandlerVersion"]) for e in view["extensions"]] == [
            ("ApplicationHealthLinux", "Microsoft.ManagedServices.ApplicationHealthLinux", "2.0")]
    exts = az("vm", "extension", "list", "-g", RG, "--vm-name", first)
    assert [(e["name"], e["publisher"], e["typeHandlerVersion"], e["settings"]) for e in exts] == [
        ("ApplicationHealthLinux", "Microsoft.ManagedServices", "2.0", HEALTH)]
    assert az("vmss", "get-instance-view", "-g", RG, "-n", SS)["extensions"] == [
        {"name": "ApplicationHealthLinux", "statusesSummary": [{"code": "ProvisioningState/succeeded", "count": 3}]}]

    # ---- 3. Rolling, then a model change that rolls: the gallery image, one instance (34 %) per batch ------------
    clock.run()
    out = az("vmss", "update", "-g", RG, "-n", SS, "--set", "upgradePolicy.mode=Rolling",
             "--max-batch-instance-percent", "34", "--pause-time-between-batches", "PT1M")
    assert out["upgradePolicy"]["mode"] == "Rolling"
    shown = az("vmss", "show", "-g", RG, "-n", SS)["upgradePolicy"]
    assert (shown["mode"], {k: shown["rollingUpgradePolicy"][k] for k in ROLLING}) == ("Rolling", ROLLING)
    before = {n: _os_disk(az, n) for n in names}
    clock.hold()
    az("vmss", "update", "-g", RG, "-n", SS, "--set", f"virtualMachineProfile.storageProfile.imageReference.id="
       f"{definition}", "--no-wait")
    clock.advance(30)  # the timing model's vmss.update: the new model is in place and starts rolling
    latest = _latest(az)
    assert latest["runningStatus"]["code"] == "RollingForward"
    assert (latest["runningStatus"]["lastAction"], latest["type"]) == (
        "Start", "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades")
    assert {k: latest["policy"][k] for k in ROLLING} == ROLLING
    assert latest["progress"] == {"successfulInstanceCount": 0, "failedInstanceCount": 0,
                                  "inProgressInstanceCount": 1, "pendingInstanceCount": 2}
    # Three batches (one zone each): a new OS disk and a reboot, the extension's probe, a minute's pause.
    clock.advance(3600)
    latest = _latest(az)
    assert latest["runningStatus"]["code"] == "Completed"
    assert latest["progress"] == {"successfulInstanceCount": 3, "failedInstanceCount": 0,
                                  "inProgressInstanceCount": 0, "pendingInstanceCount": 0}
    insts = _instances(az)
    assert [(i["latestModelApplied"], i["storageProfile"]["imageReference"]["id"]) for i in insts] == [
        (True, definition)] * 3
    for n in names:  # each instance got a new OS disk from the definition's latest version
        now = _os_disk(az, n)
        assert now != before[n]
        assert _source_version(az, now) == f"{definition}/versions/1.0.0"

    # ---- 4. reimage one instance, scale out, start and cancel an OS upgrade, repairs, automatic OS upgrade ------
    clock.run()
    old = _os_disk(az, first)
    assert az("vmss", "reimage", "-g", RG, "-n", SS, "--instance-ids", first) is None
    new = _os_disk(az, first)
    assert new != old
    assert _source_version(az, new) == f"{definition}/versions/1.0.0"
    assert old.rsplit("/", 1)[1] not in [d["name"] for d in az("disk", "list", "-g", RG)]  # the old OS disk went
    assert az("vm", "get-instance-view", "-g", RG, "-n", first)["instanceView"]["statuses"][1]["code"] == (
        "PowerState/running")

    out = az("vmss", "scale", "-g", RG, "-n", SS, "--new-capacity", "5")
    assert (out["sku"]["capacity"], out["sku"]["name"], out["provisioningState"]) == (5, "Standard_D2s_v5", "Succeeded")
    insts = _instances(az)
    assert len(insts) == 5
    assert az("vmss", "show", "-g", RG, "-n", SS)["sku"]["capacity"] == 5
    assert Counter(i["zones"][0] for i in insts) == {"1": 2, "2": 2, "3": 1}  # balanced: each zone +-1
    assert [n for n in names if n in {i["name"] for i in insts}] == names  # scale-out keeps the instances it had
    names = [i["name"] for i in insts]

    out = az("vmss", "update", "-g", RG, "-n", SS, "--enable-automatic-repairs", "true",
             "--automatic-repairs-grace-period", "30")  # az takes minutes and sends PT30M
    assert out["automaticRepairsPolicy"]["enabled"] is True
    assert out["automaticRepairsPolicy"]["gracePeriod"] == "PT30M"
    assert az("vmss", "get-instance-view", "-g", RG, "-n", SS)["orchestrationServices"] == [
        {"serviceName": "AutomaticRepairs", "serviceState": "Running"}]

    # A new version of the definition: the set's instances run 1.0.0, `rolling-upgrade start` brings 1.1.0.
    v2 = az("sig", "image-version", "create", "-g", RG, "--gallery-name", "gal", "--gallery-image-definition", "app",
            "--gallery-image-version", "1.1.0", "--os-snapshot", disk["id"], "--target-regions", "eastus")
    assert v2["provisioningState"] == "Succeeded"
    clock.hold()
    assert az("vmss", "rolling-upgrade", "start", "-g", RG, "-n", SS, "--no-wait") is None
    latest = _latest(az)
    assert (latest["runningStatus"]["code"], latest["runningStatus"]["lastAction"]) == ("RollingForward", "Start")
    assert latest["progress"] == {"successfulInstanceCount": 0, "failedInstanceCount": 0,
                                  "inProgressInstanceCount": 1, "pendingInstanceCount": 4}
    assert az("vmss", "rolling-upgrade", "cancel", "-g", RG, "-n", SS, "--no-wait") is None
    latest = _latest(az)
    assert (latest["runningStatus"]["code"], latest["runningStatus"]["lastAction"]) == ("Cancelled", "Cancel")
    clock.advance(600)  # the batch in flight finishes; no other starts
    latest = _latest(az)
    assert latest["runningStatus"]["code"] == "Cancelled"
    assert latest["progress"] == {"successfulInstanceCount": 1, "failedInstanceCount": 0,
                                  "inProgressInstanceCount": 0, "pendingInstanceCount": 0}
    on = Counter(_source_version(az, _os_disk(az, n)).rsplit("/", 1)[1] for n in names)
    assert on == {"1.1.0": 1, "1.0.0": 4}
    history = az("vmss", "get-os-upgrade-history", "-g", RG, "-n", SS)
    assert len(history) == 1
    h = history[0]["properties"]
    assert (h["startedBy"], h["runningStatus"]["code"], _ref(h["targetImageReference"])) == (
        "User", "Cancelled", {"id": definition, "exactVersion": "1.1.0"})
    assert h["progress"]["successfulInstanceCount"] == 1
    assert history[0]["type"] == "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"

    # Automatic OS upgrade (the definition without a version tracks its latest version, rule H4): the platform
    # brings 1.1.0 to the four instances still on 1.0.0.
    az("vmss", "update", "-g", RG, "-n", SS, "--enable-auto-os-upgrade", "true", "--no-wait")
    clock.advance(30)  # vmss.update
    shown = az("vmss", "show", "-g", RG, "-n", SS)
    assert shown["upgradePolicy"]["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] is True
    assert shown["automaticRepairsPolicy"]["enabled"] is True  # the later update kept the repairs policy
    clock.advance(900)  # vmss.auto_os_upgrade_delay: the platform starts the upgrade
    assert _latest(az)["runningStatus"]["code"] == "RollingForward"
    clock.advance(3600)
    history = az("vmss", "get-os-upgrade-history", "-g", RG, "-n", SS)
    assert [(x["properties"]["startedBy"], x["properties"]["runningStatus"]["code"]) for x in history] == [
        ("Platform", "Completed"), ("User", "Cancelled")]  # newest first
    h = history[0]["properties"]
    assert _ref(h["targetImageReference"]) == {"id": definition, "exactVersion": "1.1.0"}
    assert h["progress"] == {"successfulInstanceCount": 4, "failedInstanceCount": 0, "inProgressInstanceCount": 0,
                             "pendingInstanceCount": 0}
    assert h["rollbackInfo"] == {"successfullyRolledbackInstanceCount": 0, "failedRolledbackInstanceCount": 0}
    on = Counter(_source_version(az, _os_disk(az, n)).rsplit("/", 1)[1] for n in names)
    assert on == {"1.1.0": 5}
    for name in names:
        view = az("vmss", "get-instance-view", "-g", RG, "-n", SS, "--instance-id", name)
        assert view["vmHealth"]["status"]["code"] == "HealthState/healthy"
    assert az("vmss", "get-instance-view", "-g", RG, "-n", SS)["orchestrationServices"] == [
        {"serviceName": "AutomaticRepairs", "serviceState": "Running"}]  # healthy all along: nothing repaired
    assert sorted(i["name"] for i in _instances(az)) == sorted(names)


def _ref(ref: dict) -> dict:
    """An image reference as Azure sent it: az adds `resourceGroup` beside every `id` it prints."""
    return {k: v for k, v in ref.items() if k != "resourceGroup"}
