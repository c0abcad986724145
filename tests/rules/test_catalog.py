"""Every rule of the catalog: a write that violates it (the exact ArmError) and one that passes.

Documents are shaped as the emulator stores them (rulekit builders). Each case asks the whole registry
(`validate_write`, with the planner-only rules) and looks at what the named rule answered, so the rule's
resource types and operations are exercised too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cvm_cases import CVM_PASSES, CVM_VIOLATIONS
from network_cases import NETWORK_PASSES, NETWORK_VIOLATIONS
from rulekit import (
    LOC,
    SUB,
    Case,
    cr,
    crg,
    definition,
    disk,
    edit,
    errors_of,
    ext,
    gallery,
    lb,
    managed_image,
    platform,
    rid,
    version,
    vm,
    vmss,
)

from refit.platform import skus
from refit.platform.regions import REGIONS
from refit.platform.rules import RULES

# ---- shared resources ------------------------------------------------------------------------------------
IMG = managed_image("img")  # seed 000's legacy managed image: Standard, Gen2
IMG_ID = IMG["id"]
TL_VM = vm("vm-deploy", sec="TrustedLaunch", os_disk=rid("disks", "vm-deploy-os"))
TL_VM_DISK = disk("vm-deploy-os", sec="TrustedLaunch", managed_by=TL_VM["id"])
GAL = gallery()
APP_TL = definition("app-tl", sec="TrustedLaunch")  # captured from the TL VM: TrustedLaunch only
APP_TL_V = version("app-tl", source=TL_VM["id"])
BRIDGE = definition("bridge", sec="TrustedLaunchSupported")
BRIDGE_V = version("bridge", source=IMG_ID)
SEED000 = [IMG, TL_VM, TL_VM_DISK, GAL, APP_TL, APP_TL_V, BRIDGE, BRIDGE_V]
AIB = {"id": rid("imageTemplates", "aib", ns="Microsoft.VirtualMachineImages"), "name": "aib",
       "type": "Microsoft.VirtualMachineImages/imageTemplates", "location": "eastus",
       "properties": {"provisioningState": "Succeeded", "buildTimeoutInMinutes": 60,
                      "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu", "sku": "22_04",
                                 "version": "latest"}}}
SS = vmss("ss", image=IMG_ID)  # Standard scale set on the managed image (Manual mode)
SS_ROLLING = vmss("ss", image=IMG_ID, mode="Rolling", properties__upgradePolicy__rollingUpgradePolicy={"maxSurge": True})

SEC = "properties__virtualMachineProfile__securityProfile"
IMGREF = "properties__virtualMachineProfile__storageProfile__imageReference"
TL_PROFILE = {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
VM_SEC = "properties__securityProfile"

STD_DISK = disk("vm1-os")
VM1 = vm("vm1")
VM1_DEALLOC = vm("vm1", power="deallocated")
GEN1_DISK = disk("vm1-os", gen="V1")
NEW_DISK = disk("new-os")
OSD_ID = "properties__storageProfile__osDisk__managedDisk__id"
VM_WITH_DATA = vm("vm1", data_disks=(rid("disks", "data"),))


def swap(old, disk_id, **more):
    return edit(old, **{OSD_ID: disk_id, "properties__storageProfile__osDisk__name": disk_id.rsplit("/", 1)[-1]}, **more)


TL_MSG = ("Changing property 'securityProfile.securityType' is not allowed while the VM is running. "
          "Deallocate the VM and try again.")
S2_MSG = ("Use of TrustedLaunch setting is not supported for the provided image. Please select Trusted Launch Supported "
          "Gen2 OS Image. For more information, see https://aka.ms/TrustedLaunch-FAQ.")
DISK_MSG = "Security type of VM is not compatible with the security type of attached OS Disk."
CRG_ID = rid("capacityReservationGroups", "crg")
CR_TARGET = "capacityReservation.capacityReservationGroup.id"
NIC_ID = rid("networkInterfaces", "vm1-nic", ns="Microsoft.Network")
NIC = {"id": NIC_ID, "name": "vm1-nic", "type": "Microsoft.Network/networkInterfaces", "location": LOC, "properties": {}}
RG = {"id": f"/subscriptions/{SUB}/resourceGroups/rg", "name": "rg", "type": "Microsoft.Resources/resourceGroups",
      "location": LOC, "properties": {}}

SZ1_SIZES = ",".join(sz.name for sz in skus.sizes_in(LOC))
SZ1_MSG = (f"The value Banana provided for the VM size is not valid. The valid sizes in the current region are: {SZ1_SIZES}. "
           "Find out more on the valid VM sizes in each region at https://aka.ms/azure-regions.")
ARM64_IMAGE = platform("22_04-lts-arm64")
ARM64_DISK = edit(disk("vm1-os"), properties__supportedCapabilities={"architecture": "Arm64"})

VIOLATIONS: list[Case] = [
    # ---- VM sizes: the SKU table (refit.platform.skus) ----------------------------------------------------
    Case("SZ1", [], None, vm("v", size="Banana", image=platform()), (400, "InvalidParameter", SZ1_MSG, "vmSize")),
    Case("SZ1", [STD_DISK], VM1, edit(VM1, properties__hardwareProfile__vmSize="Banana"),
         (400, "InvalidParameter", SZ1_MSG, "vmSize"), "a resize"),
    Case("SZ1", [], None, vmss("ss", image=platform(), size="Banana"), (400, "InvalidParameter", SZ1_MSG, "vmSize"),
         "a scale set"),
    Case("SZ2", [], None, vm("v", image=ARM64_IMAGE),
         (400, "BadRequest", "Cannot create a VM of size 'Standard_D2s_v5' because this VM size only supports a CPU "
          "Architecture of 'x64', but an image or disk with CPU Architecture 'Arm64' was given. Please check that the CPU "
          "Architecture of the image or disk is compatible with that of the VM size.", None), "an Arm64 image"),
    Case("SZ2", [], None, vm("v", size="Standard_D2ps_v6", image=platform()),
         (400, "BadRequest", "Cannot create a VM of size 'Standard_D2ps_v6' because this VM size only supports a CPU "
          "Architecture of 'Arm64', but an image or disk with CPU Architecture 'x64' was given. Please check that the "
          "CPU Architecture of the image or disk is compatible with that of the VM size.", None), "a Cobalt size"),
    Case("SZ2", [STD_DISK], VM1, edit(VM1, properties__hardwareProfile__vmSize="Standard_D2ps_v5"),
         (400, "BadRequest", "Cannot resize a VM of size 'Standard_D2s_v5' with CPU Architecture 'x64' to a VM of size "
          "'Standard_D2ps_v5' with CPU Architecture 'Arm64'.", None), "a resize across architectures"),
    Case("SZ2", [ARM64_DISK], None, vm("vm1", size="Standard_D2s_v5"),
         (400, "BadRequest", "Cannot create a VM of size 'Standard_D2s_v5' because this VM size only supports a CPU "
          "Architecture of 'x64', but an image or disk with CPU Architecture 'Arm64' was given. Please check that the "
          "CPU Architecture of the image or disk is compatible with that of the VM size.", None), "an Arm64 OS disk"),
    Case("SZ2", [], SS, edit(SS, **{IMGREF: ARM64_IMAGE}),
         (400, "BadRequest", "Cannot create a VM of size 'Standard_D2s_v5' because this VM size only supports a CPU "
          "Architecture of 'x64', but an image or disk with CPU Architecture 'Arm64' was given. Please check that the "
          "CPU Architecture of the image or disk is compatible with that of the VM size.", None),
         "a scale set's new image"),
    # ---- 1c security types, generation, images ------------------------------------------------------------
    Case("S1", [], None, vm("v", sec="TrustedLaunch", size="Standard_A2", image=platform()),
         (400, "BadRequest", "The VM size 'Standard_A2' is not supported for creation of VMs and Virtual Machine Scale Set "
          "with 'TrustedLaunch' security type. For more information, see https://aka.ms/TrustedLaunch-FAQ", None)),
    Case("S1", [BRIDGE, BRIDGE_V], vmss("ss", image=BRIDGE["id"], sec="TrustedLaunch"),
         edit(vmss("ss", image=BRIDGE["id"], sec="TrustedLaunch"), sku__name="Standard_A4"),
         (400, "BadRequest", "The VM size 'Standard_A4' is not supported for creation of VMs and Virtual Machine Scale Set "
          "with 'TrustedLaunch' security type. For more information, see https://aka.ms/TrustedLaunch-FAQ", None),
         "resizing a TL scale set"),
    Case("S2", SEED000, SS, edit(SS, **{SEC: TL_PROFILE}), (400, "BadRequest", S2_MSG, None),
         "seed 000: securityType first"),
    Case("S2", [], None, vm("v", sec="TrustedLaunch", image=platform("22_04-lts")), (400, "BadRequest", S2_MSG, None),
         "a Gen1 marketplace image"),
    Case("S3", SEED000, SS, edit(SS, **{IMGREF: {"id": APP_TL["id"]}}),
         (400, "BadRequest", "The provided gallery image only supports creation of VMs and VM Scale Sets with "
          "'TrustedLaunch' security type.", None), "seed 000: image first"),
    Case("S4", [TL_VM_DISK], None, vm("v", os_disk=TL_VM_DISK["id"]), (400, "BadRequest", DISK_MSG, None)),
    Case("S5", [], disk("d", sec="TrustedLaunch"), edit(disk("d", sec="TrustedLaunch"),
                                                           properties__securityProfile__securityType="Standard"),
         (409, "PropertyChangeNotAllowed", "Changing property 'securityProfile.securityType' is not allowed.",
          "securityProfile.securityType")),
    Case("S6", [TL_VM_DISK], None, disk("copy", sec=None, create_option="Copy", sourceResourceId=TL_VM_DISK["id"]),
         (400, "BadRequest", "Security Type 'TrustedLaunch' is not supported for CreateOption 'Copy'", None)),
    Case("S7", [], None, vm("v", size="Standard_A2_v2", image=platform()),
         (400, "BadRequest", "The selected VM size 'Standard_A2_v2' cannot boot Hypervisor Generation '2'. If this was a "
          "Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation "
          "of the selected VM Size. If this was an Update operation please select a Hypervisor Generation '2' VM Size.",
          None)),
    Case("S7", [GEN1_DISK], VM1, edit(VM1, properties__hardwareProfile__vmSize="Standard_D2ps_v5"),
         (400, "BadRequest", "The selected VM size 'Standard_D2ps_v5' cannot boot Hypervisor Generation '1'. If this was "
          "a Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation "
          "of the selected VM Size. If this was an Update operation please select a Hypervisor Generation '1' VM Size.",
          None), "resizing a Gen1 VM to an Arm64 (Gen2-only) size"),
    Case("S8", [TL_VM, TL_VM_DISK], None, managed_image("from-tl", source_vm=TL_VM["id"]),
         (409, "OperationNotAllowed", "Creation of managed images are not supported for virtual machine with "
          "TrustedLaunch security type.", None), "seed 000: capture from the TL VM"),
    Case("S8", [TL_VM_DISK], None, managed_image("from-tl-disk", os_disk=TL_VM_DISK["id"]),
         (409, "OperationNotAllowed", "Creation of managed images are not supported for disk with TrustedLaunch "
          "security type.", None)),
    Case("S9", [TL_VM, TL_VM_DISK, GAL, BRIDGE], None, version("bridge", source=TL_VM["id"]),
         (400, "InvalidParameter", f"The security type 'TrustedLaunchSupported' is not supported for the source id "
          f"'{TL_VM['id']}'. Currently only Vhd Blob, User Image and Gallery Image Version sources are supported for "
          "'TrustedLaunchSupported' images.", None), "seed 000: TrustedLaunchSupported from a VM id"),
    Case("S9", [IMG, GAL, APP_TL], None, version("app-tl", "2.0.0", source=IMG_ID),
         (400, "InvalidParameter", f"The security type 'TrustedLaunch' is not supported for the source id '{IMG_ID}'. "
          "Currently only VM, Disk and Snapshot sources are supported for 'TrustedLaunch' images.", None)),
    Case("S9", [TL_VM_DISK, GAL, BRIDGE], None, version("bridge", source=TL_VM_DISK["id"]),
         (400, "InvalidParameter", f"The security type 'TrustedLaunchSupported' is not supported for the source id "
          f"'{TL_VM_DISK['id']}'. Currently only Vhd Blob, User Image and Gallery Image Version sources are supported "
          "for 'TrustedLaunchSupported' images.", None), "a disk that carries guest state"),
    Case("S10", [IMG, GAL, definition("cvm", sec="ConfidentialVM")], None, version("cvm", source=IMG_ID),
         (400, "InvalidParameter", f"Confidential VM is not supported for the source id '{IMG_ID}'. Currently Snapshot, "
          "Disk and VM sources are supported for the Confidential VM security type.",
          "galleryImageVersion.properties.storageProfile.osDiskImage.source.id")),
    Case("S11", [GAL, BRIDGE, BRIDGE_V, IMG], None,
         vm("v", sec="ConfidentialVM", size="Standard_DC2as_v5", image=BRIDGE["id"]),
         (400, "InvalidParameter", "SecurityType 'ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey' is not "
          "supported by given image.", "securityProfile.securityType")),
    Case("S12", [], None, vm("v", sec="ConfidentialVM", image=platform("22_04-lts-cvm",
                                                                        offer="0001-com-ubuntu-confidential-vm-jammy")),
         (400, "BadRequest", "The VM size 'Standard_D2s_v5' is not supported for creation of VMs and Virtual Machine "
          "Scale Set with 'ConfidentialVM' security type and managedDisk.securityProfile.securityEncryptionType set as "
          "'VMGuestStateOnly'", None)),
    # ---- 1d VM security type in place ------------------------------------------------------------------------
    Case("U1", [STD_DISK], VM1, edit(VM1, **{VM_SEC: TL_PROFILE}), (409, "OperationNotAllowed", TL_MSG, None)),
    Case("U1", [STD_DISK], vm("vm1", power="stopped"), edit(vm("vm1", power="stopped"), **{VM_SEC: TL_PROFILE}),
         (409, "OperationNotAllowed", TL_MSG, None), "stopped is still allocated"),
    Case("U4", [disk("vm1-os", sec="TrustedLaunch")], vm("vm1", sec="TrustedLaunch"),
         edit(vm("vm1", sec="TrustedLaunch"), **{VM_SEC: {"securityType": "Standard", "uefiSettings": None}}),
         (409, "OperationNotAllowed", TL_MSG, None)),
    Case("U5", [GEN1_DISK], VM1_DEALLOC, edit(VM1_DEALLOC, **{VM_SEC: TL_PROFILE}),
         (409, "OperationNotAllowed", f"The OS disk '{GEN1_DISK['id']}' of VM '{VM1['id']}' is a Generation 1 disk: "
          "convert the guest OS disk from MBR to GPT (MBR2GPT) before changing the security type to TrustedLaunch, and "
          "tag the disk 'refit-partition-style: GPT'.", None)),
    Case("U8", [STD_DISK], VM1_DEALLOC, edit(VM1_DEALLOC, **{VM_SEC: {"securityType": "ConfidentialVM"}},
                                             properties__hardwareProfile__vmSize="Standard_DC2as_v5"),
         (409, "PropertyChangeNotAllowed", "Changing property 'securityProfile.securityType' is not allowed.",
          "securityProfile.securityType")),
    Case("U8", [disk("vm1-os", sec="ConfidentialVM_DiskEncryptedWithPlatformKey")],
         vm("vm1", sec="ConfidentialVM", power="deallocated"),
         edit(vm("vm1", sec="ConfidentialVM", power="deallocated"), **{VM_SEC: {"securityType": "Standard"}}),
         (409, "PropertyChangeNotAllowed", "Changing property 'securityProfile.securityType' is not allowed.",
          "securityProfile.securityType"), "nor left"),
    # ---- 2 OS disk swap and attachment ----------------------------------------------------------------------
    Case("D2", [STD_DISK], VM1, edit(VM1, properties__storageProfile__osDisk__createOption="FromImage"),
         (409, "PropertyChangeNotAllowed", "Changing property 'osDisk.createOption' is not allowed.",
          "osDisk.createOption")),
    Case("D2", [STD_DISK], VM1, edit(VM1, properties__storageProfile__osDisk__name="renamed"),
         (409, "PropertyChangeNotAllowed", "Changing property 'osDisk.name' is not allowed.", "osDisk.name")),
    Case("D2", [STD_DISK], VM1, edit(VM1, properties__storageProfile__osDisk__osType="Windows"),
         (409, "PropertyChangeNotAllowed", "Changing property 'osDisk.osType' is not allowed.", "osDisk.osType")),
    Case("D3", [STD_DISK, disk("new-os", gen="V1")], VM1, swap(VM1, rid("disks", "new-os")),
         (409, "PropertyChangeNotAllowed", "Swapping OS Disk is not supported since HyperVisor property on the OSDisk and "
          "VM do not match. Please make sure the HyperVisor property on the OSDisk is HyperVisor Generation 'V2'", None)),
    Case("D4", [disk("vm1-os", sec="TrustedLaunch"), NEW_DISK], vm("vm1", sec="TrustedLaunch"),
         swap(vm("vm1", sec="TrustedLaunch"), NEW_DISK["id"]), (400, "BadRequest", DISK_MSG, None)),
    Case("D5", [STD_DISK, NEW_DISK, ext(VM1, "ade", "Microsoft.Azure.Security", "AzureDiskEncryptionForLinux")], VM1,
         swap(VM1, NEW_DISK["id"]), (409, "OSDiskSwapNotSupportedForVMsUsingDiskEncryption",
                                     "OS disk swap is not supported for VMs using Azure Disk Encryption.", None)),
    Case("D6", [disk("vm1-os", zones=["1"]), disk("new-os", zones=["2"])], vm("vm1", zones=["1"]),
         swap(vm("vm1", zones=["1"]), NEW_DISK["id"]),
         (400, "BadRequest", f"Disk {NEW_DISK['id']} cannot be attached to the VM because it is not in the same zone as the "
          "VM. VM zone: '1'. Disk zone: '2'.", None)),
    Case("D6", [disk("z2", zones=["2"])], None, vm("v", zones=["1"], os_disk=rid("disks", "z2")),
         (400, "BadRequest", f"Disk {rid('disks', 'z2')} cannot be attached to the VM because it is not in the same zone "
          "as the VM. VM zone: '1'. Disk zone: '2'.", None), "create with Attach"),
    Case("D7", [STD_DISK, disk("new-os", location="westus2")], VM1, swap(VM1, NEW_DISK["id"]),
         (400, "InvalidParameter", f"Disk {NEW_DISK['id']} cannot be attached to the VM because it is in location "
          "'westus2' and the VM is in location 'eastus'.", NEW_DISK["id"])),
    Case("D8", [STD_DISK, disk("new-os", managed_by=rid("virtualMachines", "vm2")), vm("vm2", os_disk=NEW_DISK["id"])],
         VM1, swap(VM1, NEW_DISK["id"]),
         (409, "ConflictingUserInput", f"Disk '{NEW_DISK['id']}' cannot be attached as the disk is already owned by VM "
          f"'{rid('virtualMachines', 'vm2')}'.", None)),
    Case("D9", [STD_DISK, disk("new-os", managed_by=rid("virtualMachines", "vm2")), vm("vm2")],
         VM1, swap(VM1, NEW_DISK["id"]),
         (409, "AttachDiskWhileBeingDetached", "Cannot attach data disk 'new-os' to VM 'vm1' because the disk is currently "
          "being detached or the last detach operation failed. Please wait until the disk is completely detached and then "
          "try again or delete/detach the disk explicitly again.", None)),
    Case("D12", [STD_DISK, disk("new-os", os_type="Windows")], VM1, swap(VM1, NEW_DISK["id"]),
         (409, "PropertyChangeNotAllowed", "Changing property 'osDisk.osType' is not allowed.", "osDisk.osType")),
    Case("D13", [], None, disk("zrs", sku="Premium_ZRS", zones=["1"]),
         (409, "OperationNotAllowed", "A disk with sku 'Premium_ZRS' cannot be created in an availability zone.", None)),
    # ---- 1e / 4 scale sets ----------------------------------------------------------------------------------------
    Case("V1", SEED000, SS, edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": APP_TL["id"]}}),
         (400, "BadRequest", S2_MSG, None), "seed 000: both at once, but to the TrustedLaunch definition"),
    Case("V3", SEED000, vmss("ss", image=IMG_ID, data_disks=1),
         edit(vmss("ss", image=IMG_ID, data_disks=1), **{SEC: TL_PROFILE, IMGREF: {"id": BRIDGE["id"]}}),
         (400, "BadRequest", "Trusted Launch upgrade of Virtual Machine Scale Set 'ss' with data disks requires "
          "upgradePolicy.mode 'Rolling' with rollingUpgradePolicy.maxSurge set to true.", None)),
    Case("V6", [IMG, GAL, definition("win", os_type="Windows"), version("win", source=IMG_ID)], SS,
         edit(SS, **{IMGREF: {"id": rid("galleries/images", "gal", "win")}}),
         (400, "BadRequest", "Cannot update Virtual Machine Scale Set ss as the OS type of the current image (Linux) is "
          "different from the OS type of the updated image (Windows).", None)),
    Case("V6", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, data_luns=(0,))], SS,
         edit(SS, **{IMGREF: {"id": BRIDGE["id"]}}),
         (400, "BadRequest", "Cannot update Virtual Machine Scale Set ss as the data disk layout of the current image "
          "(LUNs []) is different from the data disk layout of the updated image (LUNs [0]).", None)),
    Case("V7", [IMG, GAL, definition("spec", os_state="Specialized"), version("spec", source=rid("disks", "x"))], SS,
         edit(SS, **{IMGREF: {"id": rid("galleries/images", "gal", "spec")}}),
         (400, "BadRequest", "Cannot update Virtual Machine Scale Set ss as the current OS state of the VM Scale Set is "
          "Generalized which is different from the updated gallery image OS state which is Specialized", None)),
    Case("M1", [IMG], SS, edit(SS, properties__orchestrationMode="Flexible"),
         (409, "PropertyChangeNotAllowed", "Changing property 'orchestrationMode' is not allowed.", "orchestrationMode")),
    Case("M2", [IMG], SS, edit(SS, properties__platformFaultDomainCount=3),
         (409, "PropertyChangeNotAllowed", "Changing property 'platformFaultDomainCount' is not allowed.",
          "platformFaultDomainCount")),
    Case("M3", [IMG], SS, edit(SS, properties__zoneBalance=True),
         (409, "PropertyChangeNotAllowed", "Changing property 'zoneBalance' is not allowed.", "zoneBalance")),
    Case("M4", [IMG], edit(SS, properties__singlePlacementGroup=False), SS,
         (409, "PropertyChangeNotAllowed", "Changing property 'singlePlacementGroup' is not allowed.",
          "singlePlacementGroup")),
    Case("M5", [IMG], vmss("ss", image=IMG_ID, zones=["1", "2"]), vmss("ss", image=IMG_ID, zones=["1"]),
         (409, "PropertyChangeNotAllowed", "Changing property 'zones' is not allowed.", "zones")),
    Case("M6", [IMG], None, vmss("ss", image=IMG_ID, orchestration="Flexible", properties__platformFaultDomainCount=5),
         (400, "InvalidParameter", "The value of parameter platformFaultDomainCount is invalid.",
          "platformFaultDomainCount")),
    Case("M6", [IMG], None, vmss("ss", image=IMG_ID, orchestration="Flexible", zones=["1", "2"],
                                 properties__platformFaultDomainCount=2),
         (400, "InvalidParameter", "The value of parameter platformFaultDomainCount is invalid.",
          "platformFaultDomainCount"), "zonal Flexible: 1"),
    Case("M8", [IMG], None, vmss("ss", image=IMG_ID, orchestration="Flexible", properties__singlePlacementGroup=True),
         (400, "BadRequest", "Virtual Machine Scale Set ss with orchestrationMode as 'VirtualMachines' and "
          "singlePlacementGroup set to true can not be created as the preview feature has been retired starting with API "
          "version 2019-12-01.", None)),
    Case("M9", [IMG, lb("lb")], None,
         vmss("ss", image=IMG_ID, properties__singlePlacementGroup=False,
              properties__virtualMachineProfile__networkProfile__networkInterfaceConfigurations=[
                  {"name": "nic", "properties": {"ipConfigurations": [{"name": "ip", "properties": {
                      "loadBalancerBackendAddressPools": [{"id": rid("loadBalancers/backendAddressPools", "lb", "be",
                                                                     ns="Microsoft.Network")}]}}]}}]),
         (400, "VMScaleSetCannotReferenceLoadbalancerWhenLargeScaleOrCrossAZ", "Virtual Machine Scale Set 'ss' cannot "
          "reference Basic SKU load balancer 'lb' when it uses multiple placement groups or spans availability zones.",
          None)),
    Case("M11", [IMG], vmss("ss", image=IMG_ID, orchestration="Flexible"),
         vmss("ss", image=IMG_ID, orchestration="Flexible", properties__proximityPlacementGroup={
             "id": rid("proximityPlacementGroups", "ppg")}),
         (409, "PropertyChangeNotAllowed", "Changing property 'proximityPlacementGroup' is not allowed.",
          "proximityPlacementGroup")),
    Case("M12", [IMG], SS, edit(SS, **{
        "properties__virtualMachineProfile__storageProfile__osDisk__managedDisk__storageAccountType": "StandardSSD_LRS"}),
         (409, "PropertyChangeNotAllowed", "Changing property "
          "'virtualMachineProfile.storageProfile.osDisk.managedDisk.storageAccountType' is not allowed.",
          "virtualMachineProfile.storageProfile.osDisk.managedDisk.storageAccountType")),
    Case("R-range", [IMG], None, edit(SS_ROLLING, properties__upgradePolicy__rollingUpgradePolicy__maxBatchInstancePercent=3),
         (400, "InvalidParameter", "The value of parameter rollingUpgradePolicy.maxBatchInstancePercent is invalid.",
          "rollingUpgradePolicy.maxBatchInstancePercent")),
    Case("R-range", [IMG], None,
         edit(SS_ROLLING, properties__upgradePolicy__rollingUpgradePolicy__maxUnhealthyUpgradedInstancePercent=101),
         (400, "InvalidParameter", "The value of parameter rollingUpgradePolicy.maxUnhealthyUpgradedInstancePercent is "
          "invalid.", "rollingUpgradePolicy.maxUnhealthyUpgradedInstancePercent")),
    Case("R-grace", [IMG], None, edit(SS, properties__automaticRepairsPolicy={"enabled": True, "gracePeriod": "PT5M"}),
         (400, "InvalidParameter", "The value of parameter automaticRepairsPolicy.gracePeriod is invalid.",
          "automaticRepairsPolicy.gracePeriod")),
    Case("R-grace", [IMG], None, edit(SS, properties__automaticRepairsPolicy={"enabled": True, "gracePeriod": "PT2H"}),
         (400, "InvalidParameter", "The value of parameter automaticRepairsPolicy.gracePeriod is invalid.",
          "automaticRepairsPolicy.gracePeriod"), "above PT90M"),
    Case("R-budget", [IMG], None, edit(SS, properties__virtualMachineProfile__extensionProfile__extensionsTimeBudget="PT10M"),
         (400, "InvalidParameter", "The value of parameter extensionProfile.extensionsTimeBudget is invalid.",
          "extensionProfile.extensionsTimeBudget")),
    Case("R-repair", [IMG], edit(SS, properties__automaticRepairsPolicy={"enabled": True, "repairAction": "Replace"}),
         edit(SS, properties__automaticRepairsPolicy={"enabled": True, "repairAction": "Restart"}),
         (409, "OperationNotAllowed", "Changing property 'automaticRepairsPolicy.repairAction' is not allowed while "
          "automatic repairs are enabled. Disable automatic repairs, then enable them with the new repair action.", None)),
    Case("H1", [IMG], None, vmss("ss", image=IMG_ID, mode="Rolling", health=()),
         (400, "BadRequest", "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health "
          "probe or health extension was not provided.", None)),
    Case("H1", [IMG], None, vmss("ss", image=IMG_ID, mode="Rolling", health=("probe",), orchestration="Flexible"),
         (400, "BadRequest", "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health "
          "probe or health extension was not provided.", None), "Flexible: the extension only"),
    Case("H2", [], None, vmss("ss", image=platform(), health=("probe", "extension"),
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True}),
         (400, "BadRequest", "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because both a "
          "health probe and a health extension were provided. Remove the health probe or health extension prior to "
          "enabling automatic OS upgrade.", None)),
    Case("H2", [], None, vmss("ss", image=platform(), health=("probe", "extension"),
                              properties__automaticRepairsPolicy={"enabled": True}),
         (400, "BadRequest", "Automatic repairs are not supported for this Virtual Machine Scale Set because both a health "
          "probe and a health extension were provided. Remove the health probe or health extension prior to enabling "
          "automatic repairs.", None)),
    Case("H3", [], None, vmss("ss", image=platform(), health=(),
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True}),
         (400, "BadRequest", "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because a health "
          "probe or health extension was not specified.", None)),
    Case("H4", [IMG], None, edit(SS, properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True}),
         (400, "BadRequest", "virtualMachineScaleSets with Automatic OS Upgrade enabled must use Platform or Gallery Image "
          "with version set to 'latest'.", None)),
    Case("H6", [], None, vmss("ss", image=platform("2022-datacenter-g2", "MicrosoftWindowsServer", "WindowsServer"),
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True},
                              properties__virtualMachineProfile__osProfile__windowsConfiguration={
                                  "enableAutomaticUpdates": True}),
         (400, "BadRequest", "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because "
          "osProfile.windowsConfiguration.enableAutomaticUpdates is true. Set it to false prior to enabling automatic OS "
          "upgrade.", None)),
    Case("H7", [], None, vmss("ss", image=platform(), orchestration="Flexible", mode="Rolling",
                              properties__upgradePolicy__rollingUpgradePolicy={"maxSurge": True},
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True}),
         (400, "BadRequest", "Automatic OS Upgrade is not supported for a Virtual Machine Scale Set with orchestrationMode "
          "Flexible and rollingUpgradePolicy.maxSurge enabled.", None)),
    Case("H8", [], None, edit(vmss("ss", image=platform(), properties__upgradePolicy__automaticOSUpgradePolicy={
        "enableAutomaticOSUpgrade": True}), properties__virtualMachineProfile__extensionProfile__extensions=[
            {"name": "health", "properties": {"type": "ApplicationHealthLinux"}},
            {"name": "sf", "properties": {"type": "ServiceFabricLinuxNode", "typeHandlerVersion": "1.0"}}]),
         (409, "OperationNotAllowed", "Service Fabric VM Extension version should be 1.1 or above for Auto OS Upgrade "
          "support", None)),
    Case("H10", [], None, vmss("ss", image=platform(), health=(), properties__automaticRepairsPolicy={"enabled": True}),
         (400, "BadRequest", "Automatic repairs not supported for this Virtual Machine Scale Set because a health probe or "
          "health extension was not provided.", None)),
    # ---- 3 gallery -----------------------------------------------------------------------------------------------
    Case("G1", [GAL], BRIDGE, edit(BRIDGE, properties__hyperVGeneration="V1"),
         (409, "PropertyChangeNotAllowed", "Changing property 'galleryImage.properties.hyperVGeneration' is not allowed.",
          "galleryImage.properties.hyperVGeneration")),
    Case("G1", [GAL], BRIDGE, edit(BRIDGE, properties__identifier__sku="other"),
         (409, "PropertyChangeNotAllowed", "Changing property 'galleryImage.properties.identifier' is not allowed.",
          "galleryImage.properties.identifier")),
    Case("G1", [GAL], BRIDGE, edit(BRIDGE, properties__features=[{"name": "SecurityType", "value": "TrustedLaunch"}]),
         (409, "PropertyChangeNotAllowed", "Changing property 'SecurityType' is not allowed.", "SecurityType"),
         "features without allowUpdateImage"),
    Case("G4", [GAL, definition("a", identifier=("contoso", "app", "x"))], None,
         definition("b", identifier=("Contoso", "APP", "x")),
         (409, "Conflict", "Gallery image: a identified by (publisher:Contoso, offer:APP, sku:x) already exists. Choose a "
          "different publisher, offer, sku combination.", None)),
    Case("G5", [IMG, GAL, BRIDGE], None, version("bridge", "1.0", source=IMG_ID),
         (400, "InvalidParameter", "The image version name is invalid. The image version name should follow "
          "Major(int).Minor(int).Patch(int) format, for e.g: 1.0.0, 2018.12.1 etc", "galleryImageVersionName")),
    Case("G5", [IMG, GAL, BRIDGE], None, version("bridge", "1.0.2147483648", source=IMG_ID),
         (400, "InvalidParameter", "The image version name is invalid. The image version name should follow "
          "Major(int).Minor(int).Patch(int) format, for e.g: 1.0.0, 2018.12.1 etc", "galleryImageVersionName"),
         "above a 32-bit int"),
    Case("G6", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID, regions=("westus2",)),
         (400, "InvalidParameter", "Gallery image version publishing profile regions westus2 must contain the location "
          "of image version eastus", None)),
    Case("G7", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID, regions=("eastus", "East US")),
         (400, "InvalidParameter", "Duplicate regions are not allowed in target publishing regions", None)),
    Case("G8", [IMG, GAL, BRIDGE], BRIDGE_V, edit(BRIDGE_V, properties__storageProfile__source__id=rid("images", "other")),
         (409, "PropertyChangeNotAllowed", "Changing property "
          "'galleryImageVersion.properties.storageProfile.source.id' is not allowed",
          "galleryImageVersion.properties.storageProfile.source.id")),
    Case("G9", [managed_image("spec", os_state="Specialized"), GAL, BRIDGE], None,
         version("bridge", source=rid("images", "spec")),
         (400, "InvalidParameter", f"Cannot create Gallery Image Version from: {rid('images', 'spec')} since the OS State "
          "in the parent gallery image (Generalized) is not Specialized", None)),
    Case("G10", [IMG, GAL, definition("gen1", gen="V1")], None, version("gen1", source=IMG_ID),
         (409, "Conflict", f"The resource with id '{IMG_ID}' has a different Hypervisor generation ['V2'] than the parent "
          "gallery image Hypervisor generation ['V1'].", None)),
    Case("G11", [IMG, GAL, BRIDGE], edit(BRIDGE_V, properties__provisioningState="Deleting"),
         edit(BRIDGE_V, properties__publishingProfile__excludeFromLatest=True),
         (409, "OperationNotAllowed", "Operation 'Update Gallery Image Version' is not on allowed on 1.0.0; since it is "
          "marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).", None)),
    Case("G12", [GAL, BRIDGE, BRIDGE_V], BRIDGE, None,
         (409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.", None)),
    Case("G12", [GAL, BRIDGE], GAL, None,
         (409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.", None),
         "a gallery with a definition"),
    Case("G13", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, exclude=True)], None, vm("v", image=BRIDGE["id"]),
         (404, "GalleryImageNotFound", f'There is no latest image version exists for "{BRIDGE["id"]}"', "imageReference")),
    Case("G14", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, regions=(LOC_W := "westus2",), location=LOC_W)],
         None, vm("v", image=rid("galleries/images/versions", "gal", "bridge", "1.0.0")),
         (404, "GalleryImageNotFound", f"The gallery image {rid('galleries/images/versions', 'gal', 'bridge', '1.0.0')} "
          "is not available in eastus region. Please contact image owner to replicate to this region, or change your "
          "requested region.", "imageReference")),
    Case("G14", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, regions=("eastus", "westus2"), replicated=("westus2",))],
         SS, edit(SS, **{IMGREF: {"id": rid("galleries/images/versions", "gal", "bridge", "1.0.0")}}),
         (404, "GalleryImageNotFound", f"The gallery image {rid('galleries/images/versions', 'gal', 'bridge', '1.0.0')} "
          "is not available in eastus region. Please contact image owner to replicate to this region, or change your "
          "requested region.", "imageReference"), "a scale set, replication still running"),
    Case("G17", [GAL, definition("spec", os_state="Specialized"), version("spec", source=rid("disks", "x"))], None,
         vm("v", image=rid("galleries/images", "gal", "spec")),
         (400, "InvalidParameter", "Parameter 'osProfile' is not allowed.", "osProfile")),
    Case("G20", [IMG, GAL, BRIDGE], None,
         edit(version("bridge", source=IMG_ID), properties__publishingProfile__targetRegions=[
             {"name": "eastus", "regionalReplicaCount": 101}]),
         (400, "InvalidParameter", "The replica count 101 for region 'eastus' exceeds the limit of 100 replicas per image "
          "version per region.", "publishingProfile.targetRegions")),
    Case("G20", [gallery(f"g{i}") for i in range(100)], None, gallery("g100"),
         (409, "OperationNotAllowed", "The limit of 100 galleries per subscription per region has been reached in region "
          "'eastus'.", None), "the 101st gallery"),
    Case("G21", [IMG, GAL, BRIDGE, BRIDGE_V], None, vm("v", image={"id": BRIDGE["id"], "version": "1.0.0"}),
         (400, "InvalidParameter", "The property 'imageReference.id' cannot be used together with property "
          "'imageReference.version'", "imageReference")),
    Case("G22", [IMG, GAL, BRIDGE, BRIDGE_V], None,
         disk("d", create_option="FromImage", galleryImageReference={"id": BRIDGE_V["id"], "lun": 1}),
         (400, "InvalidParameter", "The value of parameter imageReference is invalid.", None)),
    Case("G22", SEED000, None, disk("d", create_option="FromImage", galleryImageReference={"id": APP_TL_V["id"]}),
         (400, "BadRequest", "The provided gallery image only supports creation of disks with 'TrustedLaunch' security "
          "type.", None)),
    Case("G22", [IMG, GAL, definition("std"), version("std", source=IMG_ID)], None,
         disk("d", sec="TrustedLaunch", create_option="FromImage",
              galleryImageReference={"id": rid("galleries/images/versions", "gal", "std", "1.0.0")}),
         (400, "BadRequest", "Security type 'TrustedLaunch' is not supported for the provided gallery image. Please select "
          "a Trusted Launch Supported Gen2 OS Image.", None)),
    Case("G23", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, regions=("westus2",), location="westus2")], None,
         disk("d", create_option="FromImage", galleryImageReference={"id": BRIDGE_V["id"]}),
         (404, "GalleryImageNotFound", f"The gallery image {BRIDGE_V['id']} is not available in eastus region. Please "
          "contact image owner to replicate to this region, or change your requested region.", "imageReference")),
    # ---- 5 capacity reservations ----------------------------------------------------------------------------------
    Case("C2", [crg()], None, cr("cr1", location="westus2"),
         (400, "InvalidParameter", "The location 'westus2' of Capacity Reservation 'cr1' must be the location 'eastus' of "
          "its Capacity Reservation Group.", "location")),
    Case("C2", [crg(zones=["1", "2"])], None, cr("cr1", zones=["3"]),
         (400, "InvalidParameter", "The zone(s) '3' of Capacity Reservation 'cr1' must be one of the zones '1,2' of its "
          "Capacity Reservation Group.", "zones")),
    Case("C4", [crg(zones=["1"]), cr("cr1", zones=["1"])], None, cr("cr2", zones=["1"]),
         (409, "Conflict", "Capacity Reservation 'cr1' for VM size 'Standard_D2s_v5' in zone '1' already exists in "
          "Capacity Reservation Group 'crg'.", None)),
    Case("C5", [crg()], cr("cr1"), edit(cr("cr1"), sku__name="Standard_D4s_v5"),
         (409, "PropertyChangeNotAllowed", "Changing property 'sku.name' is not allowed.", "sku.name")),
    Case("C6", [crg(zones=["1", "2"]), cr("cr1", zones=["1"]), disk("vm1-os", zones=["2"])], vm("vm1", zones=["2"]),
         vm("vm1", zones=["2"], crg=CRG_ID),
         (400, "InvalidParameter", f"The Capacity Reservation Group '{CRG_ID}' does not have a Capacity Reservation for "
          "VM size 'Standard_D2s_v5' in zone '2'.", CR_TARGET)),
    Case("C6", [crg(zones=["1"]), cr("cr1", zones=["1"]), STD_DISK], VM1_DEALLOC, edit(VM1_DEALLOC, **{
        "properties__capacityReservation": {"capacityReservationGroup": {"id": CRG_ID}}}),
         (400, "InvalidParameter", f"The Virtual Machine 'vm1' has no zone and can only be associated with a regional "
          f"Capacity Reservation Group; '{CRG_ID}' is zonal.", CR_TARGET), "a regional VM and a zonal group"),
    Case("C7", [crg(), cr("cr1"), STD_DISK], VM1, vm("vm1", crg=CRG_ID),
         (409, "OperationNotAllowed", f"The Virtual Machine 'vm1' has no zone: it can be associated with Capacity "
          f"Reservation Group '{CRG_ID}' only when deallocated. Deallocate the VM, associate it, then start it.", None)),
    Case("C10", [crg(), cr("cr1"), vm("vm1", crg=CRG_ID)], cr("cr1"), None,
         (409, "OperationNotAllowed", "Capacity Reservation 'cr1' cannot be deleted because Virtual Machines are "
          "associated with it: vm1. Disassociate them first.", None)),
    Case("C10", [crg(), cr("cr1")], crg(), None,
         (409, "OperationNotAllowed", "Capacity Reservation Group 'crg' cannot be deleted before its Capacity "
          "Reservations: cr1.", None), "a group with a reservation"),
    Case("C10", [crg(), vm("vm1", crg=CRG_ID)], crg(), None,
         (409, "OperationNotAllowed", "Capacity Reservation Group 'crg' cannot be deleted because Virtual Machines or "
          "Virtual Machine Scale Sets are associated with it: vm1. Disassociate them first.", None),
         "a group VMs still reference"),
    Case("C11", [crg(), cr("cr1")], vm("vm1", crg=CRG_ID),
         vm("vm1", crg=CRG_ID, size="Standard_D4s_v5"),
         (400, "InvalidParameter", f"The Capacity Reservation Group '{CRG_ID}' does not have a Capacity Reservation for "
          "VM size 'Standard_D4s_v5' in the region.", CR_TARGET)),
    Case("C12", [crg(), cr("cr1")], None, vm("spot", crg=CRG_ID, properties__priority="Spot"),
         (400, "NotSupported", "Capacity Reservation is not supported for Spot Virtual Machines.", None)),
    Case("C12", [crg()], None, cr("cr1", size="Standard_A0"),
         (400, "NotSupported", "Capacity Reservation is not supported for VM size Standard_A0.", None),
         "the real response (Azure/azure-cli#18943)"),
    # ---- refusals that were provider checks (the ARM, VM, D14+, G24+, I, C14, M15+ families) --------------------
    Case("ARM7", [], disk("d"), edit(disk("d"), location="westus2"),
         (409, "InvalidResourceLocation", "The resource 'd' already exists in location 'eastus' in resource group 'rg'. "
          "A resource with the same name cannot be created in location 'westus2'. Please select a new resource name.",
          None)),
    Case("ARM7", [], RG, edit(RG, location="westus2"),
         (409, "InvalidResourceGroupLocation", "Invalid resource group location 'westus2'. The Resource group already "
          "exists in location 'eastus'.", None), "a resource group"),
    Case("ARM8", [], None, vm("v", location="marsnorth"),
         (400, "LocationNotAvailableForResourceType", "The provided location 'marsnorth' is not available for resource "
          "type 'Microsoft.Compute/virtualMachines'. List of available regions for the resource type is "
          f"'{','.join(REGIONS)}'.", None)),
    Case("ARM8", [], None, disk("d", location="narnia"),
         (400, "LocationNotAvailableForResourceType", "The provided location 'narnia' is not available for resource "
          "type 'Microsoft.Compute/disks'. List of available regions for the resource type is "
          f"'{','.join(REGIONS)}'.", None), "a disk"),
    Case("ARM8", [], None, {**RG, "id": f"/subscriptions/{SUB}/resourceGroups/rg2", "name": "rg2", "location": "narnia"},
         (400, "LocationNotAvailableForResourceGroup", "The provided location 'narnia' is not available for resource "
          f"group. List of available regions is '{','.join(REGIONS)}'.", None), "a resource group"),
    Case("ARM9", [], None, vm("v", zones=["1"], location="westus"),
         (400, "InvalidParameter", "The zone(s) '1' for resource 'Microsoft.Compute/virtualMachines/v' is not supported. "
          "The supported zones for location 'westus' are ''.", "zones")),
    Case("ARM9", [], None, disk("d", zones=["4"]),
         (400, "InvalidParameter", "The zone(s) '4' for resource 'Microsoft.Compute/disks/d' is not supported. "
          "The supported zones for location 'eastus' are '1,2,3'.", "zones"), "a zone the region does not have"),
    Case("ARM9", [IMG], vmss("ss", image=IMG_ID, location="westus"),
         vmss("ss", image=IMG_ID, location="westus", zones=["1"]),
         (400, "InvalidParameter", "The zone(s) '1' for resource 'Microsoft.Compute/virtualMachineScaleSets/ss' is not "
          "supported. The supported zones for location 'westus' are ''.", "zones"), "zonal expansion where there are none"),
    Case("ARM11", [], None, disk("d", tags={f"t{i}": "x" for i in range(51)}),
         (400, "InvalidTagCount", "The number of tags on a resource or resource group cannot exceed 50.", None)),
    Case("ARM11", [], None, disk("d", tags={"a/b": "x"}),
         (400, "InvalidTagNameCharacters", "The tag names 'a/b' have reserved characters '<,>,%,&,\\,?,/' or control "
          "characters.", None), "a reserved character"),
    Case("ARM11", [], None, disk("d", tags={"a\tb": "x"}),
         (400, "InvalidTagNameCharacters", "The tag names 'a\tb' have reserved characters '<,>,%,&,\\,?,/' or control "
          "characters.", None), "a control character"),
    Case("ARM11", [], None, disk("d", tags={"a": "x" * 257}),
         (400, "InvalidTagValueLength", "The tag value for 'a' exceeds 256 characters.", None), "a long value"),
    Case("VM3", [], None, vm("v", sec="Bogus", image=platform()),
         (400, "InvalidParameter", "The value 'Bogus' of parameter 'securityProfile.securityType' is invalid.",
          "securityProfile.securityType")),
    Case("VM5", [STD_DISK], None, vm("vm1"),
         (400, "InvalidResourceReference", f"Resource {NIC_ID} referenced by resource {VM1['id']} was not found. Please "
          "make sure that the referenced resource exists, and that both resources are in the same region.",
          "networkProfile.networkInterfaces")),
    Case("VM6", [STD_DISK, NEW_DISK, disk("d2")], None,
         edit(vm("vm1", data_disks=(NEW_DISK["id"], rid("disks", "d2"))),
              properties__storageProfile__dataDisks=[{"lun": 0, "createOption": "Attach", "managedDisk": {"id": i}}
                                                     for i in (NEW_DISK["id"], rid("disks", "d2"))]),
         (400, "InvalidParameter", "A disk at LUN 0 already exists.", "dataDisks")),
    Case("VM7", [disk("v-os")], None, vm("v", image=platform(), os_disk=rid("disks", "v-os")),
         (409, "ConflictingUserInput", "Disk v-os already exists in resource group RG. Only CreateOption.Attach is "
          "supported.", rid("disks", "v-os"))),
    Case("D14", [], None, disk("d", sku="Gold_LRS"),
         (400, "InvalidParameter", "The value 'Gold_LRS' of parameter 'sku.name' is invalid.", "sku.name")),
    Case("D15", [], disk("d"), disk("d", create_option="Copy", sourceResourceId=rid("disks", "x")),
         (409, "PropertyChangeNotAllowed", "Changing property 'creationData' is not allowed.", "creationData")),
    Case("D16", [], disk("d"), edit(disk("d"), properties__diskSizeGB=16),
         (400, "BadRequest", f"The disk/snapshot resource with id {rid('disks', 'd')} cannot be resized down. Reducing "
          "disk/snapshot size is not supported in Azure to prevent data loss. If you do need to reduce the size of the "
          "disk, please create new snapshot/disks with the appropriate size. More information is available at "
          "https://aka.ms/AzureDisksFAQ", "diskSizeGB")),
    Case("D19", [], None, disk("d", sec="Bogus"),
         (400, "InvalidParameter", "The value 'Bogus' of parameter 'securityProfile.securityType' is invalid.",
          "securityProfile.securityType")),
    Case("D21", [VM1], disk("vm1-os", managed_by=VM1["id"]), None,
         (409, "OperationNotAllowed", f"Disk vm1-os is attached to VM {VM1['id']}.", None)),
    Case("D22", [VM1], disk("vm1-os", managed_by=VM1["id"]),
         edit(disk("vm1-os", managed_by=VM1["id"]), properties__diskSizeGB=64),
         (409, "OperationNotAllowed", f"Cannot resize disk vm1-os while it is attached to running VM {VM1['id']}. "
          "Resizing a disk of an Azure Virtual Machine requires the virtual machine to be deallocated. Please stop your "
          "VM and retry the operation.", None), "the OS disk of a running VM"),
    Case("D22", [VM_WITH_DATA], disk("data", sku="UltraSSD_LRS", managed_by=VM1["id"]),
         edit(disk("data", sku="UltraSSD_LRS", managed_by=VM1["id"]), properties__diskSizeGB=64),
         (409, "OperationNotAllowed", f"Cannot resize disk data while it is attached to running VM {VM1['id']}. "
          "Resizing a disk of an Azure Virtual Machine requires the virtual machine to be deallocated. Please stop your "
          "VM and retry the operation.", None), "an Ultra data disk (no live resize)"),
    Case("D22", [VM_WITH_DATA], disk("data", managed_by=VM1["id"]),
         edit(disk("data", managed_by=VM1["id"]), properties__diskSizeGB=8192),
         (409, "OperationNotAllowed", f"Cannot resize disk data while it is attached to running VM {VM1['id']}. "
          "Resizing a disk of an Azure Virtual Machine requires the virtual machine to be deallocated. Please stop your "
          "VM and retry the operation.", None), "a data disk growing past 4 TiB"),
    Case("D22", [STD_DISK], edit(VM1, properties__storageProfile__osDisk__diskSizeGB=30),
         edit(VM1, properties__storageProfile__osDisk__diskSizeGB=64),
         (409, "OperationNotAllowed", f"Cannot resize disk vm1-os while it is attached to running VM {VM1['id']}. "
          "Resizing a disk of an Azure Virtual Machine requires the virtual machine to be deallocated. Please stop your "
          "VM and retry the operation.", None), "the VM model's OS disk"),
    Case("G24", [], None, gallery("bad-name"),
         (400, "InvalidParameter", "The gallery name 'bad-name' is invalid. Gallery names may contain letters, numbers, "
          "dots and underscores, and may not start or end with a dot or underscore.", "galleryName")),
    Case("G26", [GAL], None, definition("d", os_type="Solaris"),
         (400, "InvalidParameter", "The value 'Solaris' of parameter 'osType' is invalid.", "osType")),
    Case("G26", [GAL], None, definition("d", sec="TrustedLaunchMaybe"),
         (400, "InvalidParameter", "The value 'TrustedLaunchMaybe' of feature 'SecurityType' is invalid.", "features"),
         "the SecurityType feature"),
    Case("G30", [IMG, GAL, BRIDGE], BRIDGE_V,
         edit(BRIDGE_V, properties__publishingProfile__targetRegions=[
             {"name": "eastus", "regionalReplicaCount": 3, "storageAccountType": "Standard_ZRS"}]),
         (409, "PropertyChangeNotAllowed", "Changing property 'storageAccountType' of target region 'eastus' is not "
          "allowed.", "publishingProfile.targetRegions"), "Standard_LRS by default -> Standard_ZRS"),
    Case("AIB1", [], AIB, edit(AIB, properties__buildTimeoutInMinutes=90),
         (409, "Conflict", "Update/Upgrade of image templates is currently not supported. Please change the name of "
          "the template you are submitting. If you have previously tried to submit a template and it failed to "
          "provision, you must delete it first and then resubmit. For more information, go to "
          "https://aka.ms/azvmimagebuilderts.", None)),
    Case("G29", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID, regions=("eastus", "atlantis")),
         (400, "InvalidParameter", "The region 'atlantis' is not a valid Azure region.",
          "publishingProfile.targetRegions")),
    Case("I1", [STD_DISK], None, managed_image("img", gen="V3", os_disk=STD_DISK["id"]),
         (400, "InvalidParameter", "The value 'V3' of parameter 'hyperVGeneration' is invalid.", "hyperVGeneration")),
    Case("C14", [], None, vm("vm1", crg=CRG_ID),
         (404, "NotFound", f"The Capacity Reservation Group '{CRG_ID}' could not be found.", CR_TARGET)),
    Case("M16", [IMG], None, vmss("ss", image=IMG_ID, mode="Sometimes"),
         (400, "InvalidParameter", "The value 'Sometimes' of parameter 'upgradePolicy.mode' is invalid.",
          "upgradePolicy.mode")),
    Case("M16", [IMG], None, vmss("ss", image=IMG_ID, sec="Bogus"),
         (400, "InvalidParameter", "The value 'Bogus' of parameter 'virtualMachineProfile.securityProfile.securityType' "
          "is invalid.", "virtualMachineProfile.securityProfile.securityType"), "the security type"),
]

PASSES: list[Case] = [
    Case("SZ1", [], None, vm("v", size="standard_d2ps_v6", image=ARM64_IMAGE), note="size names compare without case"),
    Case("SZ1", [STD_DISK], edit(VM1, properties__hardwareProfile__vmSize="Banana"),
         edit(VM1, properties__hardwareProfile__vmSize="Banana", tags={"a": "b"}), note="a size the write does not set"),
    Case("SZ2", [], None, vm("v", size="Standard_D2ps_v6", image=ARM64_IMAGE), note="Cobalt 100 on an Arm64 image"),
    Case("SZ2", [ARM64_DISK], None, vm("vm1", size="Standard_D4pds_v5"), note="an Arm64 OS disk attached"),
    Case("SZ2", [STD_DISK], VM1, edit(VM1, properties__hardwareProfile__vmSize="Standard_D4as_v5"),
         note="a resize within x64"),
    Case("S1", [], None, vm("v", sec="TrustedLaunch", image=platform())),
    Case("S2", SEED000, SS, edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": BRIDGE["id"]}}),
         note="seed 000: the TrustedLaunchSupported bridge and the securityType in one update"),
    Case("S2", SEED000, edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": BRIDGE["id"]}}),
         edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": APP_TL["id"]}}), note="seed 000: then the TrustedLaunch image"),
    Case("S3", SEED000, edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": BRIDGE["id"]}}),
         edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": APP_TL["id"]}})),
    Case("S3", SEED000, SS, edit(SS, **{IMGREF: {"id": BRIDGE["id"]}}), note="TrustedLaunchSupported boots Standard"),
    Case("S4", [TL_VM_DISK], None, vm("v", sec="TrustedLaunch", os_disk=TL_VM_DISK["id"])),
    Case("S5", [], disk("d", sec="TrustedLaunch"), edit(disk("d", sec="TrustedLaunch"), tags={"a": "b"})),
    Case("S6", [STD_DISK], None, disk("copy", create_option="Copy", sourceResourceId=STD_DISK["id"])),
    Case("S7", [], None, vm("v", size="Standard_D2s_v5", image=platform("22_04-lts"))),
    Case("S8", [VM1, STD_DISK], None, managed_image("from-std", source_vm=VM1["id"])),
    Case("S9", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID), note="seed 000: from the managed image"),
    Case("S9", [NEW_DISK, GAL, BRIDGE], None, version("bridge", source=NEW_DISK["id"]),
         note="a disk without guest state (INFERRED)"),
    Case("S9", SEED000[:5], None, APP_TL_V, note="the TrustedLaunch definition from the TL VM"),
    Case("S10", [NEW_DISK, GAL, definition("cvm", sec="ConfidentialVM")], None, version("cvm", source=NEW_DISK["id"])),
    Case("S11", [], None, vm("v", sec="ConfidentialVM", size="Standard_DC2as_v5",
                             image=platform("22_04-lts-cvm", offer="0001-com-ubuntu-confidential-vm-jammy"))),
    Case("S12", [], None, vm("v", sec="ConfidentialVM", size="Standard_DC2as_v5",
                             image=platform("22_04-lts-cvm", offer="0001-com-ubuntu-confidential-vm-jammy"))),
    Case("U1", [STD_DISK], VM1_DEALLOC, edit(VM1_DEALLOC, **{VM_SEC: TL_PROFILE})),
    Case("U1", [disk("vm1-os", sec="TrustedLaunch")], vm("vm1", sec="TrustedLaunch"),
         edit(vm("vm1", sec="TrustedLaunch"), **{VM_SEC: TL_PROFILE}), note="already TrustedLaunch: nothing to do (U2)"),
    Case("U4", [disk("vm1-os", sec="TrustedLaunch")], vm("vm1", sec="TrustedLaunch", power="deallocated"),
         edit(vm("vm1", sec="TrustedLaunch", power="deallocated"), **{VM_SEC: {"securityType": "Standard",
                                                                              "uefiSettings": None}})),
    Case("U5", [disk("vm1-os", gen="V1", tags={"refit-partition-style": "GPT"})], VM1_DEALLOC,
         edit(VM1_DEALLOC, **{VM_SEC: TL_PROFILE}), note="the guest was converted"),
    Case("U5", [STD_DISK], VM1_DEALLOC, edit(VM1_DEALLOC, **{VM_SEC: TL_PROFILE}), note="a Gen2 disk"),
    Case("U8", [STD_DISK], VM1_DEALLOC, edit(VM1_DEALLOC, **{VM_SEC: TL_PROFILE})),
    Case("D2", [STD_DISK, NEW_DISK], VM1, swap(VM1, NEW_DISK["id"]), note="a swap renames the OS disk"),
    Case("D3", [STD_DISK, NEW_DISK], VM1, swap(VM1, NEW_DISK["id"])),
    Case("D4", [disk("vm1-os", sec="TrustedLaunch"), disk("new-os", sec="TrustedLaunch")], vm("vm1", sec="TrustedLaunch"),
         swap(vm("vm1", sec="TrustedLaunch"), NEW_DISK["id"])),
    Case("D5", [STD_DISK, NEW_DISK], VM1, swap(VM1, NEW_DISK["id"])),
    Case("D6", [disk("vm1-os", zones=["1"]), disk("new-os", sku="Premium_ZRS")], vm("vm1", zones=["1"]),
         swap(vm("vm1", zones=["1"]), NEW_DISK["id"]), note="a ZRS disk attaches in any zone"),
    Case("D6", [disk("vm1-os", zones=["1"]), disk("new-os", zones=["1"])], vm("vm1", zones=["1"]),
         swap(vm("vm1", zones=["1"]), NEW_DISK["id"])),
    Case("D7", [STD_DISK, NEW_DISK], VM1, swap(VM1, NEW_DISK["id"])),
    Case("D8", [STD_DISK, disk("new-os", managed_by=rid("virtualMachines", "gone"))], VM1, swap(VM1, NEW_DISK["id"]),
         note="a stale managedBy (the owner is gone)"),
    Case("D9", [STD_DISK, NEW_DISK], VM1, swap(VM1, NEW_DISK["id"])),
    Case("D12", [STD_DISK, NEW_DISK], VM1, swap(VM1, NEW_DISK["id"])),
    Case("D13", [], None, disk("zrs", sku="Premium_ZRS")),
    Case("V1", SEED000, SS, edit(SS, **{SEC: TL_PROFILE, IMGREF: {"id": BRIDGE_V["id"]}}), note="to the bridge version"),
    Case("V3", SEED000, edit(SS_ROLLING, properties__virtualMachineProfile__storageProfile__dataDisks=[{"lun": 0}]),
         edit(SS_ROLLING, properties__virtualMachineProfile__storageProfile__dataDisks=[{"lun": 0}],
              **{SEC: TL_PROFILE, IMGREF: {"id": BRIDGE["id"]}})),
    Case("V6", SEED000, SS, edit(SS, **{IMGREF: {"id": BRIDGE["id"]}})),
    Case("V7", SEED000, SS, edit(SS, **{IMGREF: {"id": BRIDGE["id"]}})),
    Case("M1", [IMG], SS, edit(SS, properties__orchestrationMode="Uniform")),
    Case("M2", [IMG], SS, edit(SS, properties__platformFaultDomainCount=None), note="left out: unchanged"),
    Case("M3", [IMG], SS, edit(SS, properties__zoneBalance=False)),
    Case("M4", [IMG], SS, edit(SS, properties__singlePlacementGroup=False), note="true -> false"),
    Case("M5", [IMG], vmss("ss", image=IMG_ID, zones=["1"]), vmss("ss", image=IMG_ID, zones=["1", "2"]),
         note="zonal expansion"),
    Case("M6", [IMG], None, vmss("ss", image=IMG_ID, orchestration="Flexible", zones=["1", "2"])),
    Case("M8", [IMG], None, vmss("ss", image=IMG_ID, orchestration="Flexible")),
    Case("M9", [IMG, lb("lb", sku="Standard")], None,
         vmss("ss", image=IMG_ID, properties__singlePlacementGroup=False,
              properties__virtualMachineProfile__networkProfile__networkInterfaceConfigurations=[
                  {"name": "nic", "properties": {"ipConfigurations": [{"name": "ip", "properties": {
                      "loadBalancerBackendAddressPools": [{"id": rid("loadBalancers/backendAddressPools", "lb", "be",
                                                                     ns="Microsoft.Network")}]}}]}}])),
    Case("M11", [IMG], SS, edit(SS, properties__proximityPlacementGroup={"id": rid("proximityPlacementGroups", "ppg")}),
         note="Uniform (instances not modelled)"),
    Case("M12", [IMG], SS, edit(SS, sku__capacity=5)),
    Case("R-range", [IMG], None, edit(SS_ROLLING, properties__upgradePolicy__rollingUpgradePolicy={
        "maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20, "maxUnhealthyUpgradedInstancePercent": 0})),
    Case("R-grace", [IMG], None, edit(SS, properties__automaticRepairsPolicy={"enabled": True, "gracePeriod": "PT30M"})),
    Case("R-budget", [IMG], None, edit(SS, properties__virtualMachineProfile__extensionProfile__extensionsTimeBudget="PT1H30M")),
    Case("R-repair", [IMG], edit(SS, properties__automaticRepairsPolicy={"enabled": True, "repairAction": "Replace"}),
         edit(SS, properties__automaticRepairsPolicy={"enabled": False, "repairAction": "Restart"}),
         note="disabled in the same update"),
    Case("H1", [IMG], None, vmss("ss", image=IMG_ID, mode="Rolling", health=("probe",))),
    Case("H2", [], None, vmss("ss", image=platform(), health=("extension",),
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True})),
    Case("H3", [], None, vmss("ss", image=platform(), health=("probe",),
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True})),
    Case("H4", [GAL, BRIDGE, BRIDGE_V, IMG], None,
         vmss("ss", image=BRIDGE["id"], properties__upgradePolicy__automaticOSUpgradePolicy={
             "enableAutomaticOSUpgrade": True}), note="a gallery definition (latest)"),
    Case("H6", [], None, vmss("ss", image=platform("2022-datacenter-g2", "MicrosoftWindowsServer", "WindowsServer"),
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True},
                              properties__virtualMachineProfile__osProfile__windowsConfiguration={
                                  "enableAutomaticUpdates": False})),
    Case("H7", [], None, vmss("ss", image=platform(), mode="Rolling",
                              properties__upgradePolicy__rollingUpgradePolicy={"maxSurge": True},
                              properties__upgradePolicy__automaticOSUpgradePolicy={"enableAutomaticOSUpgrade": True})),
    Case("H8", [], None, edit(vmss("ss", image=platform(), properties__upgradePolicy__automaticOSUpgradePolicy={
        "enableAutomaticOSUpgrade": True}), properties__virtualMachineProfile__extensionProfile__extensions=[
            {"name": "health", "properties": {"type": "ApplicationHealthLinux"}},
            {"name": "sf", "properties": {"type": "ServiceFabricLinuxNode", "typeHandlerVersion": "1.1"}}])),
    Case("H10", [], None, vmss("ss", image=platform(), properties__automaticRepairsPolicy={"enabled": True})),
    Case("G1", [GAL], BRIDGE, edit(BRIDGE, properties__description="bridge", properties__endOfLifeDate="2030-01-01")),
    Case("G1", [GAL], BRIDGE, edit(BRIDGE, properties__allowUpdateImage=True, properties__features=[
        {"name": "SecurityType", "value": "TrustedLaunch", "startsAtVersion": "2.0.0"}]), note="G3 update flow"),
    Case("G4", [GAL, definition("a", identifier=("contoso", "app", "x"))], None,
         definition("b", identifier=("contoso", "app", "y"))),
    Case("G5", [IMG, GAL, BRIDGE], None, version("bridge", "2018.12.1", source=IMG_ID)),
    Case("G6", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID, regions=("westus2", "East US"))),
    Case("G7", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID, regions=("eastus", "westus2"))),
    Case("G8", [IMG, GAL, BRIDGE], BRIDGE_V, edit(BRIDGE_V, properties__publishingProfile__targetRegions=[
        {"name": "eastus"}, {"name": "westus2"}]), note="replicate to one more region (G2)"),
    Case("G9", [IMG, GAL, BRIDGE], None, BRIDGE_V),
    Case("G10", [IMG, GAL, BRIDGE], None, BRIDGE_V),
    Case("G11", [IMG, GAL, BRIDGE], BRIDGE_V, edit(BRIDGE_V, properties__publishingProfile__excludeFromLatest=True)),
    Case("G12", [GAL, BRIDGE], BRIDGE, None),
    Case("G13", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, exclude=True), version("bridge", "0.9.0", source=IMG_ID)],
         None, vm("v", image=BRIDGE["id"]), note="1.0.0 is excluded, 0.9.0 is latest"),
    Case("G14", [IMG, GAL, BRIDGE, BRIDGE_V], None, vm("v", image=BRIDGE_V["id"])),
    Case("G14", [IMG, GAL, BRIDGE, version("bridge", source=IMG_ID, regions=("westus2",), location="westus2")],
         vm("v", image=BRIDGE_V["id"]), edit(vm("v", image=BRIDGE_V["id"]), tags={"a": "b"}),
         note="an existing VM is not re-checked"),
    Case("G17", [GAL, definition("spec", os_state="Specialized"), version("spec", source=rid("disks", "x"))], None,
         vm("v", image=rid("galleries/images", "gal", "spec"), os_profile=False)),
    Case("G20", [gallery(f"g{i}") for i in range(99)], None, gallery("g99")),
    Case("G21", [IMG, GAL, BRIDGE, BRIDGE_V], None, vm("v", image={"id": BRIDGE["id"]})),
    Case("G22", [IMG, GAL, BRIDGE, BRIDGE_V], None,
         disk("d", sec="TrustedLaunch", create_option="FromImage", galleryImageReference={"id": BRIDGE_V["id"]})),
    Case("G23", [IMG, GAL, BRIDGE, BRIDGE_V], None,
         disk("d", create_option="FromImage", galleryImageReference={"id": BRIDGE_V["id"]})),
    Case("C2", [crg(zones=["1", "2"])], None, cr("cr1", zones=["2"])),
    Case("C4", [crg(zones=["1", "2"]), cr("cr1", zones=["1"])], None, cr("cr2", zones=["2"])),
    Case("C5", [crg()], cr("cr1"), edit(cr("cr1"), sku__capacity=5), note="capacity 0 -> 5 (C3)"),
    Case("C6", [crg(zones=["1"]), cr("cr1", zones=["1"], capacity=0), disk("vm1-os", zones=["1"])],
         vm("vm1", zones=["1"]), vm("vm1", zones=["1"], crg=CRG_ID), note="capacity 0 (C3), a running zonal VM (C7)"),
    Case("C6", [crg(), cr("cr1", capacity=1), vm("vm0", crg=CRG_ID)], VM1_DEALLOC,
         edit(VM1_DEALLOC, **{"properties__capacityReservation": {"capacityReservationGroup": {"id": CRG_ID}}}),
         note="overallocation (C8)"),
    Case("C7", [crg(zones=["1"]), cr("cr1", zones=["1"])], vm("vm1", zones=["1"]), vm("vm1", zones=["1"], crg=CRG_ID),
         note="a running zonal VM"),
    Case("C7", [crg(), cr("cr1")], VM1_DEALLOC,
         edit(VM1_DEALLOC, **{"properties__capacityReservation": {"capacityReservationGroup": {"id": CRG_ID}}}),
         note="a deallocated regional VM"),
    Case("C10", [crg(), cr("cr1"), vm("vm1")], cr("cr1"), None),
    Case("C11", [crg(), cr("cr1"), cr("cr2", size="Standard_D4s_v5")], vm("vm1", crg=CRG_ID),
         vm("vm1", crg=CRG_ID, size="Standard_D4s_v5")),
    Case("C12", [crg(), cr("cr1")], None, vm("vm1", crg=CRG_ID)),
    Case("ARM7", [], disk("d"), edit(disk("d"), location="East US"), note="the same region, spelled otherwise"),
    Case("ARM8", [], None, vm("v", location="westeurope")),
    Case("ARM8", [], edit(disk("d"), location="atlantis"), edit(disk("d"), location="atlantis", tags={"a": "b"}),
         note="an update in the region the resource already has"),
    Case("ARM9", [], None, vm("v", zones=["3"], location="westus3")),
    Case("ARM9", [], vm("v", zones=["1"], location="westus"), vm("v", zones=["1"], location="westus"),
         note="an update that leaves the zones as they are is not re-checked"),
    Case("ARM11", [], None, disk("d", tags={f"t{i}": "x" * 256 for i in range(50)})),
    Case("VM3", [], None, vm("v", sec="Standard", image=platform())),
    Case("VM5", [STD_DISK, NIC], None, vm("vm1")),
    Case("VM6", [STD_DISK, NEW_DISK, disk("d2")], None, vm("vm1", data_disks=(NEW_DISK["id"], rid("disks", "d2")))),
    Case("VM7", [], None, vm("v", image=platform(), os_disk=rid("disks", "v-os")), note="the name is free"),
    Case("D14", [], None, disk("d", sku="PremiumV2_LRS")),
    Case("D15", [], disk("d"), edit(disk("d"), properties__creationData__createOption="empty"),
         note="the same option, in another case"),
    Case("D16", [], disk("d"), edit(disk("d"), properties__diskSizeGB=64)),
    Case("D19", [], None, disk("d", sec="ConfidentialVM_NonPersistedTPM")),
    Case("D21", [], disk("d"), None),
    Case("D22", [VM1_DEALLOC], disk("vm1-os", managed_by=VM1["id"]),
         edit(disk("vm1-os", managed_by=VM1["id"]), properties__diskSizeGB=64), note="the VM is deallocated"),
    Case("D22", [VM_WITH_DATA], disk("data", managed_by=VM1["id"]),
         edit(disk("data", managed_by=VM1["id"]), properties__diskSizeGB=1024), note="a data disk resized live"),
    Case("D22", [STD_DISK], edit(VM1_DEALLOC, properties__storageProfile__osDisk__diskSizeGB=30),
         edit(VM1_DEALLOC, properties__storageProfile__osDisk__diskSizeGB=64), note="the model of a deallocated VM"),
    Case("G24", [], None, gallery("gal_prod.2")),
    Case("G26", [GAL], None, definition("d", os_type="Windows", os_state="Specialized", gen="V1")),
    Case("G29", [IMG, GAL, BRIDGE], None, version("bridge", source=IMG_ID, regions=("eastus", "West Europe"))),
    Case("G30", [IMG, GAL, BRIDGE], BRIDGE_V,
         edit(BRIDGE_V, properties__publishingProfile__targetRegions=[
             {"name": "East US", "regionalReplicaCount": 3, "storageAccountType": "standard_lrs"},
             {"name": "westus2", "regionalReplicaCount": 3, "storageAccountType": "Standard_ZRS"}]),
         note="more replicas, a new region, the same type in other words"),
    Case("AIB1", [], AIB, edit(AIB, tags={"owner": "platform"}), note="tags change through the Update API"),
    Case("AIB1", [], None, AIB, note="a new template"),
    Case("I1", [], None, managed_image("img", gen="V1")),
    Case("C14", [crg()], None, vm("vm1", crg=CRG_ID)),
    Case("M16", [IMG], None, vmss("ss", image=IMG_ID, mode="Automatic", sec="TrustedLaunch")),
]
# The confidential-VM rules (CVM1-CVM8) keep their cases beside them (tests/rules/cvm_cases.py).
VIOLATIONS += CVM_VIOLATIONS
PASSES += CVM_PASSES
# Storage accounts and flow logs (ST1-ST2, FL1-FL3): tests/rules/network_cases.py.
VIOLATIONS += NETWORK_VIOLATIONS
PASSES += NETWORK_PASSES


def _id(c: Case) -> str:
    return f"{c.rule}-{c.note or 'basic'}".replace(" ", "_")[:60]


@pytest.mark.parametrize("case", VIOLATIONS, ids=_id)
def test_violation(case: Case):
    got = errors_of(case.rule, case.world, case.old, case.new)
    assert got, f"{case.rule} found nothing"
    status, code, message, target = case.error
    e = got[0]
    assert (e.status, e.code, e.message, e.target) == (status, code, message, target)


@pytest.mark.parametrize("case", PASSES, ids=_id)
def test_pass(case: Case):
    assert errors_of(case.rule, case.world, case.old, case.new) == []


def test_every_rule_has_a_violation_and_a_pass():
    """Every validator of the catalog; the refusals the effects raise (stage request / operation) are planned
    against in tests/plan/test_refusals_name_their_rule.py, the wire's in tests/rules/test_catalog_mechanism.py."""
    validators = {r.id for r in RULES.values() if r.validate is not None}
    assert {c.rule for c in VIOLATIONS} == validators
    assert {c.rule for c in PASSES} == validators


def test_every_answer_of_a_rule_is_declared():
    """The errors a rule returns are the ones its page documents (Rule.errors)."""
    for c in VIOLATIONS:
        declared = {(t.status, t.code) for t in RULES[c.rule].errors}
        for e in errors_of(c.rule, c.world, c.old, c.new):
            assert (e.status, e.code) in declared, (c.rule, e)
