"""Template deployments (family DEP): what ARM refuses about a `Microsoft.Resources/deployments` request, and
how a deployment fails. The deployment engine (refit.platform.effects.deployments) raises them; a resource the
deployment writes is refused by that resource's own rules, and its answer travels inside these.

ARM's answers, in the order a deployment meets them:
  DEP1  the request body is not a deployment (no properties / mode / template)
  DEP2  the template or its parameters are invalid (InvalidTemplate, before anything is deployed)
  DEP3  a linked template cannot be downloaded (the emulator has no network: every templateLink)
  DEP4  a deployment of that name is still running (DeploymentActive)
  DEP5  preflight: a resource is refused before the deployment starts (InvalidTemplateDeployment)
  DEP6  a resource fails while deploying (DeploymentFailed, with each failure in `details`)
  DEP7  the deployment does not exist (DeploymentNotFound)
"""

from __future__ import annotations

from refit.platform.rules.registry import OPERATION, ErrorTemplate, refusal

DEPLOYMENT = "Microsoft.Resources/deployments"

# "Deployment template validation failed: '...'" is ARM's envelope for every template error
# (Azure/Industrial-IoT#1183, Azure/azure-quickstart-templates#2901); ARM adds "at line 'L' and column 'C'" where it
# names a parameter, which refit cannot (it receives the template parsed): left out (INFERRED wording otherwise).
_ENVELOPE = "Deployment template validation failed: '{detail}'."
TEMPLATE_ERRORS: dict[str, ErrorTemplate] = {
    "unknown-parameter": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail=(
        "The template parameters '{names}' in the parameters file are not valid; they are not present in the "
        "original template and can therefore not be provided at deployment time. The only supported parameters for "
        "this template are '{declared}'. Please see https://aka.ms/arm-deploy/#parameter-file for usage details."))),
    "missing-parameter": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail=(
        "The value for the template parameter '{name}' is not provided. Please see "
        "https://aka.ms/arm-deploy/#parameter-file for usage details."))),
    "parameter-not-allowed": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail=(
        "The provided value '{value}' for the template parameter '{name}' is not valid. The parameter value is not "
        "part of the allowed value(s): '{allowed}'."))),
    "parameter-type": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail=(
        "Template parameter JToken type is not valid. Expected '{expected}'. Actual '{actual}'. Please see "
        "https://aka.ms/arm-syntax-parameters for usage details."))),
    "dependency-missing": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail=(
        "The resource '{resource}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage "
        "details."))),
    "circular": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail=(
        "Circular dependency detected on resource: '{resource}'. Please see https://aka.ms/arm-syntax for usage "
        "details."))),
    "expression": ErrorTemplate(400, "InvalidTemplate",
                                "Deployment template language expression evaluation failed: '{why}'. Please see "
                                "https://aka.ms/arm-template-expressions for usage details."),
    "unsupported": ErrorTemplate(400, "InvalidTemplate", _ENVELOPE.format(detail="{what}")),
}
TEMPLATE_KINDS = tuple(TEMPLATE_ERRORS)

DEP1_CONTENT = ErrorTemplate(400, "InvalidRequestContent",
                             "The request content was invalid and could not be deserialized: 'Required property "
                             "'{name}' not found in JSON. Path '{path}'.'.")
DEP1_MODE = ErrorTemplate(400, "InvalidRequestContent",
                          "The request content was invalid and could not be deserialized: 'Error converting value "
                          "\"{mode}\" to type 'DeploymentMode'. Path 'properties.mode'.'.")
DEP3_LINK = ErrorTemplate(400, "InvalidContentLink",
                          "Unable to download deployment content from '{uri}'. The tracking Id is '{tracking}'. Please "
                          "see https://aka.ms/arm-deploy for usage details.")
DEP4_ACTIVE = ErrorTemplate(409, "DeploymentActive",
                            "Unable to edit or replace deployment '{name}': previous deployment from '{started}' is "
                            "still active (expiration time is '{expires}'). Please see https://aka.ms/arm-deploy for "
                            "usage details.")
DEP5_PREFLIGHT = ErrorTemplate(400, "InvalidTemplateDeployment",
                               "The template deployment '{name}' is not valid according to the validation procedure. "
                               "The tracking id is '{tracking}'. See inner errors for details.")
DEP5_INNER = ErrorTemplate(400, "PreflightValidationCheckFailed",
                           "Preflight validation failed. Please refer to the details for the specific errors.")
DEP6_FAILED = ErrorTemplate(409, "DeploymentFailed",
                            "At least one resource deployment operation failed. Please list deployment operations for "
                            "details. Please see https://aka.ms/arm-deployment-operations for usage details.", "{target}")
DEP6_RESOURCE = ErrorTemplate(409, "ResourceDeploymentFailure",
                              "The resource write operation failed to complete successfully, because it reached "
                              "terminal provisioning state 'Failed'.", "{target}")
DEP7_MISSING = ErrorTemplate(404, "DeploymentNotFound", "Deployment '{name}' could not be found.")

