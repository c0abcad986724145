"""Routing ARM paths to the generic resource flows and the provider modules.

Path shapes (case-insensitive, as ARM treats them):
  /subscriptions[/{sub}]                                       subscriptions
  /subscriptions/{sub}/resourcegroups[/{rg}]                   resource groups
  /subscriptions/{sub}[/resourcegroups/{rg}]/resources          resource lists; .../providers[/{ns}] (discovery.py)
  /subscriptions/{sub}/providers/{ns}/locations/{loc}/operations/{id}   operation status
  /subscriptions/{sub}/providers/{ns}/{type}                   list across the subscription
  /subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}[/{name}[/{child}[/{name}...]]][/{action}]
  {sub or rg}/providers/Microsoft.Resources/deployments/...    template deployments (deployments.py)
  /subscriptions/{sub}/providers/Microsoft.Compute/skus | locations/{loc}/{publishers|usages|vmSizes}/...
                                                               what Compute offers (compute_catalog.py)
  {scope}/providers/Microsoft.Resources/tags/default            tags at scope
  {scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{guid}]   RBAC at any scope (tenant,
                                                               subscription, resource group, resource)
  /providers/Microsoft.ResourceGraph/resources                 Resource Graph
"""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.emulator import discovery
from refit.emulator import resources as rp
from refit.emulator.core import Emulator, Operation, WireRequest, WireResponse
from refit.platform import writes
from refit.platform.cloud import Answer
from refit.platform.effects import handler_for, known_type

PAGE_SIZE = 1000
OPERATION_SEGMENTS = {"operations", "diskoperations", "capsoperations", "operationstatuses"}


def handle(emu: Emulator, req: WireRequest) -> WireResponse:
    parts = [p for p in req.path.split("/") if p]
    low = [p.lower() for p in parts]
    if not parts:
        raise ArmError(404, "NotFound", "The requested path was not found.")
    if low[:3] == ["providers", "microsoft.resourcegraph", "resources"] and len(low) == 3:
        from refit.emulator import graph

        return graph.query(emu, req)
    rbac_at = _authorization_at(low)
    if rbac_at is not None and low[0] == "providers":
        return authorization(emu, req, parts, *rbac_at)
    if low[0] == "tenants" and len(low) == 1:
        return rp.tenants(emu, req)
    if low[0] != "subscriptions":
        raise ArmError(404, "NotFound", f"The requested path '{req.path}' was not found.")
    if len(low) == 1:
        return rp.list_subscriptions(emu, req)
    sub = parts[1]
    if not emu.has_subscription(sub):
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    rest, rlow = parts[2:], low[2:]
    if not rest:
        return rp.get_subscription(emu, req, sub)
    if rbac_at is not None:
        return authorization(emu, req, parts, *rbac_at)
    # Tags extension resource at any scope.
    if len(rlow) >= 4 and rlow[-4:] == ["providers", "microsoft.resources", "tags", "default"]:
        scope = "/" + "/".join(parts[:-4])
        return rp.tags(emu, req, scope)
    if rlow == ["locations"]:
        return rp.locations(emu, req, sub)
    if rlow == ["resources"]:
        return discovery.resources(emu, req, sub)
    if rlow == ["providers"]:
        return discovery.providers(emu, req, sub)
    if rlow[0] == "providers":
        if len(rlow) == 6 and rlow[2] == "locations" and rlow[4] in OPERATION_SEGMENTS:
            return operation_status(emu, req, rest[5])
        if len(rlow) >= 3 and rlow[1:3] == ["microsoft.resources", "deployments"]:
            from refit.emulator import deployments

            return deployments.route(emu, req, ResourceId(sub), rest[3:])
        if len(rlow) >= 3 and rlow[1] == "microsoft.compute":
            from refit.emulator import compute_catalog

            if compute_catalog.serves(rlow[2:]):
                return compute_catalog.route(emu, req, sub, rest[2:])
        if rlow[1:] == ["microsoft.storage", "checknameavailability"] and req.method == "POST":
            from refit.platform.effects.storage import check_name_availability

            return WireResponse(200, check_name_availability(emu, req.body))
        if len(rlow) == 2:
            return discovery.provider(emu, req, sub, rest[1])
        if len(rlow) == 3:
            return list_collection(emu, req, sub, None, f"{rest[1]}/{rest[2]}")
        raise ArmError(404, "NotFound", f"The requested path '{req.path}' was not found.")
    if rlow[0] != "resourcegroups":
        raise ArmError(404, "NotFound", f"The requested path '{req.path}' was not found.")
    if len(rlow) == 1:
        return rp.list_resource_groups(emu, req, sub)
    rg = rest[1]
    if len(rlow) == 2:
        return rp.resource_group(emu, req, sub, rg)
    if emu.get(ResourceId(sub, rg)) is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    tail, tlow = rest[2:], rlow[2:]
    if tlow == ["resources"]:
        return discovery.resources(emu, req, sub, rg)
    if tlow[0] == "deployments":  # the spec's older route of deployment operations (DeploymentOperations_List)
        from refit.emulator import deployments

        return deployments.route(emu, req, ResourceId(sub, rg), tail[1:])
    if tlow[0] != "providers" or len(tail) < 3:
        raise ArmError(404, "NotFound", f"The requested path '{req.path}' was not found.")
    ns, segs = tail[1], tail[2:]
    if ns.lower() == "microsoft.resources" and segs[0].lower() == "deployments":
        from refit.emulator import deployments

        return deployments.route(emu, req, ResourceId(sub, rg), segs[1:])
    if len(segs) == 1:
        return list_collection(emu, req, sub, rg, f"{ns}/{segs[0]}")
    if len(segs) % 2 == 0:
        rid = ResourceId(sub, rg, ns, tuple((segs[i], segs[i + 1]) for i in range(0, len(segs), 2)))
        return resource(emu, req, rid)
    # Odd: a child collection or an action on the resource named by the even prefix.
    parent = ResourceId(sub, rg, ns, tuple((segs[i], segs[i + 1]) for i in range(0, len(segs) - 1, 2)))
    last = segs[-1]
    child_type = f"{parent.type}/{last}"
    if known_type(child_type):
        return list_children(emu, req, parent, child_type)
    return action(emu, req, parent, last)


