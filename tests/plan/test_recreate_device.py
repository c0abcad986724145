"""The recreate path of a Windows VM with AADLoginForWindows (issue 17, scope 1, first acceptance bullet): the plan
deletes the old VM's Entra device after the VM and before the extension runs on the new one. Applied on the
emulator without that step the extension reports the join failure (rule EXT1); applied as the planner makes it,
the stale device is gone first and the new VM joins. Exact states read back through the SDK and Graph."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))
from test_graph_devices import HOST, RG, aad_login, entra_status, named, windows_vm

from refit.azure.fleet import load_world
from refit.ops.vocabulary import DELETE_ENTRA_DEVICE
from refit.plan import recreate
from refit.plan.goal import Goal
from refit.plan.model import Plan, Step
from refit.plan.sim import Sim
from refit.platform.rules.extensions import JOIN_FAILED
from refit.run import apply as runner
from refit.run.recheck import recheck

SIZE = "properties.hardwareProfile.vmSize"


@pytest.fixture
def joined(session, sub, raw):
    """win1, joined to Entra ID under HOST: its device is the one a recreate leaves behind."""
    vm = windows_vm(session, sub)
    aad_login(session)
    (device,) = named(raw)
    return vm.id, device


def recreate_steps(session, vm_id: str) -> list[Step]:
    """The planner's recreate path (plan.solve runs it when no in-place path exists), simulated step by step on the
    live state (Resource Graph and Graph's devices) as plan.solve does, as the plan's steps."""
    sim = Sim.from_world(load_world(session))
    ops, err = recreate.vm_path(sim, Goal(resource=vm_id, properties={SIZE: "Standard_D4s_v5"}))
    assert err == ""
    steps = []
    for i, op in enumerate(ops, start=1):
        out = sim.run(op)
        assert out.ok, f"{op.describe()}: {out.error}"
        steps.append(Step.from_op(i, op, 0))
    return steps


def test_the_recreate_plan_deletes_the_stale_device_before_the_extension_runs(session, joined):
    vm_id, device = joined
    steps = recreate_steps(session, vm_id)
    # (the patch keeps the OS disk, whose deleteOption is Delete, when the VM is deleted)
    assert [s.op for s in steps] == ["patch", "deallocate", "recreate_delete", DELETE_ENTRA_DEVICE, "recreate_create",
                                     "recreate_extension"]
    cleanup = steps[3]
    assert cleanup.request == {"method": "DELETE", "path": f"https://graph.microsoft.com/v1.0/devices/{device['id']}",
                               "api_version": "", "body": None}
    assert cleanup.summary == (
        f"delete stale Entra device {HOST} (object id {device['id']}): recreated win1 cannot join Entra ID under its "
        "hostname while it exists (Graph Device.ReadWrite.All or the Cloud Device Administrator role)")
    assert cleanup.irreversible and cleanup.resource == vm_id
    ext = steps[5].request
    assert (ext["method"], ext["path"]) == ("PUT", f"{vm_id}/extensions/AADLoginForWindows")
    assert {k: ext["body"]["properties"][k] for k in ("publisher", "type")} == {
        "publisher": "Microsoft.Azure.ActiveDirectory", "type": "AADLoginForWindows"}


def test_refit_plan_offers_the_device_step_in_its_recreate_path(session, joined):
    """`refit plan`'s answer when no in-place path exists (a VM cannot move region): the recreate path it offers,
    checked step by step against the platform, carries the device clean-up before the extension."""
    from plan_helpers import plan_for

    vm_id, device = joined
    plan = plan_for(session, [{"resource": vm_id, "properties": {"location": "westus"}}])
    (imp,) = plan.impossible
    assert imp.recreate_error == ""
    assert [s.op for s in imp.recreate] == ["patch", "deallocate", "recreate_delete", DELETE_ENTRA_DEVICE,
                                            "recreate_create", "recreate_extension"]
    assert imp.recreate[3].request["path"] == f"https://graph.microsoft.com/v1.0/devices/{device['id']}"


def test_the_simulation_refuses_the_path_without_the_device_step(session, joined):
    vm_id, device = joined
    sim = Sim.from_world(load_world(session))
    ops, _ = recreate.vm_path(sim, Goal(resource=vm_id, properties={SIZE: "Standard_D4s_v5"}))
    outs = [sim.run(op) for op in ops if op.name != DELETE_ENTRA_DEVICE]
    assert [o.ok for o in outs] == [True, True, True, True, False]
    assert (outs[-1].error.code, outs[-1].rules) == ("VMExtensionProvisioningError", ("EXT1",))
    assert f"(object id {device['id']})" in outs[-1].error.message


def test_applied_without_the_device_step_the_join_fails(session, raw, joined):
    vm_id, device = joined
    steps = [s for s in recreate_steps(session, vm_id) if s.op != DELETE_ENTRA_DEVICE]
    # `refit apply`'s re-check on the live state (Graph's devices included) sees it before the first write ...
    drift = recheck(session, steps)
    assert (drift.step.op, drift.rules, drift.error.code) == ("recreate_extension", ("EXT1",),
                                                              "VMExtensionProvisioningError")
    # ... and sent anyway, the extension reports the join failure
    out = runner.run(session, Plan(goals=[], steps=steps))
    assert not out.ok and out.failed.op == "recreate_extension"
    message = JOIN_FAILED.format(hostname=HOST, device=device["id"])
    assert out.error.code == "VMExtensionProvisioningError" and f"Error message: '{message}'" in out.error.message
    assert session.compute.virtual_machines.get(RG, "win1").hardware_profile.vm_size == "Standard_D4s_v5"
    assert entra_status(session) == [("EntraDeviceJoin/notJoined", "Warning", f"AzureAdJoined : NO ({message})")]
    assert named(raw) == [device]


def test_applied_as_planned_the_new_vm_joins(session, raw, joined):
    vm_id, device = joined
    steps = recreate_steps(session, vm_id)
    assert recheck(session, steps) is None
    out = runner.run(session, Plan(goals=[], steps=steps))
    assert out.ok, (out.failed, out.error)
    assert [s.op for s in out.done] == ["patch", "deallocate", "recreate_delete", DELETE_ENTRA_DEVICE,
                                        "recreate_create", "recreate_extension"]
    assert raw.get(f"/v1.0/devices/{device['id']}").json()["error"]["code"] == "Request_ResourceNotFound"
    (new,) = named(raw)
    assert new["id"] != device["id"]
    ext = session.compute.virtual_machine_extensions.get(RG, "win1", "AADLoginForWindows")
    assert ext.provisioning_state == "Succeeded"
    assert entra_status(session) == [("EntraDeviceJoin/joined", "Info",
                                      f"AzureAdJoined : YES, DeviceId : {new['deviceId']}")]
    # the device step applied again is already true: Graph no longer has the device
    (cleanup,) = [s for s in out.done if s.op == DELETE_ENTRA_DEVICE]
    again = runner.run(session, Plan(goals=[], steps=[cleanup]))
    assert again.ok and again.done == [] and [s.op for s in again.skipped] == [DELETE_ENTRA_DEVICE]
