"""RF-VMSS-010: a Flexible scale set without max fault-domain spreading."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class FlexNotMaxSpreading(Check):
    id = "RF-VMSS-010"
    title = "Flexible scale set without max fault-domain spreading"
    severity = "medium"
    resource_types = (v.VMSS,)
    rationale = (
        "platformFaultDomainCount = 1 asks Azure to spread instances across as many fault domains as the region "
        "allows (max spreading): the broadest availability, and no allocation failures when a fixed FD count "
        "cannot be met. It is set at creation and cannot be changed: the wrong value means recreating the set.")
    recommendation = ('Create Flexible scale sets with platformFaultDomainCount 1 (a fixed 2-3 only for quorum systems that '
        'need a known FD count: suppress the finding with that justification). The count is fixed at '
        'creation, so the fix creates a new set with max spreading, then the traffic moves and the old set is '
        'deleted.')
    fix = Fix(
        az="az vmss create -g $RG -n $VMSS-v2 -l $LOCATION --orchestration-mode Flexible "
           "--platform-fault-domain-count 1 --image $IMAGE --vm-sku $SIZE --instance-count $CAPACITY "
           "--subnet $SUBNET_ID --lb \"\" --security-type TrustedLaunch --enable-secure-boot true "
           "--enable-vtpm true --upgrade-policy-mode Manual --admin-username azureuser "
           "--generate-ssh-keys\n"
           "# move the traffic to $VMSS-v2 (load balancer pool, DNS, autoscale target), then:\n"
           "az vmss delete -g $RG -n $VMSS",
        arm='"platformFaultDomainCount": 1',
        terraform="platform_fault_domain_count = 1")
    source = ('seed 001 section 1 (fault-domain table), troubleshooting row 11; reference rules M2, M6; '
        'VirtualMachineScaleSetUpdate has no platformFaultDomainCount '
        '(learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/update); Azure answers '
        'PropertyChangeNotAllowed')

    def evaluate(self, ev: Eval):
        if not h.is_flex(ev):
            return None
        fd = ev.get("properties.platformFaultDomainCount")
        fd = df.DEFAULT_FAULT_DOMAINS["flexible"] if fd is None else int(fd)
        if fd != df.MAX_SPREADING_FAULT_DOMAINS:
            return self.failed(f"platformFaultDomainCount is {fd} (fixed spreading); max spreading is 1 and the "
                               "value cannot be changed after creation")
        return self.ok()


check = register(FlexNotMaxSpreading())
