"""RF-VMSS-014: a scale set not on Trusted Launch."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import images


class ScaleSetNotTrustedLaunch(Check):
    id = "RF-VMSS-014"
    title = "Scale set not on Trusted Launch"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "Trusted Launch (Gen2, Secure Boot, vTPM) protects the boot chain against rootkits and lets the boot be "
        "measured. A scale set on a Standard image cannot simply switch: the image reference and the security "
        "type must change in one update, through a TrustedLaunchSupported gallery definition (seed 000). "
        "`refit plan` finds that path.")
    recommendation = ('A set on a Gen2 image moves in place: `refit plan --resource <id> --set '
        'properties.virtualMachineProfile.securityProfile.securityType=TrustedLaunch` (with `--set '
        'properties.virtualMachineProfile.storageProfile.imageReference.id=<a TrustedLaunchSupported '
        'definition>` when the image cannot boot Trusted Launch). A set on a Gen1 image cannot: its Hyper-V '
        'generation never changes (rule V6), so the fix creates a Trusted Launch set on a Gen2 image, then '
        'the traffic moves and the old set is deleted.')
    fix = Fix(
        az="az vmss create -g $RG -n $VMSS-v2 -l $LOCATION --orchestration-mode Flexible "
           "--platform-fault-domain-count 1 --zones 1 2 3 --image $TL_IMAGE --vm-sku $SIZE "
           "--instance-count $CAPACITY --subnet $SUBNET_ID --lb \"\" --security-type TrustedLaunch "
           "--enable-secure-boot true --enable-vtpm true --upgrade-policy-mode Manual "
           "--admin-username azureuser --generate-ssh-keys\n"
           "# move the traffic to $VMSS-v2 (load balancer pool, DNS, autoscale target), then:\n"
           "az vmss delete -g $RG -n $VMSS",
        arm='"securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, '
            '"vTpmEnabled": true}}',
        terraform="secure_boot_enabled = true\nvtpm_enabled        = true")
    source = ('seed 001 security notes; seed 000; reference section 1e (V1-V5); APRL 1c5e1e58; rule V6 (a scale '
        "set's new image keeps its Hyper-V generation)")

    def evaluate(self, ev: Eval):
        sec = ev.get(f"{h.VMP}.securityProfile.securityType") or "Standard"
        if sec != "Standard":
            return self.ok()
        ref = ev.get(f"{h.VMP}.storageProfile.imageReference")
        try:
            image = images.facts(ev.ctx.world, ref, ev.doc.get("location") or "") if ref else None
        except ArmError:
            image = None
        if image is not None and image.hyper_v_generation == "V1":
            return self.failed("security type Standard on a Gen1 image: a scale set cannot change its Hyper-V "
                               "generation (rule V6), so it moves to Trusted Launch as a new set on a Gen2 image")
        plan = (f"refit plan --resource {ev.id} --set properties.virtualMachineProfile.securityProfile.securityType="
                "TrustedLaunch")
        if image is not None and image.kind == "managed-image":
            return self.failed("security type Standard on a managed image, which cannot boot Trusted Launch: publish "
                               "it to a TrustedLaunchSupported gallery definition (RF-IMG-001) and plan the move: "
                               f"{plan} --set properties.virtualMachineProfile.storageProfile.imageReference.id="
                               "<definition id>")
        return self.failed(f"security type Standard; plan the move: {plan}")


check = register(ScaleSetNotTrustedLaunch())