# ---- role assignments and role definitions at any scope ---------------------------------------------------------
AUTHORIZATION_TYPES = {"roleassignments": "Microsoft.Authorization/roleAssignments",
                       "roledefinitions": "Microsoft.Authorization/roleDefinitions"}


def _authorization_at(low: list[str]) -> tuple[int, str] | None:
    """(where `providers/Microsoft.Authorization` starts, the type) for `{scope}/providers/Microsoft.Authorization/
    {roleAssignments|roleDefinitions}[/{name}]`; None for any other path."""
    for i in (len(low) - 3, len(low) - 4):
        if i >= 0 and low[i:i + 2] == ["providers", "microsoft.authorization"] and low[i + 2] in AUTHORIZATION_TYPES:
            return i, AUTHORIZATION_TYPES[low[i + 2]]
    return None


def authorization(emu: Emulator, req: WireRequest, parts: list[str], i: int, rtype: str) -> WireResponse:
    """RBAC at a scope (specs authorization 2022-04-01: `/{scope}/providers/Microsoft.Authorization/roleAssignments/
    {roleAssignmentName}`, `/{scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}` and their
    lists with `$filter`), through the platform's flows (refit.platform.effects.authorization)."""
    from refit.platform.effects import authorization as auth

    emu.check_api_version(req, rtype)
    scope = "/" + "/".join(parts[:i])
    rid = ResourceId.parse(scope) if i >= 2 else None
    if rid is not None and rid.resource_group and emu.get(ResourceId(rid.subscription, rid.resource_group)) is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rid.resource_group}' could not be found.")
    if rid is not None and rid.namespace and emu.get(rid) is None:
        raise not_found(rid)
    h = handler_for(rtype)
    if len(parts) == i + 3:
        if req.method not in ("GET", "HEAD"):
            raise ArmError(405, "MethodNotAllowed", f"The requested method '{req.method}' is not allowed.")
        lister = auth.assignments_at if rtype.endswith("roleAssignments") else auth.definitions_at
        docs = lister(emu, scope, req.query.get("$filter") or "")
        return page(emu, req, [h.render(emu, d, req.call()) for d in docs])
    if i == 0:  # tenant level: the built-in roles only (`/providers/Microsoft.Authorization/roleDefinitions/{id}`)
        from refit.platform import authorization as rbac

        if rtype.endswith("roleAssignments") or req.method not in ("GET", "HEAD"):
            raise ArmError(405, "MethodNotAllowed", f"The requested method '{req.method}' is not allowed.")
        doc = rbac.built_in_document(parts[3], None)
        if doc is None:
            raise h.missing(ResourceId(emu.subscriptions[0]["id"], None, "Microsoft.Authorization",
                                       (("roleDefinitions", parts[3]),)))
        return WireResponse(200, doc)
    return resource(emu, req, writes.resource_id(req.path))


