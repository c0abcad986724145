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

from refit.cli import main
from refit.run.journal import Journal

RG = "rg-payments"
CANARY, SECOND = "vmss-payments-eastus", "vmss-payments-westus3"


def cli(capsys, monkeypatch, server, *args):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, *args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def _disks(session, name):
    return {i.name: i.storage_profile.os_disk.managed_disk.id
            for i in session.compute.virtual_machine_scale_set_vms.list(RG, name)}


def _versions(session, name):
    out = {}
    for i in session.compute.virtual_machine_scale_set_vms.list(RG, name):
        d = session.compute.disks.get(RG, i.storage_profile.os_disk.managed_disk.id.rsplit("/", 1)[-1])
        out[i.name] = d.creation_data.gallery_image_reference.id.rsplit("/", 1)[-1]
    return out


def _summary(out: str) -> dict:
    """The run's summary: the last JSON document of stdout, after the events (one JSON object a line)."""
    lines = out.rstrip().splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    for line in lines[:start]:
        json.loads(line)  # every event line is one JSON object
    return json.loads("\n".join(lines[start:]))


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
    summary = _summary(out)
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
    summary = _summary(out)
    assert (code, summary["ok"]) == (0, True), err
    assert {k.rsplit("/", 1)[-1]: s["state"] for k, s in summary["sets"].items()} == {CANARY: "done", SECOND: "done"}
    assert set(_versions(session, CANARY).values()) == {"1.7.1"}
    assert set(_versions(session, SECOND).values()) == {"1.7.1"}
    events = _events(summary["run"])
    by = {(e["set"].rsplit("/", 1)[-1], e["event"]): e["at"] for e in events}
    canary_done = by[(CANARY, "done")]
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
    # Never more than the batch percentage upgrading at once: 20 % of 10, and of 5 at least one.
    for name, most in ((CANARY, 2), (SECOND, 1)):
        counts = [e["progress"]["inProgressInstanceCount"] for e in events
                  if e["set"].endswith(name) and e["event"] == "progress" and e.get("progress")]
        assert counts and max(counts) <= most, (name, counts)
