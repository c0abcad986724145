"""Virtual machines: in-place security type changes (reference section 1d) and OS disk swap / disk
attachment (section 2).

Security type: Standard -> TrustedLaunch in place needs a deallocated VM (U1, the error is U3's), and on a
Gen1 VM a guest MBR -> GPT conversion first (U5, which Azure cannot see: planner-only); the rollback
TrustedLaunch -> Standard too needs a deallocated VM (U4); ConfidentialVM is never reached or left in
place (U8).

OS disk swap (a PUT/PATCH that changes `storageProfile.osDisk.managedDisk.id`): the new disk must match
the VM's generation (D3), security type (D4), OS type (D12), zone (D6) and region (D7), must not belong
to another VM (D8, asynchronous) or be half-detached from one (D9); VMs with Azure Disk Encryption cannot
swap (D5); and besides the disk id only the name follows (D2). A swap on a running VM is accepted: the
current docs say the swap restarts the VM (D1).
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key, same_id
from refit.arm.world import World
from refit.platform.rules import facts
from refit.platform.rules.common import (
    DISK_MISMATCH,
    FAMILY,
    INVALID_ENUM,
    REF,
    REQUIRED,
    VM,
    VM_EXTENSION,
    attached_disk_ids,
    deallocated,
    disk_generation,
    get,
    lower,
    newly_attached,
    not_one_of,
    os_disk,
    os_disk_swapped,
    region,
    security_type,
    vm_generation,
    zones,
)
from refit.platform.rules.registry import ErrorTemplate, refusal, rule

Doc = dict[str, Any] | None

# U3: no public capture; the reference's suggested text (INFERRED).
WHILE_RUNNING = ErrorTemplate(409, "OperationNotAllowed",
                              "Changing property 'securityProfile.securityType' is not allowed while the VM is running. "
                              "Deallocate the VM and try again.")
U5_GPT = ErrorTemplate(409, "OperationNotAllowed",
                       "The OS disk '{disk}' of VM '{vm}' is a Generation 1 disk: convert the guest OS disk from MBR to "
                       "GPT (MBR2GPT) before changing the security type to TrustedLaunch, and tag the disk "
                       f"'{facts.PARTITION_TAG}: GPT'.")
U8_CVM = ErrorTemplate(409, "PropertyChangeNotAllowed", "Changing property 'securityProfile.securityType' is not allowed.",
                       "securityProfile.securityType")
D2_CHANGE = ErrorTemplate(409, "PropertyChangeNotAllowed", "Changing property 'osDisk.{prop}' is not allowed.",
                          "osDisk.{prop}")
D3_GEN = ErrorTemplate(409, "PropertyChangeNotAllowed",
                       "Swapping OS Disk is not supported since HyperVisor property on the OSDisk and VM do not match. "
                       "Please make sure the HyperVisor property on the OSDisk is HyperVisor Generation '{gen}'")
D5_ADE = ErrorTemplate(409, "OSDiskSwapNotSupportedForVMsUsingDiskEncryption",
                       "OS disk swap is not supported for VMs using Azure Disk Encryption.")
D6_ZONE = ErrorTemplate(400, "BadRequest",
                        "Disk {disk} cannot be attached to the VM because it is not in the same zone as the VM. "
                        "VM zone: '{vm_zone}'. Disk zone: '{disk_zone}'.")
D7_REGION = ErrorTemplate(400, "InvalidParameter",
                          "Disk {disk} cannot be attached to the VM because it is in location '{disk_location}' and the "
                          "VM is in location '{vm_location}'.", "{disk}")
D8_OWNED = ErrorTemplate(409, "ConflictingUserInput",
                         "Disk '{disk}' cannot be attached as the disk is already owned by VM '{owner}'.")
D9_DETACHING = ErrorTemplate(409, "AttachDiskWhileBeingDetached",
                             "Cannot attach data disk '{disk}' to VM '{vm}' because the disk is currently being detached "
                             "or the last detach operation failed. Please wait until the disk is completely detached and "
                             "then try again or delete/detach the disk explicitly again.")


# ---- the model as Azure reads it (family VM: refusals the reference has no row for) ---------------------------
refusal("VM1", VM, "A VM names its size, OS disk and network (and the disks it creates or attaches)",
        f"{FAMILY}. Which parameters: specs ComputeRP virtualMachine.json (OSDisk.createOption, DataDisk.lun and "
        "createOption, RunCommandInput.commandId are required) and refit's reading of what a VM cannot be built "
        "without (vmSize, the OS disk, the network profile with its NIC ids, an imageReference to build from)",
        doc="""The request is read into a VM model: `hardwareProfile.vmSize`, `storageProfile.osDisk`, a
        `networkProfile` (on create) whose `networkInterfaces[].id` are given, an `imageReference` for an OS disk
        FromImage, `managedDisk.id` for a disk to Attach, a `lun` for every data disk and a `diskSizeGB` for an
        Empty one; a runCommand action names its `commandId`. A missing one is refused before anything else.""",
        errors=(REQUIRED,), operations=("create", "update", "action"), confidence="M")

refusal("VM2", VM, "An OS disk is created FromImage or Attach; a data disk Empty or Attach",
        "specs ComputeRP DiskCreateOptionTypes (FromImage, Empty, Attach, Copy, Restore); refit models FromImage / "
        "Attach for the OS disk and Empty / Attach for data disks and refuses the rest. The message is "
        f"{FAMILY}",
        doc="""`storageProfile.osDisk.createOption` decides how the OS disk is built (from the image, or an existing
        disk attached) and `dataDisks[].createOption` how each data disk is (a new empty disk, or an existing
        one attached): another value cannot be built.""",
        errors=(INVALID_ENUM,), operations=("create", "update"), confidence="M")


@rule("VM3", VM, "securityType is TrustedLaunch, ConfidentialVM or Standard",
      f"{REF} 1a (specs ComputeRP SecurityTypes; Standard from API 2025-11-01). The message is {FAMILY}",
      errors=(INVALID_ENUM,), confidence="H")
def vm3_security_type_value(world: World, old: Doc, new: Doc) -> list:
    """`properties.securityProfile.securityType` is one of Azure's values; absent means Standard."""
    return not_one_of(new, "properties.securityProfile.securityType", facts.VM_SECURITY_TYPES)


