"""Issue 11 scope 6: request bodies and names as Azure reads them (rules ARM5, ARM8, IN1-IN3, D22), over HTTPS with
the official SDK where it can send the request and raw JSON where only a broken client could; PUT semantics that
keep what a client leaves out on purpose."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import ResourceGroup

from conftest import put_rg

CAPI, DAPI = "2024-07-01", "2024-03-02"
RG = "rg1"
UBUNTU = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"}


def _rid(sub, t, name, ns="Microsoft.Compute"):
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{ns}/{t}/{name}"


def _disk(**props):
    return {"location": "eastus", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32, **props}}


def _wait(raw, url):
    for _ in range(2000):
        body = raw.get(url).json()
        if body["status"] != "InProgress":
            return body
        time.sleep(0.005)
    raise AssertionError("operation never finished")


def _sdk_error(call) -> tuple[int, str]:
    with pytest.raises(HttpResponseError) as e:
        call()
    return e.value.status_code, e.value.error.code


def _deserialise(value: str, kind: str, path: str) -> dict:
    return {"error": {"code": "InvalidRequestContent", "message": "The request content was invalid and could not be "
                      f"deserialized: 'Error converting value {value} to type '{kind}'. Path '{path}'.'."}}


@pytest.mark.parametrize(("body", "value", "kind", "path"), [
    (_disk(diskSizeGB="four"), '"four"', "integer", "properties.diskSizeGB"),
    ({**_disk(), "location": 123}, "123", "string", "location"),
    ({**_disk(), "sku": {"name": -1}}, "-1", "string", "sku.name"),
    ({**_disk(), "zones": "1"}, '"1"', "array", "zones"),
    ({**_disk(), "tags": {"team": 7}}, "7", "string", "tags.team"),
    (_disk(creationData=True), "true", "object", "properties.creationData"),
    (_disk(creationData={"createOption": "Empty", "imageReference": {"lun": "zero"}}), '"zero"', "integer",
     "properties.creationData.imageReference.lun"),
])
def test_a_value_of_another_type_is_refused_as_azure_deserialises(raw, sub, body, value, kind, path):
    put_rg(raw, sub)
    r = raw.put(_rid(sub, "disks", "d1"), params={"api-version": DAPI}, json=body)
    assert (r.status_code, r.json()) == (400, _deserialise(value, kind, path))
    assert raw.get(_rid(sub, "disks", "d1"), params={"api-version": DAPI}).status_code == 404


def test_type_confusion_deep_in_a_vm_and_a_version_is_refused(raw, sub):
    put_rg(raw, sub)
    vm = {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": UBUNTU, "osDisk": {"createOption": "FromImage"},
                           "dataDisks": [{"lun": 0, "createOption": "Empty", "diskSizeGB": 4}, "disk"]},
        "networkProfile": {"networkInterfaces": [{"id": "x"}]}}}
    r = raw.put(_rid(sub, "virtualMachines", "vm1"), params={"api-version": CAPI}, json=vm)
    assert (r.status_code, r.json()) == (400, _deserialise('"disk"', "object", "properties.storageProfile.dataDisks[1]"))
    version = {"location": "eastus", "properties": {"storageProfile": {"source": True}}}
    r = raw.put(_rid(sub, "galleries", "g/images/i/versions/1.0.0"), params={"api-version": "2023-07-03"}, json=version)
    # The parent is checked first (ARM2); with a gallery and a definition, the body's type is.
    assert r.status_code == 404
    raw.put(_rid(sub, "galleries", "g"), params={"api-version": "2023-07-03"}, json={"location": "eastus"})
    raw.put(_rid(sub, "galleries", "g/images/i"), params={"api-version": "2023-07-03"}, json={
        "location": "eastus", "properties": {"osType": "Linux", "osState": "Generalized",
                                             "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}})
    r = raw.put(_rid(sub, "galleries", "g/images/i/versions/1.0.0"), params={"api-version": "2023-07-03"}, json=version)
    assert (r.status_code, r.json()) == (400, _deserialise("true", "object", "properties.storageProfile.source"))


def test_values_outside_the_specs_enums_and_ranges_are_refused_through_the_sdk(session, sub):
    compute = session.compute
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    assert _sdk_error(lambda: compute.disks.begin_create_or_update(RG, "d1", cm.Disk(
        location="eastus", creation_data=cm.CreationData(create_option="Empty"), disk_size_gb=-5)).result()) == (
        400, "InvalidParameter")
    assert _sdk_error(lambda: compute.disks.begin_create_or_update(RG, "d1", cm.Disk(
        location="eastus", creation_data=cm.CreationData(create_option="Empty"), disk_size_gb=4,
        network_access_policy="Sometimes")).result()) == (400, "InvalidParameter")
    assert _sdk_error(lambda: compute.disks.begin_create_or_update(RG, "d1", cm.Disk(
        location="narnia", creation_data=cm.CreationData(create_option="Empty"), disk_size_gb=4)).result()) == (
        400, "LocationNotAvailableForResourceType")
    assert list(compute.disks.list_by_resource_group(RG)) == []


def test_names_outside_azures_naming_rules_are_refused_through_the_sdk(session):
    compute, groups = session.compute, session.resources.resource_groups
    assert _sdk_error(lambda: groups.create_or_update("bad;rg", ResourceGroup(location="eastus"))) == (
        400, "InvalidResourceGroup")
    assert _sdk_error(lambda: groups.create_or_update("ends.", ResourceGroup(location="eastus"))) == (
        400, "InvalidResourceGroup")
    assert _sdk_error(lambda: groups.create_or_update("rg-x", ResourceGroup(location="narnia"))) == (
        400, "LocationNotAvailableForResourceGroup")
    groups.create_or_update(RG, ResourceGroup(location="eastus"))
    disk = cm.Disk(location="eastus", creation_data=cm.CreationData(create_option="Empty"), disk_size_gb=4)
    assert _sdk_error(lambda: compute.disks.begin_create_or_update(RG, "bad;name", disk).result()) == (
        400, "InvalidParameter")
    assert _sdk_error(lambda: compute.disks.begin_create_or_update(RG, "d" * 81, disk).result()) == (
        400, "InvalidParameter")
    assert _sdk_error(lambda: compute.disks.begin_create_or_update(RG, "d" * 5000, disk).result()) == (
        400, "InvalidResourceName")
    assert _sdk_error(lambda: compute.snapshots.begin_create_or_update(RG, "-snap", cm.Snapshot(
        location="eastus", creation_data=cm.CreationData(create_option="Empty"))).result()) == (400, "InvalidParameter")
    assert compute.disks.begin_create_or_update(RG, "Data_disk-1", disk).result().name == "Data_disk-1"


def test_tags_at_a_scope_take_string_values_only(raw, sub):
    put_rg(raw, sub)
    url = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Resources/tags/default"
    r = raw.put(url, params={"api-version": "2024-11-01"}, json={"properties": {"tags": {"a": "1", "n": 2}}})
    assert (r.status_code, r.json()) == (400, _deserialise("2", "string", "properties.tags.n"))
    r = raw.put(url, params={"api-version": "2024-11-01"}, json={"properties": {"tags": {"a\u0007": "1"}}})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidTagNameCharacters")


def _vmss_body(sub):
    return {"location": "eastus", "sku": {"name": "Standard_D2s_v5", "capacity": 2}, "properties": {
        "orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"},
        "virtualMachineProfile": {
            "storageProfile": {"imageReference": UBUNTU, "osDisk": {"createOption": "FromImage"}},
            "osProfile": {"computerNamePrefix": "ss", "adminUsername": "azureuser"},
            "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {
                "primary": True, "ipConfigurations": [{"name": "ip", "properties": {
                    "subnet": {"id": _rid(sub, "virtualNetworks", "vnet/subnets/default", "Microsoft.Network")}}}]}}]}}}}


def test_a_scale_set_update_that_leaves_the_image_out_keeps_it(raw, sub):
    """az vmss update / az vmss extension set send `imageReference: null` (azure-cli vm/custom.py); the set keeps its
    image, as it does when the PUT leaves the key out."""
    put_rg(raw, sub)
    url, p = _rid(sub, "virtualMachineScaleSets", "ss"), {"api-version": CAPI}
    _wait(raw, raw.put(url, params=p, json=_vmss_body(sub)).headers["azure-asyncoperation"])
    model = raw.get(url, params=p).json()
    model["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = None
    model["properties"]["upgradePolicy"] = {"mode": "Automatic"}
    r = raw.put(url, params=p, json=model)
    assert r.status_code == 200
    _wait(raw, r.headers["azure-asyncoperation"])
    got = raw.get(url, params=p).json()["properties"]
    assert got["virtualMachineProfile"]["storageProfile"]["imageReference"] == UBUNTU
    assert got["upgradePolicy"] == {"mode": "Automatic"}
    del model["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    _wait(raw, raw.put(url, params=p, json=model).headers["azure-asyncoperation"])
    assert raw.get(url, params=p).json()["properties"]["virtualMachineProfile"]["storageProfile"][
        "imageReference"] == UBUNTU


def test_an_os_disk_grows_only_while_its_vm_is_deallocated(raw, session, sub, server):
    """https://learn.microsoft.com/azure/virtual-machines/linux/expand-disks#expand-without-downtime: live resize is
    for data disks only (D22)."""
    compute = session.compute
    put_rg(raw, sub)
    nic = _rid(sub, "networkInterfaces", "nic1", "Microsoft.Network")
    raw.put(nic, params={"api-version": "2024-05-01"}, json={"location": "eastus", "properties": {}})
    vm_body = {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": UBUNTU, "osDisk": {"createOption": "FromImage", "name": "os1"},
                           "dataDisks": [{"lun": 0, "createOption": "Empty", "diskSizeGB": 64, "name": "data1"}]},
        "osProfile": {"computerName": "vm1", "adminUsername": "azureuser"},
        "networkProfile": {"networkInterfaces": [{"id": nic}]}}}
    r = raw.put(_rid(sub, "virtualMachines", "vm1"), params={"api-version": CAPI}, json=vm_body)
    _wait(raw, r.headers["azure-asyncoperation"])
    assert _sdk_error(lambda: compute.disks.begin_update(RG, "os1", cm.DiskUpdate(disk_size_gb=64)).result()) == (
        409, "OperationNotAllowed")
    # A data disk within the live-resize conditions grows while the VM runs; past 4 TiB it may not.
    assert compute.disks.begin_update(RG, "data1", cm.DiskUpdate(disk_size_gb=128)).result().disk_size_gb == 128
    assert _sdk_error(lambda: compute.disks.begin_update(RG, "data1", cm.DiskUpdate(disk_size_gb=8192)).result()) == (
        409, "OperationNotAllowed")
    vm = compute.virtual_machines.get(RG, "vm1")
    vm.storage_profile.os_disk.disk_size_gb = 64
    assert _sdk_error(lambda: compute.virtual_machines.begin_create_or_update(RG, "vm1", vm).result()) == (
        409, "OperationNotAllowed")
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    vm = compute.virtual_machines.get(RG, "vm1")
    vm.storage_profile.os_disk.disk_size_gb = 64
    compute.virtual_machines.begin_create_or_update(RG, "vm1", vm).result()
    assert compute.disks.get(RG, "os1").disk_size_gb == 64
    assert compute.disks.begin_update(RG, "os1", cm.DiskUpdate(disk_size_gb=100)).result().disk_size_gb == 100


def test_enum_values_are_read_ignoring_case_and_answered_in_azures(session, raw, sub):
    """az vmss create sends upgradePolicy.mode "manual"; Azure takes it and answers "Manual"."""
    session.control("POST", "scenario", {"name": "deadlock"})
    url = f"/subscriptions/{sub}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-app"
    r = raw.patch(url, params={"api-version": CAPI}, json={"properties": {"upgradePolicy": {"mode": "manual"}}})
    assert r.status_code in (200, 202), r.text
    assert session.compute.virtual_machine_scale_sets.get("rg-app", "vmss-app").upgrade_policy.mode == "Manual"
    r = raw.patch(url, params={"api-version": CAPI}, json={"properties": {"upgradePolicy": {"mode": "Sometimes"}}})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidParameter")
