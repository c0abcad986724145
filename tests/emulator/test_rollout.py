"""Seed 001's incident through the official SDK on the `rollout` scenario (issue 12 acceptance): a bad gallery version
reaches latest in the canary region only, the platform's automatic OS upgrade starts, the first batch fails its health
probe, the upgrade ends Faulted with MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade and the failed
instances run their previous OS disk; the other region is untouched; excludeFromLatest stops further upgrades; the good
version then completes batch by batch, never more than the batch percentage at once, pauses respected, on the virtual
clock. The clock is frozen (scale 1e-9) and moved only by the control API, so every timestamp is exact."""

from __future__ import annotations

import itertools

import pytest
from azure.core.exceptions import ResourceNotFoundError

from refit.emulator.server import EmulatorServer

RG = "rg-payments"
CANARY, SECOND = "vmss-payments-eastus", "vmss-payments-westus3"
API_GALLERY = "2024-03-03"


def _seed(raw, sub, params=None):
    r = raw.post("/_refit/scenario", json={"name": "rollout", "params": params or {}})
    assert r.status_code == 200, r.text
    assert raw.post("/_refit/clock", json={"scale": 1e-9}).status_code == 200


def _advance(raw, seconds: float) -> float:
    return raw.post("/_refit/clock", json={"advance": seconds}).json()["now"]


def _now(raw) -> float:
    return raw.get("/_refit/clock").json()["now"]


def _definition(sub):
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/galPayments/images/payments-auth"


def _publish(raw, sub, version, regions=("eastus",)):
    src = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/payments-bake"
    r = raw.put(f"{_definition(sub)}/versions/{version}", params={"api-version": API_GALLERY}, json={
        "location": "eastus", "properties": {"publishingProfile": {"targetRegions": [{"name": x} for x in regions]},
                                             "storageProfile": {"source": {"id": src}}}})
    assert r.status_code == 201, r.text


def _instances(session, name):
    return sorted(session.compute.virtual_machine_scale_set_vms.list(RG, name), key=lambda i: i.name)


def _disks(session, name) -> dict[str, str]:
    return {i.name: i.storage_profile.os_disk.managed_disk.id for i in _instances(session, name)}


def _booted_version(session, disk_id: str) -> str:
    d = session.compute.disks.get(RG, disk_id.rsplit("/", 1)[-1])
    return d.creation_data.gallery_image_reference.id.rsplit("/", 1)[-1]


def _latest(session, name):
    return session.compute.virtual_machine_scale_set_rolling_upgrades.get_latest(RG, name)


def _run_until(session, raw, name, code, step=10.0, limit=20000.0):
    """Advance the clock in steps until the latest upgrade's code is `code`; the samples seen on the way."""
    samples = []
    t = 0.0
    while t < limit:
        now = _advance(raw, step)
        t += step
        try:
            u = _latest(session, name)
        except ResourceNotFoundError:
            continue
        samples.append((now, u, _disks(session, name)))
        if u.running_status.code == code:
            return samples
    raise AssertionError(f"no {code} within {limit} s: {samples[-1][1].running_status.code if samples else None}")