refusal("DEP1", DEPLOYMENT, "A deployment names its properties, its mode (Incremental or Complete) and a template",
        "specs Microsoft.Resources/deployments/models.tsp (Deployment.properties and DeploymentProperties.mode are "
        "required; DeploymentMode is Incremental | Complete). The wording is INFERRED: ARM's request deserialiser's "
        "(Newtonsoft) 'The request content was invalid and could not be deserialized' family, as "
        "Azure/azure-quickstart-templates#1508 quotes it",
        doc="""A PUT or validate of a deployment without `properties`, without `properties.mode`, with a mode that
        is not Incremental or Complete, or with neither `template` nor `templateLink` is refused before ARM reads the
        template. refit deploys Incremental only: a Complete deployment (which deletes what the template does not
        name) is refused with the mode answer.""",
        errors=(DEP1_CONTENT, DEP1_MODE), confidence="M", operations=("create", "update", "action"))

refusal("DEP2", DEPLOYMENT, "The template and its parameters are valid",
        "Azure/Industrial-IoT#1183 (allowedValues, quoted: 'Deployment template validation failed: 'The provided value "
        "... is not part of the allowed value(s)''), Azure/azure-quickstart-templates#2901 (a parameter the template "
        "does not declare, quoted). The missing-value, type, dependency, cycle and expression texts are INFERRED in "
        "ARM's InvalidTemplate family; refit's own limits (templateLink inside a template, user-defined functions) "
        "answer in the same family",
        doc="""Before deploying anything ARM checks the template: every given parameter is declared, every declared
        one has a value (given or defaultValue) of its type and among its allowedValues, every dependsOn names a
        resource of the template, the dependencies have no cycle, and the expressions that decide what is deployed
        (names, conditions, copy counts) evaluate. The functions refit evaluates are refit.arm.armexpr's.""",
        errors=tuple(TEMPLATE_ERRORS.values()), confidence="M", operations=("create", "update", "action"))

refusal("DEP3", DEPLOYMENT, "A linked template must be downloadable",
        "https://learn.microsoft.com/azure/azure-resource-manager/templates/linked-templates (ARM downloads "
        "templateLink.uri itself). The InvalidContentLink code and wording are INFERRED. The emulator has no "
        "network: every linked template fails so",
        doc="""A deployment whose template is a `templateLink` (a URI, or a template spec) is refused: ARM downloads
        the template itself, and the emulator can download nothing. Send the template inline (`az deployment group
        create --template-file` does).""",
        errors=(DEP3_LINK,), confidence="L", operations=("create", "update", "action"))

refusal("DEP4", DEPLOYMENT, "A deployment is not replaced while it runs",
        "microsoft/azure-pipelines-tasks#5320, Azure/service-fabric-mesh-preview#257 (the message, quoted). HTTP 409 "
        "and the code DeploymentActive are INFERRED (the captures print the message only)",
        doc="""A PUT of a deployment whose previous run with the same name has not finished is refused; wait for it
        (or cancel it). The expiration ARM quotes is seven days after the running deployment started.""",
        errors=(DEP4_ACTIVE,), confidence="M")

refusal("DEP5", DEPLOYMENT, "Preflight: every resource of the template is accepted by its provider",
        "specs Microsoft.Resources/deployments/examples/2025-04-01/PostDeploymentValidateOnResourceGroup.json (400 "
        "InvalidTemplateDeployment > PreflightValidationCheckFailed > the provider's error); azure-cli#2792 (az vm "
        "create answered so on the PUT); MicrosoftLearning/AZ-700-Designing-and-Implementing-Microsoft-Azure-"
        "Networking-Solutions#328 (a VM size refused at validation)",
        doc="""Before a deployment starts (and on POST .../validate) ARM sends each resource whose properties it can
        already evaluate to its provider for validation; a resource its provider refuses synchronously (any rule of
        the catalog for that resource type) refuses the whole deployment, with the provider's error inside. refit
        validates by writing the resources in dependency order on a copy of the cloud. A resource whose properties
        read another resource's runtime state (reference()) is skipped, as ARM skips it.""",
        errors=(DEP5_PREFLIGHT, DEP5_INNER), confidence="M", operations=("create", "update", "action"))

refusal("DEP6", DEPLOYMENT, "A resource that fails while deploying fails the deployment",
        "MicrosoftDocs/azure-docs#107757 (the DeploymentFailed message, quoted); "
        "https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors; public "
        "captures of az deployment group create (a resource refused synchronously: its error directly in `details`, "
        "e.g. InvalidParameter on a gallery image version; a resource whose operation failed, or a nested deployment: "
        "ResourceDeploymentFailure, targeted at it, wrapping its error). The HTTP status of the failed operation is "
        "INFERRED",
        doc="""The deployment's operation fails with DeploymentFailed, targeted at the deployment, once no resource is
        still deploying; `details` holds one entry per failed resource: the provider's own error when it refused the
        write, or ResourceDeploymentFailure (targeted at the resource, the provider's error inside) when the write
        was accepted and its operation failed. Resources that depend on a failed one are not deployed; independent
        ones are.""",
        errors=(DEP6_FAILED, DEP6_RESOURCE), confidence="H", stage=OPERATION, asynchronous=True)

refusal("DEP7", DEPLOYMENT, "A deployment that does not exist is not found",
        "https://learn.microsoft.com/rest/api/resources/deployments/get (404); the code and message INFERRED from "
        "`az deployment group show` on a missing name",
        doc="""GET, validate's operations or the operations of a deployment name the resource group has not seen
        answer 404 DeploymentNotFound.""",
        errors=(DEP7_MISSING,), confidence="M", operations=("read",))
