"""Microsoft Graph's answers about the tenant's Entra device objects (refit.platform.directory).

Not ARM: Graph's error shape is {"error": {"code", "message", "innerError"}} (https://learn.microsoft.com/graph/errors)
and its codes are the directory's own. GRAPH1: a device that does not exist (device-get / device-delete on an
unknown id; the directory's code Request_ResourceNotFound, with the message it gives for directory objects, as
Azure/azure-cli#21584 quotes for `az ad`: "Resource '...' does not exist or one of its queried reference-property
objects are not present."). GRAPH2: a `$filter` the devices collection does not support (the emulator's wire parses the query) (Request_UnsupportedQuery:
https://learn.microsoft.com/graph/aad-advanced-queries names the code; the message is INFERRED).
"""

from __future__ import annotations

from refit.platform.rules.registry import REQUEST, WIRE, ErrorTemplate, refusal

DEVICE = "Microsoft.Graph/devices"  # Microsoft Graph's entity set, named as the catalog names resource types

refusal("GRAPH1", DEVICE, "A device must exist to be read or deleted",
        "https://learn.microsoft.com/graph/api/device-delete; https://learn.microsoft.com/graph/errors; "
        "Azure/azure-cli#21584 (the directory's Request_ResourceNotFound message)",
        doc="""Graph answers a device id (or deviceId) it does not know with 404 Request_ResourceNotFound: on GET and
        on DELETE alike (a device deleted twice answers 404 the second time).""",
        errors=(ErrorTemplate(404, "Request_ResourceNotFound",
                              "Resource '{key}' does not exist or one of its queried reference-property objects are "
                              "not present."),),
        operations=("read", "delete"), stage=REQUEST, confidence="M")

refusal("GRAPH2", DEVICE, "A devices $filter must be one the directory supports",
        "https://learn.microsoft.com/graph/aad-advanced-queries (devices: eq and startsWith on displayName; "
        "Request_UnsupportedQuery); https://learn.microsoft.com/graph/api/device-list",
        doc="""Listing devices takes `$filter` with `eq` (displayName, deviceId, operatingSystem, trustType,
        accountEnabled) and `startswith(displayName,'...')`, joined by `and`; anything else is refused with 400
        Request_UnsupportedQuery.""",
        errors=(ErrorTemplate(400, "Request_UnsupportedQuery",
                              "Unsupported or invalid query filter clause specified: '{expr}'."),),
        operations=("read",), stage=WIRE, confidence="L")
