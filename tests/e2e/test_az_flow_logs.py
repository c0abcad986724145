"""The real az CLI against the emulator: `az network watcher configure`, `az storage account create`, and
`az network watcher flow-log create/show/list/update` unchanged (issue 17 scope 3). A VNet flow log is created; a new
NSG flow log is refused with Azure's NsgFlowLogCreationBlocked; an existing one (seeded as `existing`) is disabled."""

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


def _az(az, env, *args, check=True):
    r = subprocess.run([str(az), *args, "-o", "json"], env=env, capture_output=True, text=True, timeout=300,
                       check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"az {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def _json(r):
    return json.loads(r.stdout) if r.stdout.strip() else None


def test_flow_logs_through_the_real_az(server, session, tmp_path):
    az, _ = ensure_az()
    ep = server.endpoint
    sub = ep.subscription
    env = {**os.environ, **az_env(ep, tmp_path / "az-config"), "PATH": f"{az.parent}:{os.environ['PATH']}"}
    r = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(server.data_dir),
                        "--az", str(az), "--config-dir", str(tmp_path / "az-config")],
                       env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    n = f"/subscriptions/{sub}/resourceGroups/rg-net/providers/Microsoft.Network"
    session.control("POST", "scenario", {"yaml": f"""
name: az-flow-logs
resources:
- id: /subscriptions/{sub}/resourceGroups/rg-net
  location: eastus
- id: /subscriptions/{sub}/resourceGroups/NetworkWatcherRG
  location: eastus
- id: {n}/networkSecurityGroups/nsg-web
  location: eastus
- id: {n}/virtualNetworks/vnet-a
  location: eastus
  properties:
    addressSpace:
      addressPrefixes: [10.1.0.0/16]
    subnets:
    - name: web
      properties:
        addressPrefix: 10.1.0.0/24
        networkSecurityGroup:
          id: {n}/networkSecurityGroups/nsg-web
"""})
    st = _json(_az(az, env, "storage", "account", "create", "-g", "rg-net", "-n", "stflowaz01", "-l", "eastus",
                   "--sku", "Standard_LRS", "--kind", "StorageV2"))
    assert (st["provisioningState"], st["primaryEndpoints"]["blob"]) == ("Succeeded",
                                                                         "https://stflowaz01.blob.core.windows.net/")
    taken = _az(az, env, "storage", "account", "create", "-g", "NetworkWatcherRG", "-n", "stflowaz01", "-l", "eastus",
                "--sku", "Standard_LRS", check=False)
    assert taken.returncode != 0 and "The storage account named stflowaz01 is already taken." in taken.stderr

    watchers = _json(_az(az, env, "network", "watcher", "configure", "-g", "NetworkWatcherRG", "-l", "eastus",
                         "--enabled", "true"))
    assert [(w["name"], w["location"]) for w in watchers] == [("NetworkWatcher_eastus", "eastus")]

    fl = _json(_az(az, env, "network", "watcher", "flow-log", "create", "-l", "eastus", "-n", "vnet-a-flowlog",
                   "--vnet", f"{n}/virtualNetworks/vnet-a", "--storage-account", st["id"], "--retention", "30"))
    assert (fl["targetResourceId"], fl["storageId"], fl["enabled"], fl["retentionPolicy"]) == (
        f"{n}/virtualNetworks/vnet-a", st["id"], True, {"days": 30, "enabled": True})
    shown = _json(_az(az, env, "network", "watcher", "flow-log", "show", "-l", "eastus", "-n", "vnet-a-flowlog"))
    assert shown["id"] == fl["id"] and shown["provisioningState"] == "Succeeded"

    blocked = _az(az, env, "network", "watcher", "flow-log", "create", "-l", "eastus", "-n", "nsg-web-new",
                  "--nsg", f"{n}/networkSecurityGroups/nsg-web", "--storage-account", st["id"], check=False)
    assert blocked.returncode != 0
    assert "NsgFlowLogCreationBlocked" in blocked.stderr
    assert "creation of new NSG flow logs is blocked starting June 30, 2025" in blocked.stderr

    legacy = f"{fl['id'].rsplit('/', 1)[0]}/nsg-web-legacy"
    session.control("POST", "scenario", {"reset": False, "yaml": "name: legacy\nresources:\n"
                    f"- id: {legacy}\n  existing: true\n  location: eastus\n  properties:\n"
                    f"    targetResourceId: {n}/networkSecurityGroups/nsg-web\n    storageId: {st['id']}\n"
                    "    enabled: true\n"})
    off = _json(_az(az, env, "network", "watcher", "flow-log", "update", "-l", "eastus", "-n", "nsg-web-legacy",
                    "--enabled", "false"))
    assert (off["enabled"], off["targetResourceId"]) == (False, f"{n}/networkSecurityGroups/nsg-web")
    listed = _json(_az(az, env, "network", "watcher", "flow-log", "list", "-l", "eastus"))
    assert sorted((x["name"], x["enabled"]) for x in listed) == [("nsg-web-legacy", False), ("vnet-a-flowlog", True)]
