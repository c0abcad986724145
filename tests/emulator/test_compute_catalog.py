"""What Compute offers, read with the official SDK over HTTPS: resource SKUs, platform images, VM sizes, usage;
and the refusals the SKU table drives (an unknown size, an architecture mismatch, Trusted Launch on a size that
disables it), with Azure's status, code and message."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import models as cm

from conftest import put_rg
from refit.platform import skus

RG = "rg-skus"
JAMMY = ("Canonical", "0001-com-ubuntu-server-jammy")


def _caps(sku) -> dict[str, str]:
    return {c.name: c.value for c in sku.capabilities}


def test_resource_skus_carry_the_capabilities_az_reads(session):
    listed = {s.name: s for s in session.compute.resource_skus.list()}
    assert len(listed) == len(skus.all_sizes())
    cobalt = listed["Standard_D2ps_v6"]
    assert (cobalt.resource_type, cobalt.tier, cobalt.size, cobalt.family) == (
        "virtualMachines", "Standard", "D2ps_v6", "standardDPSv6Family")
    assert {k: _caps(cobalt)[k] for k in ("vCPUs", "MemoryGB", "HyperVGenerations", "CpuArchitectureType")} == {
        "vCPUs": "2", "MemoryGB": "8", "HyperVGenerations": "V2", "CpuArchitectureType": "Arm64"}
    assert "TrustedLaunchDisabled" not in _caps(cobalt)
    assert _caps(listed["Standard_NC12s_v3"])["TrustedLaunchDisabled"] == "True"  # the Trusted Launch FAQ's example
    assert _caps(listed["Standard_A2_v2"])["HyperVGenerations"] == "V1"
    assert _caps(listed["Standard_D2as_v5"])["HyperVGenerations"] == "V1,V2"
    assert _caps(listed["Standard_DC2as_v5"])["ConfidentialComputingType"] == "SNP"
    zones = {i.location: i.zones for i in listed["Standard_D2as_v5"].location_info}
    assert (zones["eastus"], zones["westus"]) == (["1", "2", "3"], [])
    only = list(session.compute.resource_skus.list(filter="location eq 'westus2'"))
    assert {tuple(s.locations) for s in only} == {("westus2",)}


def test_platform_images_are_listed_and_shown_as_az_reads_them(session):
    images = session.compute.virtual_machine_images
    assert "Canonical" in [p.name for p in images.list_publishers("eastus")]
    assert [o.name for o in images.list_offers("eastus", "Canonical")] == [
        "0001-com-ubuntu-confidential-vm-jammy", "0001-com-ubuntu-server-jammy", "ubuntu-24_04-lts"]
    assert [s.name for s in images.list_skus("eastus", *JAMMY)] == ["22_04-lts", "22_04-lts-gen2", "22_04-lts-arm64"]
    # az asks for the latest like this (vm/_validators.py _get_latest_image_version_by_aaz).
    latest = images.list("eastus", *JAMMY, "22_04-lts-gen2", top=1, orderby="name desc")
    assert [v.name for v in latest] == ["22.04.202611180"]
    shown = images.get("eastus", *JAMMY, "22_04-lts-gen2", "22.04.202611180")
    assert (shown.hyper_v_generation, shown.architecture, shown.os_disk_image.operating_system) == ("V2", "x64", "Linux")
    assert {f.name: f.value for f in shown.features}["SecurityType"] == "TrustedLaunchSupported"
    assert shown.id == ("/Subscriptions/00000000-0000-4000-8000-000000000001/Providers/Microsoft.Compute/Locations/eastus/"
                        "Publishers/Canonical/ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/"
                        "22_04-lts-gen2/Versions/22.04.202611180")
    arm = images.get("eastus", "Canonical", "ubuntu-24_04-lts", "server-arm64", "24.04.202611190")
    assert (arm.hyper_v_generation, arm.architecture) == ("V2", "Arm64")
    with pytest.raises(ResourceNotFoundError) as e:
        images.get("eastus", *JAMMY, "22_04-lts-gen2", "1.2.3")
    assert (e.value.status_code, e.value.error.code, e.value.error.message) == (
        404, "NotFound", "Artifact: VMImage was not found.")


def _rid(sub, kind, name, ns="Microsoft.Compute"):
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{ns}/{kind}/{name}"


def _vm(sub, size, sku="22_04-lts-gen2", security=None):
    profile = None
    if security:
        profile = cm.SecurityProfile(security_type=security, uefi_settings=cm.UefiSettings(
            secure_boot_enabled=True, v_tpm_enabled=True))
    return cm.VirtualMachine(
        location="eastus", hardware_profile=cm.HardwareProfile(vm_size=size), security_profile=profile,
        storage_profile=cm.StorageProfile(
            image_reference=cm.ImageReference(publisher=JAMMY[0], offer=JAMMY[1], sku=sku, version="latest"),
            os_disk=cm.OSDisk(create_option="FromImage")),
        os_profile=cm.OSProfile(computer_name="vm", admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(
            id=_rid(sub, "networkInterfaces", "nic", "Microsoft.Network"))]))


@pytest.fixture
def group(session, raw, sub):
    put_rg(raw, sub, RG)
    r = raw.put(_rid(sub, "networkInterfaces", "nic", "Microsoft.Network"), params={"api-version": "2023-04-01"},
                json={"location": "eastus", "properties": {"ipConfigurations": []}})
    assert r.status_code == 201
    return session.compute


def _refused(compute, name, vm):
    with pytest.raises(HttpResponseError) as e:
        compute.virtual_machines.begin_create_or_update(RG, name, vm).result()
    return e.value.status_code, e.value.error.code, e.value.error.message


def test_the_sku_table_refuses_what_azure_refuses(group, sub):
    valid = ",".join(s.name for s in skus.sizes_in("eastus"))
    assert _refused(group, "v1", _vm(sub, "Banana")) == (
        400, "InvalidParameter", f"The value Banana provided for the VM size is not valid. The valid sizes in the current "
        f"region are: {valid}. Find out more on the valid VM sizes in each region at https://aka.ms/azure-regions.")
    assert _refused(group, "v2", _vm(sub, "Standard_D2s_v5", sku="22_04-lts-arm64")) == (
        400, "BadRequest", "Cannot create a VM of size 'Standard_D2s_v5' because this VM size only supports a CPU "
        "Architecture of 'x64', but an image or disk with CPU Architecture 'Arm64' was given. Please check that the CPU "
        "Architecture of the image or disk is compatible with that of the VM size.")
    assert _refused(group, "v3", _vm(sub, "Standard_D2ps_v6")) == (
        400, "BadRequest", "Cannot create a VM of size 'Standard_D2ps_v6' because this VM size only supports a CPU "
        "Architecture of 'Arm64', but an image or disk with CPU Architecture 'x64' was given. Please check that the CPU "
        "Architecture of the image or disk is compatible with that of the VM size.")
    assert _refused(group, "v4", _vm(sub, "Standard_NC12s_v3", security="TrustedLaunch")) == (
        400, "BadRequest", "The VM size 'Standard_NC12s_v3' is not supported for creation of VMs and Virtual Machine "
        "Scale Set with 'TrustedLaunch' security type. For more information, see https://aka.ms/TrustedLaunch-FAQ")
    assert [v.name for v in group.virtual_machines.list(RG)] == []
    # Azure Cobalt 100 on an Arm64 image is accepted, and its OS disk is Arm64 (supportedCapabilities).
    vm = group.virtual_machines.begin_create_or_update(RG, "cobalt", _vm(sub, "Standard_D2ps_v6",
                                                                         sku="22_04-lts-arm64")).result()
    assert (vm.provisioning_state, vm.hardware_profile.vm_size) == ("Succeeded", "Standard_D2ps_v6")
    disk = group.disks.get(RG, vm.storage_profile.os_disk.name)
    assert (disk.supported_capabilities.architecture, disk.hyper_v_generation) == ("Arm64", "V2")


def test_vm_sizes_and_usage_per_region(group, sub):
    sizes = {s.name: s for s in group.virtual_machine_sizes.list("eastus")}
    d2 = sizes["Standard_D2s_v5"]
    assert (d2.number_of_cores, d2.memory_in_mb, d2.max_data_disk_count, d2.os_disk_size_in_mb) == (2, 8192, 4, 1047552)
    group.virtual_machines.begin_create_or_update(RG, "u1", _vm(sub, "Standard_D4s_v5")).result()
    usage = {u.name.value: u for u in group.usage.list("eastus")}
    assert (usage["cores"].current_value, usage["cores"].name.localized_value) == (4, "Total Regional vCPUs")
    assert (usage["standardDSv5Family"].current_value, usage["standardDSv5Family"].name.localized_value) == (
        4, "Standard DSv5 Family vCPUs")
    assert usage["virtualMachines"].current_value == 1
    group.virtual_machines.begin_deallocate(RG, "u1").result()  # a deallocated VM holds no vCPUs
    assert {u.name.value: u.current_value for u in group.usage.list("eastus")}["cores"] == 0
    assert {u.name.value: u.current_value for u in group.usage.list("westus2")}["virtualMachines"] == 0
