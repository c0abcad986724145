"""RF-VMSS-001: automatic OS image upgrade is enabled but one of its prerequisites is missing."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import facts


class AutoOsUpgradeCannotRun(Check):
    id = "RF-VMSS-001"
    title = "Automatic OS upgrade is enabled but cannot run"
    severity = "high"
    resource_types = (v.VMSS,)
    rationale = (
        "Automatic OS image upgrade keys off the image's *latest* version and gates every batch on the health "
        "signal. With the image pinned to a version, with no Application Health extension on a Flexible scale "
        "set, with instances whose health extension differs from the model, or with maxSurge on Flexible "
        "orchestration, the feature is on and silently does nothing: new image versions are published and "
        "never reach the fleet.")
    recommendation = (
        "Reference the gallery image definition without a version (or a platform image with version 'latest'), "
        "add the Application Health extension to the model and roll it to every instance, and remove maxSurge "
        "on Flexible scale sets.")
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --set "
           "virtualMachineProfile.storageProfile.imageReference.id=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$GAL/images/$DEF\n"
           "az vmss extension set -g $RG --vmss-name $VMSS --name ApplicationHealthLinux --publisher "
           "Microsoft.ManagedServices --version 2.0 --settings "
           "'{\"protocol\":\"http\",\"port\":8080,\"requestPath\":\"/healthz\",\"gracePeriod\":900}'\n"
           "az vmss update-instances -g $RG -n $VMSS --instance-ids '*'",
        arm='"imageReference": {"id": "[resourceId(\'Microsoft.Compute/galleries/images\', \'galProd\', \'app\')]"},\n'
            '"upgradePolicy": {"mode": "Rolling", "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": true},\n'
            '                  "rollingUpgradePolicy": {"maxSurge": false}}',
        terraform='source_image_id = azurerm_shared_image.app.id   # the definition, not a version\n'
                  'automatic_os_upgrade_policy {\n  automatic_os_upgrade_enabled = true\n'
                  '  disable_automatic_rollback   = false\n}\nextension {\n  name = "health"\n'
                  '  publisher = "Microsoft.ManagedServices"\n  type = "ApplicationHealthLinux"\n'
                  '  type_handler_version = "2.0"\n  settings = jsonencode({ protocol = "http", port = 8080, '
                  'requestPath = "/healthz" })\n}')
    source = ("seed 001 troubleshooting rows 3 and 5, section 4 (prerequisites table); reference rules H3, H4, H7; "
              "https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-upgrade")
    notes = ("Azure rejects some of these outright (a pinned version with automatic OS upgrade: rule H4; no health "
             "source at all: H3); the doctor reports them in templates and plans before the deployment fails. "
             "The extension-version comparison needs the scale set's instances (Flexible: VMs with "
             "`virtualMachineScaleSet.id`) and their extensions in the input.")

    def evaluate(self, ev: Eval):
        if not h.auto_os(ev):
            return None
        problems = []
        ref = ev.get(h.IMAGE_ID) or {}
        image_id = ref.get("id") if isinstance(ref, dict) else None
        if image_id:
            kind = h.image_kind(image_id)
            if kind in ("version", "latest-keyword"):
                problems.append(f"the image reference pins a gallery version ({h.short(image_id)}); reference the "
                                "definition without a version so upgrades track latest")
            elif kind == "managed-image":
                problems.append(f"the image is a managed image ({h.short(image_id)}), which never gets new "
                                "versions; publish it to a Compute Gallery definition")
        elif (isinstance(ref, dict) and ref.get("publisher")
              and str(ref.get("version") or "").lower() != "latest"):
            problems.append(f"the platform image version is '{ref.get('version')}', not 'latest'")
        if h.is_flex(ev):
            exts = h.health_extensions(ev)
            if not exts:
                problems.append("no Application Health extension: on Flexible orchestration it is the only health "
                                "source automatic OS upgrade uses (an LB probe does not count)")
            else:
                model = exts[0].get("properties", {}).get("typeHandlerVersion")
                wanted = h.major_minor(model)
                odd = []
                for vm in ev.ctx.members_by_vmss.get(id_key(ev.id), []):
                    vm_exts = [e for e in ev.ctx.extensions(vm)
                               if facts.is_health_extension(ev.of(e, "properties.type"))]
                    if not vm_exts:
                        odd.append(f"{vm['name']} (none)")
                        continue
                    ver = ev.of(vm_exts[0], "properties.typeHandlerVersion")
                    if h.major_minor(ver) != wanted:
                        odd.append(f"{vm['name']} ({ver})")
                if odd:
                    problems.append(f"instances whose Application Health extension differs from the model's "
                                    f"{model}: {', '.join(sorted(odd))}")
            if ev.get(f"{h.ROLLING}.maxSurge"):
                problems.append("rollingUpgradePolicy.maxSurge is set, which automatic OS upgrade on Flexible "
                                "orchestration does not support")
        elif not h.health_sources(ev):
            problems.append("no health source (neither a load balancer probe nor the Application Health extension)")
        if problems:
            return self.failed("automatic OS upgrade will not run: " + "; ".join(problems))
        return self.ok()


check = register(AutoOsUpgradeCannotRun())
