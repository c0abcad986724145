"""Azure VM Image Builder templates, Microsoft.VirtualMachineImages/imageTemplates (family AIB).

AIB1 (below): a submitted template does not change. AIB2-AIB6: what a submission must say (source, customizers,
distribution targets, identity, build timeout and VM profile; refit.platform.effects.imagebuilder_template reads
the PUT and raises them). AIB7: a running build blocks delete and another run. AIB8: a build that fails fails its run's
operation. AIB9: run outputs are read-only.

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
from refit.platform.rules.registry import OPERATION, ErrorTemplate, refusal, rule

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


# ---- the template as submitted (stage request: the effects read the PUT, effects.imagebuilder_template) -----
# Azure VM Image Builder answers a template it cannot accept with ValidationFailed and one of two sentences, quoted by
# the troubleshooting page (https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot,
# "Troubleshoot image template submission errors": "Validation failed: 'ImageTemplate.properties.source': Field
# 'imageId' has a bad value: '...'. Please review  http://aka.ms/azvmimagebuildertmplref  for details on fields
# requirements in the Image Builder Template." (two spaces around the link, as the page prints it); "Required fields
# are missing": "Validation failed: 'ImageTemplate.properties.distribute[<index>]': Missing field <fieldname>. Please
# review http://aka.ms/azvmimagebuildertmplref for details on fields required in the Image Builder Template.").
# Which fields each part requires and which values it takes are the REST spec's and the template reference's
# (specs imagebuilder ImageBuilder/models.tsp, 2025-10-01; https://learn.microsoft.com/azure/virtual-machines/linux/
# image-builder-json). INFERRED: the HTTP status (400) and that the PUT answers synchronously (the page shows the
# ARM error-response shape, {"error": {...}}, for API 2021-10-01 and later; Azure may instead accept the template and
# leave it provisioningState Failed with provisioningError); the sentences for parts other than source.imageId and
# distribute[i] fields follow the same two forms.
AIB_MISSING = ErrorTemplate(
    400, "ValidationFailed",
    "Validation failed: '{section}': Missing field {field}. Please review http://aka.ms/azvmimagebuildertmplref for "
    "details on fields required in the Image Builder Template.")
AIB_BAD_VALUE = ErrorTemplate(
    400, "ValidationFailed",
    "Validation failed: '{section}': Field '{field}' has a bad value: '{value}'. Please review  "
    "http://aka.ms/azvmimagebuildertmplref  for details on fields requirements in the Image Builder Template.")
_SUBMISSION = ("https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot (ValidationFailed: "
               "'Missing field', 'has a bad value'); specs imagebuilder ImageBuilder/models.tsp; "
               "https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json")

refusal("AIB2", IMAGE_TEMPLATE, "An image template's source is a platform image, a managed image or a gallery version "
        "that exists", _SUBMISSION + " ('Properties: source': PlatformImage, ManagedImage, SharedImageVersion; a "
        "managed image 'must reside in the same subscription and region'). Checking the platform image against the "
        "catalog at submission is INFERRED (Azure resolves 'latest' at build time)",
        doc="""`properties.source` is required; its `type` is PlatformImage (publisher, offer, sku, version: a
        Marketplace image refit's catalog has, version `latest` or one it publishes), ManagedImage (`imageId`: a
        managed image in the template's subscription and region) or SharedImageVersion (`imageVersionId`: a gallery
        image version, or `.../versions/latest` of a definition that exists).""",
        errors=(AIB_MISSING, AIB_BAD_VALUE), confidence="M")

refusal("AIB3", IMAGE_TEMPLATE, "Each customizer is Shell, PowerShell, File, WindowsRestart or WindowsUpdate with the "
        "fields it needs", _SUBMISSION + " ('Properties: customize': 'The supported customizer types are: File, "
        "PowerShell, Shell, WindowsRestart, and WindowsUpdate'; models.tsp: Shell and PowerShell take 'Exactly one of "
        "'scriptUri' or 'inline''; WindowsUpdate updateLimit minValue 0). File's sourceUri and destination being "
        "required is INFERRED from the reference's property list",
        doc="""`properties.customize` is a list; each entry has a `type` Azure supports. Shell and PowerShell run
        exactly one of `scriptUri` or `inline` (a list of commands); File uploads `sourceUri` to `destination`;
        WindowsUpdate's `updateLimit` is >= 0.""",
        errors=(AIB_MISSING, AIB_BAD_VALUE), confidence="M")

