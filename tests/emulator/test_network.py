"""The networking compute needs, through the official SDK: NICs' private IPs from their subnet (Azure's five reserved
addresses skipped), MAC addresses and `virtualMachine` back-references, public IPs, load balancer probes and backend
pools, NSGs; and a scale set with a load balancer probe and the Application Health extension, which the doctor
reads live as two health sources (issue 11 scope 5)."""

from __future__ import annotations

import re

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

from refit.checks.run import run
from refit.sources import live

RG = "rg-net"
NET = "2024-05-01"
UBUNTU = cm.ImageReference(publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts-gen2",
                           version="latest")


def _id(sub, t, name):
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/{t}/{name}"


def _put(res, rid, **kw):
    return res.resources.begin_create_or_update_by_id(rid, GenericResource(location="eastus", **kw),
                                                      api_version=NET).result()


def _get(res, rid):
    return res.resources.get_by_id(rid, api_version=NET)


@pytest.fixture
def net(session, sub):
    res = session.resources
    res.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    _put(res, _id(sub, "virtualNetworks", "vnet"), properties={
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [{"name": "apps", "properties": {"addressPrefix": "10.1.2.0/24"}},
                    {"name": "tiny", "properties": {"addressPrefix": "10.1.9.0/29"}}]})
    return res


def _nic(res, sub, name, subnet="apps", **ipconfig):
    props = {"subnet": {"id": _id(sub, "virtualNetworks", "vnet") + f"/subnets/{subnet}"}, **ipconfig}
    return _put(res, _id(sub, "networkInterfaces", name), properties={"ipConfigurations": [
        {"name": "ipconfig1", "properties": props}]})


def _ipc(nic):
    return nic.properties["ipConfigurations"][0]["properties"]


def _vm(session, name, nics, location="eastus"):
    return session.compute.virtual_machines.begin_create_or_update(RG, name, cm.VirtualMachine(
        location=location, hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(image_reference=UBUNTU, os_disk=cm.OSDisk(create_option="FromImage")),
        os_profile=cm.OSProfile(computer_name=name, admin_username="azureuser", admin_password="P@ssw0rd-1234!"),
        network_profile=cm.NetworkProfile(network_interfaces=[
            cm.NetworkInterfaceReference(id=n, primary=i == 0) for i, n in enumerate(nics)]))).result()


def test_nics_take_the_next_free_address_after_azures_five_reserved(net, sub):
    a, b = _nic(net, sub, "nic-a"), _nic(net, sub, "nic-b")
    assert [(_ipc(n)["privateIPAddress"], _ipc(n)["privateIPAllocationMethod"], _ipc(n)["primary"],
             _ipc(n)["privateIPAddressVersion"]) for n in (a, b)] == [
        ("10.1.2.4", "Dynamic", True, "IPv4"), ("10.1.2.5", "Dynamic", True, "IPv4")]
    static = _nic(net, sub, "nic-s", privateIPAllocationMethod="Static", privateIPAddress="10.1.2.6")
    assert _ipc(static)["privateIPAddress"] == "10.1.2.6"
    assert _ipc(_nic(net, sub, "nic-c"))["privateIPAddress"] == "10.1.2.7"  # past the static one
    # An update keeps the dynamic address; a freed address is the next one given.
    assert _ipc(_nic(net, sub, "nic-a"))["privateIPAddress"] == "10.1.2.4"
    net.resources.begin_delete_by_id(_id(sub, "networkInterfaces", "nic-b"), api_version=NET).result()
    assert _ipc(_nic(net, sub, "nic-d"))["privateIPAddress"] == "10.1.2.5"
    subnet = _get(net, _id(sub, "virtualNetworks", "vnet") + "/subnets/apps")
    assert sorted(c["id"].split("/")[-3] for c in subnet.properties["ipConfigurations"]) == [
        "nic-a", "nic-c", "nic-d", "nic-s"]


