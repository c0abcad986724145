"""The real az CLI (PyPI azure-cli, own venv), unchanged commands, against the emulator over HTTPS: `az vm create`
and `az vmss create` (which read Microsoft.Compute/skus and the platform images, then deploy an ARM template) and
`az deployment group create --template-file`. Each final state is read back through the SDK."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from az_venv import az_fixture, az_tools_fixture  # noqa: F401 (the az and az_tools fixtures)

from refit.arm.armexpr import unique_string

pytestmark = pytest.mark.e2e

TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "prefix": {"type": "string", "defaultValue": "app"},
        "count": {"type": "int", "defaultValue": 2},
        "sku": {"type": "string", "allowedValues": ["Premium_LRS", "StandardSSD_LRS"]},
    },
    "variables": {"diskPrefix": "[concat(parameters('prefix'), '-data-')]"},
    "resources": [
        {"type": "Microsoft.Compute/disks", "apiVersion": "2023-04-02",
         "name": "[format('{0}{1}', variables('diskPrefix'), copyIndex(1))]", "location": "[resourceGroup().location]",
         "copy": {"name": "diskLoop", "count": "[parameters('count')]"}, "sku": {"name": "[parameters('sku')]"},
         "tags": {"index": "[string(copyIndex())]"},
         "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8}},
        {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
         "name": "[concat(parameters('prefix'), '-nsg')]", "location": "[resourceGroup().location]",
         "dependsOn": ["diskLoop"],
         "properties": {"copy": [{"name": "securityRules", "count": 2, "input": {
             "name": "[concat('rule', copyIndex('securityRules'))]",
             "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "access": "Allow",
                            "direction": "Inbound", "protocol": "Tcp", "sourcePortRange": "*",
                            "destinationPortRange": "[string(add(8080, copyIndex('securityRules')))]",
                            "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"}}}]}},
    ],
    "outputs": {
        "diskIds": {"type": "array", "copy": {"count": "[parameters('count')]", "input":
                    "[resourceId('Microsoft.Compute/disks', format('{0}{1}', variables('diskPrefix'), copyIndex(1)))]"}},
        "ruleCount": {"type": "int", "value": "[length(reference(concat(parameters('prefix'), '-nsg')).securityRules)]"},
        "suffix": {"type": "string", "value": "[uniqueString(resourceGroup().id)]"},
    },
}


def _deployments(session, rg):
    return [d for d in session.resources.resources.list_by_resource_group(rg)
            if d.type.lower() == "microsoft.resources/deployments"]


def test_az_vm_create_from_a_gallery_version_with_trusted_launch_in_a_zone(az, session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    rg = "rg-refresh"
    version = session.compute.gallery_image_versions.get(rg, "galRefresh", "ubuntu-refresh", "2026.11.0").id
    out = az("vm", "create", "-g", rg, "-n", "vm-tl", "--image", version, "--security-type", "TrustedLaunch",
             "--zone", "1", "--admin-username", "azureuser", "--generate-ssh-keys")
    assert (out["powerState"], out["zones"], out["location"]) == ("VM running", "1", "eastus")
    vm = session.compute.virtual_machines.get(rg, "vm-tl")
    assert (vm.provisioning_state, vm.hardware_profile.vm_size, vm.zones) == ("Succeeded", "Standard_D2s_v5", ["1"])
    sp = vm.security_profile
    assert (sp.security_type, sp.uefi_settings.secure_boot_enabled, sp.uefi_settings.v_tpm_enabled) == (
        "TrustedLaunch", True, True)
    assert vm.storage_profile.image_reference.id == version
    osd = session.compute.disks.get(rg, vm.storage_profile.os_disk.name)
    assert (osd.security_profile.security_type, osd.hyper_v_generation, osd.zones, osd.managed_by) == (
        "TrustedLaunch", "V2", ["1"], vm.id)
    nic = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces/vm-tlVMNic"
    assert [n.id for n in vm.network_profile.network_interfaces] == [nic]
    # What the template deployed around the VM, and the deployment itself.
    net = {(r.type, r.name) for r in session.resources.resources.list_by_resource_group(rg)
           if r.type.startswith("Microsoft.Network/") and r.name.startswith("vm-tl")}
    assert net == {("Microsoft.Network/networkInterfaces", "vm-tlVMNic"),
                   ("Microsoft.Network/publicIPAddresses", "vm-tlPublicIP"),
                   ("Microsoft.Network/networkSecurityGroups", "vm-tlNSG")}
    # The group has a virtual network already: az puts the NIC on its subnet rather than deploying one.
    ipc = session.resources.resources.get_by_id(nic, api_version="2023-04-01").properties["ipConfigurations"][0]
    assert ipc["properties"]["subnet"]["id"].startswith(
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-refresh/subnets/")
    shown = az("deployment", "group", "list", "-g", rg)
    assert [(d["name"].startswith("vm_deploy_"), d["properties"]["provisioningState"]) for d in shown] == [
        (True, "Succeeded")]


def test_az_vm_create_on_an_existing_nic(az, session, sub):
    rg = "rg-nics"
    az("group", "create", "-n", rg, "-l", "eastus")
    az("network", "vnet", "create", "-g", rg, "-n", "vnet1", "--subnet-name", "s1")
    nic = az("network", "nic", "create", "-g", rg, "-n", "nic1", "--vnet-name", "vnet1", "--subnet", "s1")
    nic_id = nic["NewNIC"]["id"]
    out = az("vm", "create", "-g", rg, "-n", "vm-nic", "--image", "Ubuntu2204", "--nics", "nic1",
             "--admin-username", "azureuser", "--generate-ssh-keys")
    assert out["powerState"] == "VM running"
    vm = session.compute.virtual_machines.get(rg, "vm-nic")
    assert [n.id for n in vm.network_profile.network_interfaces] == [nic_id]
    ref = vm.storage_profile.image_reference
    assert (ref.publisher, ref.offer, ref.sku, ref.version) == ("Canonical", "0001-com-ubuntu-server-jammy",
                                                                "22_04-lts-gen2", "latest")
    # az 2.91 reads the image's SecurityType feature as an object and the aaz client hands it a dict
    # (vm/_validators.py trusted_launch_set_default): it sends no security type, and the VM is Standard.
    assert vm.security_profile is None
    # The NIC given is the VM's only network: no network of its own was deployed.
    assert sorted((r.type, r.name) for r in session.resources.resources.list_by_resource_group(rg)
                  if r.type.startswith("Microsoft.Network/")) == [
        ("Microsoft.Network/networkInterfaces", "nic1"), ("Microsoft.Network/virtualNetworks", "vnet1")]


def test_az_vmss_create_with_seed_001s_flags(az, session):
    rg = "rg-vmss-prod"
    az("group", "create", "--name", rg, "--location", "eastus")
    az("vmss", "create", "--resource-group", rg, "--name", "vmss-app", "--orchestration-mode", "flexible",
       "--zones", "1", "2", "3", "--platform-fault-domain-count", "1", "--instance-count", "3",
       "--vm-sku", "Standard_D2as_v5", "--image", "Ubuntu2204", "--upgrade-policy-mode", "Manual",
       "--admin-username", "azureuser", "--generate-ssh-keys", "--single-placement-group", "false")
    ss = session.compute.virtual_machine_scale_sets.get(rg, "vmss-app")
    assert (ss.provisioning_state, ss.orchestration_mode, ss.zones, ss.platform_fault_domain_count,
            ss.single_placement_group, ss.upgrade_policy.mode) == (
        "Succeeded", "Flexible", ["1", "2", "3"], 1, False, "Manual")
    assert (ss.sku.name, ss.sku.capacity) == ("Standard_D2as_v5", 3)
    ref = ss.virtual_machine_profile.storage_profile.image_reference
    assert (ref.publisher, ref.offer, ref.sku, ref.version) == ("Canonical", "0001-com-ubuntu-server-jammy",
                                                                "22_04-lts-gen2", "latest")
    assert ss.virtual_machine_profile.os_profile.admin_username == "azureuser"
    net = sorted((r.type, r.name) for r in session.resources.resources.list_by_resource_group(rg)
                 if r.type.startswith("Microsoft.Network/") and r.type.count("/") == 1
                 and r.type != "Microsoft.Network/networkInterfaces")
    # (the instances' NICs are the scale set's: tests/e2e/test_az_vmss.py)
    nics = [r for r in session.resources.resources.list_by_resource_group(rg)
            if r.type == "Microsoft.Network/networkInterfaces"]
    assert len(nics) == 3
    assert net == [("Microsoft.Network/loadBalancers", "vmss-appLB"),
                   ("Microsoft.Network/networkSecurityGroups", "vmss-appNSG"),
                   ("Microsoft.Network/publicIPAddresses", "vmss-appLBPublicIP"),
                   ("Microsoft.Network/virtualNetworks", "vmss-appVNET")]


def test_az_deployment_group_create_with_parameters_copy_loops_and_outputs(az, session, sub, tmp_path):
    rg = "rg-tpl"
    az("group", "create", "-n", rg, "-l", "westus2")
    template = tmp_path / "main.json"
    template.write_text(json.dumps(TEMPLATE, indent=2))
    out = az("deployment", "group", "create", "-g", rg, "-n", "dep1", "--template-file", str(template),
             "--parameters", "sku=Premium_LRS", "count=3")
    rg_id = f"/subscriptions/{sub}/resourceGroups/{rg}"
    disks = [f"{rg_id}/providers/Microsoft.Compute/disks/app-data-{i}" for i in (1, 2, 3)]
    assert out["properties"]["provisioningState"] == "Succeeded"
    assert out["properties"]["outputs"] == {"diskIds": {"type": "Array", "value": disks},
                                            "ruleCount": {"type": "Int", "value": 2},
                                            "suffix": {"type": "String", "value": unique_string(rg_id)}}
    assert out["properties"]["parameters"] == {"count": {"type": "Int", "value": 3},
                                               "prefix": {"type": "String", "value": "app"},
                                               "sku": {"type": "String", "value": "Premium_LRS"}}
    got = [session.compute.disks.get(rg, f"app-data-{i}") for i in (1, 2, 3)]
    assert [(d.sku.name, d.disk_size_gb, d.tags, d.location, d.provisioning_state) for d in got] == [
        ("Premium_LRS", 8, {"index": str(i)}, "westus2", "Succeeded") for i in range(3)]
    nsg = az("network", "nsg", "show", "-g", rg, "-n", "app-nsg")
    assert [(r["name"], r["priority"], r["destinationPortRange"]) for r in nsg["securityRules"]] == [
        ("rule0", 100, "8080"), ("rule1", 101, "8081")]
    ops = az("deployment", "operation", "group", "list", "-g", rg, "-n", "dep1")
    assert sorted(o["properties"]["targetResource"]["resourceName"] for o in ops) == [
        "app-data-1", "app-data-2", "app-data-3", "app-nsg"]
    assert [d.name for d in _deployments(session, rg)] == []  # a deployment is not a resource of the group
