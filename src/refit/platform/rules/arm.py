"""Azure Resource Manager's own answers, for every resource type (family ARM).

Before a resource provider sees a request, ARM checks it: the resource (or its parent, or its resource
group) exists, the type and the action exist in the namespace, the body can be read, the location is
given and unchanged and offers the type, the zones exist there, the tags keep ARM's limits, and no other
operation is running on the resource. The wire itself answers a request without a valid api-version.

These ids are refit's (the reference numbers only the compute rows); the sources are ARM's
troubleshooting pages where they quote the answer.
"""

from __future__ import annotations

from typing import Any

from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.platform import regions
from refit.platform.rules.common import REF, region, zones
from refit.platform.rules.registry import EVERY_TYPE, OPERATION, WIRE, ErrorTemplate, refusal, rule

Doc = dict[str, Any] | None

ARM_NOT_FOUND = "https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-not-found"
ARM_PARENT = "https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-parent-resource"
ARM_PROVIDER = "https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-register-resource-provider"
TAG_LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations"
REGIONS_LIST = "https://learn.microsoft.com/azure/reliability/regions-list"

refusal("ARM1", EVERY_TYPE, "The resource must exist",
        f"{ARM_NOT_FOUND} (Code=ResourceNotFound, 'The Resource ... under resource group ... was not found.'); the "
        "aka.ms suffix as ARM sends it today (LATAMOCPTECHTEAM/aks-start-stop-automation#1)",
        doc="""A read, a PATCH, an action or a view (instanceView) of a resource that does not exist is refused by
        ARM. (A PUT creates it; a DELETE of a missing resource answers 204.)""",
        errors=(ErrorTemplate(404, "ResourceNotFound",
                              "The Resource '{resource}' under resource group '{resource_group}' was not found. For "
                              "more details please go to https://aka.ms/ARMResourceNotFoundFix"),),
        operations=("read", "update", "action"), confidence="H")

refusal("ARM2", EVERY_TYPE, "A nested resource needs its parent",
        f"{ARM_PARENT} (Code=ParentResourceNotFound, quoted)",
        doc="""Any request on a child resource (an image definition, a version, a capacity reservation) whose parent
        does not exist is refused by ARM before the provider sees it.""",
        errors=(ErrorTemplate(404, "ParentResourceNotFound",
                              "Can not perform requested operation on nested resource. Parent resource '{parent}' not "
                              "found."),),
        operations=("read", "create", "update", "delete"), confidence="H")

refusal("ARM3", EVERY_TYPE, "One operation at a time on a resource",
        f"{REF} D10, L9; kubernetes/kubernetes#50150",
        doc="""A write, delete or action on a resource whose previous operation is still running is refused: the
        compute provider serialises writes to one resource. Wait for the operation (poll it) and retry.""",
        errors=(ErrorTemplate(409, "Conflict", "The request failed due to conflict with a concurrent request."),),
        operations=("create", "update", "delete", "action"), confidence="H")

refusal("ARM4", EVERY_TYPE, "The resource type and the action must exist in the namespace",
        f"{ARM_PROVIDER} (Code=InvalidResourceType, 'The resource type could not be found in the namespace'). "
        "Azure also names the api-version; refit's text stops at the namespace (INFERRED)",
        doc="""A request for a type the provider does not have (Microsoft.Compute/flyingCars), or a POST of an action
        the type does not have, is refused.""",
        errors=(ErrorTemplate(400, "InvalidResourceType",
                              "The resource type '{type}' could not be found in the namespace '{namespace}'."),),
        operations=("read", "create", "update", "delete", "action"), confidence="M")