refusal("AIB4", IMAGE_TEMPLATE, "Each distribution target is SharedImage, ManagedImage or VHD with the fields it needs",
        _SUBMISSION + " ('Distribute: sharedImage': galleryImageId names an image definition, or a version for "
        "explicit versioning; targetRegions, or the deprecated replicationRegions, 'can be specified only if "
        "targetRegions is not specified'; 'Distribute: managedImage': imageId and location, 'The destination resource "
        "group must exist'; 'runOutputName must be unique to each distribution target', pattern ^[A-Za-z0-9-_.]{1,64}$"
        "; TargetRegion replicaCount minValue 1). That the gallery image definition must exist at submission is "
        "INFERRED (ProvisioningErrorCode BadSharedImageDistribute)",
        doc="""`properties.distribute` is a non-empty list. Every target has a unique `runOutputName`. SharedImage
        names an existing image definition in `galleryImageId` (optionally `/versions/x.y.z`) and replicates to
        `targetRegions` (each a `name`, `replicaCount` >= 1) or the older `replicationRegions`, never both;
        ManagedImage gives `imageId` (in a resource group that exists) and `location`; VHD may give a `uri`.""",
        errors=(AIB_MISSING, AIB_BAD_VALUE), confidence="M")

AIB5_IDENTITY = ErrorTemplate(
    400, "ValidationFailed",
    "The assigned managed identity cannot be used. Please remove the existing one and re-assign a new identity. For "
    "more troubleshooting steps go to https://aka.ms/azvmimagebuilderts.")
refusal("AIB5", IMAGE_TEMPLATE, "An image template runs as exactly one user-assigned identity that exists",
        "https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json ('Identity': type UserAssigned; "
        "'Supports a single identity only'); https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-"
        "troubleshoot ('Assigned managed identity on an image template can't be used', the message quoted, e.g. when "
        "the identity was deleted); specs imagebuilder models.tsp (ResourceIdentityType UserAssigned, None). The code "
        "and status of that message, and answering a missing identity with it at submission and at run, are INFERRED",
        doc="""`identity.type` is UserAssigned with exactly one identity in `userAssignedIdentities`; that identity
        must exist when the template is submitted and when it is run.""",
        errors=(AIB_MISSING, AIB_BAD_VALUE, AIB5_IDENTITY), operations=("create", "update", "action"),
        confidence="M")

refusal("AIB6", IMAGE_TEMPLATE, "buildTimeoutInMinutes is 0 to 960 and vmProfile names what exists",
        _SUBMISSION + " (buildTimeoutInMinutes minValue 0, maxValue 960, 0 = the default 4 hours; vmProfile "
        "osDiskSizeGB minValue 0; vmProfile.userAssignedIdentities and vnetConfig.subnetId are resource ids). "
        "Refusing an identity or subnet that does not exist at submission is INFERRED",
        doc="""`buildTimeoutInMinutes` is a whole number from 0 (the default, 240 minutes) to 960. In `vmProfile`,
        `osDiskSizeGB` is >= 0, every `userAssignedIdentities` entry is an identity that exists and
        `vnetConfig.subnetId` a subnet that exists. (1 to 5 minutes is accepted and fails the build early: rule AIB8.)""",
        errors=(AIB_MISSING, AIB_BAD_VALUE), confidence="M")

AIB7_STATE = ErrorTemplate(409, "OperationNotAllowed",
                           "Operation {operation} is not allowed in provisioning state: {provisioning} or run state: "
                           "{run_state}.")
