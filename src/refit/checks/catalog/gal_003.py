"""RF-GAL-003: locally-redundant replicas in a zoned region."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import gallery as g
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class LrsReplicasInZonedRegion(Check):
    id = "RF-GAL-003"
    title = "Image version replicas not zone-redundant"
    severity = "medium"
    resource_types = (v.IMAGE_VERSION,)
    rationale = (
        "Standard_LRS replicas live in one zone: a zone's storage outage makes the version unavailable for new "
        "instances in every zone of the region. Standard_ZRS replicas survive it.")
    recommendation = ("Use storageAccountType Standard_ZRS in regions with availability zones. A target region's storage "
        'account type cannot be changed: publish a copy of the version on Standard_ZRS, repoint what pins the '
        'old version, then delete it.')
    fix = Fix(
        az="az sig image-version create -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $NEW_VERSION --image-version "
           "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$GAL/images/$DEF/versions/$VERSION "
           "--target-regions \"$REGION=3=Standard_ZRS\"\n"
           "# repoint what pins $VERSION to $NEW_VERSION (RF-GAL-005's fix; the definition's latest "
           "is already $NEW_VERSION), then:\n"
           "az sig image-version delete -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $VERSION",
        arm='"targetRegions": [{"name": "eastus", "storageAccountType": "Standard_ZRS"}]',
        terraform='target_region {\n  name                 = "eastus"\n  storage_account_type = "Standard_ZRS"\n}')
    source = ('APRL 488dcc8b; seed 001 section 3 (storageAccountType); azure-mgmt-compute '
        "TargetRegion.storage_account_type ('This property is not updatable'; rule G30)")
    notes = "Regions without availability zones are skipped."

    def evaluate(self, ev: Eval):
        default = ev.get(f"{g.PP}.storageAccountType") or df.GALLERY_DEFAULT_STORAGE
        bad = []
        for t in g.targets(ev, ev.doc):
            name = t.get("name") or ""
            st = t.get("storageAccountType") or default
            if df.region_has_zones(name) and not str(st).endswith(df.ZONE_REDUNDANT_STORAGE_SUFFIX):
                bad.append(f"{name}: {st}")
        if bad:
            return self.failed(f"locally-redundant replicas in zoned regions ({'; '.join(bad)})")
        return self.ok()


check = register(LrsReplicasInZonedRegion())
