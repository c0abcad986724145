"""Tags at any scope: `{scope}/providers/Microsoft.Resources/tags/default` (the Tags extension resource).

GET, PUT (replace), PATCH (Merge / Replace / Delete), DELETE, on a subscription, a resource group or a
resource. https://learn.microsoft.com/rest/api/resources/tags/update-at-scope
"""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.platform.cloud import Call, Cloud
from refit.platform.writes import not_found


def tags_at_scope(cloud: Cloud, scope: str, call: Call) -> dict[str, Any]:
    """`{scope}/providers/Microsoft.Resources/tags/default`: GET, PUT (replace), PATCH (Merge/Replace/Delete),
    DELETE. https://learn.microsoft.com/rest/api/resources/tags/update-at-scope"""
    rid = ResourceId.parse(scope)
    if rid.namespace is None and rid.resource_group is None:
        target = cloud.settings.setdefault("subscription_tags", {}).setdefault(rid.subscription.lower(), {})
        doc = None
    else:
        doc = cloud.get(rid)
        if doc is None:
            if rid.namespace is None:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rid.resource_group}' could not be found.")
            raise not_found(rid)
        target = dict(doc.get("tags") or {})
    m = call.method
    body = call.body if isinstance(call.body, dict) else {}
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
            cloud.settings["subscription_tags"][rid.subscription.lower()] = result
        else:
            doc["tags"] = result
            cloud.save(doc)
    return {"id": f"{scope}/providers/Microsoft.Resources/tags/default", "name": "default",
            "type": "Microsoft.Resources/tags", "properties": {"tags": result}}


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