refusal("VM4", VM, "A disk to attach must exist",
        "INFERRED: CRP's NotFound family (reference section 9.1); no capture of the text for a missing disk",
        doc="""An OS disk created with Attach, an OS disk swapped in, or a data disk attached names a managed disk
        that does not exist: the VM cannot be built on it.""",
        errors=(ErrorTemplate(404, "NotFound", "Disk {disk} was not found.", "{disk}"),), confidence="L")

VM5_NIC = ErrorTemplate(400, "InvalidResourceReference",
                        "Resource {nic} referenced by resource {vm} was not found. Please make sure that the referenced "
                        "resource exists, and that both resources are in the same region.",
                        "networkProfile.networkInterfaces")


@rule("VM5", VM, "The network interfaces a VM references must exist",
      "MicrosoftDocs/azure-docs#81734, MicrosoftLearning/AZ-700-Designing-and-Implementing-Microsoft-Azure-"
      "Networking-Solutions#143 (InvalidResourceReference, the network RP's text, quoted). That CRP answers a "
      "missing NIC with it is INFERRED; the referring VM's id was missing from refit's text before",
      errors=(VM5_NIC,), confidence="M")
def vm5_nics_exist(world: World, old: Doc, new: Doc) -> list:
    """Every network interface a write adds to `networkProfile.networkInterfaces[].id` (all of them on create)
    exists. One the VM already had is not looked up again."""
    if new is None:
        return []
    before = {id_key(n["id"]) for n in _nics(old)}
    for nic in _nics(new):
        if id_key(nic["id"]) not in before and world.get(nic["id"]) is None:
            return [VM5_NIC(nic=nic["id"], vm=new["id"])]
    return []


def _nics(doc: Doc) -> list[dict[str, Any]]:
    return [n for n in get(doc, "properties.networkProfile.networkInterfaces") or [] if isinstance(n, dict) and n.get("id")]


