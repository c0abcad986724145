"""`refit emulator ...`, `refit inventory`, `refit demo` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from refit.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_user_errors_are_one_line_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, "emulator", "env", "--data", str(tmp_path / "none"))
    assert code == 2 and out == ""
    assert err.strip() == f"error: no emulator is serving {tmp_path / 'none'}: start one with `refit emulator start --data {tmp_path / 'none'}`"
    code, _, err = run(capsys, "emulator", "seed", "atlantis", "--data", str(tmp_path / "d"))
    assert code == 2 and "unknown scenario 'atlantis': built-in ones are deadlock, disk-swap, fleet" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "emulator", "seed", "disk-swap", "--data", str(tmp_path / "d"), "--set", "bogus=1")
    assert code == 2 and "has no parameter bogus" in err
    code, _, err = run(capsys, "-o", "yaml", "inventory")
    assert code == 2 and err == "error: -o/--output takes text or json, not 'yaml'\n"
    code, _, err = run(capsys, "emulator", "start", "--host", "0.0.0.0", "--data", str(tmp_path / "d"))
    assert code == 2 and "--host must be 127.0.0.1" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nresources: [{id: /subscriptions/s/resourceGroups/rg}]\n")
    code, _, err = run(capsys, "emulator", "seed", str(bad), "--data", str(tmp_path / "d"))
    assert code == 2 and "LocationRequired" in err


def _snapshot(capsys) -> list:
    code, out, _ = run(capsys, "-o", "json", "inventory", "-q", "Resources | project id, type, tags, properties "
                       "| order by id asc")
    assert code == 0
    return json.loads(out)


def test_a_failed_seed_changes_nothing(capsys, tmp_path, monkeypatch):
    """Issue 10: a scenario is built whole before it is written; one that fails leaves the fleet as it was."""
    monkeypatch.setenv("REFIT_DATA_DIR", str(tmp_path / "data"))
    code, out, _ = run(capsys, "-o", "json", "emulator", "seed", "disk-swap", "--set", "vms=2")
    assert code == 0
    before = _snapshot(capsys)
    assert len(before) == 13  # every resource of the scenario but its resource group (a ResourceContainer)
    for extra in ([], ["--add"]):
        code, out, err = run(capsys, "emulator", "seed", "fleet", "--set", "vms=-3", *extra)
        assert (code, out, err.strip()) == (2, "", "error: resources[6].repeat must be a whole number >= 0")
        assert _snapshot(capsys) == before


def test_seed_offline_then_inventory_embedded(capsys, tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("REFIT_DATA_DIR", str(d))
    code, out, _ = run(capsys, "-o", "json", "emulator", "seed", "disk-swap", "--set", "vms=3")
    assert code == 0 and json.loads(out) == {"scenario": "disk-swap", "created": 17, "resources": 17}
    code, out, _ = run(capsys, "-o", "json", "inventory", "--type", "microsoft.compute/virtualmachines")
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["vm-01", "vm-02", "vm-03"]
    assert [r["zones"] for r in rows] == [["1"], ["2"], ["3"]]
    assert not (d / "endpoint.json").exists()  # the embedded emulator stopped with the command
    code, _, _ = run(capsys, "emulator", "reset", "--yes")
    code, out, _ = run(capsys, "-o", "json", "inventory")
    assert json.loads(out) == []


def test_start_env_endpoint_and_restart(tmp_path):
    d = tmp_path / "data"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "refit", "emulator", "start", "--port", "0", "--data", str(d), "--scenario", "deadlock"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(d / "endpoint.json")
        out = subprocess.run([sys.executable, "-m", "refit", "emulator", "env", "--data", str(d)], env=env,
                             capture_output=True, text=True, check=True).stdout
        exports = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
        assert set(exports) == {"REFIT_ENDPOINT", "REQUESTS_CA_BUNDLE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                                "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID"}
        assert exports["REFIT_ENDPOINT"].startswith("https://127.0.0.1:")
        assert exports["REQUESTS_CA_BUNDLE"] == str(d / "cert.pem")
        inv = subprocess.run([sys.executable, "-m", "refit", "-o", "json", "inventory"], capture_output=True, text=True,
                             check=True, env={**env, **exports}).stdout
        assert "vmss-app" in {r["name"] for r in json.loads(inv)}
        # A second emulator on the same data dir is refused.
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "an emulator already serves" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
    assert not (d / "endpoint.json").exists()
    restart = [sys.executable, "-m", "refit", "emulator", "start", "--port", "0", "--data", str(d)]
    proc = subprocess.Popen(restart, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(d / "endpoint.json")
        out = subprocess.run([sys.executable, "-m", "refit", "emulator", "env", "--data", str(d)], env=env,
                             capture_output=True, text=True, check=True).stdout
        exports = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
        inv = subprocess.run([sys.executable, "-m", "refit", "-o", "json", "inventory"], capture_output=True, text=True,
                             check=True, env={**env, **exports}).stdout
        assert {r["name"] for r in json.loads(inv)} >= {"vmss-app", "img-app-2026-01", "galProd", "app-tl", "1.0.0"}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _wait_for(path: Path) -> None:
    for _ in range(300):
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_demo_json(capsys):
    code, out, _ = run(capsys, "-o", "json", "demo", "--vms", "3")
    assert code == 0
    report = json.loads(out)
    assert [v["name"] for v in report["vms"]] == ["vm-deploy", "vm-01", "vm-02", "vm-03"]
    assert report["scaleSets"] == [{"name": "vmss-app", "securityType": "Standard", "image": "images/img-app-2026-01"}]
    assert [r["name"] for r in report["graph"]] == ["vm-01", "vm-02", "vm-03"]
    assert report["scaleSetSecurityTypeAfter"] == "TrustedLaunch" and report["applied"] is True
    assert report["refresh"]["swapped"] == 3
    assert {(v["vm"], v["os_disk"], v["state"], v["power"]) for v in report["refresh"]["status"]["vms"]} == {
        (f"vm-0{i}", f"vm-0{i}-2026-11", "done", "running") for i in (1, 2, 3)}


def test_seed_help_lists_every_built_in_scenario():
    import re

    from refit.cli.emulator import SCENARIO_HELP
    from refit.emulator.scenario import builtin_names

    listed = re.search(r"\(([^;)]*)", SCENARIO_HELP)[1].split(", ")
    assert listed == builtin_names() == ["deadlock", "disk-swap", "fleet", "misconfig", "refresh-health", "rollout"]
