"""Microsoft.Resources: subscriptions, tenants, resource groups, tags at scope, locations."""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.emulator import regions
from refit.emulator.core import Emulator, Request, Response
from refit.emulator.providers import register
from refit.emulator.providers.base import ResourceType

RG_TYPE = "Microsoft.Resources/resourceGroups"


class ResourceGroupType(ResourceType):
    type = RG_TYPE

    def build(self, emu, rid, doc, old, req):
        doc.pop("zones", None)
        doc["properties"] = {}
        return doc

    def duration(self, emu, old, new):
        return "rg.delete", 0.0  # create/update are synchronous


RESOURCE_GROUPS = register(ResourceGroupType())


def _sub_doc(emu: Emulator, s: dict[str, str]) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{s['id']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s["id"],
        "tenantId": emu.tenant_id,
        "displayName": s.get("displayName") or s["id"],
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                 "spendingLimit": "Off"},
    }


def list_subscriptions(emu: Emulator, req: Request) -> Response:
    emu.check_api_version(req)
    subs = [_sub_doc(emu, s) for s in emu.subscriptions]
    return Response(200, {"value": subs, "count": {"type": "Total", "value": len(subs)}})


def get_subscription(emu: Emulator, req: Request, sub: str) -> Response:
    emu.check_api_version(req)
    s = next(s for s in emu.subscriptions if s["id"].lower() == sub.lower())
    return Response(200, _sub_doc(emu, s))


def tenants(emu: Emulator, req: Request) -> Response:
    emu.check_api_version(req)
    t = emu.tenant_id
    return Response(200, {"value": [{"id": f"/tenants/{t}", "tenantId": t, "tenantCategory": "Home",
                                     "displayName": "refit emulator", "defaultDomain": "refit.local",
                                     "tenantType": "AAD"}]})


