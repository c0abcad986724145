"""The real az CLI (PyPI azure-cli, own venv) against the emulator over HTTPS: seed 003's commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from az_venv import ensure_az

from refit.cli.emulator import az_env

pytestmark = pytest.mark.e2e

RG = "rg-refresh"


@pytest.fixture(scope="module")
def az_tools():
    return ensure_az()


def _az(az, env, *args, check=True):
    r = subprocess.run([str(az), *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"az {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def _json(r):
    return json.loads(r.stdout) if r.stdout.strip() else None


def test_seed_003_commands_through_the_real_az(az_tools, server, session, tmp_path):
    az, wheel = az_tools
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 3}})
    ep = server.endpoint
    env = {**os.environ, **az_env(ep, tmp_path / "az-config"), "PATH": f"{az.parent}:{os.environ['PATH']}"}
    # The az set-up helper: register the cloud, log in with managed identity, in an isolated AZURE_CONFIG_DIR.
    r = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(server.data_dir),
                        "--az", str(az), "--config-dir", str(tmp_path / "az-config")],
                       env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert f"export AZURE_CONFIG_DIR={tmp_path / 'az-config'}" in r.stdout.splitlines()
    # only `export` lines on stdout (issue 10), so that `eval "$(refit emulator az-login ...)"` works
    assert {line.split(" ", 1)[0] for line in r.stdout.splitlines()} == {"export"}
    assert r.stderr.startswith("az is logged in to the emulator")
    assert _json(_az(az, env, "account", "show", "-o", "json"))["id"] == ep.subscription
    _az(az, env, "extension", "add", "--source", str(wheel), "--yes")

    # Seed 003's three queries.
    q1 = 'Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true"'
    res = _json(_az(az, env, "graph", "query", "-q", q1, "-o", "json"))
    assert sorted(v["name"] for v in res["data"]) == ["vm-01", "vm-02", "vm-03"]
    assert {v["type"] for v in res["data"]} == {"microsoft.compute/virtualmachines"}
    q2 = (q1 + " | project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name,"
          " newOsDiskName=tags.OsDiskName")
    res = _json(_az(az, env, "graph", "query", "-q", q2, "--query",
                    "data[].{name:name, rg:resourceGroup, cur:currentOsDiskName, new:newOsDiskName}", "-o", "json"))
    assert sorted(res, key=lambda x: x["name"]) == [
        {"name": f"vm-0{i}", "rg": RG, "cur": f"vm-0{i}-2026-10", "new": f"vm-0{i}-2026-10"} for i in (1, 2, 3)]

    version = session.compute.gallery_image_versions.get(RG, "galRefresh", "ubuntu-refresh", "2026.11.0").id
    disk = _json(_az(az, env, "disk", "create", "-g", RG, "-n", "vm-01-2026-11", "-l", "eastus", "--zone", "1",
                     "--gallery-image-reference", version, "--os-type", "Linux", "--sku", "Premium_LRS", "-o", "json"))
    assert (disk["provisioningState"], disk["diskState"], disk["hyperVGeneration"], disk["zones"]) == (
        "Succeeded", "Unattached", "V2", ["1"])
    disk_id = _az(az, env, "disk", "show", "-g", RG, "-n", "vm-01-2026-11", "-o", "tsv", "--query", "id").stdout.strip()
    assert disk_id == disk["id"]
    # The seed's "does the named disk exist?" check returns nothing for a nonsense name.
    missing = _az(az, env, "disk", "show", "-g", RG, "-n", "no-such-disk", "-o", "tsv", "--query", "id", check=False)
    assert missing.returncode != 0 and "ResourceNotFound" in missing.stderr

    _az(az, env, "vm", "deallocate", "-g", RG, "-n", "vm-01")
    codes = session.compute.virtual_machines.instance_view(RG, "vm-01").statuses
    assert [c.code for c in codes] == ["ProvisioningState/succeeded", "PowerState/deallocated"]
    vm = _json(_az(az, env, "vm", "update", "-g", RG, "-n", "vm-01", "--os-disk", disk_id, "-o", "json"))
    assert vm["storageProfile"]["osDisk"]["managedDisk"]["id"] == disk_id
    _az(az, env, "vm", "start", "-g", RG, "-n", "vm-01")
    codes = session.compute.virtual_machines.instance_view(RG, "vm-01").statuses
    assert [c.code for c in codes] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert session.compute.disks.get(RG, "vm-01-2026-10").disk_state == "Unattached"
    assert session.compute.disks.get(RG, "vm-01-2026-11").managed_by == vm["id"]

    _az(az, env, "tag", "update", "--resource-id", vm["id"], "--operation", "Merge", "--tags",
        "OsDiskName=vm-01-2026-11", "-o", "none")
    assert session.compute.virtual_machines.get(RG, "vm-01").tags == {"AutoRefresh": "true", "OsDiskName": "vm-01-2026-11"}

    # Seed 003's third query: VMs whose OsDiskName does not yet end with the next suffix.
    q3 = ("Resources | where type =~ \"microsoft.compute/virtualmachines\" and tags['AutoRefresh'] =~ \"true\" and "
          "not(tags['OsDiskName'] endswith_cs \"2026-11\") | project id, name")
    res = _json(_az(az, env, "graph", "query", "-q", q3, "-o", "json"))
    assert sorted(v["name"] for v in res["data"]) == ["vm-02", "vm-03"]

    out = _json(_az(az, env, "sig", "image-version", "update", "-g", RG, "--gallery-name", "galRefresh",
                    "--gallery-image-definition", "ubuntu-refresh", "--gallery-image-version", "2026.10.0",
                    "--set", "publishingProfile.excludeFromLatest=true", "-o", "json"))
    assert out["publishingProfile"]["excludeFromLatest"] is True
    got = session.compute.gallery_image_versions.get(RG, "galRefresh", "ubuntu-refresh", "2026.10.0")
    assert got.publishing_profile.exclude_from_latest is True

    shown = _json(_az(az, env, "vm", "show", "-g", RG, "-n", "vm-01", "-o", "json"))
    assert shown["storageProfile"]["osDisk"]["name"] == "vm-01-2026-11"
    assert shown["tags"] == {"AutoRefresh": "true", "OsDiskName": "vm-01-2026-11"}
