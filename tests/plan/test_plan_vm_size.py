"""The planner reads the SKU table through the platform (refit.platform.skus): a size Azure does not offer is
refused with the catalog's answer (rule SZ1), a resize across CPU architectures with rule SZ2's."""

from __future__ import annotations

import json

import pytest

from refit.cli import main
from refit.platform import skus

SUB = "00000000-0000-4000-8000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-fleet-01/providers/Microsoft.Compute/virtualMachines/vm-00001"
SIZE = "properties.hardwareProfile.vmSize"


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture
def fleet(session, server, monkeypatch, tmp_path):
    """One running Standard_D2s_v5 VM (x64) in eastus."""
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1, "security_type": "Standard"}})
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REFIT_ENDPOINT", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    assert session.compute.virtual_machines.get("rg-fleet-01", "vm-00001").hardware_profile.vm_size == "Standard_D2s_v5"
    return session


def _blocked(capsys, size):
    code, out, _ = run(capsys, "-o", "json", "plan", "--resource", VM, "--set", f"{SIZE}={size}")
    plan = json.loads(out)
    assert (code, plan["status"], plan["steps"]) == (1, "impossible", [])
    return [(b["rule"], b["code"], b["message"]) for b in plan["impossible"][0]["blocked_by"]]


def test_an_unknown_vm_size_is_refused_before_any_search(fleet, capsys):
    """A size Azure does not offer is a wrong value (bad input, exit 2, one line naming the rule), not a state
    to plan around; the platform refuses the same request with the catalog's answer (tests/emulator)."""
    assert skus.offered("Banana", "eastus") is None
    code, out, err = run(capsys, "plan", "--resource", VM, "--set", f"{SIZE}=Banana")
    assert (code, out) == (2, "")
    assert err == ("error: goal vm-00001: properties.hardwareProfile.vmSize = 'Banana' is refused by SZ1 (The VM size "
                   "must be one Azure offers in the region): Azure offers no VM size 'Banana' in eastus; "
                   "`az vm list-sizes -l eastus` lists those it does\n")


def test_a_resize_to_an_arm64_size_is_refused_for_an_x64_vm(fleet, capsys):
    assert _blocked(capsys, "Standard_D2ps_v6") == [(
        "SZ2", "BadRequest",
        "Cannot resize a VM of size 'Standard_D2s_v5' with CPU Architecture 'x64' to a VM of size 'Standard_D2ps_v6' "
        "with CPU Architecture 'Arm64'.")]
