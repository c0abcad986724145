"""RF-AS-001: scale-in and scale-out thresholds that overlap."""

from __future__ import annotations

from refit.checks import autoscale as a
from refit.checks.context import AUTOSCALE
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class ThresholdsOverlap(Check):
    id = "RF-AS-001"
    title = "Autoscale scale-in and scale-out thresholds overlap"
    severity = "medium"
    resource_types = (AUTOSCALE,)
    rationale = (
        "When the scale-in threshold of a metric is at or above its scale-out threshold, one reading can "
        "satisfy both rules: the set scales out, the load per instance drops under the scale-in threshold, it "
        "scales in, and flaps - each cycle booting instances that are removed before they serve.")
    recommendation = ('Leave a wide gap between the thresholds (e.g. out above 70%, in below 30%) on the same metric, with '
        "cooldowns above boot + warm-up. The fix replaces the default profile's rules with such a pair (`az "
        'monitor autoscale rule list` first: add back the rules on other metrics).')
    fix = Fix(
        az="az monitor autoscale rule delete -g $RG --autoscale-name $AS --index '*'\n"
           "az monitor autoscale rule create -g $RG --autoscale-name $AS --condition \"Percentage CPU "
           "> 70 avg 5m\" --scale out 1 --cooldown 15\n"
           "az monitor autoscale rule create -g $RG --autoscale-name $AS --condition \"Percentage CPU "
           "< 30 avg 10m\" --scale in 1 --cooldown 15",
        arm='"metricTrigger": {"metricName": "Percentage CPU", "operator": "LessThan", "threshold": 30, ...}',
        terraform='metric_trigger {\n  metric_name = "Percentage CPU"\n  operator    = "LessThan"\n'
                  '  threshold   = 30\n  ...\n}')
    source = "seed 001 section 6 (rule fields: 'Wide gap avoids oscillation')"

    def evaluate(self, ev: Eval):
        rules = a.rules(ev)
        if not rules:
            return None
        outs: dict[tuple[str, str], list[float]] = {}
        ins: dict[tuple[str, str], list[float]] = {}
        for profile, r in rules:
            t = r.get("metricTrigger") or {}
            key = (profile, str(t.get("metricName") or ""))
            op = str(t.get("operator") or "")
            if a.direction(r) == "Increase" and op in df.SCALE_OUT_OPERATORS:
                outs.setdefault(key, []).append(float(t.get("threshold") or 0))
            elif a.direction(r) == "Decrease" and op in df.SCALE_IN_OPERATORS:
                ins.setdefault(key, []).append(float(t.get("threshold") or 0))
        overlaps = []
        for key, out_t in sorted(outs.items()):
            for in_t in ins.get(key, []):
                if in_t >= min(out_t):
                    overlaps.append(f"{key[1]} in profile {key[0]}: scale out above {min(out_t):g}, "
                                    f"scale in below {in_t:g}")
        if overlaps:
            return self.failed("thresholds overlap, the set will flap: " + "; ".join(overlaps))
        return self.ok()


check = register(ThresholdsOverlap())
