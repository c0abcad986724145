"""Tags at any scope: `{scope}/providers/Microsoft.Resources/tags/default` (the Tags extension resource).

GET, PUT (replace), PATCH (Merge / Replace / Delete), DELETE, on a subscription, a resource group or a
resource. https://learn.microsoft.com/rest/api/resources/tags/update-at-scope
"""

from __future__ import annotations

from typing import Any

from refit.platform.cloud import Call, Cloud
from refit.platform.effects.input import check_tags
from refit.platform.rules import RULES
from refit.platform.writes import not_found, resource_id


def tags_at_scope(cloud: Cloud, scope: str, call: Call) -> dict[str, Any]:
    """`{scope}/providers/Microsoft.Resources/tags/default`: GET, PUT (replace), PATCH (Merge/Replace/Delete),
    DELETE. https://learn.microsoft.com/rest/api/resources/tags/update-at-scope"""
    rid = resource_id(scope)
    if rid.namespace is None and rid.resource_group is None:
        target = cloud.settings.setdefault("subscription_tags", {}).setdefault(rid.subscription.lower(), {})
        doc = None
    else:
        doc = cloud.get(rid)
        if doc is None:
            if rid.namespace is None:
                raise RULES["ARM10"].refuse(resource_group=rid.resource_group)
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
            raise RULES["ARM5"].refuse(3, name="properties.tags")
        result = _valid_tags(cloud, new_tags)
    elif m == "PATCH":
        operation = body.get("operation").lower() if isinstance(body.get("operation"), str) else ""
        if operation not in ("merge", "replace", "delete"):
            raise RULES["ARM5"].refuse(4, operation=body.get("operation"))
        if not isinstance(new_tags, dict):
            raise RULES["ARM5"].refuse(3, name="properties.tags")
        new_tags = _valid_tags(cloud, new_tags)
        if operation == "replace":
            result = new_tags
        elif operation == "merge":
            result = _valid_tags(cloud, _merge(target, new_tags))  # the limits hold for the merged set too
        else:
            # Delete removes the given names; with a value, only when the value matches.
            result = {k: v for k, v in target.items()
                      if not any(k.lower() == n.lower() and (new_tags[n] in ("", None) or new_tags[n] == v)
                                 for n in new_tags)}
    else:
        raise RULES["ARM12"].refuse(method=m)
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


def _valid_tags(cloud: Cloud, tags: dict[str, Any]) -> dict[str, str]:
    # Tag values are strings (rule ARM5, as for every resource's tags); ARM's tag limits are one rule for every
    # write and for this resource (ARM11).
    check_tags(tags)
    errors = RULES["ARM11"].check(cloud.world, None, {"tags": tags})
    if errors:
        raise errors[0]
    return {k: "" if v is None else str(v) for k, v in tags.items()}
