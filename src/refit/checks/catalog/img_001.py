"""RF-IMG-001: a legacy managed image in use."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class ManagedImageInUse(Check):
    id = "RF-IMG-001"
    title = "Legacy managed image in use"
    severity = "medium"
    resource_types = (v.VM, v.VMSS)
    rationale = (
        "A managed image has no versions, no replication, no excludeFromLatest kill switch and cannot back a "
        "Trusted Launch VM (a managed image cannot even be captured from one). Consumers of a managed image "
        "cannot roll forward or back by version and are stuck on Standard security (seed 000).")
    recommendation = ("Publish the image as a version of a Compute Gallery definition (TrustedLaunchSupported, Gen2) "
                      "and point the consumer at the definition.")
    fix = Fix(
        az="az sig image-definition create -g $RG --gallery-name $GAL --gallery-image-definition "
           "$DEF --publisher $PUBLISHER --offer $OFFER --sku $SKU --os-type Linux --os-state "
           "Generalized --hyper-v-generation V2 --features SecurityType=TrustedLaunchSupported\n"
           "az sig image-version create -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version 1.0.0 --managed-image $IMAGE --target-regions "
           "$LOCATION=3=Standard_ZRS\n"
           "az vmss update -g $RG -n $VMSS --set "
           "virtualMachineProfile.storageProfile.imageReference.id=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/galleries/$GAL/images/$DEF\n"
           "az vmss update-instances -g $RG -n $VMSS --instance-ids '*'",
        arm='"imageReference": {"id": "[resourceId(\'Microsoft.Compute/galleries/images\', \'galProd\', \'app\')]"}',
        terraform="source_image_id = azurerm_shared_image.app.id")
    source = "seed 001 section 3; seed 000; reference rules S8, S9, V6"

    def evaluate(self, ev: Eval):
        path = ("properties.virtualMachineProfile.storageProfile.imageReference.id"
                if ev.doc.get("type", "").lower() == v.VMSS.lower() else "properties.storageProfile.imageReference.id")
        ref = ev.get(path)
        if not isinstance(ref, str) or not ref:
            return None
        if h.image_kind(ref) == "managed-image":
            return self.failed(f"runs on the managed image {h.short(ref)}: no versions, no replication, "
                               "no Trusted Launch")
        return self.ok()


check = register(ManagedImageInUse())
