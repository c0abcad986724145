"""ARM's generic resource flows over a Cloud: GET, PUT, PATCH, DELETE and POST actions.

Each flow is what Azure does with one call, in order: the type's effects build the new document
(structural checks, server-set fields), the rule catalog decides (a synchronous refusal answers the
call; an asynchronous one fails its operation later), the timing model says how long it takes, and
the effects apply what acceptance and completion change. The answer says the status, the body and
the operation that carries on; the emulator renders it on the wire (LRO headers), the planner just
runs the clock to the operation's end.
"""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.platform.cloud import Answer, Call, Cloud, Operation
from refit.platform.effects import handler_for
from refit.platform.effects.input import check_write
from refit.platform.rules import RULES


def read(cloud: Cloud, rid: ResourceId, call: Call) -> dict[str, Any]:
    check_parent(cloud, rid)
    h = handler_for(rid.type)
    doc = h.view(cloud, rid)
    if doc is None:
        raise h.missing(rid) or not_found(rid)
    return h.render(cloud, doc, call)


def write(cloud: Cloud, rid: ResourceId, call: Call, render: bool = True) -> Answer:
    """PUT (create or replace) or PATCH (merge) of one resource. `render`: whether the answer carries the document
    (the platform's own writes, e.g. a scale set making its instances, need no body)."""
    h = handler_for(rid.type)
    own = h.own_write(cloud, rid, call)  # a PUT that is a flow of its own (a deployment runs its template)
    if own is not None:
        return own
    check_parent(cloud, rid)
    old = cloud.get(rid)
    m = call.method
    if m == "PATCH" and old is None:
        raise not_found(rid)
    if cloud.busy(rid) is not None:
        raise conflict()
    check_write(rid, call.body, creating=old is None)  # the body's types and the new name (family IN, ARM5)
    body = call.body if call.body is not None else {}
    incoming = h.merge_patch(old, body) if m == "PATCH" else body
    new = h.prepare(cloud, rid, incoming, old, call)
    sync_err, async_err = cloud.validate(old, new)
    if sync_err is not None:
        raise sync_err
    key, seconds = h.duration(cloud, old, new)
    creating = old is None
    status = h.put_create_status if (creating and m == "PUT") else (h.put_update_status if m == "PUT" else h.patch_status)
    if seconds <= 0 and async_err is None:
        new.setdefault("properties", {})["provisioningState"] = "Succeeded"
        h.accept(cloud, old, new, None)
        cloud.save(new)
        done = Operation(id="sync", resource_id=str(rid), kind=m.lower(), name=key, namespace=rid.namespace or "",
                         region="", start=cloud.now(), end=cloud.now(), api_version=call.api_version)
        h.finish(cloud, new, done)
        cloud.save(new)
        return Answer(200 if status == 202 else status, h.render(cloud, new, call) if render else None)
    new.setdefault("properties", {})["provisioningState"] = "Creating" if creating else "Updating"
    data: dict[str, Any] = {"old": old}
    if async_err is not None:
        data["fail"] = async_err.body()["error"]
        data["fail_status"] = async_err.status
        data["fail_rule"] = async_err.rule
    op = cloud.begin(str(rid), m.lower(), key, seconds, new.get("location", ""), call.api_version, data)
    if async_err is None:
        h.accept(cloud, old, new, op)
    cloud.save(new)
    return Answer(status, h.render(cloud, new, call) if render else None, op, location=h.location_header_on_write)