refusal("ARM5", EVERY_TYPE, "The request body must be ARM's JSON shape",
        "INFERRED: ARM's InvalidRequestContent family ('The request content was invalid and could not be "
        "deserialized: ...', seen in many captures); the detail after the colon is refit's",
        doc="""The body of a PUT or PATCH is a JSON object whose `properties` and `tags` are objects; a tags request
        (`{scope}/providers/Microsoft.Resources/tags/default`) carries `properties.tags`, and a tags PATCH names
        its operation (Merge, Replace or Delete; https://learn.microsoft.com/rest/api/resources/tags/update-at-scope).
        Every value has the JSON type its type's REST spec declares (refit.platform.rules.schema): `diskSizeGB: "four"`,
        `location: 123`, `zones: "1"` or a tag value that is not a string are refused, and so is a body nested more
        than 64 levels deep.""",
        errors=(ErrorTemplate(400, "InvalidRequestContent",
                              "The request content was invalid and could not be deserialized."),
                ErrorTemplate(400, "InvalidRequestContent",
                              "The request content was invalid and could not be deserialized: '{name}' must be an "
                              "object."),
                ErrorTemplate(400, "InvalidRequestContent", "The request content was invalid: '{name}' must be an object."),
                ErrorTemplate(400, "InvalidRequestContent", "The request content was invalid: '{name}' is required."),
                ErrorTemplate(400, "InvalidRequestContent",
                              "The tag operation '{operation}' is invalid. Allowed: Merge, Replace, Delete."),
                # A value of another JSON type than the REST spec declares (rules/schema.py); the wording after the
                # colon follows .NET's deserialiser ('Error converting value ... Path ...'), INFERRED.
                ErrorTemplate(400, "InvalidRequestContent",
                              "The request content was invalid and could not be deserialized: 'Error converting value "
                              "{value} to type '{type}'. Path '{path}'.'."),
                ErrorTemplate(400, "InvalidRequestContent",
                              "The request content was invalid and could not be deserialized: 'The reader's MaxDepth "
                              "of {depth} has been exceeded.'.")),
        confidence="M")

refusal("ARM6", EVERY_TYPE, "A regional resource is created with a location",
        "INFERRED: ARM's LocationRequired answer as captured by clients ('The location property is required for "
        "this definition.'); no Microsoft page quotes it",
        doc="""Every regional resource (VMs, disks, galleries, reservations, resource groups...) names its location
        when it is created. Child resources such as extensions of a scale set take their parent's.""",
        errors=(ErrorTemplate(400, "LocationRequired", "The location property is required for this definition."),),
        operations=("create",), confidence="M")

ARM7_RESOURCE = ErrorTemplate(409, "InvalidResourceLocation",
                              "The resource '{name}' already exists in location '{old}' in resource group "
                              "'{resource_group}'. A resource with the same name cannot be created in location '{new}'. "
                              "Please select a new resource name.")
ARM7_GROUP = ErrorTemplate(409, "InvalidResourceGroupLocation",
                           "Invalid resource group location '{new}'. The Resource group already exists in location "
                           "'{old}'.")


@rule("ARM7", EVERY_TYPE, "A resource stays in its location",
      "MicrosoftDocs/azure-docs#70422, fortinetsolutions/Azure-Templates#8 (InvalidResourceLocation, quoted); "
      "Azure/azure-cli#22242 (InvalidResourceGroupLocation, quoted). HTTP 409 INFERRED. Was 409 "
      "PropertyChangeNotAllowed \"Changing property 'location' is not allowed.\" (INFERRED) before these captures",
      errors=(ARM7_RESOURCE, ARM7_GROUP), operations=("update",), confidence="H")
def arm7_location_immutable(world: World, old: Doc, new: Doc) -> list:
    """A PUT or PATCH of an existing resource in another region is refused ('East US' and 'eastus' are the
    same region): a resource moves to another region only by being recreated there, under another name."""
    if old is None or new is None or not old.get("location") or not new.get("location"):
        return []
    if region(old["location"]) == region(new["location"]):
        return []
    if (new.get("type") or "").lower() == "microsoft.resources/resourcegroups":
        return [ARM7_GROUP(new=new["location"], old=old["location"])]
    rg = ResourceId.parse(new["id"]).resource_group or ""
    return [ARM7_RESOURCE(name=new.get("name", ""), old=old["location"], resource_group=rg, new=new["location"])]


