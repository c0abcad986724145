"""RF-VM-004: a stale Entra device holds the hostname of a VM that signs in with Entra ID (seed 002)."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks.model import Check, Eval, Fix, Unresolved
from refit.checks.registry import register
from refit.platform import directory
from refit.platform.effects.extensions import is_aad_login


class StaleEntraDevice(Check):
    id = "RF-VM-004"
    title = "Stale Entra device holds the VM's hostname"
    severity = "high"
    resource_types = (v.VM,)
    inputs = ("live",)
    rationale = (
        "A Windows VM with the AADLoginForWindows extension joins Microsoft Entra ID as a device object named its "
        "hostname. Deleting the VM leaves that device behind, and a VM recreated with the same hostname cannot join "
        "while it exists: the extension fails, dsregcmd shows the VM not joined, and an Entra ID sign-in (through "
        "Bastion or RDP) authenticates and then drops the session (seed 002).")
    recommendation = (
        "Delete the device object registered before this VM existed (Microsoft Graph DELETE /devices/{id}; it needs "
        "Device.ReadWrite.All or the Cloud Device Administrator role), then run AADLoginForWindows again. Deleting the "
        "device changes nothing on the VM. `refit plan`'s recreate path of such a VM includes that deletion.")
    fix = Fix(
        az='az rest --method delete --url "$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)'
           'v1.0/devices/$DEVICE_ID"\n'
           "az vm extension set -g $RG --vm-name $VM --name AADLoginForWindows --publisher "
           "Microsoft.Azure.ActiveDirectory --version 2.0 --force-update",
        arm='{"type": "Microsoft.Compute/virtualMachines/extensions", "name": "[concat(parameters(\'vmName\'), '
            '\'/AADLoginForWindows\')]", "properties": {"publisher": "Microsoft.Azure.ActiveDirectory", "type": '
            '"AADLoginForWindows", "typeHandlerVersion": "2.0", "forceUpdateTag": "<a new value, once the stale '
            'device is deleted with Microsoft Graph>"}}',
        terraform="# the directory is not in Terraform's state: delete the device with Microsoft Graph (as the az fix), "
                  "then re-run the extension:\n"
                  "terraform apply -replace=azurerm_virtual_machine_extension.aad_login")
    source = ("seed 002 (Entra ID login via Azure Bastion fails after VM recreation); "
              "https://learn.microsoft.com/entra/identity/devices/howto-vm-sign-in-azure-ad-windows; "
              "https://learn.microsoft.com/graph/api/device-list; https://learn.microsoft.com/graph/api/device-delete "
              "(permissions); platform rule EXT1")
    notes = ("Live state only: device objects live in the directory (Microsoft Graph), which Resource Graph, templates "
             "and Terraform plans do not show; the live source reads them with the same credential (Device.Read.All). "
             "A device is the VM's own when it was registered at or after the VM was created (properties.timeCreated); "
             "Graph names no VM on a device. When Graph refuses the credential the result is unknown.")

    def evaluate(self, ev: Eval):
        if str(ev.get("properties.storageProfile.osDisk.osType") or "").lower() != "windows":
            return None
        if not any(is_aad_login(e) for e in ev.ctx.extensions(ev.doc)):
            return None  # no Entra ID sign-in: the VM never joins
        devices = ev.ctx.world.devices
        if devices is None:
            raise Unresolved(ev.id, "directory", "Microsoft Graph refused to list devices (Device.Read.All)")
        ev.get("properties.osProfile.computerName")
        ev.get("properties.timeCreated")
        stale = directory.stale_for(devices, ev.doc)
        if not stale:
            return self.ok()
        d = stale[0]
        return self.failed(
            f"hostname {directory.hostname(ev.doc)} is held by Entra device object {d['id']} (deviceId "
            f"{d.get('deviceId')}, registered {d.get('registrationDateTime')}), registered before this VM was created "
            f"({ev.get('properties.timeCreated')}): AADLoginForWindows cannot join it to Entra ID"
            + (f" ({len(stale) - 1} more device(s) hold the name)" if len(stale) > 1 else ""))


check = register(StaleEntraDevice())
