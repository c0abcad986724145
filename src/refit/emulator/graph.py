"""Microsoft.ResourceGraph: POST /providers/Microsoft.ResourceGraph/resources with real KQL.

Rows follow Resource Graph's shape: `type` and `resourceGroup` lowercased (ARG normalises both; see
microsoft/ARI#144, Azure/azure-dev#119), every column present (null when absent). Paging: `$top`
(default 100, max 1000), `$skip`, `$skipToken`; `resultFormat` objectArray or table.
https://learn.microsoft.com/rest/api/azureresourcegraph/resourcegraph/resources/resources
"""

from __future__ import annotations

import base64
import json
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.emulator.core import Emulator, WireRequest, WireResponse
from refit.emulator.resources import _sub_doc

COLUMNS = ("id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy",
           "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation")
MAX_TOP = 1000


def _row(emu: Emulator, doc: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    rid = ResourceId.parse(doc["id"])
    return {
        "id": doc["id"], "name": doc["name"], "type": doc["type"].lower(), "tenantId": emu.tenant_id,
        "kind": rendered.get("kind", ""), "location": rendered.get("location", ""),
        "resourceGroup": (rid.resource_group or "").lower(), "subscriptionId": rid.subscription,
        "managedBy": rendered.get("managedBy", ""), "sku": rendered.get("sku"), "plan": rendered.get("plan"),
        "properties": rendered.get("properties"), "tags": rendered.get("tags"), "identity": rendered.get("identity"),
        "zones": rendered.get("zones"), "extendedLocation": rendered.get("extendedLocation"),
    }


# Role assignments and (custom) role definitions are in Resource Graph's AuthorizationResources table, not Resources
# (https://learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources,
# "authorizationresources": microsoft.authorization/roleassignments, roledefinitions).
AUTHORIZATION_TYPES = ("microsoft.authorization/roleassignments", "microsoft.authorization/roledefinitions")


def tables(emu: Emulator) -> dict[str, list[dict[str, Any]]]:
    """Resources, ResourceContainers and AuthorizationResources, cached until the next change."""
    cache = getattr(emu, "_graph_cache", None)
    if cache is not None and cache[0] == emu.version:
        return cache[1]
    from refit.platform.effects import handler_for

    resources, containers, authorization = [], [], []
    for doc in emu.world:
        t = doc["type"].lower()
        if t == "microsoft.resources/resourcegroups":
            row = _row(emu, doc, doc)
            row["type"] = "microsoft.resources/subscriptions/resourcegroups"
            containers.append(row)
            continue
        h = handler_for(doc["type"])
        if t in AUTHORIZATION_TYPES:
            authorization.append(_row(emu, doc, h.render(emu, doc, None)))
        elif h.listed:  # a deployment's record is not a resource Resource Graph shows
            resources.append(_row(emu, doc, h.render(emu, doc, None)))
    for s in emu.subscriptions:
        # A subscription as Resource Graph shows it: its state and policies under `properties`, as the
        # Subscriptions API returns them (refit.emulator.resources).
        sub = _sub_doc(emu, s)
        containers.append({c: None for c in COLUMNS} | {
            "id": f"/subscriptions/{s['id']}", "name": s.get("displayName") or s["id"],
            "type": "microsoft.resources/subscriptions", "tenantId": emu.tenant_id, "subscriptionId": s["id"],
            "resourceGroup": "", "location": "", "kind": "", "managedBy": "",
            "properties": {"state": sub["state"], "subscriptionPolicies": sub["subscriptionPolicies"]},
            "tags": emu.settings.get("subscription_tags", {}).get(s["id"].lower()) or {}})
    result = {"resources": resources, "resourcecontainers": containers, "authorizationresources": authorization}
    emu._graph_cache = (emu.version, result)
    return result


def query(emu: Emulator, req: WireRequest) -> WireResponse:
    from refit.emulator import kql

    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", "Use POST for Resource Graph queries.")
    emu.check_api_version(req, "Microsoft.ResourceGraph/resources")
    body = req.body if isinstance(req.body, dict) else None
    if body is None or not isinstance(body.get("query"), str) or not body["query"].strip():
        raise ArmError(400, "BadRequest", "The request body must contain a non-empty 'query'.")
    opts = body.get("options") or {}
    try:
        top = int(opts.get("$top") if opts.get("$top") is not None else 100)
        skip = int(opts.get("$skip") or 0)
    except (TypeError, ValueError) as e:
        raise ArmError(400, "BadRequest", "Options '$top' and '$skip' must be integers.") from e
    if not 1 <= top <= MAX_TOP or skip < 0:
        raise ArmError(400, "BadRequest", f"'$top' must be between 1 and {MAX_TOP} and '$skip' >= 0.")
    token = opts.get("$skipToken")
    if token:
        try:
            skip = int(json.loads(base64.b64decode(token))["skip"])
        except (ValueError, KeyError, TypeError) as e:
            raise ArmError(400, "BadRequest", "The '$skipToken' is invalid.") from e
    subs = [s.lower() for s in body.get("subscriptions") or []]
    tabs = tables(emu)
    if subs:
        tabs = {name: [r for r in rows if (r.get("subscriptionId") or "").lower() in subs] for name, rows in tabs.items()}
    try:
        rows = kql.run(body["query"], tabs)
    except kql.KqlError as e:
        return WireResponse(400, kql.error_body(e))
    page = rows[skip : skip + top]
    out: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "facets": [], "resultTruncated": "false"}
    if skip + top < len(rows):
        out["$skipToken"] = base64.b64encode(json.dumps({"skip": skip + top}).encode()).decode()
    if (opts.get("resultFormat") or "objectArray").lower() == "table":
        cols = list(page[0].keys()) if page else []
        out["data"] = {"columns": [{"name": c, "type": _kind(page, c)} for c in cols],
                       "rows": [[r.get(c) for c in cols] for r in page]}
    else:
        out["data"] = page
    return WireResponse(200, out)


def _kind(rows: list[dict[str, Any]], col: str) -> str:
    for r in rows:
        val = r.get(col)
        if val is None:
            continue
        if isinstance(val, bool):
            return "boolean"
        if isinstance(val, int | float):
            return "integer" if isinstance(val, int) else "number"
        if isinstance(val, str):
            return "string"
        return "object"
    return "string"
