"""RF-GAL-006: an image definition of security type Standard."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class StandardDefinition(Check):
    id = "RF-GAL-006"
    title = "Image definition of security type Standard"
    severity = "low"
    resource_types = (v.IMAGE_DEFINITION,)
    rationale = (
        "The security type of a definition is immutable and decides which VMs may boot its versions. A "
        "Standard (or Gen1) definition can never back a Trusted Launch VM; TrustedLaunchSupported on Gen2 boots "
        "on both Standard and Trusted Launch VMs and is the modern default.")
    recommendation = ('Make the definition TrustedLaunchSupported: on a Gen2 definition SecurityType is one of the features '
        'an update may change, with allowUpdateImage (the fix). A Gen1 definition cannot change its '
        'generation: create a Gen2 definition and publish new versions there.')
    fix = Fix(
        az="az sig image-definition update -g $RG --gallery-name $GAL --gallery-image-definition "
           "$DEF --allow-update-image true --set "
           "\"features[name=SecurityType].value=TrustedLaunchSupported\"",
        arm='"hyperVGeneration": "V2", "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]',
        terraform='hyper_v_generation       = "V2"\ntrusted_launch_supported = true')
    source = ('seed 001 section 3 (SecurityType table); reference section 1b; APRL 1c5e1e58; rule G1 (features '
        'change only with allowUpdateImage; SecurityType is one of them, specs GalleryRP '
        'GalleryImage_UpdateFeatures.json)')

    def evaluate(self, ev: Eval):
        feats = ev.get("properties.features") or []
        sec = next((f.get("value") for f in feats if (f.get("name") or "").lower() == "securitytype"), None)
        gen = ev.get("properties.hyperVGeneration") or "V1"
        if (sec or "Standard") == "Standard":
            return self.failed(f"security type Standard ({gen}): its versions can never boot a Trusted Launch VM")
        return self.ok()


check = register(StandardDefinition())