def delete(cloud: Cloud, rid: ResourceId, call: Call) -> Answer:
    check_parent(cloud, rid)
    own = handler_for(rid.type).own_delete(cloud, rid, call)  # a child kept in its parent's model
    if own is not None:
        return own
    old = cloud.get(rid)
    if old is None:
        return Answer(204)
    if cloud.busy(rid) is not None:
        raise conflict()
    h = handler_for(rid.type)
    sync_err, async_err = cloud.validate(old, None)
    if sync_err is not None:
        raise sync_err  # e.g. rules G12 and C10 (delete order), D21 (a disk a VM owns)
    seconds = cloud.timing[h.delete_timing]
    data: dict[str, Any] = {}
    if async_err is not None:
        data["fail"] = async_err.body()["error"]
        data["fail_rule"] = async_err.rule
    op = cloud.begin(str(rid), "delete", h.delete_timing, seconds, old.get("location", ""), call.api_version, data)
    old.setdefault("properties", {})["provisioningState"] = "Deleting"
    cloud.save(old)
    if seconds <= 0:
        cloud.tick()
        return Answer(200)
    return Answer(h.delete_status, None, op, location=True)


def act(cloud: Cloud, rid: ResourceId, name: str, call: Call) -> Answer:
    """POST {id}/{action}."""
    h = handler_for(rid.type)
    check_parent(cloud, rid)
    doc = h.view(cloud, rid)  # a Flexible set's instance is its VM
    if doc is None:
        raise h.missing(rid) or not_found(rid)
    if name.lower() not in {a.lower() for a in h.actions}:
        raise RULES["ARM4"].refuse(type=name, namespace=rid.namespace)
    if cloud.busy(doc["id"]) is not None:
        raise conflict()
    return h.action(cloud, doc, next(a for a in h.actions if a.lower() == name.lower()), call)


def sub_read(cloud: Cloud, rid: ResourceId, name: str, call: Call) -> dict[str, Any] | None:
    """GET {id}/{name} for a view that is not a child collection (instanceView); None if there is none."""
    h = handler_for(rid.type)
    doc = h.view(cloud, rid)
    if doc is None:
        raise h.missing(rid) or not_found(rid)
    return h.sub_get(cloud, doc, name, call)


def perform(cloud: Cloud, method: str, path: str, api_version: str, body: Any = None) -> Answer:
    """One call by path, as refit's operations address them: a resource id (PUT, PATCH, DELETE, GET),
    `{id}/{action}` (POST), or `{scope}/providers/Microsoft.Resources/tags/default`."""
    call = Call(method.upper(), api_version, body)
    low = path.rstrip("/").lower()
    if low.endswith(TAGS_SUFFIX):
        from refit.platform.effects.tags import tags_at_scope

        return Answer(200, tags_at_scope(cloud, path.rstrip("/")[: -len(TAGS_SUFFIX)], call))
    if call.method == "POST":
        parent, _, name = path.rstrip("/").rpartition("/")
        owner, _, segment = parent.rpartition("/")
        if segment.lower() == "rollingupgrades":  # `{set}/rollingUpgrades/cancel`: an action named by two segments
            return act(cloud, resource_id(owner), f"{segment}/{name}", call)
        return act(cloud, resource_id(parent), name, call)
    rid = resource_id(path)
    if call.method == "GET":
        return Answer(200, read(cloud, rid, call))
    if call.method == "DELETE":
        if rid.namespace is None:
            from refit.platform.effects.resources import delete_group

            return delete_group(cloud, rid, call)
        return delete(cloud, rid, call)
    return write(cloud, rid, call)


TAGS_SUFFIX = "/providers/microsoft.resources/tags/default"


def check_parent(cloud: Cloud, rid: ResourceId) -> None:
    parent = rid.parent
    if parent is not None and parent.namespace and cloud.get(parent) is None:
        raise RULES["ARM2"].refuse(parent=parent.name)


def resource_id(path: str) -> ResourceId:
    """The resource id a request addresses; a malformed one is ARM's refusal (rule ARM16), named as such."""
    try:
        return ResourceId.parse(path)
    except ArmError as e:
        raise RULES["ARM16"].claim(e) from None


# ---- Azure's answers -----------------------------------------------------------------------------
def not_found(rid: ResourceId) -> ArmError:
    inner = "/".join([rid.namespace or "", *(f"{t}/{n}" for t, n in rid.types)])
    return RULES["ARM1"].refuse(resource=inner, resource_group=rid.resource_group)


def conflict() -> ArmError:
    return RULES["ARM3"].refuse()
