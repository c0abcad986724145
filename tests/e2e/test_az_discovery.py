"""The real az CLI (2.91, own venv), unchanged commands, on what discovery and the compute scripts read: `az resource
list -g`, `az resource show --ids` and `az resource tag` without `--api-version` (az takes the newest version the
provider registration lists), `az vm list -d` (NICs' private IPs, public IPs, MACs), `az vm extension list`,
`az vmss extension list` (issue 11 acceptance)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from azure.mgmt.compute import models as cm

sys.path.insert(0, str(Path(__file__).parent))
from az_venv import az_fixture, az_tools_fixture  # noqa: F401 (the az and az_tools fixtures)

pytestmark = pytest.mark.e2e
RG = "rg-disc"
UBUNTU = cm.ImageReference(publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts-gen2",
                           version="latest")


@pytest.fixture
def vm(az):
    az("group", "create", "-n", RG, "-l", "eastus")
    az("vm", "create", "-g", RG, "-n", "vm1", "--image", "Ubuntu2204", "--admin-username", "azureuser",
       "--generate-ssh-keys", "--public-ip-sku", "Standard")
    return az("vm", "show", "-g", RG, "-n", "vm1")


def test_az_resource_list_show_and_tag(az, vm, sub):
    os_disk = vm["storageProfile"]["osDisk"]["name"]
    listed = sorted((r["type"], r["name"]) for r in az("resource", "list", "-g", RG))
    assert listed == sorted([
        ("Microsoft.Compute/disks", os_disk), ("Microsoft.Compute/virtualMachines", "vm1"),
        ("Microsoft.Network/networkInterfaces", "vm1VMNic"), ("Microsoft.Network/networkSecurityGroups", "vm1NSG"),
        ("Microsoft.Network/publicIPAddresses", "vm1PublicIP"), ("Microsoft.Network/virtualNetworks", "vm1VNET")])
    assert {r["provisioningState"] for r in az("resource", "list", "-g", RG)} == {"Succeeded"}
    assert [r["name"] for r in az("resource", "list", "-g", RG, "--resource-type", "Microsoft.Compute/disks")] == [
        os_disk]
    nic_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/vm1VMNic"
    nic = az("resource", "show", "--ids", nic_id)  # no --api-version: az reads the provider's registration
    assert (nic["properties"]["virtualMachine"]["id"], nic["properties"]["ipConfigurations"][0]["properties"][
        "privateIPAddress"]) == (vm["id"], "10.0.0.4")
    disk_id = vm["storageProfile"]["osDisk"]["managedDisk"]["id"]
    az("resource", "tag", "--ids", disk_id, "--tags", "owner=platform", "tier=web")
    assert az("resource", "show", "--ids", disk_id)["tags"] == {"owner": "platform", "tier": "web"}
    az("resource", "tag", "--ids", vm["id"], "--tags", "AutoRefresh=true")
    shown = az("resource", "show", "--ids", vm["id"])
    assert (shown["tags"], shown["properties"]["provisioningState"]) == ({"AutoRefresh": "true"}, "Succeeded")
    assert [r["name"] for r in az("resource", "list", "--tag", "owner=platform")] == [os_disk]


def test_az_vm_list_d_shows_the_addresses(az, vm):
    shown = az("vm", "list", "-d", "-g", RG)
    assert [(v["name"], v["powerState"], v["privateIps"]) for v in shown] == [("vm1", "VM running", "10.0.0.4")]
    assert re.fullmatch(r"20(\.\d{1,3}){3}", shown[0]["publicIps"])
    assert re.fullmatch(r"00-0D-3A(-[0-9A-F]{2}){3}", shown[0]["macAddresses"])
    assert az("vm", "list-ip-addresses", "-g", RG, "-n", "vm1")[0]["virtualMachine"]["network"][
        "privateIpAddresses"] == ["10.0.0.4"]


def test_az_vm_extension_set_and_list(az, vm):
    az("vm", "extension", "set", "-g", RG, "--vm-name", "vm1", "--name", "ApplicationHealthLinux",
       "--publisher", "Microsoft.ManagedServices", "--version", "2.0", "--settings", '{"protocol": "tcp", "port": 22}')
    listed = az("vm", "extension", "list", "-g", RG, "--vm-name", "vm1")
    assert [(e["name"], e["publisher"], e["typePropertiesType"], e["provisioningState"]) for e in listed] == [
        ("ApplicationHealthLinux", "Microsoft.ManagedServices", "ApplicationHealthLinux", "Succeeded")]
    shown = az("vm", "extension", "show", "-g", RG, "--vm-name", "vm1", "--name", "ApplicationHealthLinux",
               "--instance-view")
    assert [s["displayStatus"] for s in shown["instanceView"]["statuses"]] == ["Provisioning succeeded"]
    iv = az("vm", "get-instance-view", "-g", RG, "-n", "vm1")["instanceView"]
    assert ([e["name"] for e in iv["extensions"]], iv["vmAgent"]["vmAgentVersion"]) == (
        ["ApplicationHealthLinux"], "2.13.1.1")


def test_az_vmss_extension_list(az, session):
    az("group", "create", "-n", RG, "-l", "eastus")
    session.compute.virtual_machine_scale_sets.begin_create_or_update(RG, "ss", cm.VirtualMachineScaleSet(
        location="eastus", sku=cm.Sku(name="Standard_D2s_v5", capacity=2), orchestration_mode="Uniform",
        upgrade_policy=cm.UpgradePolicy(mode="Manual"), virtual_machine_profile=cm.VirtualMachineScaleSetVMProfile(
            storage_profile=cm.VirtualMachineScaleSetStorageProfile(
                image_reference=UBUNTU, os_disk=cm.VirtualMachineScaleSetOSDisk(create_option="FromImage")),
            os_profile=cm.VirtualMachineScaleSetOSProfile(computer_name_prefix="ss", admin_username="azureuser",
                                                          admin_password="P@ssw0rd-1234!"),
            extension_profile=cm.VirtualMachineScaleSetExtensionProfile(extensions=[
                cm.VirtualMachineScaleSetExtension(name="health", properties=cm.VirtualMachineScaleSetExtensionProperties(
                    publisher="Microsoft.ManagedServices", type="ApplicationHealthLinux",
                    type_handler_version="2.0"))])))).result()
    az("vmss", "extension", "set", "-g", RG, "--vmss-name", "ss", "--name", "CustomScript",
       "--publisher", "Microsoft.Azure.Extensions", "--version", "2.1")
    listed = az("vmss", "extension", "list", "-g", RG, "--vmss-name", "ss")
    assert [(e["name"], e["publisher"]) for e in listed] == [
        ("health", "Microsoft.ManagedServices"), ("CustomScript", "Microsoft.Azure.Extensions")]
    assert [e.name for e in session.compute.virtual_machine_scale_set_extensions.list(RG, "ss")] == [
        "health", "CustomScript"]
