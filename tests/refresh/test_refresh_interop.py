"""Acceptance: interop with seed 003's own scripts. After `refit refresh tag`, the seed's bash loop (real az
CLI: graph query, disk show, deallocate, update --os-disk, start) performs the same swaps refit would, on a
fleet that refit half-manages, and `refit refresh status` reads the result correctly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from refresh_helpers import RG, fleet, version

from refit.cli.emulator import az_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from az_venv import ensure_az

pytestmark = pytest.mark.e2e

# Seed 003, step 06 (plzm/azure-vm-disk-swap scripts/06-swap-os-disks), as the blog post prints it.
# Seed 003's step 06 as the blog post prints it (plus `set -eu`): one copy, shared with bench/refresh.py.
SEED_SWAP_LOOP = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "seed-003-swap-os-disks.sh").read_text()


def test_seed_003_bash_loop_after_refit_tag_and_status_reads_it(server, session, sub, refit_json, tmp_path):
    az, wheel = ensure_az()
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 3}})
    refit_json("refresh", "disks", "--image", version(sub, "2026.11.0"), "--suffix", "2026-11", "--yes")
    tagged = refit_json("refresh", "tag", "--suffix", "2026-11", "--yes")
    assert tagged["message"] == "3 VMs tagged"
    # What refit would do: the same three swaps.
    dry = refit_json("refresh", "swap", "--dry-run")
    assert sorted((f["name"], f["status"], f["current_disk"], f["target_disk"]) for f in dry["findings"]) == [
        (f"vm-0{i}", "swap", f"vm-0{i}-2026-10", f"vm-0{i}-2026-11") for i in (1, 2, 3)]
    # Half-managed: refit swaps vm-01, the seed's script the rest.
    out = refit_json("refresh", "swap", "--vm", "vm-01", "--yes")
    assert out["message"] == "1 of 1 VMs on their new OS disk"

    ep = server.endpoint
    env = {**os.environ, **az_env(ep, tmp_path / "az-config"), "PATH": f"{az.parent}:{os.environ['PATH']}",
           "SUBSCRIPTION_ID": ep.subscription}
    r = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(server.data_dir),
                        "--az", str(az), "--config-dir", str(tmp_path / "az-config")],
                       env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    subprocess.run([str(az), "extension", "add", "--source", str(wheel), "--yes"], env=env, capture_output=True,
                   timeout=300, check=True)
    r = subprocess.run(["bash", "-c", SEED_SWAP_LOOP], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [x for x in r.stdout.splitlines() if x.startswith("eastus/")]
    assert sorted(lines) == ["eastus/rg-refresh/vm-01: OS disk does NOT need to be changed. No change will be made to VM.",
                             "eastus/rg-refresh/vm-02: OS disk needs to be changed.",
                             "eastus/rg-refresh/vm-03: OS disk needs to be changed."]
    assert fleet(session) == {f"vm-0{i}": (f"vm-0{i}-2026-11", "running") for i in (1, 2, 3)}

    st = refit_json("refresh", "status")
    assert st["run"]["kind"] == "swap" and st["run"]["status"] == "completed"
    assert st["summary"] == {"vms": 1, "in_sync": 1, "running": 1, "deallocated": 0, "states": {"done": 1}}
    tag_run = refit_json("refresh", "status", "--run", tagged["run"])
    assert [(v["vm"], v["state"], v["os_disk"], v["desired"], v["in_sync"], v["power"]) for v in tag_run["vms"]] == [
        (f"vm-0{i}", "tagged", f"vm-0{i}-2026-11", f"vm-0{i}-2026-11", True, "running") for i in (1, 2, 3)]
    assert tag_run["summary"]["in_sync"] == 3 and tag_run["summary"]["deallocated"] == 0
    # refit agrees there is nothing left to do, and its rollback record survives the seed's swaps
    again = refit_json("refresh", "swap", "--dry-run")
    assert {f["status"] for f in again["findings"]} == {"in-sync"}
    assert session.compute.virtual_machines.get(RG, "vm-01").tags["OsDiskPrevious"] == "vm-01-2026-10"
