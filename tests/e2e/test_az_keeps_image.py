"""The real az CLI: `az vmss update --set` and `az vmss extension set` send the scale set back with
`imageReference: null` (azure-cli vm/custom.py, "to avoid unnecessary permission check of image"); the set keeps
its image, as on Azure (issue 11 acceptance)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import put_rg

sys.path.insert(0, str(Path(__file__).parent))
from az_venv import ensure_az

from refit.cli.emulator import az_env

pytestmark = pytest.mark.e2e
UBUNTU = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"}


def test_az_vmss_update_and_extension_set_keep_the_image(server, raw, sub, tmp_path):
    az, _ = ensure_az()
    env = {**os.environ, **az_env(server.endpoint, tmp_path / "az-config"), "PATH": f"{az.parent}:{os.environ['PATH']}"}
    login = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(server.data_dir),
                            "--az", str(az), "--config-dir", str(tmp_path / "az-config")],
                           env=env, capture_output=True, text=True, timeout=300, check=False)
    assert login.returncode == 0, login.stderr
    put_rg(raw, sub)
    url = f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
    p = {"api-version": "2024-07-01"}
    r = raw.put(url, params=p, json={"location": "eastus", "sku": {"name": "Standard_D2s_v5", "capacity": 2},
                                      "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"},
                                                     "virtualMachineProfile": {
                                                         "storageProfile": {"imageReference": UBUNTU,
                                                                            "osDisk": {"createOption": "FromImage"}},
                                                         "osProfile": {"computerNamePrefix": "ss",
                                                                       "adminUsername": "azureuser"}}}})
    assert r.status_code == 201
    server.emulator.clock.advance(3600)
    for args in (["vmss", "update", "-g", "rg1", "-n", "ss", "--set", "upgradePolicy.mode=Automatic"],
                 ["vmss", "extension", "set", "-g", "rg1", "--vmss-name", "ss", "--name", "CustomScript",
                  "--publisher", "Microsoft.Azure.Extensions", "--version", "2.1"]):
        done = subprocess.run([str(az), *args, "-o", "none"], env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        server.emulator.clock.advance(3600)
        assert raw.get(url, params=p).json()["properties"]["virtualMachineProfile"]["storageProfile"][
            "imageReference"] == UBUNTU
    model = raw.get(url, params=p).json()["properties"]
    assert model["upgradePolicy"]["mode"] == "Automatic"
    assert [e["name"] for e in model["virtualMachineProfile"]["extensionProfile"]["extensions"]] == ["CustomScript"]
