"""RF-VM-002: what stands between a VM and Confidential VM (readiness, informational)."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df
from refit.platform.rules import images

OS_DISK = "properties.storageProfile.osDisk"


class ConfidentialVmReadiness(Check):
    id = "RF-VM-002"
    title = "Not ready for Confidential VM"
    severity = "info"
    resource_types = (v.VM,)
    rationale = (
        "A Confidential VM cannot be converted in place: it is created as such, from a Gen2 image, on Premium "
        "disks; with confidential OS disk encryption and a customer-managed key the OS disk is limited in size. "
        "Knowing which VMs fail these prerequisites sizes a confidential-computing migration.")
    recommendation = ("Before planning a move to Confidential VM: bring Gen1 VMs to Gen2 (the fix: refit's Trusted Launch "
        'plan converts the OS disk MBR -> GPT), move disks to Premium SSD (deallocated), and keep '
        'CMK-encrypted OS disks within the limit.')
    fix = Fix(
        az="refit plan --resource $VM_ID --set properties.securityProfile.securityType=TrustedLaunch "
           "--out plan.json\n"
           "refit apply plan.json --yes\n"
           "az vm deallocate -g $RG -n $VM\n"
           "az disk update -g $RG -n $OS_DISK --sku Premium_LRS\n"
           "az vm start -g $RG -n $VM",
        arm='"osDisk": {"managedDisk": {"storageAccountType": "Premium_LRS"}}',
        terraform='os_disk {\n  storage_account_type = "Premium_LRS"\n}')
    notes = "A Flexible scale set's instances are left to the scale-set checks: they run the set's model."
    source = "reference rules U8, S12; issue 5 (readiness: Gen1, OS disk > 128 GB with CMK, non-Premium disks)"

    def evaluate(self, ev: Eval):
        if ev.get("properties.virtualMachineScaleSet.id"):
            return None  # a Flexible scale set's instance runs its set's model: the set's checks judge it
        if (ev.get("properties.securityProfile.securityType") or "") == "ConfidentialVM":
            return None
        world = ev.ctx.world
        problems = []
        disk = world.get(ev.get(f"{OS_DISK}.managedDisk.id"))
        gen = ev.of(disk, "properties.hyperVGeneration") if disk else None
        if gen is None:
            ref = ev.get("properties.storageProfile.imageReference")
            if ref:
                try:
                    gen = images.facts(world, ref, ev.doc.get("location") or "").hyper_v_generation
                except ArmError:
                    gen = None
        if gen == "V1":
            problems.append("Gen1 (confidential VMs are Gen2 only)")
        size = ev.of(disk, "properties.diskSizeGB") if disk else None
        size = size if size is not None else ev.get(f"{OS_DISK}.diskSizeGB")
        cmk = (ev.of(disk, "properties.encryption.diskEncryptionSetId") if disk else None) or \
            ev.get(f"{OS_DISK}.managedDisk.diskEncryptionSet.id")
        if cmk and size and int(size) > df.CVM_MAX_CMK_OS_DISK_GB:
            problems.append(f"OS disk of {size} GB with a customer-managed key (at most {df.CVM_MAX_CMK_OS_DISK_GB} GB)")
        skus = [(ev.of(disk, "sku.name") if disk else None) or ev.get(f"{OS_DISK}.managedDisk.storageAccountType")]
        for dd in ev.get("properties.storageProfile.dataDisks") or []:
            ddoc = world.get((dd.get("managedDisk") or {}).get("id"))
            skus.append((ddoc or {}).get("sku", {}).get("name") or (dd.get("managedDisk") or {}).get("storageAccountType"))
        bad = sorted({s for s in skus if s and not s.startswith(df.CVM_DISK_SKU_PREFIXES)})
        if bad:
            problems.append(f"non-Premium disks ({', '.join(bad)})")
        if problems:
            return self.failed("not ready for Confidential VM: " + "; ".join(problems))
        return self.ok()


check = register(ConfidentialVmReadiness())
