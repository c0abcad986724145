"""Acceptance: crash safety. The refresh runs in its own process against an emulator in another one
(`refit emulator start`); it is SIGKILLed at random points (during the pre-checks, mid-deallocate, after
the swap before the start, during the health wait, between waves...) and resumed, by `--resume RUN` or by a
plain re-run. Every trial must end with all VMs running on their intended disks, none deallocated, and
no disk deleted."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from refit.azure import Session, StaticCredential
from refit.azure.clock import EmulatorClock
from refit.azure.endpoint import Endpoint
from refit.azure.fleet import send
from refit.azure.pacing import PacedClient
from refit.run import refresh as R
from refit.run.journal import Journal

TRIALS = 32
VMS = 6
SCALE = 200.0  # a VM's deallocate-swap-start (95 simulated s) takes about half a real second
RG = "rg-refresh"


@pytest.fixture
def emulator(tmp_path):
    data = tmp_path / "emu"
    proc = subprocess.Popen([sys.executable, "-m", "refit", "emulator", "start", "--port", "0", "--data", str(data),
                             "--time-scale", str(SCALE)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            ep = Endpoint.read(data)
            if ep is not None and ep.alive():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the emulator did not start")
        yield ep
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _refit(ep, state, *args):
    env = {**os.environ, "REFIT_STATE_DIR": str(state), "REQUESTS_CA_BUNDLE": ep.cert}
    return [sys.executable, "-m", "refit", "--endpoint", ep.url, "--subscription", ep.subscription, *args], env


def _fleet(s):
    out = {}
    for vm in s.compute.virtual_machines.list(RG):
        iv = s.compute.virtual_machines.instance_view(RG, vm.name)
        out[vm.name] = (vm.storage_profile.os_disk.name, next(x.code for x in iv.statuses if x.code.startswith("PowerState/")))
    return out


def test_sigkill_at_random_points_then_resume(emulator, tmp_path, monkeypatch):
    ep = emulator
    state = tmp_path / "state"
    monkeypatch.setenv("REFIT_STATE_DIR", str(state))
    s = Session(ep.url, ep.subscription, StaticCredential(), ep.cert, emulator=True)
    s.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": VMS}})
    version = (f"/subscriptions/{ep.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/galRefresh/"
               "images/ubuntu-refresh/versions/2026.11.0")
    # Two sets of new disks; the trials swap the fleet back and forth between them.
    client = PacedClient(s, EmulatorClock(s))
    journal = Journal()
    for suffix in ("a", "b"):
        world = R.load(s, client)
        items = R.plan_disks(world, R.Tags(), R.Selection(), version, suffix)
        assert R.run_disks(client, journal, s, items, {}, 0.0).status == "completed"
    disks = {d.name for d in s.compute.disks.list_by_resource_group(RG)}
    names = [f"vm-{n:02d}" for n in range(1, VMS + 1)]
    rng = random.Random(20261122)
    phases: set[str] = set()
    kinds = {"resume": 0, "plain": 0, "double": 0, "finished-before-kill": 0}
    for trial in range(TRIALS):
        suffix = "ab"[trial % 2]
        for n in names:  # the desired state for this trial
            vm_id = f"/subscriptions/{ep.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{n}"
            status, _, _ = send(s, "PATCH", f"{vm_id}/providers/Microsoft.Resources/tags/default", "2024-11-01",
                                {"operation": "Merge", "properties": {"tags": {"OsDiskName": f"{n}-{suffix}"}}})
            assert status == 200
        cmd, env = _refit(ep, state, "refresh", "swap", "--yes", "--soak", "10", "--max-parallel",
                          str(rng.choice([0, 1, 2])))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 3.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        else:
            kinds["finished-before-kill"] += 1
        interrupted = journal.interrupted(ep.subscription, ("swap",))
        if interrupted:  # where the kill landed: the last step the journal had begun or finished
            last = journal.steps(interrupted[-1].id)
            phases.add(f"{last[-1]['step']}:{last[-1]['status']}" if last else "before-first-step")
            if trial < 3:  # `refresh status` says so (issue 10), not `running`
                cmd, env = _refit(ep, state, "refresh", "status", "--output", "json")
                st = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                                               check=True).stdout)
                assert (st["run"]["id"], st["run"]["status"]) == (interrupted[-1].id, "interrupted")
        else:
            phases.add("before-the-run-was-recorded" if proc.returncode else "after-the-end")
        if rng.random() < 0.25 and interrupted:
            # killed again while resuming
            cmd, env = _refit(ep, state, "refresh", "swap", "--yes", "--resume", interrupted[-1].id)
            p2 = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 2.0))
            if p2.poll() is None:
                p2.send_signal(signal.SIGKILL)
                p2.wait()
            kinds["double"] += 1
            interrupted = journal.interrupted(ep.subscription, ("swap",))
        if interrupted and trial % 2 == 0:
            cmd, env = _refit(ep, state, "refresh", "swap", "--yes", "--resume", interrupted[-1].id, "--output", "json")
            kinds["resume"] += 1
        else:
            cmd, env = _refit(ep, state, "refresh", "swap", "--yes", "--output", "json")  # a plain re-run
            kinds["plain"] += 1
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert r.returncode == 0, (trial, r.stdout[-2000:], r.stderr[-2000:])
        if interrupted:  # a plain re-run after a crash resumes the interrupted run
            assert json.loads(r.stdout)["run"] == interrupted[-1].id
        if journal.interrupted(ep.subscription, ("swap",)):
            # the resumed run finished; if the kill hit before any run was recorded, run the swap now
            raise AssertionError(f"trial {trial}: a run is still interrupted")
        got = _fleet(s)
        assert got == {n: (f"{n}-{suffix}", "PowerState/running") for n in names}, (trial, got)
        assert {d.name for d in s.compute.disks.list_by_resource_group(RG)} == disks, trial  # nothing deleted
        for n in names:
            vm = s.compute.virtual_machines.get(RG, n)
            assert vm.tags["OsDiskPrevious"] == (f"{n}-2026-10" if trial == 0 else f"{n}-{'ba'[trial % 2]}")
    assert kinds["resume"] + kinds["plain"] == TRIALS
    print(f"kill points: {sorted(phases)}; {kinds}")
    client.close()
    journal.close()
    s.close()
