"""Microsoft.Resources/resourceGroups: a container with a location and tags, written synchronously."""

from __future__ import annotations

from refit.arm.ids import ResourceId, id_key
from refit.platform.cloud import Answer, Call, Cloud
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType
from refit.platform.rules import RULES

RG_TYPE = "Microsoft.Resources/resourceGroups"


class ResourceGroupType(ResourceType):
    type = RG_TYPE

    def build(self, cloud, rid, doc, old, call):
        doc.pop("zones", None)
        doc["properties"] = {}
        return doc

    def duration(self, cloud, old, new):
        return "rg.delete", 0.0  # create/update are synchronous

    def complete(self, cloud, op):
        if op.kind == "delete":
            # Deleting a resource group deletes everything in it (deepest first).
            prefix = id_key(op.resource_id) + "/"
            doomed = sorted((d["id"] for d in list(cloud.world) if id_key(d["id"]).startswith(prefix)),
                            key=lambda i: -i.count("/"))
            for rid in doomed:
                cloud.remove(rid)
            cloud.remove(op.resource_id)


RESOURCE_GROUPS = register(ResourceGroupType())


def delete_group(cloud: Cloud, rid: ResourceId, call: Call) -> Answer:
    """DELETE of a resource group: 202 and an operation that deletes everything in it."""
    doc = cloud.get(rid)
    if doc is None:
        raise RULES["ARM10"].refuse(resource_group=rid.resource_group)
    if cloud.busy(rid) is not None:
        raise RULES["ARM3"].refuse()
    doc["properties"]["provisioningState"] = "Deleting"
    cloud.save(doc)
    op = cloud.begin(str(rid), "delete", "rg.delete", cloud.timing["rg.delete"], doc["location"], call.api_version,
                     namespace="Microsoft.Resources")
    return Answer(202, None, op, location=True)
