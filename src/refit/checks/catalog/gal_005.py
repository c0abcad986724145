"""RF-GAL-005: an end-of-life image version (or definition) still in use."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import gallery as g
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class EndOfLifeInUse(Check):
    id = "RF-GAL-005"
    title = "End-of-life image version in use"
    severity = "medium"
    resource_types = (v.IMAGE_VERSION,)
    rationale = (
        "endOfLifeDate does not block anything: instances keep booting a version past its end of life, with "
        "the unpatched base it was baked on, until someone notices. A consumer still on an end-of-life version "
        "(pinned, or tracking latest whose newest version is end-of-life) needs a newer bake.")
    recommendation = ('Publish a current version and move the consumers to it: a VM gets a new OS disk made from it (the '
        'fix: `refit refresh disks/tag/swap`; a VM keeps the imageReference it was created with, so the '
        'doctor reads the OS disk it runs), a scale set references the definition (tracking latest) and '
        'updates its instances.')
    fix = Fix(
        az="az sig image-version create -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $NEW_VERSION --os-snapshot $SOURCE_ID --target-regions "
           "$LOCATION=3=Standard_ZRS\n"
           "az tag update --resource-id $VM_ID --operation Merge --tags AutoRefresh=true\n"
           "refit refresh disks --vm $VM --image "
           "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$GAL/images/$DEF "
           "--suffix $NEW_VERSION --yes\n"
           "refit refresh tag --vm $VM --suffix $NEW_VERSION --yes\n"
           "refit refresh swap --vm $VM --yes\n"
           "# a scale set: az vmss update -g $RG -n $VMSS --set "
           "virtualMachineProfile.storageProfile.imageReference.id=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$GAL/images/$DEF, "
           "then az vmss update-instances -g $RG -n $VMSS --instance-ids '*'",
        arm='"imageReference": {"id": "[resourceId(\'Microsoft.Compute/galleries/images/versions\', \'galProd\', '
            '\'app\', \'2.0.0\')]"}',
        terraform="source_image_id = azurerm_shared_image_version.v2.id")
    source = ("seed 001 section 3 (endOfLifeDate: informational, doesn't block boot); APRL 83d61669; rule D2 (an OS "
        'disk swap changes only the managed disk id and name)')

    def evaluate(self, ev: Eval):
        eol = g.parse_date(ev.get(f"{g.PP}.endOfLifeDate"))
        defn = ev.ctx.world.get(g.definition_of(ev.id))
        d_eol = g.parse_date(ev.of(defn, "properties.endOfLifeDate")) if defn else None
        today = ev.ctx.options.date
        past = [x for x in (eol, d_eol) if x is not None and x < today]
        if not past:
            return self.ok()
        users = g.consumers(ev, ev.doc)
        if not users:
            return self.ok("end of life, not in use")
        who = ", ".join(sorted({g.consumer_name(d) for d, _, _, _ in users}))
        return self.failed(f"end of life since {min(past).isoformat()} and still used by {who}")


check = register(EndOfLifeInUse())
