"""RF-GAL-004: an image definition whose every version is excluded from latest."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import gallery as g
from refit.checks import helpers as h
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register


class NothingEligibleForLatest(Check):
    id = "RF-GAL-004"
    title = "No image version eligible for latest"
    severity = "high"
    resource_types = (v.IMAGE_DEFINITION,)
    rationale = (
        "excludeFromLatest is the kill switch for a bad bake. When the only version (or every version) is "
        "excluded, 'latest' resolves to nothing: every consumer that references the definition fails its next "
        "scale-out or reimage with 'There is no latest image version exists'.")
    recommendation = "Publish a fixed version (or clear excludeFromLatest on a known-good one) before excluding the last."
    fix = Fix(
        az="az sig image-version update -g $RG --gallery-name $GAL --gallery-image-definition $DEF "
           "--gallery-image-version $VERSION --set publishingProfile.excludeFromLatest=false",
        arm='"publishingProfile": {"excludeFromLatest": false}',
        terraform="exclude_from_latest = false")
    source = "seed 001 section 3 (excludeFromLatest), troubleshooting row 4; reference rule G13"

    def evaluate(self, ev: Eval):
        versions = ev.ctx.world.children(ev.id, v.IMAGE_VERSION)
        if not versions:
            return None
        if g.newest(ev, ev.id) is None:
            users = ev.ctx.consumers_by_image.get(ev.id.lower(), [])
            who = f"; consumers tracking latest: {', '.join(sorted(h.short(d['id']) for d, _, _ in users))}" if users else ""
            return self.failed(f"all {len(versions)} version(s) are excluded from latest{who}")
        return self.ok()


check = register(NothingEligibleForLatest())
