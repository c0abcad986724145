"""RF-VMSS-004: repair / health grace periods shorter than boot plus warm-up."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df
from refit.platform.rules.facts import iso_minutes


class GraceShorterThanBoot(Check):
    id = "RF-VMSS-004"
    title = "Grace period shorter than boot plus warm-up"
    severity = "high"
    resource_types = (v.VMSS,)
    rationale = (
        "Automatic instance repairs wait `automaticRepairsPolicy.gracePeriod`, and the Application Health "
        "extension waits its `gracePeriod`, before judging an instance. Shorter than the time an instance takes "
        "to boot and warm up, and a new instance is judged unhealthy before it is ready: repairs replace it "
        "forever, rolling upgrades count it as failed.")
    recommendation = ("Raise both grace periods above boot + warm-up (the doctor's `--boot-budget`, default 10m); "
                      "measure it on a real instance.")
    fix = Fix(
        az="az vmss update -g $RG -n $VMSS --enable-automatic-repairs true "
           "--automatic-repairs-grace-period 30\n"
           "az vmss extension set -g $RG --vmss-name $VMSS --name ApplicationHealthLinux --publisher "
           "Microsoft.ManagedServices --version 2.0 --settings "
           "'{\"protocol\":\"http\",\"port\":8080,\"requestPath\":\"/healthz\",\"gracePeriod\":900}'\n"
           "az vmss update-instances -g $RG -n $VMSS --instance-ids '*'",
        arm='"automaticRepairsPolicy": {"enabled": true, "gracePeriod": "PT30M"}',
        terraform='automatic_instance_repair {\n  enabled      = true\n  grace_period = "PT30M"\n}')
    source = "seed 001 troubleshooting row 7 and section 5 (extension settings); reference rule 4b (PT10M..PT90M)"

    def evaluate(self, ev: Eval):
        budget = ev.ctx.options.boot_budget_minutes
        problems = []
        applies = False
        if h.repairs_enabled(ev):
            applies = True
            g = ev.get("properties.automaticRepairsPolicy.gracePeriod") or df.AUTOMATIC_REPAIRS_GRACE_DEFAULT
            m = iso_minutes(g)
            if m is not None and m < budget:
                problems.append(f"automatic repairs grace period {g} ({m:g} min)")
        for e in h.health_extensions(ev):
            applies = True
            s = h.ext_settings(e)
            secs = s.get("gracePeriod", df.HEALTH_EXTENSION_GRACE_DEFAULT_SECONDS)
            try:
                mins = float(secs) / 60
            except (TypeError, ValueError):
                continue
            if mins < budget:
                problems.append(f"Application Health extension gracePeriod {secs} s ({mins:g} min)")
        if not applies:
            return None
        if problems:
            return self.failed(f"shorter than the boot + warm-up budget of {budget:g} min: " + "; ".join(problems)
                               + " - instances are judged before they are ready")
        return self.ok()


check = register(GraceShorterThanBoot())
