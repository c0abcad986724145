"""VM extensions whose guest work fails: the extension's operation fails with what the guest agent reported.

EXT1: the AADLoginForWindows extension cannot join the VM to Microsoft Entra ID while a device object with the VM's
hostname exists that is not the VM's (seed 002: a VM recreated with the same hostname; the stale device must be
deleted first). Azure wraps every handler failure the same way: code VMExtensionProvisioningError, "VM has reported
a failure when processing extension '<name>' (publisher '<publisher>' and type '<type>'). Error message: '<the
handler's message>'. More information on troubleshooting is available at <link>." (the operation status in
kubernetes-sigs/cluster-api-provider-azure#5367, 2025; the older form without publisher and type in
Azure/custom-script-extension-linux#107). The handler's own message is INFERRED: the seed says the extension logs
name the stale device's object id ("Confirm it matches the Object ID referenced in the extension logs").
"""

from __future__ import annotations

from refit.platform.rules.common import VM_EXTENSION
from refit.platform.rules.registry import OPERATION, ErrorTemplate, refusal

JOIN_FAILED = ("Microsoft Entra join failed: a device object named '{hostname}' already exists in the tenant "
               "(object id {device}) and is not this VM's. Delete the stale device (Microsoft Graph DELETE "
               "/devices/{device}), then run the extension again.")

refusal("EXT1", VM_EXTENSION, "AADLoginForWindows cannot join a hostname a stale Entra device still holds",
        "seed 002 (Entra ID login via Bastion fails after VM recreation: hostname collision with the old device "
        "object); kubernetes-sigs/cluster-api-provider-azure#5367 (VMExtensionProvisioningError's wording); "
        "https://learn.microsoft.com/entra/identity/devices/howto-vm-sign-in-azure-ad-windows (the extension "
        "joins the VM to Microsoft Entra ID)",
        doc="""Azure accepts the extension's PUT and its operation fails once the guest has tried the join: a
        device object named the VM's hostname exists in Entra ID and is not this VM's (the VM was recreated with
        the same name, and deleting a VM never deletes its device). The extension's instance view reports the
        failure, the VM's instance view shows it not joined (dsregcmd: AzureAdJoined NO), and Entra ID sign-in
        drops the session. Delete the stale device and run the extension again (a new PUT, or a new
        forceUpdateTag).""",
        errors=(ErrorTemplate(409, "VMExtensionProvisioningError",
                              "VM has reported a failure when processing extension '{name}' (publisher '{publisher}' "
                              "and type '{type}'). Error message: '" + JOIN_FAILED + "'. More information on "
                              "troubleshooting is available at https://aka.ms/vmextensionwindowstroubleshoot."),),
        operations=("create", "update"), asynchronous=True, stage=OPERATION, confidence="L")
