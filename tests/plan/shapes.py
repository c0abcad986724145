"""Resources the goal-completion tests start from, created through the SDK against the emulator: a VM on a
managed image, and scale sets on platform images (Uniform or Flexible, Gen1 or Gen2, with data disks)."""

from __future__ import annotations

from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

RG = "rg-shapes"
JAMMY = "0001-com-ubuntu-server-jammy"
HEALTH = cm.VirtualMachineScaleSetExtension(name="HealthExtension", properties=cm.VirtualMachineScaleSetExtensionProperties(
    publisher="Microsoft.ManagedServices", type="ApplicationHealthLinux", type_handler_version="2.0",
    settings={"protocol": "http", "port": 80, "requestPath": "/health"}))


def rid(sub: str, kind: str, name: str, namespace: str = "Microsoft.Compute") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{namespace}/{kind}/{name}"


def network(session, sub: str) -> str:
    """The resource group and a virtual network; the id of its subnet."""
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    vnet = rid(sub, "virtualNetworks", "vnet", "Microsoft.Network")
    session.resources.resources.begin_create_or_update_by_id(vnet, GenericResource(location="eastus", properties={
        "addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.20.0.0/20"}}]}),
        api_version="2024-05-01").result()
    return f"{vnet}/subnets/default"


def nic(session, sub: str, subnet: str, name: str) -> str:
    nic_id = rid(sub, "networkInterfaces", name, "Microsoft.Network")
    session.resources.resources.begin_create_or_update_by_id(nic_id, GenericResource(location="eastus", properties={
        "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": subnet},
                                                                  "privateIPAllocationMethod": "Dynamic"}}]}),
        api_version="2024-05-01").result()
    return nic_id


def managed_image(session, sub: str, name: str = "img-legacy") -> str:
    """A Gen2 Linux managed image captured from a Standard disk (no guest state: rule S8 allows it)."""
    c = session.compute
    disk = c.disks.begin_create_or_update(RG, f"{name}-src", cm.Disk(
        location="eastus", os_type="Linux", hyper_v_generation="V2", disk_size_gb=30,
        creation_data=cm.CreationData(create_option="Empty"))).result()
    return c.images.begin_create_or_update(RG, name, cm.Image(
        location="eastus", hyper_v_generation="V2", storage_profile=cm.ImageStorageProfile(os_disk=cm.ImageOSDisk(
            os_type="Linux", os_state="Generalized", managed_disk=cm.SubResource(id=disk.id))))).result().id


def vm_on_managed_image(session, sub: str, name: str = "vm-legacy") -> str:
    subnet = network(session, sub)
    image = managed_image(session, sub)
    session.compute.virtual_machines.begin_create_or_update(RG, name, cm.VirtualMachine(
        location="eastus", hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(image_reference=cm.ImageReference(id=image),
                                          os_disk=cm.OSDisk(create_option="FromImage", name=f"{name}-os")),
        os_profile=cm.OSProfile(computer_name=name, admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(
            id=nic(session, sub, subnet, f"{name}-nic"))]))).result()
    return rid(sub, "virtualMachines", name)


def scale_set(session, sub: str, name: str, orchestration: str = "Uniform", sku: str = "22_04-lts-gen2",
              upgrade_mode: str | None = "Manual", data_disks: bool = False, max_surge: bool = False,
              health: bool = True, trusted_launch: bool = False) -> str:
    """A Standard scale set of 2 instances on a platform image, with the Application Health extension (a health
    source: rule H1) unless `health` is false."""
    subnet = network(session, sub)
    policy = None
    if upgrade_mode:
        policy = cm.UpgradePolicy(mode=upgrade_mode, rolling_upgrade_policy=cm.RollingUpgradePolicy(
            max_surge=True) if max_surge else None)
    session.compute.virtual_machine_scale_sets.begin_create_or_update(RG, name, cm.VirtualMachineScaleSet(
        location="eastus", sku=cm.Sku(name="Standard_D2s_v5", tier="Standard", capacity=2),
        orchestration_mode=orchestration, upgrade_policy=policy,
        platform_fault_domain_count=1 if orchestration == "Flexible" else None,
        virtual_machine_profile=cm.VirtualMachineScaleSetVMProfile(
            security_profile=cm.SecurityProfile(security_type="TrustedLaunch", uefi_settings=cm.UefiSettings(
                secure_boot_enabled=True, v_tpm_enabled=True)) if trusted_launch else None,
            storage_profile=cm.VirtualMachineScaleSetStorageProfile(
                image_reference=cm.ImageReference(publisher="Canonical", offer=JAMMY, sku=sku, version="latest"),
                os_disk=cm.VirtualMachineScaleSetOSDisk(create_option="FromImage"),
                data_disks=[cm.VirtualMachineScaleSetDataDisk(lun=0, create_option="Empty", disk_size_gb=64)]
                if data_disks else None),
            os_profile=cm.VirtualMachineScaleSetOSProfile(
                computer_name_prefix=name, admin_username="azureuser",
                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
            network_profile=cm.VirtualMachineScaleSetNetworkProfile(
                network_api_version="2020-11-01" if orchestration == "Flexible" else None,
                network_interface_configurations=[cm.VirtualMachineScaleSetNetworkConfiguration(
                    name="nic", primary=True, ip_configurations=[cm.VirtualMachineScaleSetIPConfiguration(
                        name="ipc", subnet=cm.ApiEntityReference(id=subnet))])]),
            extension_profile=cm.VirtualMachineScaleSetExtensionProfile(extensions=[HEALTH] if health else [])))).result()
    return rid(sub, "virtualMachineScaleSets", name)
