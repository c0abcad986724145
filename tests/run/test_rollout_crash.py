"""Issue 14 acceptance: `refit rollout` SIGKILLed at random moments (seeded), then re-run plainly: every re-run
converges (exit 0, every instance of both regions on the version), no instance is left deallocated or mid-upgrade,
no instance lost its OS disk. Half the trials roll a set that tracks the definition (Azure's OS upgrade), half a
Manual set pinned to a version (refit's own batches, the kill landing between them)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

from azure.mgmt.compute import models as cm

RG = "rg-payments"
SETS = ("vmss-payments-eastus", "vmss-payments-westus3")
TRIALS = 20


def _cmd(server, state, *args):
    env = {**os.environ, "REFIT_STATE_DIR": str(state), "REQUESTS_CA_BUNDLE": str(server.cert)}
    return [sys.executable, "-m", "refit", "--endpoint", server.url, "--subscription", server.endpoint.subscription,
            *args], env


def _publish(session, definition_id, version):
    src = session.compute.disks.get(RG, "payments-bake")
    return session.compute.gallery_image_versions.begin_create_or_update(
        RG, "galPayments", "payments-auth", version, cm.GalleryImageVersion(
            location="eastus", publishing_profile=cm.GalleryImageVersionPublishingProfile(
                target_regions=[cm.TargetRegion(name="eastus")]),
            storage_profile=cm.GalleryImageVersionStorageProfile(
                source=cm.GalleryArtifactVersionFullSource(id=src.id)))).result()


def _manual(session, definition_id):
    vmss = session.compute.virtual_machine_scale_sets.get(RG, SETS[0])
    vmss.upgrade_policy.mode = "Manual"
    vmss.upgrade_policy.automatic_os_upgrade_policy.enable_automatic_os_upgrade = False
    vmss.virtual_machine_profile.storage_profile.image_reference.id = f"{definition_id}/versions/1.6.0"
    session.compute.virtual_machine_scale_sets.begin_create_or_update(RG, SETS[0], vmss).result()
    session.compute.virtual_machine_scale_sets.begin_update_instances(
        RG, SETS[0], cm.VirtualMachineScaleSetVMInstanceRequiredIDs(instance_ids=["*"])).result()


def _state(session, name):
    """(version, power) of every instance, and whether each has its OS disk."""
    out = []
    for i in session.compute.virtual_machine_scale_set_vms.list(RG, name):
        disk = session.compute.disks.get(RG, i.storage_profile.os_disk.managed_disk.id.rsplit("/", 1)[-1])
        view = session.compute.virtual_machine_scale_set_vms.get_instance_view(RG, name, i.instance_id)
        power = next(s.code for s in view.statuses if s.code.startswith("PowerState/"))
        out.append((disk.creation_data.gallery_image_reference.id.rsplit("/", 1)[-1], power,
                    i.latest_model_applied))
    return sorted(out)


def test_a_killed_rollout_converges_when_run_again(session, server, sub, tmp_path):
    rng = random.Random(14)
    definition = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/galPayments/images/" \
                 "payments-auth"
    killed = 0
    for trial in range(TRIALS):
        session.control("POST", "scenario", {"name": "rollout", "params": {"capacity": 5, "second_capacity": 2}})
        manual = trial % 2 == 1
        if manual:
            _manual(session, definition)
        version = f"2.{trial}.0"  # (1.7.0 is the scenario's broken one)
        _publish(session, definition, version)
        session.control("POST", "clock", {"scale": 2000})  # a rollout of a few simulated hours lasts a few seconds
        image = f"{definition}/versions/{version}" if manual else definition
        args = ["rollout", "--image", image, "--yes"] + (["--scale-set", SETS[0]] if manual else [])
        cmd, env = _cmd(server, tmp_path / f"state-{trial}", *args)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + rng.uniform(0.6, 2.5)
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        session.control("POST", "clock", {"scale": 10000})
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert again.returncode == 0, (trial, again.stderr[-2000:])
        sets = SETS[:1] if manual else SETS
        for name in sets:
            got = _state(session, name)
            assert got == [(version, "PowerState/running", True)] * len(got), (trial, name, got)
        # Every OS disk an instance names exists, and no disk is left behind by an upgrade (the old ones go once the
        # new one holds: reimage replaces the OS disk).
        disks = [d.name for d in session.compute.disks.list_by_resource_group(RG) if "_OsDisk_" in d.name]
        assert len(disks) == 5 + 2, (trial, disks)  # one OS disk per instance of the two sets
    assert killed >= TRIALS // 2  # most trials were really killed mid-way


def test_resume_runs_the_interrupted_run_again_and_refuses_what_it_cannot(session, server, sub, tmp_path):
    session.control("POST", "scenario", {"name": "rollout", "params": {"capacity": 5, "second_capacity": 2}})
    definition = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/galPayments/images/" \
                 "payments-auth"
    _publish(session, definition, "2.0.0")
    session.control("POST", "clock", {"scale": 500})
    cmd, env = _cmd(server, tmp_path / "state", "rollout", "--image", definition, "--yes", "-o", "json")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = proc.stdout.readline()  # the first event: the run is journaled by now
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    session.control("POST", "clock", {"scale": 10000})
    from refit.run.journal import Journal

    os.environ["REFIT_STATE_DIR"] = str(tmp_path / "state")
    try:
        j = Journal()
        (run,) = j.runs(kinds=("rollout",))
        j.close()
    finally:
        del os.environ["REFIT_STATE_DIR"]
    assert first and run.status == "running"
    bad, env = _cmd(server, tmp_path / "state", "rollout", "--image", definition, "--resume", run.id, "-g", RG, "--yes")
    r = subprocess.run(bad, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (r.returncode, r.stderr.strip()) == (2, "error: --resume takes the run's own image and scale sets: drop "
                                                   "--scale-set, -g, --where and --canary-region")
    again, env = _cmd(server, tmp_path / "state", "rollout", "--image", definition, "--resume", run.id, "--yes",
                      "-o", "json")
    r = subprocess.run(again, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.rstrip().splitlines()
    summary = json.loads("\n".join(lines[max(i for i, line in enumerate(lines) if line == "{"):]))
    assert summary["run"] == run.id and summary["ok"] is True
    for name in SETS:
        assert {v for v, _, _ in _state(session, name)} == {"2.0.0"}
