"""Confidential VM images from a VHD, through the unchanged official SDK against the emulator (issue 17 scope 2;
seed 002 "Building reusable custom images for Azure Confidential VMs"): the builder CVM's OS disk exported as a VHD
into a storage account, published into a TrustedLaunchAndConfidentialVmSupported definition, and CVMs created from
that version with a platform key and with a customer key; every wrong source and a wrong size refused with Azure's
code."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

RG = "rg-cvm"
LOC = "northeurope"
CVM_SIZE = "Standard_DC2as_v5"
ACCOUNT = "stcvmgiprsbx01"
VHD = f"https://{ACCOUNT}.blob.core.windows.net/images/cvmwingiprsbx01-OsDisk-VHD.vhd"


def _nic(session, sub, name):
    nic_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/{name}"
    session.resources.resources.begin_create_or_update_by_id(
        nic_id, GenericResource(location=LOC, properties={"ipConfigurations": []}), api_version="2024-05-01").result()
    return nic_id


def _cvm(session, sub, name, image_reference, size=CVM_SIZE, des_id=None):
    disk_security = cm.VMDiskSecurityProfile(
        security_encryption_type="DiskWithVMGuestState",
        disk_encryption_set=cm.DiskEncryptionSetParameters(id=des_id) if des_id else None)
    return session.compute.virtual_machines.begin_create_or_update(RG, name, cm.VirtualMachine(
        location=LOC, hardware_profile=cm.HardwareProfile(vm_size=size),
        security_profile=cm.SecurityProfile(security_type="ConfidentialVM", uefi_settings=cm.UefiSettings(
            secure_boot_enabled=True, v_tpm_enabled=True)),
        storage_profile=cm.StorageProfile(image_reference=image_reference, os_disk=cm.OSDisk(
            create_option="FromImage", name=f"{name}-os", managed_disk=cm.ManagedDiskParameters(
                storage_account_type="Premium_LRS", security_profile=disk_security))),
        os_profile=cm.OSProfile(computer_name=name, admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=_nic(session, sub,
                                                                                                    f"{name}-nic"))])))


def _refused(call) -> tuple[int, str, str]:
    with pytest.raises(HttpResponseError) as e:
        call().result()
    return e.value.status_code, e.value.error.code, e.value.error.message


def test_cvm_image_from_a_vhd_and_cvms_with_platform_and_customer_keys(session, sub):
    compute, res = session.compute, session.resources
    res.resource_groups.create_or_update(RG, ResourceGroup(location=LOC))

    # Step 1 of the field report: the builder confidential VM, on a confidential marketplace image.
    builder = _cvm(session, sub, "cvmwingiprsbx01", cm.ImageReference(
        publisher="Canonical", offer="0001-com-ubuntu-confidential-vm-jammy", sku="22_04-lts-cvm",
        version="latest")).result()
    assert builder.security_profile.security_type == "ConfidentialVM"
    assert compute.disks.get(RG, "cvmwingiprsbx01-os").security_profile.security_type == \
        "ConfidentialVM_DiskEncryptedWithPlatformKey"

    # Step 4: the OS disk's VHD lives in a storage account (the copy itself is data plane).
    account_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    res.resources.begin_create_or_update_by_id(account_id, GenericResource(
        location=LOC, sku={"name": "Standard_LRS"}, kind="StorageV2"), api_version="2023-05-01").result()

    # Step 5: gallery and a TrustedLaunchAndConfidentialVmSupported definition (as the report creates it).
    compute.galleries.begin_create_or_update(RG, "cvmImageGallery", cm.Gallery(location=LOC)).result()
    compute.gallery_images.begin_create_or_update(RG, "cvmImageGallery", "img-cvm", cm.GalleryImage(
        location=LOC, os_type="Linux", os_state="Generalized", hyper_v_generation="V2",
        identifier=cm.GalleryImageIdentifier(publisher="prImages", offer="UbuntuCVM", sku="22_04-cvm"),
        features=[cm.GalleryImageFeature(name="SecurityType", value="TrustedLaunchAndConfidentialVmSupported")])).result()

    def publish(name, source=None, os_disk_source=None, gallery_image="img-cvm"):
        return lambda: compute.gallery_image_versions.begin_create_or_update(
            RG, "cvmImageGallery", gallery_image, name, cm.GalleryImageVersion(
                location=LOC,
                publishing_profile=cm.GalleryImageVersionPublishingProfile(target_regions=[
                    cm.TargetRegion(name=LOC), cm.TargetRegion(name="westeurope")]),
                storage_profile=cm.GalleryImageVersionStorageProfile(
                    source=source, os_disk_image=cm.GalleryOSDiskImage(source=os_disk_source) if os_disk_source
                    else None)))

    # Wrong sources. The builder VM itself (S9):
    assert _refused(publish("0.9.0", source=cm.GalleryArtifactVersionFullSource(id=builder.id))) == (
        400, "InvalidParameter", f"The security type 'TrustedLaunchAndConfidentialVmSupported' is not supported for "
        f"the source id '{builder.id}'. Currently only Vhd Blob, User Image and Gallery Image Version sources are "
        "supported for 'TrustedLaunchAndConfidentialVmSupported' images.")
    # A managed image of it cannot exist (S8), so that bridge is closed too:
    assert _refused(lambda: compute.images.begin_create_or_update(RG, "cvm-img", cm.Image(
        location=LOC, source_virtual_machine=cm.SubResource(id=builder.id)))) == (
        409, "OperationNotAllowed", "Creation of managed images are not supported for virtual machine with "
        "ConfidentialVM security type.")
    # A VHD without the account that holds it (CVM6):
    assert _refused(publish("0.9.1", os_disk_source=cm.GalleryDiskImageSource(uri=VHD)))[:2] == (
        400, "InvalidParameter")
    # A ConfidentialVM definition takes no VHD and no managed image (S10):
    compute.gallery_images.begin_create_or_update(RG, "cvmImageGallery", "img-cvm-only", cm.GalleryImage(
        location=LOC, os_type="Linux", os_state="Specialized", hyper_v_generation="V2",
        identifier=cm.GalleryImageIdentifier(publisher="prImages", offer="UbuntuCVM", sku="22_04-cvm-only"),
        features=[cm.GalleryImageFeature(name="SecurityType", value="ConfidentialVM")])).result()
    assert _refused(publish("0.9.2", os_disk_source=cm.GalleryDiskImageSource(uri=VHD, storage_account_id=account_id),
                            gallery_image="img-cvm-only")) == (
        400, "InvalidParameter", f"Confidential VM is not supported for the source id '{VHD}'. Currently Snapshot, "
        "Disk and VM sources are supported for the Confidential VM security type.")

    # The VHD with its storage account: published, replicated to both regions.
    version = publish("1.0.0", os_disk_source=cm.GalleryDiskImageSource(uri=VHD, storage_account_id=account_id))().result()
    assert version.provisioning_state == "Succeeded"
    got = compute.gallery_image_versions.get(RG, "cvmImageGallery", "img-cvm", "1.0.0", expand="ReplicationStatus")
    assert (got.storage_profile.os_disk_image.source.uri, got.storage_profile.os_disk_image.source.storage_account_id) \
        == (VHD, account_id)
    assert [(s.region, s.state) for s in got.replication_status.summary] == [
        ("North Europe", "Completed"), ("West Europe", "Completed")]
    image = cm.ImageReference(id=version.id)

    # A wrong size (S12): not a confidential size.
    assert _refused(lambda: _cvm(session, sub, "cvm-d2s", image, size="Standard_D2s_v5")) == (
        400, "BadRequest", "The VM size 'Standard_D2s_v5' is not supported for creation of VMs and Virtual Machine "
        "Scale Set with 'ConfidentialVM' security type and managedDisk.securityProfile.securityEncryptionType set as "
        "'DiskWithVMGuestState'")

    # Step 6, PMK: no disk encryption set.
    pmk = _cvm(session, sub, "cvmwingiprsbx02", image).result()
    assert pmk.provisioning_state == "Succeeded"
    assert pmk.security_profile.security_type == "ConfidentialVM"
    assert pmk.storage_profile.os_disk.managed_disk.security_profile.security_encryption_type == "DiskWithVMGuestState"
    assert pmk.storage_profile.os_disk.managed_disk.security_profile.disk_encryption_set is None
    disk = compute.disks.get(RG, "cvmwingiprsbx02-os")
    assert (disk.security_profile.security_type, disk.security_profile.secure_vm_disk_encryption_set_id) == (
        "ConfidentialVM_DiskEncryptedWithPlatformKey", None)
    assert disk.creation_data.gallery_image_reference.id.lower() == version.id.lower()

    # Step 6, CMK: the same image, a ConfidentialVmEncryptedWithCustomerKey disk encryption set.
    vault = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-cvm"
    at_rest = compute.disk_encryption_sets.begin_create_or_update(RG, "des-sse", cm.DiskEncryptionSet(
        location=LOC, identity=cm.EncryptionSetIdentity(type="SystemAssigned"),
        encryption_type="EncryptionAtRestWithCustomerKey", active_key=cm.KeyForDiskEncryptionSet(
            key_url="https://kv-cvm.vault.azure.net/keys/sse/1", source_vault=cm.SourceVault(id=vault)))).result()
    assert _refused(lambda: _cvm(session, sub, "cvm-sse", image, des_id=at_rest.id)) == (
        400, "BadRequest", "The disk encryption set 'des-sse' has encryption type 'EncryptionAtRestWithCustomerKey'. A "
        "Confidential VM's OS disk needs a disk encryption set of encryption type "
        "'ConfidentialVmEncryptedWithCustomerKey'.")
    des = compute.disk_encryption_sets.begin_create_or_update(RG, "des-cvm", cm.DiskEncryptionSet(
        location=LOC, identity=cm.EncryptionSetIdentity(type="SystemAssigned"),
        encryption_type="ConfidentialVmEncryptedWithCustomerKey", active_key=cm.KeyForDiskEncryptionSet(
            key_url="https://kv-cvm.vault.azure.net/keys/cvmKey/1", source_vault=cm.SourceVault(id=vault)))).result()
    assert des.provisioning_state == "Succeeded" and des.identity.principal_id
    assert compute.disk_encryption_sets.get(RG, "des-cvm").encryption_type == "ConfidentialVmEncryptedWithCustomerKey"
    cmk = _cvm(session, sub, "cvmwingiprsbx03", image, des_id=des.id).result()
    assert cmk.provisioning_state == "Succeeded"
    assert cmk.storage_profile.os_disk.managed_disk.security_profile.disk_encryption_set.id.lower() == des.id.lower()
    disk = compute.disks.get(RG, "cvmwingiprsbx03-os")
    assert disk.security_profile.security_type == "ConfidentialVM_DiskEncryptedWithCustomerKey"
    assert disk.security_profile.secure_vm_disk_encryption_set_id.lower() == des.id.lower()
    assert compute.virtual_machines.get(RG, "cvmwingiprsbx03").security_profile.security_type == "ConfidentialVM"


def _gallery_with_account(session, sub, security_type="ConfidentialVmSupported"):
    compute, res = session.compute, session.resources
    res.resource_groups.create_or_update(RG, ResourceGroup(location=LOC))
    account_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    res.resources.begin_create_or_update_by_id(account_id, GenericResource(
        location=LOC, sku={"name": "Standard_LRS"}, kind="StorageV2"), api_version="2023-05-01").result()
    compute.galleries.begin_create_or_update(RG, "cvmImageGallery", cm.Gallery(location=LOC)).result()
    definition = compute.gallery_images.begin_create_or_update(RG, "cvmImageGallery", "img-cvm", cm.GalleryImage(
        location=LOC, os_type="Linux", os_state="Generalized", hyper_v_generation="V2",
        identifier=cm.GalleryImageIdentifier(publisher="prImages", offer="UbuntuCVM", sku="22_04-cvm"),
        features=[cm.GalleryImageFeature(name="SecurityType", value=security_type)])).result()
    return definition.id, account_id



def _vhd_version(compute, account_id: str):
    """img-cvm/1.0.0 published from the VHD in the builder's storage account, in LOC only."""
    return compute.gallery_image_versions.begin_create_or_update(RG, "cvmImageGallery", "img-cvm", "1.0.0",
                                                                 cm.GalleryImageVersion(
        location=LOC, publishing_profile=cm.GalleryImageVersionPublishingProfile(target_regions=[cm.TargetRegion(
            name=LOC)]), storage_profile=cm.GalleryImageVersionStorageProfile(os_disk_image=cm.GalleryOSDiskImage(
                source=cm.GalleryDiskImageSource(uri=VHD, storage_account_id=account_id))))).result()

