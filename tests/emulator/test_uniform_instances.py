"""A Uniform scale set's instances through the official SDK (issue 12): names and instance ids, computer names,
latestModelApplied after a model change in Manual mode and manualUpgrade of some, instance views with health and
fault domains, instance protection against set actions and scale-in, delete instances, reimage."""

from __future__ import annotations

from azure.mgmt.compute import models as cm

RG, SET = "rg-app", "vmss-app"
API = "2024-07-01"


def _path(sub, tail=""):
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{SET}{tail}"


def _advance(raw, seconds):
    raw.post("/_refit/clock", json={"advance": seconds})


def _post(raw, sub, tail, body=None):
    r = raw.post(_path(sub, tail), params={"api-version": API}, json=body)
    assert r.status_code == 202, r.text
    return r


def _vms(session):
    return sorted(session.compute.virtual_machine_scale_set_vms.list(RG, SET), key=lambda i: int(i.instance_id))


def test_uniform_instances_models_protection_and_actions(session, raw, sub):
    session.control("POST", "scenario", {"name": "deadlock"})
    raw.post("/_refit/clock", json={"scale": 1e-9})
    vms = _vms(session)
    assert [(i.name, i.instance_id, i.os_profile.computer_name, i.latest_model_applied, i.model_definition_applied)
            for i in vms] == [(f"{SET}_{n}", str(n), f"app00000{n}", True, "VirtualMachineScaleSet") for n in range(3)]
    view = session.compute.virtual_machine_scale_set_vms.get_instance_view(RG, SET, "1")
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert view.vm_health.status.code == "HealthState/healthy"
    assert view.platform_fault_domain == 1  # five fault domains (Uniform's default), filled in turn
    set_view = session.compute.virtual_machine_scale_sets.get_instance_view(RG, SET)
    assert [(s.code, s.count) for s in set_view.virtual_machine.statuses_summary] == [
        ("PowerState/running", 3), ("ProvisioningState/succeeded", 3)]
    assert [(e.name, [(s.code, s.count) for s in e.statuses_summary]) for e in set_view.extensions] == [
        ("HealthExtension", [("ProvisioningState/succeeded", 3)])]

    # Manual mode and a model change (an extension added): every instance is behind until updated.
    r = raw.patch(_path(sub), params={"api-version": API}, json={"properties": {"upgradePolicy": {"mode": "Manual"}}})
    assert r.status_code == 200, r.text
    _advance(raw, 60)
    r = raw.put(_path(sub, "/extensions/monitor"), params={"api-version": API}, json={"properties": {
        "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent", "typeHandlerVersion": "1.0"}})
    assert r.status_code == 201, r.text
    _advance(raw, 60)
    assert [i.latest_model_applied for i in _vms(session)] == [False, False, False]
    _post(raw, sub, "/manualupgrade", {"instanceIds": ["0"]})
    _advance(raw, 400)
    vms = _vms(session)
    assert [i.latest_model_applied for i in vms] == [True, False, False]
    assert sorted(x.name for x in vms[0].resources) == ["HealthExtension", "monitor"]

    # Instance 2 protected from set actions: a deallocate of '*' leaves it running.
    vm2 = session.compute.virtual_machine_scale_set_vms.get(RG, SET, "2")
    vm2.protection_policy = cm.VirtualMachineScaleSetVMProtectionPolicy(protect_from_scale_in=True,
                                                                        protect_from_scale_set_actions=True)
    session.compute.virtual_machine_scale_set_vms.begin_update(RG, SET, "2", vm2).result()
    assert session.compute.virtual_machine_scale_set_vms.get(RG, SET, "2").protection_policy.protect_from_scale_in
    _post(raw, sub, "/deallocate", {"instanceIds": ["*"]})
    _advance(raw, 60)
    power = [session.compute.virtual_machine_scale_set_vms.get_instance_view(RG, SET, str(n)).statuses[1].code
             for n in range(3)]
    assert power == ["PowerState/deallocated", "PowerState/deallocated", "PowerState/running"]
    _post(raw, sub, "/start", {"instanceIds": ["*"]})
    _advance(raw, 60)

    # Scale in by one: the highest unprotected instance goes (1), never the protected 2.
    r = raw.put(_path(sub), params={"api-version": API}, json={
        "location": "eastus", "sku": {"name": "Standard_D2s_v5", "tier": "Standard", "capacity": 2}})
    assert r.status_code == 200, r.text
    _advance(raw, 60)
    assert [i.instance_id for i in _vms(session)] == ["0", "2"]

    # Reimage instance 0: a new OS disk; delete instance 0: capacity 1.
    before = session.compute.virtual_machine_scale_set_vms.get(RG, SET, "0").storage_profile.os_disk.managed_disk.id
    _post(raw, sub, "/virtualMachines/0/reimage")
    _advance(raw, 200)
    after = session.compute.virtual_machine_scale_set_vms.get(RG, SET, "0").storage_profile.os_disk.managed_disk.id
    assert after != before
    assert session.compute.disks.get(RG, after.rsplit("/", 1)[-1]).managed_by.endswith("/virtualMachines/0")
    _post(raw, sub, "/delete", {"instanceIds": ["0"]})
    _advance(raw, 120)
    assert [i.instance_id for i in _vms(session)] == ["2"]
    assert session.compute.virtual_machine_scale_sets.get(RG, SET).sku.capacity == 1
    # An instance id the set does not have is refused.
    r = raw.post(_path(sub, "/restart"), params={"api-version": API}, json={"instanceIds": ["9"]})
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) == (
        400, "InvalidParameter", "The provided instanceId 9 is not an active Virtual Machine Scale Set VM instanceId.")
