"""RF-GAL-002: fewer than three replicas per region."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import gallery as g
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class TooFewReplicas(Check):
    id = "RF-GAL-002"
    title = "Image version with fewer than three replicas in a region"
    severity = "medium"
    resource_types = (v.IMAGE_VERSION,)
    rationale = (
        "Each replica serves a slice of concurrent instance creates (about 20 per replica). One replica "
        "throttles mass scale-out and reimage, and is a single point of failure for new instances in the region.")
    recommendation = ('Use regionalReplicaCount 3 or more in every target region of production versions (updatable in '
        'place; list every target region with its current storage account type, which cannot change).')
    fix = Fix(
        az="az sig image-version update -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $VERSION --target-regions \"$REGION=3=$STORAGE\"",
        arm='"targetRegions": [{"name": "eastus", "regionalReplicaCount": 3}]',
        terraform="target_region {\n  name                   = \"eastus\"\n  regional_replica_count = 3\n}")
    source = ('APRL b49a39fd; seed 001 section 3 (replicas table); azure-mgmt-compute '
        "TargetRegion.regional_replica_count ('This property is updatable')")

    def evaluate(self, ev: Eval):
        default = ev.get(f"{g.PP}.replicaCount") or 1
        low = []
        for t in g.targets(ev, ev.doc):
            n = t.get("regionalReplicaCount") or default
            if int(n) < df.GALLERY_MIN_REPLICAS:
                low.append(f"{t.get('name')}: {n}")
        if low:
            return self.failed(f"fewer than {df.GALLERY_MIN_REPLICAS} replicas ({'; '.join(low)})")
        return self.ok()


check = register(TooFewReplicas())