def test_release_publish_from_a_vhd_into_a_confidential_definition(session, server, sub, capsys, monkeypatch):
    from clitools import run_cli

    definition, account_id = _gallery_with_account(session, sub)
    code, out, err = run_cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition,
                             "--version", "1.0.0", "--source", VHD, "--storage-account", account_id,
                             "--regions", f"{LOC},westeurope", "--yes", "-o", "json")
    assert code == 0, err
    assert json.loads(out) == {"dry_run": False, "version": f"{definition}/versions/1.0.0",
                               "regions": {"northeurope": "Completed", "westeurope": "Completed"}}
    got = session.compute.gallery_image_versions.get(RG, "cvmImageGallery", "img-cvm", "1.0.0")
    assert (got.storage_profile.os_disk_image.source.uri, got.storage_profile.os_disk_image.source.storage_account_id,
            [t.name for t in got.publishing_profile.target_regions]) == (VHD, account_id, ["North Europe", "West Europe"])
    # A confidential VM created from it: a confidential size and OS disk encryption (the CVM4/CVM1 path).
    vm = _cvm(session, sub, "cvm-from-release", cm.ImageReference(id=got.id)).result()
    assert session.compute.disks.get(RG, "cvm-from-release-os").security_profile.security_type == \
        "ConfidentialVM_DiskEncryptedWithPlatformKey"
    assert vm.storage_profile.image_reference.exact_version == "1.0.0"