VM6_LUN = ErrorTemplate(400, "InvalidParameter", "A disk at LUN {lun} already exists.", "dataDisks")


@rule("VM6", VM, "Data disk LUNs are unique", "INFERRED: no capture of Azure's text for a repeated LUN",
      errors=(VM6_LUN,), confidence="L")
def vm6_unique_luns(world: World, old: Doc, new: Doc) -> list:
    """Two data disks of a VM cannot share a LUN."""
    seen: set[Any] = set()
    for dd in get(new, "properties.storageProfile.dataDisks") or []:
        lun = dd.get("lun") if isinstance(dd, dict) else None
        if lun is None:
            continue
        if lun in seen:
            return [VM6_LUN(lun=lun)]
        seen.add(lun)
    return []


VM7_EXISTS = ErrorTemplate(409, "ConflictingUserInput",
                           "Disk {name} already exists in resource group {resource_group}. Only CreateOption.Attach is "
                           "supported.", "{disk}")


@rule("VM7", VM, "The OS disk a VM creates from an image must not exist yet (the operation fails)",
      "hashicorp/terraform-provider-azurerm#15513 (ConflictingUserInput, quoted; 'Status=<nil> ... StatusCode=0': "
      "through the long-running operation; HTTP 409 as D8). Was a synchronous 409 Conflict with refit's own text",
      errors=(VM7_EXISTS,), operations=("create",), asynchronous=True, confidence="M")
def vm7_os_disk_name_free(world: World, old: Doc, new: Doc) -> list:
    """A VM created FromImage creates its OS disk under `osDisk.name`; a disk of that name already in the
    resource group fails the create (attach the existing disk instead)."""
    if old is not None or new is None or lower(os_disk(new).get("createOption")) != "fromimage":
        return []
    disk_id = get(os_disk(new), "managedDisk.id")
    disk = world.get(disk_id) if disk_id else None
    if disk is None:
        return []
    rg = ResourceId.parse(disk["id"]).resource_group or ""
    return [VM7_EXISTS(name=disk["name"], resource_group=rg.upper(), disk=disk["id"])]


# The answer Azure gives to an action a VM's power state does not allow (pierrebeucher/cloudypad#69: 409
# OperationNotAllowed for a restart of a deallocated VM, API 2024; MicrosoftDocs/azure-docs#32404).
NOT_RUNNING = ErrorTemplate(409, "OperationNotAllowed", "The operation requires the VM to be running (or set to run).")

refusal("VM8", VM, "Only a running VM restarts",
        "PierreBeucher/cloudypad#69 (409 OperationNotAllowed, quoted); MicrosoftDocs/azure-docs#32404. Was refit's "
        "own text ('Operation 'restart' is not allowed on VM ... since the VM is ...', INFERRED) before that capture",
        doc="""A restart of a stopped or deallocated VM is refused: start it instead.""",
        errors=(NOT_RUNNING,), operations=("action",), confidence="H")

refusal("VM9", VM, "Run command needs a running VM",
        "https://learn.microsoft.com/azure/virtual-machines/run-command-overview (the VM agent runs the script, so "
        "the VM must be running); the answer is VM8's (INFERRED: the same OperationNotAllowed family). Was refit's "
        "own text ('Run command cannot be executed on VM ...') before",
        doc="""runCommand on a VM that is not running is refused: the guest agent executes the script.""",
        errors=(NOT_RUNNING,), operations=("action",), confidence="M")


# ---- security type in place (1d) ------------------------------------------------------------------
@rule("U1", VM, "Standard -> TrustedLaunch in place needs a deallocated VM",
      f"{REF} U1, U3; acd trusted-launch-existing-vm.md; Azure/azure-cli#26387. The error text is U3's "
      "suggestion (INFERRED: no public capture)", errors=(WHILE_RUNNING,), operations=("update",), confidence="H")
