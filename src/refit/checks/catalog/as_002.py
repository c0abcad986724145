"""RF-AS-002: an autoscale cooldown shorter than boot plus warm-up."""

from __future__ import annotations

from refit.checks import autoscale as a
from refit.checks.context import AUTOSCALE
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules.facts import iso_minutes


class CooldownShorterThanBoot(Check):
    id = "RF-AS-002"
    title = "Autoscale cooldown shorter than boot plus warm-up"
    severity = "medium"
    resource_types = (AUTOSCALE,)
    rationale = (
        "The cooldown is how long autoscale waits before acting again. Shorter than an instance takes to boot "
        "and warm up, and the metric still reads high while the new instances start: autoscale adds more, "
        "overshooting, then scales in what it just added.")
    recommendation = ("Set every scale-out cooldown above boot + warm-up (the doctor's `--boot-budget`). A rule's cooldown "
        "is changed by replacing the rule: the fix replaces the default profile's rules with a pair that "
        'cools down 15 minutes (`az monitor autoscale rule list` first: add back the rules on other metrics).')
    fix = Fix(
        az="az monitor autoscale rule delete -g $RG --autoscale-name $AS --index '*'\n"
           "az monitor autoscale rule create -g $RG --autoscale-name $AS --condition \"Percentage CPU "
           "> 70 avg 5m\" --scale out 1 --cooldown 15\n"
           "az monitor autoscale rule create -g $RG --autoscale-name $AS --condition \"Percentage CPU "
           "< 30 avg 10m\" --scale in 1 --cooldown 15",
        arm='"scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "2", "cooldown": "PT15M"}',
        terraform='scale_action {\n  direction = "Increase"\n  type      = "ChangeCount"\n  value     = 2\n'
                  '  cooldown  = "PT15M"\n}')
    source = "seed 001 section 6 (Cooldown: 'Must exceed boot + warm-up')"

    def evaluate(self, ev: Eval):
        rules = [(p, r) for p, r in a.rules(ev) if a.direction(r) == "Increase"]
        if not rules:
            return None
        budget = ev.ctx.options.boot_budget_minutes
        short = []
        for profile, r in rules:
            cd = (r.get("scaleAction") or {}).get("cooldown")
            m = iso_minutes(cd)
            if m is None or m < budget:
                metric = (r.get("metricTrigger") or {}).get("metricName")
                short.append(f"{metric} in profile {profile}: cooldown {cd}")
        if short:
            return self.failed(f"scale-out cooldown shorter than the boot + warm-up budget of {budget:g} min: "
                               + "; ".join(short))
        return self.ok()


check = register(CooldownShorterThanBoot())