@pytest.mark.parametrize(("args", "message"), [
    (["--source", VHD], f"error: {VHD} is a VHD: give --storage-account with the id of the storage account that holds "
     "it (/subscriptions/.../providers/Microsoft.Storage/storageAccounts/NAME)"),
    (["--source", VHD, "--storage-account", "{account}x"],
     "error: no storage account {account}x: check the id (`refit inventory` lists what there is)"),
    (["--source", VHD.replace(ACCOUNT, "other"), "--storage-account", "{account}"],
     "error: Azure would refuse it: (InvalidParameter) The VHD uri "
     f"'{VHD.replace(ACCOUNT, 'other')}' is not a blob of the storage account '{ACCOUNT}' "
     f"(https://{ACCOUNT}.blob.core.windows.net/...). (rule CVM6: A VHD source names the storage account that holds "
     "the blob)"),
])
def test_release_publish_vhd_bad_input_is_one_line_exit_2(session, server, sub, capsys, monkeypatch, args, message):
    from clitools import run_cli

    definition, account_id = _gallery_with_account(session, sub)
    code, out, err = run_cli(capsys, monkeypatch, server, "release", "publish", "--definition", definition,
                             "--version", "1.0.0", *[a.format(account=account_id) for a in args], "--yes")
    assert (code, out, err.strip()) == (2, "", message.format(account=account_id))
    assert list(session.compute.gallery_image_versions.list_by_gallery_image(RG, "cvmImageGallery", "img-cvm")) == []