def u1_trusted_launch_needs_deallocation(world: World, old: Doc, new: Doc) -> list:
    """An existing Standard VM becomes TrustedLaunch by deallocate -> PATCH securityProfile
    {securityType: TrustedLaunch, uefiSettings} -> start. The PATCH on a VM that is not deallocated
    (running, or stopped but still allocated) is refused. Gen2 OS disks only, unless the guest was converted
    (U5). Already TrustedLaunch: nothing to do (U2)."""
    if old is None or new is None:
        return []
    if security_type(old) != "Standard" or security_type(new) != "TrustedLaunch" or deallocated(old):
        return []
    return [WHILE_RUNNING()]


@rule("U4", VM, "TrustedLaunch -> Standard rollback needs a deallocated VM",
      f"{REF} U4, U3; acd trusted-launch-existing-vm.md (roll back). The error text is U3's suggestion (INFERRED)",
      errors=(WHILE_RUNNING,), operations=("update",), confidence="H")
def u4_rollback_needs_deallocation(world: World, old: Doc, new: Doc) -> list:
    """The rollback PATCH securityProfile {securityType: Standard, uefiSettings: null} is accepted on a
    deallocated VM; on a VM that is not deallocated it is refused like the upgrade (U1)."""
    if old is None or new is None:
        return []
    if security_type(old) != "TrustedLaunch" or security_type(new) != "Standard" or deallocated(old):
        return []
    return [WHILE_RUNNING()]


@rule("U5", VM, "A Gen1 VM reaches TrustedLaunch only after its guest disk was converted MBR -> GPT (irreversible)",
      f"{REF} U5; acd trusted-launch-existing-vm-gen-1.md; Azure/azure-cli#29007. Not an Azure error: Azure cannot "
      f"see the guest. refit's convention: the OS disk carries the tag {facts.PARTITION_TAG}=GPT once converted",
      errors=(U5_GPT,), operations=("update",), enforced=False, confidence="H")
def u5_gen1_needs_gpt(world: World, old: Doc, new: Doc) -> list:
    """Azure's API accepts Standard -> TrustedLaunch on a deallocated Gen1 VM, but the VM boots only if the
    guest OS disk was first converted from MBR to GPT (MBR2GPT; one-way: the VM cannot go back to Gen1, and
    a later reimage with the old Gen1 imageReference fails to boot). Azure cannot check the guest, so the
    emulator does not enforce this rule; the planner does. The conversion is recorded as the tag
    `refit-partition-style: GPT` on the OS disk (the op that runs MBR2GPT sets it)."""
    if old is None or new is None:
        return []
    if security_type(old) != "Standard" or security_type(new) != "TrustedLaunch":
        return []
    disk_id = v.Vm(old).os_disk_id
    disk = world.get(disk_id)
    if disk is None or disk_generation(disk) == "V2":
        return []
    if (v.Disk(disk).tag(facts.PARTITION_TAG) or "").upper() == "GPT":
        return []
    return [U5_GPT(disk=disk_id, vm=old["id"])]


@rule("U8", VM, "ConfidentialVM is never reached or left in place",
      f"{REF} U8; ad articles/confidential-computing/confidential-vm-faq.yml. The error (409 PropertyChangeNotAllowed "
      "'Changing property ...') is INFERRED: no API capture", errors=(U8_CVM,), operations=("update",), confidence="H")
def u8_confidential_not_in_place(world: World, old: Doc, new: Doc) -> list:
    """'For security reasons, you must create a confidential VM as such from the start': an existing VM's
    securityType cannot change to or from ConfidentialVM (recreate it instead, keeping NIC and data disks)."""
    if old is None or new is None:
        return []
    before, after = security_type(old), security_type(new)
    if before == after or "ConfidentialVM" not in (before, after):
        return []
    return [U8_CVM()]


# ---- OS disk swap and disk attachment (2) ------------------------------------------------------------------
@rule("D2", VM, "Only the OS disk's managed disk id (and with it its name) may change",
      f"{REF} D2; Azure/azure-sdk-for-python#3001; Azure/azure-sdk-for-net#37285 (HTTP 409); ad#11611; ad#11240",
      errors=(D2_CHANGE,), operations=("update",), confidence="H")
