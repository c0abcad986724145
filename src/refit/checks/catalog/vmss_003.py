"""RF-VMSS-003: Rolling upgrade mode without a health source the orchestrator can use."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class RollingWithoutHealth(Check):
    id = "RF-VMSS-003"
    title = "Rolling upgrade mode without a usable health source"
    severity = "high"
    resource_types = (v.VMSS,)
    inputs = ("arm", "terraform")
    rationale = (
        "A rolling upgrade is only as safe as its health signal: the orchestrator waits for each batch to report "
        "healthy before the next. Uniform scale sets can use a load balancer probe or the Application Health "
        "extension; Flexible scale sets only the extension (there is no load-balancer-probe fallback). Without "
        "it, batches are not gated and a bad model rolls through the fleet.")
    recommendation = ("Add the Application Health extension (on Flexible, the only option), confirm it reports "
                      "Healthy, then switch to Rolling.")
    fix = Fix(
        az="az vmss extension set -g $RG --vmss-name $VMSS --name ApplicationHealthLinux --publisher "
           "Microsoft.ManagedServices --version 2.0 --settings "
           "'{\"protocol\":\"http\",\"port\":8080,\"requestPath\":\"/healthz\",\"gracePeriod\":900}'\n"
           "az vmss update-instances -g $RG -n $VMSS --instance-ids '*'\n"
           "# once the instances' Application Health extension reports them Healthy:\n"
           "az vmss update -g $RG -n $VMSS --set upgradePolicy.mode=Rolling "
           "upgradePolicy.rollingUpgradePolicy='{\"maxBatchInstancePercent\":20,\"maxUnhealthyInstancePercent\":20,\"maxUnhealthyUpgradedInstancePercent\":20,\"pauseTimeBetweenBatches\":\"PT2M\",\"rollbackFailedInstancesOnPolicyBreach\":true}'",
        arm='"extensionProfile": {"extensions": [{"name": "health", "properties": {"publisher": '
            '"Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "typeHandlerVersion": "2.0", '
            '"settings": {"protocol": "http", "port": 8080, "requestPath": "/healthz"}}}]}',
        terraform='extension {\n  name                 = "health"\n  publisher            = '
                  '"Microsoft.ManagedServices"\n  type                 = "ApplicationHealthLinux"\n'
                  '  type_handler_version = "2.0"\n  settings = jsonencode({ protocol = "http", port = 8080, '
                  'requestPath = "/healthz" })\n}')
    source = "seed 001 section 5; reference rules H1, M14; acd virtual-machine-scale-sets-configure-rolling-upgrades"
    notes = ("A pre-deployment check: Azure rejects Rolling mode without a health source it can use (rule H1, "
             "and on Flexible orchestration an LB probe alone), so live state cannot hold it. The doctor reports it "
             "in templates and plans before the deployment fails.")

    def evaluate(self, ev: Eval):
        if h.upgrade_mode(ev).lower() != "rolling":
            return None
        if h.is_flex(ev):
            if not h.health_extensions(ev):
                return self.failed("Rolling mode on a Flexible scale set without the Application Health extension "
                                   "(a load balancer probe is not used by Flexible orchestration)")
        elif not h.health_sources(ev):
            return self.failed("Rolling mode without a health probe or the Application Health extension")
        return self.ok()


check = register(RollingWithoutHealth())