def test_the_planners_recreate_path_makes_a_cvm_from_the_vhd_version(session, server, sub):
    """A Standard VM cannot become confidential in place (U8): the planner's recreate path deletes it (NIC and data
    disk kept) and creates it again as a CVM on the VHD-sourced version, with the goal's customer key."""
    from refit.azure.fleet import load_world
    from refit.plan.goal import parse
    from refit.plan.model import Plan
    from refit.plan.planner import make_plan
    from refit.run import apply as runner

    _, account_id = _gallery_with_account(session, sub, "TrustedLaunchAndConfidentialVmSupported")
    compute = session.compute
    version = _vhd_version(compute, account_id)
    vault = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-cvm"
    des = compute.disk_encryption_sets.begin_create_or_update(RG, "des-cvm", cm.DiskEncryptionSet(
        location=LOC, identity=cm.EncryptionSetIdentity(type="SystemAssigned"),
        encryption_type="ConfidentialVmEncryptedWithCustomerKey", active_key=cm.KeyForDiskEncryptionSet(
            key_url="https://kv-cvm.vault.azure.net/keys/cvmKey/1", source_vault=cm.SourceVault(id=vault)))).result()
    data = compute.disks.begin_create_or_update(RG, "app-data", cm.Disk(
        location=LOC, sku=cm.DiskSku(name="Premium_LRS"), disk_size_gb=64,
        creation_data=cm.CreationData(create_option="Empty"))).result()
    nic = _nic(session, sub, "app-nic")
    compute.virtual_machines.begin_create_or_update(RG, "app", cm.VirtualMachine(
        location=LOC, hardware_profile=cm.HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=cm.StorageProfile(image_reference=cm.ImageReference(id=version.id),
                                          os_disk=cm.OSDisk(create_option="FromImage", name="app-os"),
                                          data_disks=[cm.DataDisk(lun=0, create_option="Attach",
                                                                  managed_disk=cm.ManagedDiskParameters(id=data.id))]),
        os_profile=cm.OSProfile(computer_name="app", admin_username="azureuser",
                                linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
        network_profile=cm.NetworkProfile(network_interfaces=[cm.NetworkInterfaceReference(id=nic)]))).result()
    vm_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/app"

    plan = make_plan(load_world(session), parse({"goals": [{"resource": vm_id, "properties": {
        "properties.securityProfile.securityType": "ConfidentialVM",
        "properties.hardwareProfile.vmSize": CVM_SIZE,
        "properties.storageProfile.osDisk.managedDisk.securityProfile": {
            "securityEncryptionType": "DiskWithVMGuestState", "diskEncryptionSet": {"id": des.id}}}}]}))
    (imp,) = plan.impossible
    assert "U8" in [b.rule for b in imp.blocked_by]
    assert (imp.recreate_error, [s.op for s in imp.recreate]) == (
        "", ["deallocate", "recreate_delete", "recreate_create"])
    body = imp.recreate[-1].request["body"]["properties"]
    assert body["storageProfile"]["osDisk"]["managedDisk"]["securityProfile"] == {
        "securityEncryptionType": "DiskWithVMGuestState", "diskEncryptionSet": {"id": des.id}}
    assert body["storageProfile"]["imageReference"]["id"].lower() == version.id.lower()

    out = runner.run(session, Plan(goals=plan.goals, steps=imp.recreate))
    assert out.ok, out.error
    vm = compute.virtual_machines.get(RG, "app")
    assert (vm.security_profile.security_type, vm.hardware_profile.vm_size) == ("ConfidentialVM", CVM_SIZE)
    assert vm.network_profile.network_interfaces[0].id.lower() == nic.lower()
    assert [d.managed_disk.id.lower() for d in vm.storage_profile.data_disks] == [data.id.lower()]
    disk = compute.disks.get(RG, "app-os-recreated")
    assert (disk.security_profile.security_type, disk.security_profile.secure_vm_disk_encryption_set_id.lower(),
            disk.creation_data.gallery_image_reference.id.lower()) == (
        "ConfidentialVM_DiskEncryptedWithCustomerKey", des.id.lower(), version.id.lower())


def test_a_confidential_scale_set_on_the_vhd_version(session, sub):
    """A scale set's confidential instances get the OS disk type their model's securityEncryptionType says."""
    _, account_id = _gallery_with_account(session, sub)
    compute = session.compute
    version = _vhd_version(compute, account_id)
    subnet = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/s"
    session.resources.resources.begin_create_or_update_by_id(
        subnet.rsplit("/subnets/", 1)[0], GenericResource(location=LOC, properties={
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.0.0/24"}}]}),
        api_version="2024-05-01").result()

    def scale_set(name, encryption):
        return compute.virtual_machine_scale_sets.begin_create_or_update(RG, name, cm.VirtualMachineScaleSet(
            location=LOC, sku=cm.Sku(name=CVM_SIZE, capacity=1), upgrade_policy=cm.UpgradePolicy(mode="Manual"),
            virtual_machine_profile=cm.VirtualMachineScaleSetVMProfile(
                security_profile=cm.SecurityProfile(security_type="ConfidentialVM", uefi_settings=cm.UefiSettings(
                    secure_boot_enabled=True, v_tpm_enabled=True)),
                storage_profile=cm.VirtualMachineScaleSetStorageProfile(
                    image_reference=cm.ImageReference(id=version.id),
                    os_disk=cm.VirtualMachineScaleSetOSDisk(
                        create_option="FromImage", managed_disk=cm.VirtualMachineScaleSetManagedDiskParameters(
                            storage_account_type="Premium_LRS", security_profile=cm.VMDiskSecurityProfile(
                                security_encryption_type=encryption) if encryption else None))),
                os_profile=cm.VirtualMachineScaleSetOSProfile(
                    computer_name_prefix=name, admin_username="azureuser",
                    linux_configuration=cm.LinuxConfiguration(disable_password_authentication=True)),
                network_profile=cm.VirtualMachineScaleSetNetworkProfile(network_interface_configurations=[
                    cm.VirtualMachineScaleSetNetworkConfiguration(name="nic", primary=True, ip_configurations=[
                        cm.VirtualMachineScaleSetIPConfiguration(name="ip", subnet=cm.ApiEntityReference(
                            id=subnet))])]))))

    assert _refused(lambda: scale_set("cvmss-none", None)) == (
        400, "BadRequest", "Required parameter for Confidential VMs 'managedDisk.securityProfile.securityEncryptionType' "
        "is missing (null).")
    scale_set("cvmss", "VMGuestStateOnly").result()
    (inst,) = list(compute.virtual_machine_scale_set_vms.list(RG, "cvmss"))
    disk = compute.disks.get(RG, inst.storage_profile.os_disk.managed_disk.id.rsplit("/", 1)[-1])
    assert disk.security_profile.security_type == "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey"
