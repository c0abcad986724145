"""Seed 001's incident through the CLI on the `rollout` scenario (issue 14 acceptance): `refit release publish` of the
bad version to the canary region, `refit rollout` of the definition: the canary batch fails, the campaign exits 1
naming MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade, the failed instances run their previous OS disk,
the second region is never touched, the bad version is excluded from latest. Then the good version: exit 0, both
regions on it, never more than the batch percentage upgrading at once, the second region only after the canary
region succeeded and the version replicated there (from the journal's virtual-clock times; state read back through
the SDK)."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import ResourceNotFoundError

from clitools import last_json, run_cli
from refit.run.journal import Journal

RG = "rg-payments"
CANARY, SECOND = "vmss-payments-eastus", "vmss-payments-westus3"


cli = run_cli


def _disks(session, name):
    return {i.name: i.storage_profile.os_disk.managed_disk.id
            for i in session.compute.virtual_machine_scale_set_vms.list(RG, name)}


def _versions(session, name):
    out = {}
    for i in session.compute.virtual_machine_scale_set_vms.list(RG, name):
        d = session.compute.disks.get(RG, i.storage_profile.os_disk.managed_disk.id.rsplit("/", 1)[-1])
        out[i.name] = d.creation_data.gallery_image_reference.id.rsplit("/", 1)[-1]
    return out


def _events(run_id):
    j = Journal()
    try:
        return [json.loads(s["detail"]) for s in j.steps(run_id)]
    finally:
        j.close()


def test_seed_001_through_the_cli(session, server, sub, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "rollout"})
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    definition, source = f"{base}/galleries/galPayments/images/payments-auth", f"{base}/disks/payments-bake"
    canary_before, second_before = _disks(session, CANARY), _disks(session, SECOND)

    code, _, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                       "1.7.0", "--source", source, "--canary-region", "eastus", "--yes")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, server, "rollout", "--image", definition, "--canary-region", "eastus",
                         "--yes", "-o", "json")
    summary = last_json(out)
    assert (code, summary["ok"], summary["error"]["code"]) == (
        1, False, "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade")
    assert {k.rsplit("/", 1)[-1]: (s["state"], s["wave"]) for k, s in summary["sets"].items()} == {
        CANARY: ("failed", 1), SECOND: ("not-started", 2)}
    assert summary["killed"]["version"] == f"{definition}/versions/1.7.0"
    # The failed instances run their previous OS disk (the platform's upgrade rolled them back); nothing else moved.
    assert _disks(session, CANARY) == canary_before
    assert set(_versions(session, CANARY).values()) == {"1.6.0"}
    assert _disks(session, SECOND) == second_before
    with pytest.raises(ResourceNotFoundError):
        session.compute.virtual_machine_scale_set_rolling_upgrades.get_latest(RG, SECOND)
    bad = session.compute.gallery_image_versions.get(RG, "galPayments", "payments-auth", "1.7.0")
    assert bad.publishing_profile.exclude_from_latest is True
    assert [t.name for t in bad.publishing_profile.target_regions] == ["East US"]  # never promoted

    # The fix, 1.7.1: canary first, then the second region once the canary succeeded and 1.7.1 replicated there.
    code, _, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                       "1.7.1", "--source", source, "--canary-region", "eastus", "--yes")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, server, "rollout", "--image", definition, "--yes", "-o", "json")
    summary = last_json(out)
    assert (code, summary["ok"]) == (0, True), err
    states = {k.rsplit("/", 1)[-1]: s["state"] for k, s in summary["sets"].items()}
    # The canary set tracks the definition with automatic OS upgrade on: the platform's own upgrade may have finished
    # before the campaign looked (in-sync), or the campaign watched it to the end (done).
    assert states[CANARY] in ("done", "in-sync") and states[SECOND] == "done", states
    assert set(_versions(session, CANARY).values()) == {"1.7.1"}
    assert set(_versions(session, SECOND).values()) == {"1.7.1"}
    events = _events(summary["run"])
    by = {(e["set"].rsplit("/", 1)[-1], e["event"]): e["at"] for e in events}
    canary_done = by.get((CANARY, "done")) or by[(CANARY, "in-sync")]
    assert by[(SECOND, "promote")] >= canary_done  # the second region gets the version only after the canary
    replicated = session.compute.gallery_image_versions.get(RG, "galPayments", "payments-auth", "1.7.1",
                                                           expand="ReplicationStatus")
    assert [(s.region, s.state) for s in replicated.replication_status.summary] == [
        ("East US", "Completed"), ("West US 3", "Completed")]
    # Its upgrade is waited for only once 1.7.1 has replicated there: one region's replication (version.replicate_region,
    # 1,500 simulated seconds) after the promote.
    second_moves = [e["at"] for e in events if e["set"].endswith(SECOND) and e["event"] in (
        "waiting-for-platform", "started", "watching")]
    assert second_moves and min(second_moves) >= by[(SECOND, "promote")] + 1500
    # Never more than the batch percentage upgrading at once: 20 % of 10, and of 5 at least one (the canary's
    # upgrade is watched unless the platform finished it first).
    for name, most in ((CANARY, 2), (SECOND, 1)):
        counts = [e["progress"]["inProgressInstanceCount"] for e in events
                  if e["set"].endswith(name) and e["event"] == "progress" and e.get("progress")]
        assert (counts or states[name] == "in-sync") and max(counts, default=0) <= most, (name, counts)


def _standard_version(session, sub):
    """A Standard (not Trusted Launch capable) Gen1 definition with a version: what the Trusted Launch sets cannot take."""
    from azure.mgmt.compute import models as cm

    c = session.compute
    c.gallery_images.begin_create_or_update(RG, "galPayments", "legacy-gen1", cm.GalleryImage(
        location="eastus", os_type="Linux", os_state="Generalized", hyper_v_generation="V1",
        identifier=cm.GalleryImageIdentifier(publisher="contoso", offer="legacy", sku="gen1"))).result()
    disk = c.disks.begin_create_or_update(RG, "legacy-src", cm.Disk(
        location="eastus", sku=cm.DiskSku(name="Premium_LRS"), os_type="Linux", hyper_v_generation="V1",
        creation_data=cm.CreationData(create_option="Empty"), disk_size_gb=30)).result()
    return c.gallery_image_versions.begin_create_or_update(RG, "galPayments", "legacy-gen1", "1.0.0",
                                                          cm.GalleryImageVersion(
        location="eastus", publishing_profile=cm.GalleryImageVersionPublishingProfile(target_regions=[
            cm.TargetRegion(name="eastus"), cm.TargetRegion(name="westus3")]),
        storage_profile=cm.GalleryImageVersionStorageProfile(source=cm.GalleryArtifactVersionFullSource(
            id=disk.id)))).result().id


@pytest.mark.parametrize(("args", "message"), [
    (["--image", "{definition}/versions/9.9.9"],
     "error: --image: no image version {definition}/versions/9.9.9; `refit release status` lists the versions"),
    (["--image", "{source}"], "error: --image '{source}' is a Microsoft.Compute/disks: give a gallery image definition "
                              "or version id"),
    (["--image", "{definition}", "--scale-set", "nope"], "error: --scale-set nope: no such scale set; `refit inventory` "
                                                          "lists them"),
    (["--image", "{definition}", "-g", "rg-elsewhere"], "error: no scale set to roll: none uses payments-auth within "
                                                        "the selection (--scale-set, -g, --where)"),
    (["--image", "{definition}/versions/1.7.1"],
     "error: version 1.7.1 does not target westus3: promote it there first (refit release promote {definition}/versions"
     "/1.7.1 --regions westus3), or roll out the definition to bring it region by region"),
    (["--image", "{definition}", "--canary-region", "northeurope"],
     "error: --canary-region northeurope: none of the selected scale sets is there (eastus, westus3)"),
    (["--image", "{standard}", "--scale-set", CANARY],
     "error: vmss-payments-eastus cannot take 1.0.0: (BadRequest) "),
])
def test_rollout_bad_input_is_one_line_exit_2_nothing_changed(session, server, sub, capsys, monkeypatch, tmp_path,
                                                               args, message):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "rollout"})
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    definition, source = f"{base}/galleries/galPayments/images/payments-auth", f"{base}/disks/payments-bake"
    code, _, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                       "1.7.1", "--source", source, "--canary-region", "eastus", "--yes")
    assert code == 0, err
    standard = _standard_version(session, sub) if "{standard}" in args else ""
    session.control("POST", "clock", {"scale": 1e-9})  # the platform's own upgrade of 1.7.1 holds still meanwhile
    before = (_disks(session, CANARY), _disks(session, SECOND))
    fmt = {"definition": definition, "source": source, "standard": standard}
    code, out, err = cli(capsys, monkeypatch, server, "rollout", *[a.format(**fmt) for a in args], "--yes")
    assert (code, out) == (2, "")
    assert err.strip().startswith(message.format(**fmt)) and len(err.strip().splitlines()) == 1, err
    assert (_disks(session, CANARY), _disks(session, SECOND)) == before


@pytest.mark.parametrize(("version", "ok"), [("1.7.1", True), ("1.7.0", False)])
def test_a_manual_set_is_rolled_in_refits_own_health_gated_batches(session, server, sub, capsys, monkeypatch, tmp_path,
                                                                    version, ok):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "rollout"})
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    definition, source = f"{base}/galleries/galPayments/images/payments-auth", f"{base}/disks/payments-bake"
    # The canary set in Manual mode, pinned to 1.6.0 (no automatic OS upgrade: a pinned version cannot have it).
    vmss = session.compute.virtual_machine_scale_sets.get(RG, CANARY)
    vmss.upgrade_policy.mode = "Manual"
    vmss.upgrade_policy.automatic_os_upgrade_policy.enable_automatic_os_upgrade = False
    vmss.virtual_machine_profile.storage_profile.image_reference.id = f"{definition}/versions/1.6.0"
    vmss.automatic_repairs_policy.enabled = False  # the failed instances stay as the campaign left them
    session.compute.virtual_machine_scale_sets.begin_create_or_update(RG, CANARY, vmss).result()
    from azure.mgmt.compute import models as cm

    session.compute.virtual_machine_scale_sets.begin_update_instances(
        RG, CANARY, cm.VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=["*"])).result()
    before = _disks(session, CANARY)
    code, _, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                       version, "--source", source, "--canary-region", "eastus", "--yes")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, server, "rollout", "--image", f"{definition}/versions/{version}",
                         "--scale-set", CANARY, "--yes", "-o", "json")
    summary = last_json(out)
    events = _events(summary["run"])
    batches = [e["instances"] for e in events if e["event"] == "batch"]
    after = _versions(session, CANARY)
    if ok:
        assert (code, summary["ok"]) == (0, True), err
        assert [len(b) for b in batches] == [2] * 5  # 20 % of 10 a batch
        assert sorted(n for b in batches for n in b) == sorted(before)
        assert set(after.values()) == {"1.7.1"}
    else:
        assert (code, summary["error"]["code"]) == (1, "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade")
        assert [len(b) for b in batches] == [2]  # stopped after the first batch
        assert sorted(v for v in after.values()) == ["1.6.0"] * 8 + ["1.7.0"] * 2
        assert {n for n, v in after.items() if v == "1.7.0"} == set(batches[0])
        assert summary["killed"]["version"] == f"{definition}/versions/1.7.0"


def test_dry_run_expects_what_the_rollout_then_takes(session, server, sub, capsys, monkeypatch, tmp_path):
    """The dry run simulates the campaign on refit's model of Azure; the second region's set (promote, replication,
    the platform's delay, five batches of one with PT2M pauses) then takes that long on the emulator: from the
    campaign's promote to the end of the set's upgrade (its osUpgradeHistory). The guests boot in the timing model's
    30 s here: how long an application takes to boot is the guest's, which refit cannot know beforehand."""
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "rollout"})
    session.control("PUT", "health-model", {"images": {}})
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    definition, source = f"{base}/galleries/galPayments/images/payments-auth", f"{base}/disks/payments-bake"
    code, _, err = cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition, "--version",
                       "1.7.1", "--source", source, "--canary-region", "eastus", "--yes")
    assert code == 0, err
    code, out, err = cli(capsys, monkeypatch, server, "rollout", "--image", definition, "--dry-run", "-o", "json")
    plan = json.loads(out)
    assert code == 0, err
    assert [(w["wave"], w["region"], w["how"]) for w in plan["waves"]] == [(1, "eastus", "os-upgrade"),
                                                                            (2, "westus3", "os-upgrade")]
    expected = plan["waves"][1]["expected_seconds"]
    # 1,500 s to replicate, 900 s of the platform's delay, then 5 batches of one instance (reimage 120 s, boot 30 s,
    # one probe 5 s) with 4 pauses of PT2M between them.
    assert expected == pytest.approx(1500 + 900 + 5 * 155 + 4 * 120, abs=1)
    code, out, err = cli(capsys, monkeypatch, server, "rollout", "--image", definition, "--yes", "-o", "json")
    assert code == 0, err
    events = [e for e in _events(last_json(out)["run"]) if e["set"].endswith(SECOND)]
    promoted = next(e["at"] for e in events if e["event"] == "promote")
    (upgrade,) = session.compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, SECOND)
    took = upgrade.properties.running_status.end_time.timestamp() - promoted
    assert took == pytest.approx(expected, abs=60)  # the promote's event is stamped within a request of it


def test_unhealthy_instances_before_the_rollout_refuse_it(session, server, sub, capsys, monkeypatch, tmp_path):
    """Seed 001 row 9: unrelated unhealthy instances would stop Azure's upgrade before its first batch."""
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "rollout"})
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    definition = f"{base}/galleries/galPayments/images/payments-auth"
    names = sorted(_disks(session, CANARY))[:3]
    for n in names:
        session.compute.virtual_machines.begin_power_off(RG, n).result()
    code, out, err = cli(capsys, monkeypatch, server, "rollout", "--image", f"{definition}/versions/1.6.0", "--yes")
    assert (code, out) == (2, "")
    assert err.strip() == (f"error: {CANARY}: 3 of 10 instances are unhealthy before the rollout ({', '.join(names)}), "
                           "more than its maxUnhealthyInstancePercent 20%: repair or remove them first (az vmss reimage "
                           "/ delete-instances)")
