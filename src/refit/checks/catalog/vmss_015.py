"""RF-VMSS-015: Application Health probe settings that cannot mean "can serve"."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class HealthProbeIncomplete(Check):
    id = "RF-VMSS-015"
    title = "Application Health probe settings incomplete"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "The Application Health extension probes what its settings say: an http/https probe needs the "
        "requestPath of a real readiness route, a tcp probe a port. A probe without them reports Unhealthy for "
        "an instance that works (or probes the wrong thing), which halts rollouts and drives repairs.")
    recommendation = ("Give http/https probes a requestPath (a route that returns a clean 200 only when the "
                      "instance can serve) and tcp probes a port.")
    fix = Fix(
        az="az vmss extension set -g $RG --vmss-name $VMSS --name ApplicationHealthLinux --publisher "
           "Microsoft.ManagedServices --version 2.0 --settings "
           "'{\"protocol\":\"http\",\"port\":8080,\"requestPath\":\"/ready\",\"gracePeriod\":900}'\n"
           "az vmss update-instances -g $RG -n $VMSS --instance-ids '*'",
        arm='"settings": {"protocol": "http", "port": 8080, "requestPath": "/ready"}',
        terraform='settings = jsonencode({ protocol = "http", port = 8080, requestPath = "/ready" })')
    source = "seed 001 troubleshooting row 8, section 5 (probe contract and settings tables)"

    def evaluate(self, ev: Eval):
        exts = h.health_extensions(ev)
        if not exts:
            return None
        problems = []
        for e in exts:
            s = h.ext_settings(e)
            proto = str(s.get("protocol") or "").lower()
            name = e.get("name") or "health extension"
            if proto not in df.HEALTH_PROBE_NEEDS:
                problems.append(f"{name}: protocol '{s.get('protocol')}' is not http, https or tcp")
                continue
            missing = [k for k in df.HEALTH_PROBE_NEEDS[proto] if not s.get(k)]
            if missing:
                problems.append(f"{name}: a {proto} probe without {', '.join(missing)}")
        if problems:
            return self.failed("; ".join(problems))
        return self.ok()


check = register(HealthProbeIncomplete())