ARM8_LOCATION = ErrorTemplate(400, "LocationNotAvailableForResourceType",
                              "The provided location '{location}' is not available for resource type '{type}'. List of "
                              "available regions for the resource type is '{regions}'.")


ARM8_GROUP = ErrorTemplate(400, "LocationNotAvailableForResourceGroup",
                           "The provided location '{location}' is not available for resource group. List of available "
                           "regions is '{regions}'.")


@rule("ARM8", EVERY_TYPE, "The location must be a region that offers the type",
      "Azure/pcs-cli#522, Azure/azure-rest-api-specs#8347 (LocationNotAvailableForResourceType, quoted with the "
      "list of regions); cloud-barista/cb-spider#527 (Status=400 LocationNotAvailableForResourceGroup, quoted); the "
      f"regions are refit.platform.regions ({REGIONS_LIST})",
      errors=(ARM8_LOCATION, ARM8_GROUP), confidence="H")
def arm8_location_available(world: World, old: Doc, new: Doc) -> list:
    """A regional resource (a VM, a disk, a gallery, a resource group...) in a location that is not one of the
    regions refit knows is refused, with the list of the regions that offer the type. An update that keeps the
    resource's region is not asked again (its region was taken when it was created: a fleet read from Azure may
    live in a region refit does not list)."""
    if new is None or not new.get("location") or regions.known(new["location"]):
        return []
    if old is not None and region(old.get("location")) == region(new["location"]):
        return []
    if (new.get("type") or "").lower() == "microsoft.resources/resourcegroups":
        return [ARM8_GROUP(location=new["location"], regions=",".join(regions.REGIONS))]
    return [ARM8_LOCATION(location=new["location"], type=new.get("type", ""), regions=",".join(regions.REGIONS))]


ARM9_ZONES = ErrorTemplate(400, "InvalidParameter",
                           "The zone(s) '{zones}' for resource '{resource}' is not supported. The supported zones for "
                           "location '{location}' are '{supported}'.", "zones")
_ZONES = ("1", "2", "3")


@rule("ARM9", ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets",
               "Microsoft.Compute/disks", "Microsoft.Compute/capacityReservationGroups"),
      "Zones exist only in regions with availability zones",
      f"kubernetes/test-infra#24049 (the message, quoted; code not shown: InvalidParameter INFERRED); {REGIONS_LIST}. "
      "Was \"The zone(s) '...' for resource '...' is not supported in location '...'.\" (INFERRED) before that capture",
      errors=(ARM9_ZONES,), confidence="H")
def arm9_zones_supported(world: World, old: Doc, new: Doc) -> list:
    """Zones are '1', '2' and '3' in a region with availability zones and none elsewhere; a resource that
    names others is refused (on create, and on an update that changes its zones)."""
    if new is None or not zones(new) or not new.get("location"):
        return []
    if old is not None and sorted(zones(old)) == sorted(zones(new)):
        return []
    supported = _ZONES if regions.has_zones(new["location"]) else ()
    if all(z in supported for z in zones(new)):
        return []
    resource = f"{new.get('type', '')}/{new.get('name', '')}"
    return [ARM9_ZONES(zones=",".join(zones(new)), resource=resource, location=region(new["location"]),
                       supported=",".join(supported))]


refusal("ARM10", EVERY_TYPE, "The resource group must exist",
        f"{ARM_NOT_FOUND}; the message as ARM sends it (errygg gist in the search corpus: Status=404 "
        "Code=\"ResourceGroupNotFound\" Message=\"Resource group 'my_rg' could not be found.\")",
        doc="""A request on a resource group that does not exist (its delete, its tags) is refused; so is every
        request for a resource inside it.""",
        errors=(ErrorTemplate(404, "ResourceGroupNotFound", "Resource group '{resource_group}' could not be found."),),
        operations=("read", "create", "update", "delete"), confidence="H")

ARM11_COUNT = ErrorTemplate(400, "InvalidTagCount", "The number of tags on a resource or resource group cannot exceed 50.")
ARM11_NAME = ErrorTemplate(400, "InvalidTagNameCharacters",
                           "The tag names '{name}' have reserved characters '<,>,%,&,\\,?,/' or control characters.")
