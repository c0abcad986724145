"""The generic ARM resource behaviour every type shares; provider modules override the hooks.

Hooks, in the order a write sees them:
  prepare(cloud, rid, body, old, call) -> new document (structural validation, server-set fields)
  -> the rule catalog (cloud.validate)   [synchronous errors answer the request]
  duration(cloud, old, new) -> (timing key, simulated seconds); 0 seconds = completes at once
  accept(cloud, old, new, op)            side effects when the request is accepted
  finish(cloud, doc, op)                 side effects when the operation completes
"""

from __future__ import annotations

import uuid
from typing import Any

from refit.arm import location
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import clone, deep_merge
from refit.platform.cloud import Answer, Call, Cloud, Operation
from refit.platform.rules import RULES
from refit.platform.rules.registry import rebuild

# Properties that are read-only everywhere: a client may send back its own GET output (az vm update
# does GET -> PUT), so these are ignored on input rather than rejected.
READ_ONLY_TOP = ("id", "name", "type", "etag", "managedBy", "systemData")


class ResourceType:
    type = ""
    needs_location = True
    put_create_status = 201
    put_update_status = 200
    patch_status = 200
    # Which LRO headers a write answers with: Compute sends Azure-AsyncOperation on PUT/PATCH; the disk
    # RP sends both plus a 202 (reference/clients-against-a-local-endpoint.md section 4 recordings).
    location_header_on_write = False
    create_timing = "delete"  # overridden
    update_timing = "delete"
    delete_timing = "delete"
    delete_status = 202
    actions: tuple[str, ...] = ()
    readonly_properties: tuple[str, ...] = ("provisioningState",)
    # Whether resource lists show it (Resource Graph, `{scope}/resources`): a deployment's record is not one.
    listed = True

    def own_write(self, cloud: Cloud, rid: ResourceId, call: Call) -> Answer | None:
        """The answer of a write that is a flow of its own (a deployment's PUT runs its template); None: the
        generic flow of refit.platform.writes."""
        return None

    def view(self, cloud: Cloud, rid: ResourceId) -> dict[str, Any] | None:
        """The stored document of a resource; a type that lives inside its parent's document (a scale set's
        extensions) finds it there."""
        return cloud.get(rid)

    def views(self, cloud: Cloud, parent: ResourceId) -> list[dict[str, Any]]:
        """The resources of this type under `parent` (GET of the child collection)."""
        return cloud.world.children(parent, self.type)

    def own_delete(self, cloud: Cloud, rid: ResourceId, call: Call) -> Answer | None:
        """The answer of a DELETE that is a flow of its own; None: the generic flow of refit.platform.writes."""
        return None

    def missing(self, rid: ResourceId) -> ArmError | None:
        """The type's own answer to a read of a resource that does not exist; None: ARM's ResourceNotFound."""
        return None

    # ---- document building ---------------------------------------------------------------------
    def prepare(self, cloud: Cloud, rid: ResourceId, body: dict[str, Any], old: dict[str, Any] | None,
                call: Call) -> dict[str, Any]:
        """The stored document after this write (before provider-specific processing)."""
        if not isinstance(body, dict):
            raise RULES["ARM5"].refuse()
        doc: dict[str, Any] = {k: clone(v) for k, v in body.items() if k not in READ_ONLY_TOP}
        props = doc.get("properties")
        if props is not None and not isinstance(props, dict):
            raise RULES["ARM5"].refuse(1, name="properties")
        doc["properties"] = {k: v for k, v in (props or {}).items() if k not in self.readonly_properties}
        if self.needs_location:
            loc = doc.get("location") or (old or {}).get("location")
            if not loc:
                raise RULES["ARM6"].refuse()
            # Another region reaches the catalog as sent, which refuses it (rule ARM7); the same region keeps
            # the casing Azure stored.
            same_region = old is not None and location.same(loc, old.get("location"))
            doc["location"] = old["location"] if same_region else location.normalize(loc)
        if "tags" in doc and doc["tags"] is not None and not isinstance(doc["tags"], dict):
            raise RULES["ARM5"].refuse(2, name="tags")
        doc["id"] = str(rid) if old is None else old["id"]
        doc["name"] = rid.name if old is None else old["name"]
        doc["type"] = self.type
        if old is not None:
            # Server-set properties survive an update that does not mention them.
            for k in self.server_properties():
                if k in old.get("properties", {}) and k not in doc["properties"]:
                    doc["properties"][k] = clone(old["properties"][k])
            for k in ("managedBy",):
                if k in old:
                    doc[k] = old[k]
        return self.build(cloud, rid, doc, old, call)

    def server_properties(self) -> tuple[str, ...]:
        """Properties the service sets (kept on update even when the client omits them)."""
        return ("provisioningState", "timeCreated", "uniqueId")

    def build(self, cloud: Cloud, rid: ResourceId, doc: dict[str, Any], old: dict[str, Any] | None,
              call: Call) -> dict[str, Any]:
        return doc

    def merge_patch(self, old: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise RULES["ARM5"].refuse()
        return deep_merge(old, {k: v for k, v in body.items() if k not in READ_ONLY_TOP})

    # ---- timing and effects ---------------------------------------------------------------------------
    def duration(self, cloud: Cloud, old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, float]:
        key = self.create_timing if old is None else self.update_timing
        return key, cloud.timing[key]

    def accept(self, cloud: Cloud, old: dict[str, Any] | None, new: dict[str, Any], op: Operation | None) -> None:
        """Side effects when a write is accepted (e.g. a VM claims its disks)."""

    def finish(self, cloud: Cloud, doc: dict[str, Any], op: Operation) -> None:
        """Side effects when a write's operation completes."""

    def complete(self, cloud: Cloud, op: Operation) -> None:
        """Finish an operation of this type (called by Cloud.tick)."""
        fail = op.data.get("fail")
        if op.kind in ("put", "patch"):
            doc = cloud.get(op.resource_id)
            if doc is None:
                return
            if fail:
                old = op.data.get("old")
                if old is None:
                    doc.setdefault("properties", {})["provisioningState"] = "Failed"
                    cloud.save(doc)
                else:
                    self.revert(cloud, doc, old)
                raise rebuild(fail, op.data.get("fail_status", 409), op.data.get("fail_rule"))
            doc.setdefault("properties", {})["provisioningState"] = "Succeeded"
            self.finish(cloud, doc, op)
            cloud.save(doc)
        elif op.kind == "delete":
            doc = cloud.get(op.resource_id)
            if doc is not None:
                self.finish_delete(cloud, doc, op)
                cloud.remove(op.resource_id)
        elif op.kind == "action":
            getattr(self, "finish_" + op.name)(cloud, op)

    def revert(self, cloud: Cloud, doc: dict[str, Any], old: dict[str, Any]) -> None:
        """An asynchronously rejected update leaves the previous model in place (INFERRED)."""
        cloud.save(old)

    # ---- delete -----------------------------------------------------------------------------------
    # Whether Azure refuses a delete is the catalog's (G12 and C10: nested resources first; D21: a disk a VM
    # owns); the effects only say what the delete does.
    def finish_delete(self, cloud: Cloud, doc: dict[str, Any], op: Operation) -> None:
        """Cleanup when the delete completes (e.g. release disks)."""

    def adopt(self, cloud: Cloud, doc: dict[str, Any]) -> None:
        """Take in a document observed elsewhere (Resource Graph, a snapshot) and rebuild the state Azure
        keeps beside it from what the document shows (a VM's power state, a version's replication)."""
        cloud.world.add(doc)

    # ---- reading ------------------------------------------------------------------------------------
    def render(self, cloud: Cloud, doc: dict[str, Any], call: Call | None) -> dict[str, Any]:
        """The document as GET returns it (computed read-only fields added here)."""
        return doc

    def action(self, cloud: Cloud, doc: dict[str, Any], name: str, call: Call) -> Answer:
        # A type that lists actions overrides this; refit.platform.writes.act refuses an unlisted one (ARM4).
        raise RULES["ARM4"].refuse(type=name, namespace=ResourceId.parse(doc["id"]).namespace)

    def sub_get(self, cloud: Cloud, doc: dict[str, Any], name: str, call: Call) -> Answer | None:
        """GET {id}/{name} for a non-collection segment (e.g. instanceView); None if not supported."""
        return None


class GenericType(ResourceType):
    """A stored document with no behaviour of its own (NICs, extensions, autoscale settings...)."""

    def __init__(self, type_name: str, needs_location: bool = True, sync: bool = True):
        self.type = type_name
        self.needs_location = needs_location
        self.sync = sync

    def duration(self, cloud: Cloud, old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, float]:
        return ("delete", 0.0) if self.sync else ("delete", cloud.timing["delete"])


def new_guid() -> str:
    return str(uuid.uuid4())


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and id_key(a) == id_key(b)


# ---- refusals through the catalog (refit.platform.rules) ------------------------------------------------------
def required(rule_id: str, path: str, target: str | None = None) -> ArmError:
    """The rule's "Required parameter '<path>' is missing (null)." (its first template, common.REQUIRED)."""
    return RULES[rule_id].refuse(path=path, target=target or path)


def invalid(rule_id: str, path: str, value: Any, target: str | None = None) -> ArmError:
    """The rule's "The value '<value>' of parameter '<path>' is invalid." (its first template, common.INVALID_ENUM)."""
    return RULES[rule_id].refuse(value=value, path=path, target=target or path)