def d2_os_disk_immutables(world: World, old: Doc, new: Doc) -> list:
    """In an update, `osDisk.createOption` and `osDisk.osType` may not change, and `osDisk.name` only
    together with `osDisk.managedDisk.id` (an OS disk swap). A value the update leaves out is unchanged."""
    if old is None or new is None:
        return []
    a, b = os_disk(old), os_disk(new)
    for prop in ("createOption", "osType"):
        if b.get(prop) is not None and a.get(prop) is not None and lower(a[prop]) != lower(b[prop]):
            return [D2_CHANGE(prop=prop)]
    if (not os_disk_swapped(old, new) and b.get("name") is not None and a.get("name") is not None
            and lower(a["name"]) != lower(b["name"])):
        return [D2_CHANGE(prop="name")]
    return []


def _swap_disk(world: World, old: Doc, new: Doc) -> dict[str, Any] | None:
    """The disk an OS disk swap attaches (None when this write is not a swap or the disk is unknown)."""
    if not os_disk_swapped(old, new):
        return None
    return world.get(v.Vm(new).os_disk_id)


@rule("D3", VM, "The swapped-in OS disk must have the VM's Hyper-V generation",
      f"{REF} D3; MicrosoftDocs/SupportArticles-docs#214; jrudlin/Azure#1", errors=(D3_GEN,), operations=("update",),
      confidence="H")
def d3_swap_generation(world: World, old: Doc, new: Doc) -> list:
    """The new OS disk's hyperVGeneration (V1 when absent) must equal the VM's (its current OS disk's)."""
    disk = _swap_disk(world, old, new)
    if disk is None or old is None:
        return []
    gen = vm_generation(world, old)
    return [] if disk_generation(disk) == gen else [D3_GEN(gen=gen)]


@rule("D4", VM, "The swapped-in OS disk must have a security type compatible with the VM's",
      f"{REF} D4, S4; Azure/azure-sdk-for-python#30479; Azure/azure-powershell#24253", errors=(DISK_MISMATCH,),
      operations=("update",), confidence="H")
def d4_swap_security_type(world: World, old: Doc, new: Doc) -> list:
    """A TrustedLaunch VM needs a TrustedLaunch disk, a ConfidentialVM a ConfidentialVM_* disk, a Standard VM
    a disk without a security type (facts.disk_matches_vm)."""
    disk = _swap_disk(world, old, new)
    if disk is None:
        return []
    return [] if facts.disk_matches_vm(v.Disk(disk).security_type, security_type(new)) else [DISK_MISMATCH()]


def _uses_ade(world: World, vm: dict[str, Any]) -> bool:
    if get(os_disk(vm), "encryptionSettings.enabled") is True:
        return True
    for ext in world.children(vm["id"], VM_EXTENSION):
        if (get(ext, "properties.type") or "") in facts.ADE_EXTENSION_TYPES:
            return True
    disk = world.get(v.Vm(vm).os_disk_id)
    return get(disk, "properties.encryptionSettingsCollection.enabled") is True


@rule("D5", VM, "VMs with Azure Disk Encryption cannot swap their OS disk",
      f"{REF} D5; ad PR#56181 (code). Message and HTTP 409 INFERRED", errors=(D5_ADE,), operations=("update",),
      confidence="M")
def d5_swap_ade(world: World, old: Doc, new: Doc) -> list:
    """A VM using Azure Disk Encryption (the AzureDiskEncryption[ForLinux] extension, osDisk.encryptionSettings
    or an OS disk with encryptionSettingsCollection enabled) cannot swap its OS disk."""
    if old is None or not os_disk_swapped(old, new) or not _uses_ade(world, old):
        return []
    return [D5_ADE()]


@rule("D6", VM, "An attached disk must be in the VM's zone",
      f"{REF} D6; jenkins-infra/azure#1406 (HTTP 400); jrudlin/Azure#7. ZRS disks attach in any zone; the regional "
      "VM / zonal disk case (empty VM zone in the message) is INFERRED", errors=(D6_ZONE,), confidence="H")