# ---- resources, through the platform's generic flows ----------------------------------------------
def resource(emu: Emulator, req: WireRequest, rid: ResourceId) -> WireResponse:
    handler_for(rid.type)
    emu.check_api_version(req, rid.type, where(emu, rid, req))
    m = req.method
    if m == "POST" and rid.parent is not None and rid.parent.namespace:
        # `{set}/rollingUpgrades/cancel`: an action named by two segments, on the parent
        return action(emu, req, rid.parent, f"{rid.types[-1][0]}/{rid.name}")
    if m in ("GET", "HEAD"):
        return WireResponse(200, writes.read(emu, rid, req.call()))
    if m == "DELETE":
        return answer(emu, req, writes.delete(emu, rid, req.call()))
    if m not in ("PUT", "PATCH"):
        raise ArmError(405, "MethodNotAllowed", f"The requested method '{m}' is not allowed for '{rid.type}'.")
    return answer(emu, req, writes.write(emu, rid, req.call()))


def action(emu: Emulator, req: WireRequest, rid: ResourceId, name: str) -> WireResponse:
    handler_for(rid.type)
    emu.check_api_version(req, rid.type, where(emu, rid, req))
    if req.method == "GET":
        body = writes.sub_read(emu, rid, name, req.call())
        if body is not None:
            return WireResponse(200, body)
        raise ArmError(404, "NotFound", f"The requested path '{req.path}' was not found.")
    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", f"The requested method '{req.method}' is not allowed.")
    return answer(emu, req, writes.act(emu, rid, name, req.call()))


def where(emu: Emulator, rid: ResourceId, req: WireRequest) -> str | None:
    """The location ARM names in NoRegisteredProviderFound: the resource's, the one a PUT sends, else its resource
    group's (INFERRED for the last two)."""
    for doc in (emu.get(rid), req.body if isinstance(req.body, dict) else None, emu.get(ResourceId(rid.subscription,
                                                                                               rid.resource_group))):
        if isinstance(doc, dict) and isinstance(doc.get("location"), str):
            return doc["location"]
    return None


def answer(emu: Emulator, req: WireRequest, a: Answer) -> WireResponse:
    """The platform's answer on the wire: an operation that carries on becomes LRO headers."""
    if a.op is None:
        return WireResponse(a.status, a.body)
    return lro(emu, req, a.op, a.status, a.body, location=a.location)


def list_collection(emu: Emulator, req: WireRequest, sub: str, rg: str | None, rtype: str) -> WireResponse:
    if not known_type(rtype):
        ns = rtype.split("/")[0]
        raise ArmError(400, "InvalidResourceType",
                       f"The resource type '{rtype.split('/', 1)[1]}' could not be found in the namespace '{ns}' "
                       f"for api version '{req.api_version}'.")
    h = handler_for(rtype)
    emu.check_api_version(req, rtype, where(emu, ResourceId(sub, rg), req) if rg else None)
    prefix = id_key(ResourceId(sub, rg)) + "/"
    docs = [d for d in emu.world.of_type(rtype) if id_key(d["id"]).startswith(prefix)]
    return page(emu, req, [h.render(emu, d, req.call()) for d in docs])