ARM11_VALUE = ErrorTemplate(400, "InvalidTagValueLength", "The tag value for '{name}' exceeds 256 characters.")
_RESERVED = "<>%&\\?/"


@rule("ARM11", EVERY_TYPE, "Tags keep ARM's limits",
      f"{TAG_LIMITS} (50 tags, names up to 512 characters without <>%&\\?/, values up to 256). "
      "InvalidTagNameCharacters is the code clients quote; the count and value-length codes are INFERRED",
      errors=(ARM11_COUNT, ARM11_NAME, ARM11_VALUE), confidence="M")
def arm11_tag_limits(world: World, old: Doc, new: Doc) -> list:
    """At most 50 tags on a resource or resource group; a tag name has at most 512 characters and none of
    < > % & \\ ? / or a control character; a value at most 256 characters. Asked of every write, and of the Tags resource at a scope."""
    tags = (new or {}).get("tags")
    if not isinstance(tags, dict):
        return []
    if len(tags) > 50:
        return [ARM11_COUNT()]
    for name, value in tags.items():
        if len(name) > 512 or any(c in _RESERVED or ord(c) < 32 or ord(c) == 127 for c in name):
            return [ARM11_NAME(name=name)]
        if value is not None and len(str(value)) > 256:
            return [ARM11_VALUE(name=name)]
    return []


refusal("ARM12", EVERY_TYPE, "The method must be one the resource answers",
        "INFERRED: HTTP 405 for a method a resource does not answer (the Tags resource: GET, PUT, PATCH, DELETE; "
        "https://learn.microsoft.com/rest/api/resources/tags)",
        doc="""A request with a method the resource does not answer (a POST to the Tags resource) is refused.""",
        errors=(ErrorTemplate(405, "MethodNotAllowed", "The requested method '{method}' is not allowed."),),
        operations=("read", "create", "update", "delete", "action"), confidence="L")

refusal("ARM13", EVERY_TYPE, "Every request names an api-version",
        "MicrosoftDocs/feedback#2279, cloudquery/cloudquery#6626 (the response body from management.azure.com, "
        "quoted: 400 MissingApiVersionParameter)",
        doc="""A request without `?api-version=` is refused by ARM before any provider sees it (answered by the
        emulator's wire; the planner never sends one).""",
        errors=(ErrorTemplate(400, "MissingApiVersionParameter",
                              "The api-version query parameter (?api-version=) is required for all requests."),),
        operations=("read", "create", "update", "delete", "action"), confidence="H", stage=WIRE)

refusal("ARM14", EVERY_TYPE, "The api-version is one ARM serves",
        "The answer as Azure sends it, status 400 (hashicorp/vault-plugin-secrets-azure#13: Status=400 "
        "Code=\"InvalidApiVersionParameter\"; Azure/azure-sdk-for-python#975, Azure/azure-cli#18541: the message with "
        "ARM's versions newest first). For a provider's type with a value that is not a date the same answer is "
        "INFERRED",
        doc="""A request to ARM itself (subscriptions, resource groups, resource lists, providers, deployments, tags) whose
        api-version ARM does not serve, or any request whose api-version is not YYYY-MM-DD (optionally -preview,
        -beta, -alpha, -privatepreview), is refused by the wire with ARM's own versions
        (refit.platform.apis.ARM_OWN).""",
        errors=(ErrorTemplate(400, "InvalidApiVersionParameter",
                              "The api-version '{version}' is invalid. The supported versions are '{supported}'."),),
        operations=("read", "create", "update", "delete", "action"), confidence="H", stage=WIRE)