def test_a_full_subnet_is_subnet_is_full(net, sub):
    # A /29 has 8 addresses, 5 of them Azure's: .4, .5 and .6 are given, then none is left.
    assert [_ipc(_nic(net, sub, f"t{i}", "tiny"))["privateIPAddress"] for i in range(3)] == [
        "10.1.9.4", "10.1.9.5", "10.1.9.6"]
    with pytest.raises(HttpResponseError) as e:
        _nic(net, sub, "t3", "tiny")
    assert (e.value.status_code, e.value.error.code, e.value.error.message) == (
        400, "SubnetIsFull", "Subnet tiny with address prefix 10.1.9.0/29 does not have enough capacity for 1 IP "
                             "addresses.")


def test_a_vm_gives_its_nics_a_back_reference_and_a_mac_until_it_is_deleted(session, net, sub):
    first, second = _nic(net, sub, "vm1-nic").id, _nic(net, sub, "vm1-nic2").id
    assert "virtualMachine" not in _get(net, first).properties and "macAddress" not in _get(net, first).properties
    vm = _vm(session, "vm1", [first, second])
    shown = [_get(net, n).properties for n in (first, second)]
    assert [(p["virtualMachine"], p["primary"]) for p in shown] == [({"id": vm.id}, True), ({"id": vm.id}, False)]
    assert all(re.fullmatch(r"00-0D-3A(-[0-9A-F]{2}){3}", p["macAddress"]) for p in shown)
    assert shown[0]["macAddress"] != shown[1]["macAddress"]
    session.compute.virtual_machines.begin_delete(RG, "vm1").result()
    after = _get(net, first).properties
    assert ("virtualMachine" in after, "macAddress" in after, _ipc(_get(net, first))["privateIPAddress"]) == (
        False, False, "10.1.2.4")


def test_public_ips_static_at_once_dynamic_once_a_vm_has_them(session, net, sub):
    static = _put(net, _id(sub, "publicIPAddresses", "pip-s"), sku={"name": "Standard"},
                  properties={"dnsSettings": {"domainNameLabel": "myapp"}})
    assert (static.properties["publicIPAllocationMethod"], static.properties["dnsSettings"]["fqdn"]) == (
        "Static", "myapp.eastus.cloudapp.azure.com")
    assert re.fullmatch(r"20(\.\d{1,3}){3}", static.properties["ipAddress"])
    dynamic = _put(net, _id(sub, "publicIPAddresses", "pip-d"), sku={"name": "Basic"}, properties={})
    assert (dynamic.properties["publicIPAllocationMethod"], "ipAddress" in dynamic.properties) == ("Dynamic", False)
    nic = _nic(net, sub, "web-nic", publicIPAddress={"id": dynamic.id})
    assert _get(net, dynamic.id).properties["ipConfiguration"] == {"id": nic.properties["ipConfigurations"][0]["id"]}
    assert "ipAddress" not in _get(net, dynamic.id).properties
    _vm(session, "web", [nic.id])
    address = _get(net, dynamic.id).properties["ipAddress"]
    assert re.fullmatch(r"20(\.\d{1,3}){3}", address) and address != static.properties["ipAddress"]


