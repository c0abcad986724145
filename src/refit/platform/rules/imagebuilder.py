"""Azure VM Image Builder templates, Microsoft.VirtualMachineImages/imageTemplates (family AIB).

A template is immutable once submitted: Azure refuses a PUT on an existing template with 409 Conflict, and the
way to change one is to delete it and submit it again (Image Builder troubleshooting, "Update/Upgrade of image
templates is currently not supported"; azure-cli's `az image builder update` help: "Updating an image builder
templates is currently unsupported"; Az.ImageBuilder 0.5 removed Update-AzImageBuilderTemplate for that
reason). Only the tags and the identity go through the Update (PATCH) API ("Update the tags for this Virtual
Machine Image Template", arm-imagebuilder VirtualMachineImageTemplatesOperations.update).
"""

from __future__ import annotations

from typing import Any

from refit.arm.world import World
from refit.platform.rules.registry import ErrorTemplate, rule

Doc = dict[str, Any] | None

IMAGE_TEMPLATE = "Microsoft.VirtualMachineImages/imageTemplates"

AIB1_UPDATE = ErrorTemplate(
    409, "Conflict",
    "Update/Upgrade of image templates is currently not supported. Please change the name of the template you are "
    "submitting. If you have previously tried to submit a template and it failed to provision, you must delete it "
    "first and then resubmit. For more information, go to https://aka.ms/azvmimagebuilderts.")

# What the service sets or the Update API may change: not part of the submitted template.
_NOT_SUBMITTED = ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")


def _submitted(doc: dict[str, Any]) -> tuple[Any, Any]:
    props = {k: v for k, v in (doc.get("properties") or {}).items() if k not in _NOT_SUBMITTED}
    return (doc.get("location") or "").lower(), props


@rule("AIB1", IMAGE_TEMPLATE, "An image template cannot be updated: delete it and submit it again",
      "https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot ('Update/Upgrade of image "
      "templates is currently not supported', Conflict; the message as a deployment returns it, "
      "aka.ms/azvmimagebuilderts); azure-cli vm/_help.py 'image builder update'; arm-imagebuilder "
      "VirtualMachineImageTemplatesOperations.update (tags only)",
      errors=(AIB1_UPDATE,), operations=("update",), confidence="H")
def aib1_template_immutable(world: World, old: Doc, new: Doc) -> list:
    """A write to an existing template that changes what was submitted (source, customizers, distribution,
    build timeout, VM profile, location) is refused with 409 Conflict; tags and identity may change."""
    if old is None or new is None or _submitted(old) == _submitted(new):
        return []
    return [AIB1_UPDATE()]