refusal("ARM15", EVERY_TYPE, "The api-version must be one the provider publishes",
        f"{ARM_PROVIDER}; the message as ARM sends it, status 400, for a GET too (Azure/azure-cli#28496 and "
        "Azure/azure-sdk-for-js#9297: networkInterfaces, location 'eastus'; pulumi/pulumi-azure-nextgen#170: "
        "Status=400). The location a collection's request names is INFERRED (its resource group's, else 'global')",
        doc="""A request for a provider's type (Microsoft.Compute, Microsoft.Network, ...) with an api-version the type does
        not publish is refused by the wire, naming the versions it publishes (refit.platform.apis.PUBLISHED).""",
        errors=(ErrorTemplate(400, "NoRegisteredProviderFound",
                              "No registered resource provider found for location '{location}' and API version "
                              "'{version}' for type '{type}'. The supported api-versions are '{supported}'. The "
                              "supported locations are '{locations}'."),),
        operations=("read", "create", "update", "delete", "action"), confidence="H", stage=WIRE)

refusal("ARM17", EVERY_TYPE, "A resource list's $filter is one ARM reads",
        "The answer as ARM sends it, status 400 (Azure/azure-sdk-for-net#18748 quotes the body; "
        "Azure/azure-sdk-for-go#2480: Status=400; Azure/azure-sdk-for-net#2757: tagName with resourceType is refused); "
        "what it reads: https://learn.microsoft.com/rest/api/resources/resources/list ($filter). Refusing a property "
        "the spec names but refit does not model (plan, identity) is INFERRED",
        doc="""A `$filter` of `GET {subscription or resource group}/resources` is `and`-joined clauses of `resourceGroup`,
        `name`, `location` or `resourceType eq '...'`, `substringof('...', name)`, or the tag clauses `tagName eq
        '...'` (with `tagValue eq '...'`) or `startswith(tagName, '...')` on their own. Anything else is refused
        by the wire.""",
        errors=(ErrorTemplate(400, "InvalidFilterInQueryString",
                              "Invalid $filter '{filter}' specified in the query string."),),
        operations=("read",), confidence="M", stage=WIRE)

refusal("ARM18", EVERY_TYPE, "A resource list's $top is a positive number",
        "INFERRED: worded as ARM's InvalidFilterInQueryString (Azure/azure-sdk-for-net#18748); `$top` is the size of "
        "each page (Azure/azure-rest-api-specs#18525, Azure/azure-sdk-for-python#541)",
        doc="""A `$top` of a resource list that is not a whole number from 1 up is refused by the wire.""",
        errors=(ErrorTemplate(400, "InvalidTopInQueryString", "Invalid $top '{top}' specified in the query string."),),
        operations=("read",), confidence="L", stage=WIRE)

refusal("ARM19", EVERY_TYPE, "An operation that fails inside the service ends Failed",
        "INFERRED: Azure ends a long-running operation Failed with InternalExecutionError / InternalServerError when "
        "the service fails (https://learn.microsoft.com/azure/virtual-machine-scale-sets/"
        "virtual-machine-scale-sets-automatic-upgrade lists InternalExecutionError); the emulator's own fault",
        doc="""An operation whose completion fails inside the platform (a defect of the emulator) ends Failed with
        Azure's internal error, so clients polling it stop instead of waiting for ever.""",
        errors=(ErrorTemplate(500, "InternalExecutionError",
                              "An internal execution error occurred. Please retry later."),),
        stage=OPERATION, operations=("create", "update", "delete", "action"), asynchronous=True, confidence="L")

refusal("ARM16", EVERY_TYPE, "A resource id is /subscriptions/{id}/resourceGroups/{name}/providers/...",
        "INFERRED: ARM's InvalidResourceId family; the texts are refit.arm.ids' (the one parser of ids)",
        doc="""A request path or a reference that is not a well-formed resource id is refused.""",
        errors=(ErrorTemplate(400, "InvalidResourceId", "The resource id '{id}' is not valid."),
                ErrorTemplate(400, "InvalidResourceId",
                              "The resource id '{id}' is not valid: it must start with '/subscriptions/'."),
                ErrorTemplate(400, "InvalidResourceId",
                              "The resource id '{id}' is not valid: resource group name is missing.")),
        operations=("read", "create", "update", "delete", "action"), confidence="L")
