"""`refit release publish|promote|kill|status` on seed 001's `rollout` scenario (issue 14): a version published to the
canary region only, promoted to the second region, killed with excludeFromLatest while the platform's rolling
upgrade takes it (the upgrade cancelled, nothing deleted); bad input refused in one line with exit 2, nothing
changed. Read back through the SDK."""

from __future__ import annotations

import json

import pytest

from clitools import run_cli

RG = "rg-payments"


cli = run_cli


def _ids(sub):
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    return f"{base}/galleries/galPayments/images/payments-auth", f"{base}/disks/payments-bake"


def test_publish_to_the_canary_region_promote_and_status(session, server, sub, capsys, monkeypatch):
    session.control("POST", "scenario", {"name": "rollout"})
    definition, source = _ids(sub)
    code, out, _ = cli(capsys, monkeypatch, server, "release", "status", definition, "-o", "json")
    st = json.loads(out)
    assert (code, st["versions"], st["latest"]) == (0, [{"name": "1.6.0", "excludeFromLatest": False, "regions": {
        "eastus": "Completed", "westus3": "Completed"}}], {"eastus": "1.6.0", "westus3": "1.6.0"})
    assert {k.rsplit("/", 1)[-1]: {ver: len(n) for ver, n in per.items()} for k, per in st["scaleSets"].items()} == {
        "vmss-payments-eastus": {"1.6.0": 10}, "vmss-payments-westus3": {"1.6.0": 5}}

    code, out, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                         "1.7.1", "--source", source, "--canary-region", "eastus", "--yes", "-o", "json")
    assert code == 0, err
    assert json.loads(out) == {"dry_run": False, "version": f"{definition}/versions/1.7.1",
                               "regions": {"eastus": "Completed"}}
    got = session.compute.gallery_image_versions.get(RG, "galPayments", "payments-auth", "1.7.1")
    assert [t.name for t in got.publishing_profile.target_regions] == ["East US"]
    code, out, _ = cli(capsys, monkeypatch, server, "release", "status", definition, "-o", "json")
    assert json.loads(out)["latest"] == {"eastus": "1.7.1", "westus3": "1.6.0"}

    # Promote: the remaining region is where the definition runs (the second set's region).
    code, out, err = cli(capsys, monkeypatch, server, "release", "promote", f"{definition}/versions/1.7.1", "--yes",
                         "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["added"], report["regions"]) == (["westus3"], {"eastus": "Completed", "westus3": "Completed"})
    got = session.compute.gallery_image_versions.get(RG, "galPayments", "payments-auth", "1.7.1")
    assert [t.name for t in got.publishing_profile.target_regions] == ["East US", "West US 3"]
    code, out, _ = cli(capsys, monkeypatch, server, "release", "promote", f"{definition}/versions/1.7.1", "--yes",
                       "-o", "json")
    assert json.loads(out)["added"] == []  # nothing left to add: nothing sent


def test_kill_excludes_the_version_and_cancels_the_upgrade_taking_it(session, server, sub, capsys, monkeypatch):
    session.control("POST", "scenario", {"name": "rollout"})
    # A batch's reimage takes a simulated week: the platform's upgrade of 1.7.0 is still rolling when the kill comes.
    session.control("PUT", "timing", {"vmss.reimage_instance": 604_800})
    definition, source = _ids(sub)
    code, _, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                       "1.7.0", "--source", source, "--canary-region", "eastus", "--yes")
    assert code == 0, err
    session.control("POST", "clock", {"advance": 900})  # the platform's automatic OS upgrade delay
    latest = session.compute.virtual_machine_scale_set_rolling_upgrades.get_latest(RG, "vmss-payments-eastus")
    assert latest.running_status.code == "RollingForward"
    code, out, err = cli(capsys, monkeypatch, server, "release", "kill", f"{definition}/versions/1.7.0", "--yes",
                         "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    canary = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/" \
             "vmss-payments-eastus"
    assert report["cancelled"] == [canary]
    assert report["previous"] == f"{definition}/versions/1.6.0"
    assert [len(n) for n in report["scaleSets"].values()] == [2]  # the first batch had taken it
    # The set tracks the definition: an OS upgrade takes `latest` again, which is 1.6.0 once 1.7.0 is excluded.
    assert report["return"] == ["az vmss rolling-upgrade start -g rg-payments -n vmss-payments-eastus"]
    got = session.compute.gallery_image_versions.get(RG, "galPayments", "payments-auth", "1.7.0")
    assert got.publishing_profile.exclude_from_latest is True  # excluded, never deleted
    latest = session.compute.virtual_machine_scale_set_rolling_upgrades.get_latest(RG, "vmss-payments-eastus")
    assert (latest.running_status.code, latest.running_status.last_action) == ("Cancelled", "Cancel")
    code, out, _ = cli(capsys, monkeypatch, server, "release", "status", definition, "-o", "json")
    assert json.loads(out)["latest"] == {"eastus": "1.6.0", "westus3": "1.6.0"}


@pytest.mark.parametrize(("args", "message"), [
    (["publish", "--definition", "{definition}x", "--version", "1.8.0", "--source", "{source}", "--yes"],
     "error: no gallery image definition {definition}x: check the id (`refit inventory` lists what there is)"),
    (["publish", "--definition", "{definition}", "--version", "1.6.0", "--source", "{source}", "--yes"],
     "error: version 1.6.0 of payments-auth exists: publish a new version number (a version is immutable; `refit "
     "release promote` adds regions to it)"),
    (["publish", "--definition", "{definition}", "--version", "1.8.0", "--source", "{source}", "--regions", "mars",
      "--yes"], "error: --regions: 'mars' is not an Azure region (e.g. eastus, westus3)"),
    (["publish", "--definition", "{definition}", "--version", "1.8.0", "--source", "{source}", "--regions", "eastus",
      "--canary-region", "eastus", "--yes"],
     "error: --canary-region replicates to that region only: drop --regions (refit release promote adds them once the "
     "canary succeeded)"),
    (["publish", "--definition", "{definition}", "--version", "1.8", "--source", "{source}", "--yes"],
     "error: Azure would refuse it: (InvalidParameter) The image version name is invalid. The image version name "
     "should follow Major(int).Minor(int).Patch(int) format, for e.g: 1.0.0, 2018.12.1 etc (rule G5: A version is "
     "named Major.Minor.Patch (32-bit integers))"),
    (["kill", "{definition}/versions/9.9.9", "--yes"],
     "error: no gallery image version {definition}/versions/9.9.9: check the id (`refit inventory` lists what there "
     "is)"),
    (["status", "{source}"], "error: '{source}' is a Microsoft.Compute/disks, not a gallery image definition "
                             "(.../galleries/G/images/D)"),
])
def test_bad_input_is_one_line_exit_2_nothing_changed(session, server, sub, capsys, monkeypatch, args, message):
    session.control("POST", "scenario", {"name": "rollout"})
    definition, source = _ids(sub)
    before = sorted(v.name for v in session.compute.gallery_image_versions.list_by_gallery_image(
        RG, "galPayments", "payments-auth"))
    code, out, err = cli(capsys, monkeypatch, server, "release",
                         *[a.format(definition=definition, source=source) for a in args])
    assert (code, out, err.strip()) == (2, "", message.format(definition=definition, source=source))
    assert sorted(v.name for v in session.compute.gallery_image_versions.list_by_gallery_image(
        RG, "galPayments", "payments-auth")) == before


def test_build_publishes_and_row_1_fails_at_distribution_naming_the_action(session, server, sub, raw, capsys,
                                                                             monkeypatch):
    """`refit release build` runs the scenario's Image Builder template to a new version; seed 001 row 1 (the build
    identity without galleries/images/versions/write) fails at distribution with Azure's authorization message, and
    `refit doctor` names the missing permission before any build is run."""
    session.control("POST", "scenario", {"name": "rollout"})
    definition, _ = _ids(sub)
    template = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/" \
               "aib-payments"
    code, out, err = cli(capsys, monkeypatch, server, "release", "build", template, "--yes", "-o", "json")
    assert code == 0, err
    built = json.loads(out)
    assert (built["runState"], built["outputs"]) == ("Succeeded", [{
        "name": "payments-auth-out", "artifactId": f"{definition}/versions/1.6.1", "provisioningState": "Succeeded"}])
    code, out, _ = cli(capsys, monkeypatch, server, "doctor", "--check", "RF-AIB-003", "-o", "json")
    assert (code, json.loads(out)["findings"]) == (0, [])  # the identity may publish

    # The role loses the version write (a least-privilege role written from a wrong list).
    role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/0d3e4f5a-2c3d-4e4f-8a5b-c3d4e5f6a7b8"
    doc = raw.get(role, params={"api-version": "2022-05-01-preview"}).json()
    actions = [a for a in doc["properties"]["permissions"][0]["actions"]
               if a != "Microsoft.Compute/galleries/images/versions/write"]
    r = raw.put(role, params={"api-version": "2022-05-01-preview"}, json={"properties": {
        **doc["properties"], "permissions": [{"actions": actions}]}})
    assert r.status_code in (200, 201), r.text
    code, out, _ = cli(capsys, monkeypatch, server, "doctor", "--check", "RF-AIB-003", "-o", "json")
    (finding,) = [f for f in json.loads(out)["findings"] if f["status"] == "fail"]
    assert finding["message"] == (
        "identity id-aib (principal 5f1c2d3e-0a1b-4c2d-8e3f-a1b2c3d4e5f6) may not perform "
        f"Microsoft.Compute/galleries/images/versions/write over {definition}: no role assigned to it covers it, so the "
        "build fails at distribution with AuthorizationFailed")
    code, out, err = cli(capsys, monkeypatch, server, "release", "build", template, "--yes", "-o", "json")
    failed = json.loads(out)
    assert (code, failed["ok"], failed["runState"], failed["runSubState"]) == (1, False, "Failed", "Distributing")
    assert "does not have authorization to perform action 'Microsoft.Compute/galleries/images/versions/write'" in \
        failed["message"]
    assert sorted(v.name for v in session.compute.gallery_image_versions.list_by_gallery_image(
        RG, "galPayments", "payments-auth")) == ["1.6.0", "1.6.1"]  # nothing more was published
