"""RF-VM-003: a Confidential VM on disks that are not Premium SSD (seed 002, confidential VM readiness)."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df

OS_DISK = "properties.storageProfile.osDisk"


class ConfidentialVmDisks(Check):
    id = "RF-VM-003"
    title = "Confidential VM on non-Premium disks"
    severity = "medium"
    resource_types = (v.VM,)
    rationale = (
        "Confidential VMs are run on Premium SSD (or Premium SSD v2) disks: the field report's migration framework "
        "requires it 'for performance and compatibility with confidential disk encryption', for the OS disk and the "
        "data disks alike, and validates it at test migration and cutover. A CVM on Standard HDD or Standard SSD "
        "disks is outside that configuration.")
    recommendation = ("Deallocate the VM, move each of its disks to Premium_LRS (az disk update --sku), and start it "
                      "again; the confidential encryption of the OS disk is kept.")
    fix = Fix(
        az="az vm deallocate -g $RG -n $VM\n"
           "for d in $(az vm show -g $RG -n $VM --query \"[storageProfile.osDisk.name, "
           "storageProfile.dataDisks[].name][]\" -o tsv); do az disk update -g $RG -n $d --sku Premium_LRS -o none; "
           "done\n"
           "az vm start -g $RG -n $VM",
        arm='"osDisk": {"managedDisk": {"storageAccountType": "Premium_LRS", "securityProfile": '
            '{"securityEncryptionType": "DiskWithVMGuestState"}}}',
        terraform='os_disk {\n  storage_account_type     = "Premium_LRS"\n'
                  '  security_encryption_type = "DiskWithVMGuestState"\n}')
    notes = ("Only VMs of security type ConfidentialVM (RF-VM-002 judges the others' readiness). A disk whose "
             "document is not there (a template's implicit OS disk) is judged by the VM's storageAccountType.")
    source = ("seed 002 'Secure Migration and Modernization with Azure Confidential VMs' (5.3 Disk Requirements; "
              "phase 6: 'All OS/data disks for CVMs must be Premium SSD or Premium SSD v2'); "
              "refit.platform.rules.doctor_facts.CVM_DISK_SKU_PREFIXES")

    def evaluate(self, ev: Eval):
        if (ev.get("properties.securityProfile.securityType") or "") != "ConfidentialVM":
            return None
        world = ev.ctx.world
        disks = [(ev.get(f"{OS_DISK}.name"), ev.get(f"{OS_DISK}.managedDisk.id"),
                  ev.get(f"{OS_DISK}.managedDisk.storageAccountType"))]
        for dd in ev.get("properties.storageProfile.dataDisks") or []:
            md = dd.get("managedDisk") or {}
            disks.append((dd.get("name"), md.get("id"), md.get("storageAccountType")))
        bad = []
        for name, disk_id, declared in disks:
            doc = world.get(disk_id) if disk_id else None
            sku = (ev.of(doc, "sku.name") if doc else None) or declared
            if sku and not sku.startswith(df.CVM_DISK_SKU_PREFIXES):
                bad.append(f"{name or (doc or {}).get('name') or disk_id} ({sku})")
        if bad:
            return self.failed("confidential VM on non-Premium disks: " + ", ".join(bad)
                               + "; move them to Premium SSD while the VM is deallocated")
        return self.ok()


check = register(ConfidentialVmDisks())