def test_load_balancer_probes_and_pools_and_nsgs_show_who_uses_them(net, sub):
    lb = _id(sub, "loadBalancers", "lb")
    nsg = _put(net, _id(sub, "networkSecurityGroups", "nsg"), properties={"securityRules": []})
    _put(net, lb, sku={"name": "Standard"}, properties={
        "frontendIPConfigurations": [{"name": "fe", "properties": {
            "subnet": {"id": _id(sub, "virtualNetworks", "vnet") + "/subnets/apps"}}}],
        "backendAddressPools": [{"name": "pool"}],
        "probes": [{"name": "http", "properties": {"protocol": "Http", "port": 80, "requestPath": "/health"}}],
        "loadBalancingRules": [{"name": "web", "properties": {
            "frontendIPConfiguration": {"id": f"{lb}/frontendIPConfigurations/fe"},
            "backendAddressPool": {"id": f"{lb}/backendAddressPools/pool"}, "probe": {"id": f"{lb}/probes/http"},
            "protocol": "Tcp", "frontendPort": 80, "backendPort": 80}}]})
    nic = _nic(net, sub, "be-nic", loadBalancerBackendAddressPools=[{"id": f"{lb}/backendAddressPools/pool"}])
    _put(net, nic.id, properties={**nic.properties, "networkSecurityGroup": {"id": nsg.id}})
    got = _get(net, lb).properties
    rule = [{"id": f"{lb}/loadBalancingRules/web"}]
    assert got["probes"][0]["properties"]["loadBalancingRules"] == rule
    assert got["frontendIPConfigurations"][0]["properties"]["loadBalancingRules"] == rule
    assert got["frontendIPConfigurations"][0]["properties"]["privateIPAddress"] == "10.1.2.4"
    pool = got["backendAddressPools"][0]["properties"]
    assert (pool["loadBalancingRules"], pool["backendIPConfigurations"]) == (
        rule, [{"id": f"{nic.id}/ipConfigurations/ipconfig1"}])
    assert _ipc(_get(net, nic.id))["privateIPAddress"] == "10.1.2.5"  # after the frontend's
    assert _get(net, nsg.id).properties["networkInterfaces"] == [{"id": nic.id}]


def test_a_scale_set_with_a_probe_and_the_health_extension_has_two_health_sources(session, net, sub):
    lb = _id(sub, "loadBalancers", "lb")
    _put(net, lb, sku={"name": "Standard"}, properties={
        "frontendIPConfigurations": [{"name": "fe", "properties": {
            "subnet": {"id": _id(sub, "virtualNetworks", "vnet") + "/subnets/apps"}}}],
        "backendAddressPools": [{"name": "pool"}],
        "probes": [{"name": "http", "properties": {"protocol": "Http", "port": 80, "requestPath": "/health"}}]})
    vmss = session.compute.virtual_machine_scale_sets.begin_create_or_update(RG, "vmss-two", cm.VirtualMachineScaleSet(
        location="eastus", sku=cm.Sku(name="Standard_D2s_v5", capacity=2),
        orchestration_mode="Uniform", upgrade_policy=cm.UpgradePolicy(mode="Manual"),
        virtual_machine_profile=cm.VirtualMachineScaleSetVMProfile(
            storage_profile=cm.VirtualMachineScaleSetStorageProfile(image_reference=UBUNTU, os_disk=cm.VirtualMachineScaleSetOSDisk(
                create_option="FromImage")),
            os_profile=cm.VirtualMachineScaleSetOSProfile(computer_name_prefix="two", admin_username="azureuser",
                                                          admin_password="P@ssw0rd-1234!"),
            network_profile=cm.VirtualMachineScaleSetNetworkProfile(
                health_probe=cm.ApiEntityReference(id=f"{lb}/probes/http"),
                network_interface_configurations=[cm.VirtualMachineScaleSetNetworkConfiguration(
                    name="nic", primary=True, ip_configurations=[cm.VirtualMachineScaleSetIPConfiguration(
                        name="ipc", subnet=cm.ApiEntityReference(id=_id(sub, "virtualNetworks", "vnet") + "/subnets/apps"),
                        load_balancer_backend_address_pools=[cm.SubResource(id=f"{lb}/backendAddressPools/pool")])])]),
            extension_profile=cm.VirtualMachineScaleSetExtensionProfile(extensions=[cm.VirtualMachineScaleSetExtension(
                name="health", properties=cm.VirtualMachineScaleSetExtensionProperties(
                    publisher="Microsoft.ManagedServices", type="ApplicationHealthLinux", type_handler_version="2.0",
                    settings={"protocol": "http", "port": 80, "requestPath": "/health"}))])))).result()
    assert [e.name for e in session.compute.virtual_machine_scale_set_extensions.list(RG, "vmss-two")] == ["health"]
    findings = [f for f in run(live.load(session)).failing() if f.check.id == "RF-VMSS-002"]
    assert [f.result.resource for f in findings] == [vmss.id]