refusal("AIB7", IMAGE_TEMPLATE, "A template is not deleted or run again while it builds, nor canceled when idle",
        "danielsollondon/azvmimagebuilder#116 (2021, Remove-AzImageBuilderTemplate while a cancel ran: 'Operation "
        "Microsoft.VirtualMachineImages/imageTemplates/delete is not allowed in provisioning state: provisioned or run "
        "state: canceling.'); danielsollondon/azvmimagebuilder#38 (2020, during a build: OperationNotAllowed, the "
        "older wording \"... is not allowed in provisioningState: 'provisioned', runState: 'running'\"; 'You cannot "
        "delete an image template whilst the build is running'). The status (409) and the same answer for a second run "
        "and for a cancel with no build running are INFERRED",
        doc="""While a build runs (or is canceling) the template cannot be deleted or run again; cancel needs a
        build that is running.""",
        errors=(AIB7_STATE,), operations=("delete", "action"), confidence="M")

# ---- the build (stage operation: the run's operation fails) ------------------------------------------------------
AIB8_PACKER = ErrorTemplate(
    409, "PackerBuildFailed",
    "During the image build a failure has occurred. Packer build logs are at location {logs}. Please navigate to this "
    "location using portal or other tools to download logs for identifying which build/customization step failed. "
    "Use this operationId {operation} to search packer logs. For more troubleshooting steps go to "
    "https://aka.ms/azvmimagebuilderts.")
AIB8_DISTRIBUTE = ErrorTemplate(409, "InternalOperationError",
                                "Failed in distributing {failed} images out of total {total}: {{{details}}}")
AIB8_TIMEOUT = ErrorTemplate(409, "InternalOperationError",
                             "Failed in building/customizing image: Failed while waiting for packerizer: Timeout "
                             "waiting for microservice to complete: 'context deadline exceeded'")
AIB8_SOURCE = ErrorTemplate(409, "InternalOperationError", "Build ({kind}) step failed{details}")
refusal("AIB8", IMAGE_TEMPLATE, "A build that fails fails its run (lastRunStatus Failed or PartiallySucceeded)",
        "Azure/azure-powershell#24244 (2024: the run's operation Failed with PackerBuildFailed and this message); "
        "Azure/build-vm-image#18 (PackerBuildFailed from the run); https://learn.microsoft.com/azure/virtual-machines/"
        "linux/image-builder-troubleshoot ('Packer build command fails': runState Failed, the message in lastRunStatus; "
        "'Deployment fails due to timeout'; 'Error occurs with waiting for Azure Compute Gallery': 'Failed in "
        "distributing 1 images out of total 1: {[Error 0] [Distribute 0] Error publishing MDI to Azure Compute "
        "Gallery:...'; 'Error occurs with getting a managed image': 'Build (Managed Image) step failed: ... "
        "AuthorizationFailed'; 'VM Image Builder fails the build if the scripts or inline commands fail with errors "
        "(nonzero exit codes)'); danielsollondon/azvmimagebuilder#50 (the distribution failure's code "
        "InternalOperationError). INFERRED: the codes of the timeout and source failures, the HTTP status, how several "
        "failed targets are joined",
        doc="""The build runs on the virtual clock (Queued, Building, Customizing, Distributing). A customizer whose
        script exits non-zero fails it (PackerBuildFailed; a Shell script without `set -e` fails only when its last
        command fails, and otherwise ships the image: seed 001 row 12); so does a build timeout of 1 to 5 minutes
        (Packer refuses its token) or a build that outlasts buildTimeoutInMinutes; a source it cannot read fails the
        Building step; a distribution target it cannot write (the identity lacks the action: AuthorizationFailed,
        seed 001 row 1) fails the Distributing step, PartiallySucceeded when another target succeeded.
        lastRunStatus.message carries the same text as the run's failed operation.""",
        errors=(AIB8_PACKER, AIB8_DISTRIBUTE, AIB8_TIMEOUT, AIB8_SOURCE), operations=("action",), stage=OPERATION,
        asynchronous=True, confidence="M")

refusal("AIB9", IMAGE_TEMPLATE + "/runOutputs", "A run output is read, not written",
        "specs imagebuilder ImageBuilder/RunOutput.tsp (runOutputs: GET and list only; outputs are made by a run). The "
        "wording is ARM's MethodNotAllowed (INFERRED)",
        doc="""`imageTemplates/{name}/runOutputs/{runOutputName}` answers GET only; a run writes it.""",
        errors=(ErrorTemplate(405, "MethodNotAllowed", "The requested method '{method}' is not allowed."),),
        operations=("create", "update", "delete"), confidence="M")
