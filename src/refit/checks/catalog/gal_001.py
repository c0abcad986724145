"""RF-GAL-001: an image version not replicated to a region where a consumer runs."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import gallery as g
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class NotReplicatedWhereUsed(Check):
    id = "RF-GAL-001"
    title = "Image version not replicated where it is used"
    severity = "high"
    resource_types = (v.IMAGE_VERSION,)
    rationale = (
        "A scale set or VM in a region only sees a version once it has finished replicating there. A consumer "
        "that tracks latest in a region the newest version does not target keeps the old image forever; a "
        "consumer pinned to a version that is not (or no longer) in its region fails every scale-out and "
        "reimage with GalleryImageNotFound.")
    recommendation = "Add every consuming region to the version's targetRegions and wait for replication to complete."
    fix = Fix(
        az="az sig image-version update -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $VERSION --add publishingProfile.targetRegions \"name=$REGION\" "
           "regionalReplicaCount=3 storageAccountType=Standard_ZRS",
        arm='"targetRegions": [{"name": "eastus", "regionalReplicaCount": 3, "storageAccountType": "Standard_ZRS"},\n'
            '                  {"name": "westus2", "regionalReplicaCount": 3, "storageAccountType": "Standard_ZRS"}]',
        terraform='target_region {\n  name                   = "westus2"\n  regional_replica_count = 3\n'
                  '  storage_account_type   = "Standard_ZRS"\n}')
    source = "seed 001 troubleshooting row 2, section 3; reference rules G13, G14, G15"
    notes = "Live input also reports regions that are targeted but still replicating (replicationStatus)."

    def evaluate(self, ev: Eval):
        users = g.consumers(ev, ev.doc)
        if not users:
            return None
        names = g.target_names(ev, ev.doc)
        v_view = v.ImageVersion(ev.doc)
        has_status = bool(ev.get("properties.replicationStatus.summary"))
        problems = []
        for region in sorted({r for _, _, r, _ in users}):
            who = sorted({g.consumer_name(d) for d, _, r, _ in users if r == region})
            if df.normalize_region(region) not in names:
                problems.append(f"{region} (used by {', '.join(who)}) is not a target region")
            elif has_status and v_view.regional_state(region) not in (None, "Completed"):
                problems.append(f"{region} (used by {', '.join(who)}) is still {v_view.regional_state(region)}")
        if problems:
            return self.failed("not available where it is used: " + "; ".join(problems))
        return self.ok()


check = register(NotReplicatedWhereUsed())
