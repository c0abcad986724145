"""RF-RES-001: an image version critical VMs run is not replicated to the DR region of the regions they run in."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.checks import gallery as g
from refit.checks import resiliency as res
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


def _runner(ev: Eval, consumer: dict[str, Any]) -> dict[str, Any]:
    """The VM or scale set a consumer stands for: an OS disk counts as the VM it is attached to."""
    owner = consumer.get("managedBy")
    if owner and str(consumer.get("type") or "").lower() == v.DISK.lower():
        return ev.ctx.world.get(owner) or consumer
    return consumer


class NotReplicatedToDrRegion(Check):
    id = "RF-RES-001"
    title = "Image version of critical VMs not replicated to the DR region"
    severity = "medium"
    resource_types = (v.IMAGE_VERSION,)
    rationale = (
        "Failing over to the DR region means creating (or scaling out) the same VMs there from the same image. A "
        "gallery version exists in a region only once it has replicated there: replicating tens of GB after the "
        "primary region is lost adds its duration to the recovery time, or fails with it (the gallery's source "
        "region may be the one that is down). The golden image belongs in the DR region before the disaster "
        "(seed 002, layer 5 'Master Image': built once, replicated from West Europe to East US). The doctor "
        "checks the versions the critical VMs (--critical-tag) run, pinned or through latest.")
    recommendation = ("Add the DR region to the version's targetRegions (regionalReplicaCount 3; Standard_ZRS where "
                      "the DR region has zones) and publish every new version there too.")
    fix = Fix(
        az="az sig image-version update -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $VERSION --add publishingProfile.targetRegions \"name=$DR_REGION\" "
           "regionalReplicaCount=3 storageAccountType=$DR_STORAGE",
        arm='"targetRegions": [{"name": "eastus", "regionalReplicaCount": 3, "storageAccountType": "Standard_ZRS"},\n'
            '                  {"name": "westus", "regionalReplicaCount": 3, "storageAccountType": "Standard_LRS"}]',
        terraform='target_region {\n  name                   = "westus"\n  regional_replica_count = 3\n'
                  '  storage_account_type   = "Standard_LRS"\n}')
    source = ("seed 002 (six layers: 5 Master Image, 6 warm standby); APRL b14ee8ed (gallery: replicas in a "
              "secondary region); region pairs: learn.microsoft.com/azure/reliability/cross-region-replication-azure; "
              "reference rules G13, G14")
    notes = ("The DR region is the consumer's `refit-dr-region` tag, else its region's pair; a consumer in a "
             "nonpaired region without the tag is not judged. Versions only non-critical VMs use give no result.")

    def evaluate(self, ev: Eval):
        users = [(d, r) for d, _, r, _ in g.consumers(ev, ev.doc) if ev.ctx.is_critical(_runner(ev, d))]
        wanted: dict[str, dict[str, set[str]]] = {}  # DR region -> primary region -> who
        for d, region in users:
            dr = res.dr_region(ev, _runner(ev, d))
            if dr and dr != region:
                wanted.setdefault(dr, {}).setdefault(region, set()).add(g.consumer_name(d))
        if not wanted:
            return None
        targets = g.target_names(ev, ev.doc)
        missing = []
        for dr in sorted(wanted):
            if dr not in targets:
                why = "; ".join(f"{r}: {', '.join(sorted(who))}" for r, who in sorted(wanted[dr].items()))
                missing.append(f"{dr} (DR region of {why})")
        if missing:
            return self.failed("critical VMs run it, but it is not replicated to " + ", ".join(missing))
        return self.ok()


check = register(NotReplicatedToDrRegion())