def d6_attach_zone(world: World, old: Doc, new: Doc) -> list:
    """Every disk this write attaches (the OS disk of a swap or of a VM created with Attach, new data disks)
    must be in the VM's zone; a zone-redundant (*_ZRS) disk attaches anywhere."""
    if new is None:
        return []
    out = []
    vz = zones(new)
    for did in newly_attached(old, new):
        disk = world.get(did)
        if disk is None or (v.Disk(disk).sku or "").upper().endswith("_ZRS"):
            continue
        dz = zones(disk)
        if sorted(dz) != sorted(vz):
            out.append(D6_ZONE(disk=did, vm_zone=",".join(vz), disk_zone=",".join(dz)))
    return out


@rule("D7", VM, "An attached disk must be in the VM's region",
      f"{REF} D7. Code and message INFERRED (no capture)", errors=(D7_REGION,), confidence="L")
def d7_attach_region(world: World, old: Doc, new: Doc) -> list:
    """A disk in another region cannot be attached (OS disk swap, create with Attach, data disks)."""
    if new is None:
        return []
    out = []
    for did in newly_attached(old, new):
        disk = world.get(did)
        if disk is not None and region(disk.get("location")) != region(new.get("location")):
            out.append(D7_REGION(disk=did, disk_location=disk.get("location"), vm_location=new.get("location")))
    return out


def _owner(world: World, disk: dict[str, Any], vm_id: str) -> tuple[str | None, bool]:
    """(the other VM that owns the disk, whether that VM's model still references it)."""
    owner = v.Disk(disk).managed_by
    if not owner or same_id(owner, vm_id):
        return None, False
    other = world.get(owner)
    if other is None:
        return None, False  # a stale managedBy: the owner is gone
    return owner, any(same_id(d, disk["id"]) for d in attached_disk_ids(other))


@rule("D8", VM, "A disk owned by another VM cannot be attached (the operation fails)",
      f"{REF} D8; Azure/aks-engine#1146; kubernetes-sigs/azuredisk-csi-driver#1378 (returned through the LRO)",
      errors=(D8_OWNED,), asynchronous=True, confidence="H")
def d8_attach_owned(world: World, old: Doc, new: Doc) -> list:
    """The disk's `managedBy` is another VM that uses it: Azure accepts the request and its long-running
    operation fails with ConflictingUserInput; the VM keeps its previous model."""
    if new is None:
        return []
    out = []
    for did in newly_attached(old, new):
        disk = world.get(did)
        if disk is None:
            continue
        owner, in_use = _owner(world, disk, new["id"])
        if owner and in_use:
            out.append(D8_OWNED(disk=did, owner=owner))
    return out


@rule("D9", VM, "A disk still being detached from another VM cannot be attached",
      f"{REF} D9; kubernetes/kubernetes#78657 (code). Message INFERRED", errors=(D9_DETACHING,), confidence="M")
def d9_attach_while_detaching(world: World, old: Doc, new: Doc) -> list:
    """The disk's `managedBy` is another VM whose model no longer lists it: the detach has not finished
    (or failed). Wait for it, or detach it explicitly again."""
    if new is None:
        return []
    out = []
    for did in newly_attached(old, new):
        disk = world.get(did)
        if disk is None:
            continue
        owner, in_use = _owner(world, disk, new["id"])
        if owner and not in_use:
            out.append(D9_DETACHING(disk=v.Disk(disk).name, vm=new.get("name", "")))
    return out


@rule("D12", VM, "The swapped-in OS disk must have the VM's OS type",
      f"{REF} D12, D2; ad#11240", errors=(D2_CHANGE,), operations=("update",), confidence="M")
def d12_swap_os_type(world: World, old: Doc, new: Doc) -> list:
    """A Linux VM cannot swap to a Windows disk and vice versa: the disk's osType would change
    `osDisk.osType`, which is immutable (D2)."""
    disk = _swap_disk(world, old, new)
    if disk is None or old is None:
        return []
    vm_os = os_disk(old).get("osType") or v.Disk(world.get(v.Vm(old).os_disk_id) or {}).os_type
    disk_os = v.Disk(disk).os_type
    if vm_os and disk_os and lower(vm_os) != lower(disk_os):
        return [D2_CHANGE(prop="osType")]
    return []