def list_children(emu: Emulator, req: WireRequest, parent: ResourceId, child_type: str) -> WireResponse:
    h = handler_for(child_type)
    emu.check_api_version(req, child_type, where(emu, parent, req))
    if emu.get(parent) is None:
        raise not_found(parent)
    docs = h.views(emu, parent)
    return page(emu, req, [h.render(emu, d, req.call()) for d in docs])


def page(emu: Emulator, req: WireRequest, items: list[dict[str, Any]], size: int = PAGE_SIZE) -> WireResponse:
    """ARM list paging: `value` plus an absolute `nextLink` carrying `$skiptoken` (`size` items a page)."""
    try:
        start = int(req.query.get("$skiptoken") or 0)
    except ValueError as e:
        raise ArmError(400, "InvalidSkipToken", "The skip token is invalid.") from e
    chunk = items[start : start + size]
    body: dict[str, Any] = {"value": chunk}
    if start + size < len(items):
        q = {k: v for k, v in req.query.items() if k != "$skiptoken"}
        q["$skiptoken"] = str(start + size)
        from urllib.parse import urlencode

        body["nextLink"] = f"{req.base_url}{req.path}?{urlencode(q)}"
    return WireResponse(200, body)


# ---- long-running operations -------------------------------------------------------------------
def op_urls(req: WireRequest, op: Operation) -> tuple[str, str]:
    sub = ResourceId.parse(op.resource_id).subscription
    base = f"{req.base_url}/subscriptions/{sub}/providers/{op.namespace}/locations/{op.region}/operations/{op.id}"
    return f"{base}?api-version={op.api_version}", f"{base}?monitor=true&api-version={op.api_version}"


def poll_hint(emu: Emulator, op: Operation) -> str:
    """retry-after-ms: the real time left, so clients poll neither blindly nor 30 s apart
    (azure-core ignores Retry-After: 0 and falls back to 30 s; reference/clients... 'LRO pacing')."""
    left = emu.clock.real_seconds(op.end - emu.now()) * 1000
    return str(int(min(1000, max(5, left + 2))))


def lro(emu: Emulator, req: WireRequest, op: Operation, status: int, body: Any, location: bool) -> WireResponse:
    async_url, loc_url = op_urls(req, op)
    headers = {"Azure-AsyncOperation": async_url, "retry-after-ms": poll_hint(emu, op)}
    if location:
        headers["Location"] = loc_url
    return WireResponse(status, body, headers)


def operation_status(emu: Emulator, req: WireRequest, op_id: str) -> WireResponse:
    op = emu.ops.get(op_id)
    if op is None:
        raise ArmError(404, "NotFound", f"The operation '{op_id}' could not be found.")
    monitor = (req.query.get("monitor") or "").lower() == "true"
    if not monitor:
        headers = {"retry-after-ms": poll_hint(emu, op)} if op.status == "InProgress" else {}
        return WireResponse(200, op.status_body(), headers)
    # Location polling (L5): 202 while in progress; then the result, or the error with its status.
    if op.status == "InProgress":
        _, loc = op_urls(req, op)
        return WireResponse(202, None, {"Location": loc, "retry-after-ms": poll_hint(emu, op)})
    if op.status == "Failed":
        return WireResponse(op.data.get("http_status", 409), {"error": op.error})
    if op.kind in ("put", "patch"):
        doc = emu.get(op.resource_id)
        if doc is not None:
            return WireResponse(200, handler_for(ResourceId.parse(op.resource_id).type).render(emu, doc, req.call()))
    return WireResponse(204)


# ---- errors ----------------------------------------------------------------------------------------
not_found = writes.not_found
conflict = writes.conflict
