"""Legacy managed images, Microsoft.Compute/images (family I; the reference has rows only for S8, the
Trusted Launch capture, which lives in refit.platform.rules.security).

A managed image is captured from a VM (`sourceVirtualMachine`) or built from an OS disk (a managed disk,
a snapshot or a VHD blob): the request names one source that exists (I2, I3), and its Hyper-V generation
is V1 or V2 (I1).
"""

from __future__ import annotations

from typing import Any

from refit.arm.world import World
from refit.platform.rules import facts
from refit.platform.rules.common import FAMILY, IMAGE, INVALID_ENUM, REQUIRED, not_one_of
from refit.platform.rules.registry import ErrorTemplate, refusal, rule

Doc = dict[str, Any] | None


@rule("I1", IMAGE, "A managed image's Hyper-V generation is V1 or V2",
      f"specs ComputeRP image.json HyperVGenerationTypes (V1 the default); the message is {FAMILY}",
      errors=(INVALID_ENUM,), operations=("create",), confidence="H")
def i1_generation_value(world: World, old: Doc, new: Doc) -> list:
    """`properties.hyperVGeneration` is V1 (the API's default) or V2."""
    return not_one_of(new, "properties.hyperVGeneration", facts.HYPER_V_GENERATIONS)


refusal("I2", IMAGE, "A managed image's source must exist",
        "INFERRED: the NotFound family (reference section 9.1); no capture of CRP's text for a missing source",
        doc="""The VM an image is captured from, or the managed disk or snapshot its OS disk is built from, exists:
        the image takes its OS disk (type, size, storage) from it.""",
        errors=(ErrorTemplate(404, "NotFound", "The entity '{source}' was not found.", "{target}"),),
        operations=("create",), confidence="L")

refusal("I3", IMAGE, "A managed image names its source",
        f"specs ComputeRP image.json (ImageOSDisk: osType and osState required; a managedDisk, snapshot or blobUri); "
        f"the first message is {FAMILY}, the others are refit's (INFERRED)",
        doc="""A new image gives `sourceVirtualMachine.id`, or `storageProfile.osDisk` with `osType`, `osState` and
        one of `managedDisk`, `snapshot` or `blobUri`.""",
        errors=(REQUIRED,
                ErrorTemplate(400, "InvalidParameter",
                              "One of managedDisk, snapshot or blobUri is required in storageProfile.osDisk.",
                              "storageProfile.osDisk"),
                ErrorTemplate(400, "InvalidParameter",
                              "Either 'sourceVirtualMachine' or 'storageProfile.osDisk' is required.", "properties")),
        operations=("create",), confidence="M")