def test_seed_001_incident_then_the_good_version_rolls_batch_by_batch(server, session, raw, sub):
    _seed(raw, sub)
    insts = _instances(session, CANARY)
    assert len(insts) == 10
    assert sorted(i.zones[0] for i in insts) == ["1"] * 4 + ["2"] * 3 + ["3"] * 3
    assert all(i.name.startswith(f"{CANARY}_") and len(i.name) == len(CANARY) + 9 for i in insts)
    assert {i.instance_id for i in insts} == {i.name for i in insts}  # a Flexible instance id is its VM's name
    before = _disks(session, CANARY)
    second_before = _disks(session, SECOND)
    assert {_booted_version(session, d) for d in before.values()} == {"1.6.0"}

    # 1.7.0 (it cannot reach the HSM: unhealthy) goes to the canary region only.
    _publish(raw, sub, "1.7.0")
    t0 = _now(raw)
    samples = _run_until(session, raw, CANARY, "Faulted")
    first = samples[0][1]
    assert first.running_status.code == "RollingForward"
    # It started once the version had been captured in the canary region (version.capture, 300 s) and the platform's
    # delay (vmss.auto_os_upgrade_delay, 900 s) had passed.
    assert first.running_status.start_time.timestamp() == pytest.approx(t0 + 300 + 900, abs=1e-3)
    assert max(s[1].progress.in_progress_instance_count for s in samples) == 2  # 20 % of 10
    u = samples[-1][1]
    assert u.error.code == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert (u.progress.successful_instance_count, u.progress.failed_instance_count,
            u.progress.pending_instance_count) == (0, 2, 0)
    assert u.policy.max_batch_instance_percent == 20 and u.policy.pause_time_between_batches == "PT2M"
    # The failed instances run their previous OS disk again (rolled back), and so does every other instance.
    assert _disks(session, CANARY) == before
    touched = [n for n in before if any(s[2][n] != before[n] for s in samples)]
    assert len(touched) == 2
    # The other region never saw 1.7.0: no upgrade, same disks.
    with pytest.raises(ResourceNotFoundError):
        _latest(session, SECOND)
    assert _disks(session, SECOND) == second_before

    history = list(session.compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, CANARY))
    assert len(history) == 1
    h = history[0].properties
    assert (h.started_by, h.running_status.code, h.error.code) == (
        "Platform", "Faulted", "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade")
    assert h.target_image_reference.id == _definition(sub) and h.target_image_reference.exact_version == "1.7.0"
    assert (h.rollback_info.successfully_rolledback_instance_count, h.rollback_info.failed_rolledback_instance_count) == (
        2, 0)

    # The kill switch: 1.7.0 excluded from latest; nothing further happens.
    r = raw.patch(f"{_definition(sub)}/versions/1.7.0", params={"api-version": API_GALLERY},
                  json={"properties": {"publishingProfile": {"excludeFromLatest": True}}})
    assert r.status_code == 200, r.text
    _advance(raw, 3600)
    assert len(list(session.compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, CANARY))) == 1
    assert _disks(session, CANARY) == before

    # 1.7.1 (the firewall fix) rolls out batch by batch.
    _publish(raw, sub, "1.7.1")
    samples = _run_until(session, raw, CANARY, "Completed", step=5.0)
    u = samples[-1][1]
    assert (u.progress.successful_instance_count, u.progress.failed_instance_count) == (10, 0)
    after = _disks(session, CANARY)
    assert {_booted_version(session, d) for d in after.values()} == {"1.7.1"}
    # When each instance's disk changed, on the virtual clock: batches of at most 2, one zone each, 2 minutes apart.
    changed: dict[str, float] = {}
    for now, _, disks in samples:
        for n, d in disks.items():
            if d != before[n] and n not in changed:
                changed[n] = now
    assert sorted(changed) == sorted(before)
    zone = {i.name: i.zones[0] for i in _instances(session, CANARY)}
    starts = sorted(set(changed.values()))
    batches = [[n for n, t in changed.items() if t == s] for s in starts]
    # 20 % of 10 a batch, and a batch stays in one zone (enableCrossZoneUpgrade false): zone 1 holds 4 instances,
    # zones 2 and 3 three each, so each of those ends with a batch of one. Zones in turn, oldest instances first.
    assert [(len(b), sorted({zone[n] for n in b})) for b in batches] == [
        (2, ["1"]), (2, ["2"]), (2, ["3"]), (2, ["1"]), (1, ["2"]), (1, ["3"])]
    # Each batch: reimage (120 s) + boot (50 s) + one probe (5 s) to Healthy, then PT2M before the next one starts.
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(starts)]
    assert gaps == [120 + 50 + 5 + 120] * 5
    assert max(s[1].progress.in_progress_instance_count for s in samples) == 2
    history = list(session.compute.virtual_machine_scale_sets.get_os_upgrade_history(RG, CANARY))
    assert [(x.properties.running_status.code, x.properties.target_image_reference.exact_version)
            for x in history] == [("Completed", "1.7.1"), ("Faulted", "1.7.0")]


def _client(srv):
    import ssl

    import httpx

    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.cert)),
                        headers={"Authorization": "Bearer t"}, timeout=30)


def test_a_rolling_upgrade_in_flight_survives_an_emulator_restart(tmp_path):
    first = EmulatorServer(tmp_path / "emulator", time_scale=1e-9).start()
    sub = first.endpoint.subscription
    base = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{CANARY}"
    try:
        with _client(first) as c:
            _seed(c, sub)
            _publish(c, sub, "1.7.1")
            _advance(c, 300 + 900 + 130)  # the first batch is being reimaged
            latest = c.get(f"{base}/rollingUpgrades/latest", params={"api-version": "2024-07-01"}).json()["properties"]
            assert latest["runningStatus"]["code"] == "RollingForward"
            assert latest["progress"]["inProgressInstanceCount"] == 2
    finally:
        first.stop()
    again = EmulatorServer(tmp_path / "emulator", time_scale=1e-9).start()
    try:
        with _client(again) as c:
            body = {}
            for _ in range(200):
                _advance(c, 60)
                body = c.get(f"{base}/rollingUpgrades/latest", params={"api-version": "2024-07-01"}).json()
                if body["properties"]["runningStatus"]["code"] != "RollingForward":
                    break
            assert body["properties"]["runningStatus"]["code"] == "Completed"
            assert body["properties"]["progress"]["successfulInstanceCount"] == 10
    finally:
        again.stop()