def locations(emu: Emulator, req: Request, sub: str) -> Response:
    emu.check_api_version(req)
    out = []
    for name, (display, zones) in regions.REGIONS.items():
        loc: dict[str, Any] = {"id": f"/subscriptions/{sub}/locations/{name}", "name": name, "type": "Region",
                               "displayName": display, "regionalDisplayName": display,
                               "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}}
        if zones:
            loc["availabilityZoneMappings"] = [{"logicalZone": z, "physicalZone": f"{name}-az{z}"} for z in "123"]
        out.append(loc)
    return Response(200, {"value": out})


def provider(emu: Emulator, req: Request, namespace: str) -> Response:
    from refit.emulator.providers import all_types

    emu.check_api_version(req)
    types = sorted({t.split("/", 1)[1] for t in all_types() if t.lower().startswith(namespace.lower() + "/")})
    if not types:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
    sub = req.path.split("/")[2]
    return Response(200, {"id": f"/subscriptions/{sub}/providers/{namespace}", "namespace": namespace,
                          "registrationState": "Registered", "registrationPolicy": "RegistrationRequired",
                          "resourceTypes": [{"resourceType": t, "locations": [d for d, _ in regions.REGIONS.values()],
                                             "apiVersions": []} for t in types]})


def list_resource_groups(emu: Emulator, req: Request, sub: str) -> Response:
    from refit.emulator.dispatch import page

    emu.check_api_version(req)
    prefix = f"/subscriptions/{sub}/".lower()
    return page(emu, req, [d for d in emu.world.of_type(RG_TYPE) if d["id"].lower().startswith(prefix)])


def resource_group(emu: Emulator, req: Request, sub: str, rg: str) -> Response:
    from refit.emulator.dispatch import lro, resource

    rid = ResourceId(sub, rg)
    api = emu.check_api_version(req)
    doc = emu.get(rid)
    if req.method in ("GET", "HEAD"):
        if doc is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return Response(200 if req.method == "GET" else 204, doc if req.method == "GET" else None)
    if req.method == "DELETE":
        if doc is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        if emu.busy(rid) is not None:
            from refit.emulator.dispatch import conflict

            raise conflict()
        doc["properties"]["provisioningState"] = "Deleting"
        emu.save(doc)
        op = emu.begin(str(rid), "delete", "rg.delete", emu.timing["rg.delete"], doc["location"], api,
                       namespace="Microsoft.Resources")
        return lro(emu, req, op, 202, None, location=True)
    if doc is not None and doc["properties"].get("provisioningState") == "Deleting":
        raise ArmError(409, "ResourceGroupBeingDeleted",
                       f"The resource group '{rg}' is in deprovisioning state and cannot perform this operation.")
    return resource(emu, req, rid)


def finish_rg_delete(emu: Emulator, rg_id: str) -> None:
    """Deleting a resource group deletes everything in it (deepest first)."""
    prefix = id_key(rg_id) + "/"
    doomed = sorted((d["id"] for d in list(emu.world) if id_key(d["id"]).startswith(prefix)),
                    key=lambda i: -i.count("/"))
    for rid in doomed:
        emu.remove(rid)


def _rg_complete(emu: Emulator, op) -> None:
    if op.kind == "delete":
        finish_rg_delete(emu, op.resource_id)
        emu.remove(op.resource_id)


RESOURCE_GROUPS.complete = _rg_complete  # type: ignore[method-assign]


def list_rg_resources(emu: Emulator, req: Request, sub: str, rg: str) -> Response:
    from refit.emulator.dispatch import page

    emu.check_api_version(req)
    prefix = id_key(ResourceId(sub, rg)) + "/providers/"
    items = [{k: d[k] for k in ("id", "name", "type", "location", "tags", "zones", "sku", "kind", "managedBy") if k in d}
             for d in emu.world if id_key(d["id"]).startswith(prefix)]
    return page(emu, req, items)


# ---- tags at scope -----------------------------------------------------------------------------
def tags(emu: Emulator, req: Request, scope: str) -> Response:
    """`{scope}/providers/Microsoft.Resources/tags/default`: GET, PUT (replace), PATCH (Merge/Replace/Delete),
    DELETE. https://learn.microsoft.com/rest/api/resources/tags/update-at-scope"""
    emu.check_api_version(req, "2019-10-01")
    rid = ResourceId.parse(scope)
    if rid.namespace is None and rid.resource_group is None:
        target = emu.settings.setdefault("subscription_tags", {}).setdefault(rid.subscription.lower(), {})
        doc = None
    else:
        doc = emu.get(rid)
        if doc is None:
            from refit.emulator.dispatch import not_found

            if rid.namespace is None:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rid.resource_group}' could not be found.")
            raise not_found(rid)
        target = dict(doc.get("tags") or {})
    m = req.method
    body = req.body if isinstance(req.body, dict) else {}
    new_tags = ((body.get("properties") or {}).get("tags")) if isinstance(body.get("properties"), dict) else None
    if m == "GET":
        result = target
    elif m == "DELETE":
        result = {}
    elif m == "PUT":
        if not isinstance(new_tags, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties.tags' is required.")
        result = _valid_tags(new_tags)
    elif m == "PATCH":
        operation = (body.get("operation") or "").lower()
        if operation not in ("merge", "replace", "delete"):
            raise ArmError(400, "InvalidRequestContent",
                           f"The tag operation '{body.get('operation')}' is invalid. Allowed: Merge, Replace, Delete.")
        if not isinstance(new_tags, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties.tags' is required.")
        new_tags = _valid_tags(new_tags)
        if operation == "replace":
            result = new_tags
        elif operation == "merge":
            result = _merge(target, new_tags)
        else:
            # Delete removes the given names; with a value, only when the value matches.
            result = {k: v for k, v in target.items()
                      if not any(k.lower() == n.lower() and (new_tags[n] in ("", None) or new_tags[n] == v)
                                 for n in new_tags)}
    else:
        raise ArmError(405, "MethodNotAllowed", f"The requested method '{m}' is not allowed.")
    if m != "GET":
        if doc is None:
            emu.settings["subscription_tags"][rid.subscription.lower()] = result
        else:
            doc["tags"] = result
            emu.save(doc)
    return Response(200, {"id": f"{scope}/providers/Microsoft.Resources/tags/default", "name": "default",
                          "type": "Microsoft.Resources/tags", "properties": {"tags": result}})


def _merge(old: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    out = dict(old)
    for k, v in new.items():
        existing = next((ek for ek in out if ek.lower() == k.lower()), None)  # tag names are case-insensitive
        if existing is not None:
            del out[existing]
            out[existing] = v
        else:
            out[k] = v
    return out


def _valid_tags(tags: dict[str, Any]) -> dict[str, str]:
    # https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
    if len(tags) > 50:
        raise ArmError(400, "InvalidTagCount", "The number of tags on a resource or resource group cannot exceed 50.")
    for k, v in tags.items():
        if len(k) > 512 or any(c in k for c in "<>%&\\?/"):
            raise ArmError(400, "InvalidTagNameCharacters",
                           f"The tag names '{k}' have reserved characters '<,>,%,&,\\,?,/' or control characters.")
        if v is not None and len(str(v)) > 256:
            raise ArmError(400, "InvalidTagValueLength", f"The tag value for '{k}' exceeds 256 characters.")
    return {k: "" if v is None else str(v) for k, v in tags.items()}
