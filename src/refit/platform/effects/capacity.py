"""Microsoft.Compute/capacityReservationGroups and capacityReservations.

A group PUT is synchronous (rules 7a); a reservation PUT is an LRO. `virtualMachinesAssociated` and
the utilisation (`virtualMachinesAllocated`, `currentCapacity`) are computed from the VMs that
reference the group, as the service does (C9, capacity-reservation-overview).
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType, new_guid, required
from refit.platform.rules import RULES


def associated_vms(cloud, group_id: str) -> list[dict[str, Any]]:
    key = id_key(group_id)
    return [d for d in cloud.world.of_type(v.VM)
            if id_key(v.Vm(d).capacity_reservation_group_id or "") == key]


def _matches(vm: dict[str, Any], cr: dict[str, Any]) -> bool:
    if (v.Vm(vm).size or "").lower() != ((cr.get("sku") or {}).get("name") or "").lower():
        return False
    cr_zones = cr.get("zones") or []
    return not cr_zones or (vm.get("zones") or [None])[0] in cr_zones


class CapacityReservationGroupType(ResourceType):
    type = v.CAPACITY_RESERVATION_GROUP
    readonly_properties = ("provisioningState", "capacityReservations", "virtualMachinesAssociated", "instanceView")

    def build(self, cloud, rid, doc, old, call):
        # Zones a region has are the catalog's (ARM9); the delete order (reservations first, no associated
        # VMs) is C10.
        if old is not None and doc.get("zones") is None:
            doc["zones"] = old.get("zones")
        return doc

    def duration(self, cloud, old, new):
        return "cr.write", 0.0  # synchronous (no poller in the SDK)

    def render(self, cloud, doc, call):
        out = dict(doc)
        crs = cloud.world.children(doc["id"], v.CAPACITY_RESERVATION)
        props = {**doc["properties"], "capacityReservations": [{"id": c["id"]} for c in crs],
                 "virtualMachinesAssociated": [{"id": d["id"]} for d in associated_vms(cloud, doc["id"])]}
        if call is not None and "instanceview" in (call.expand or "").lower():
            props["instanceView"] = {"capacityReservations": [
                {"name": c["name"], **_utilization(cloud, c)} for c in crs]}
        out["properties"] = props
        return out


def _utilization(cloud, cr: dict[str, Any]) -> dict[str, Any]:
    from refit.platform.effects.vm import is_allocated

    group = cr["id"].rsplit("/capacityReservations/", 1)[0]
    vms = [d for d in associated_vms(cloud, group) if _matches(d, cr)]
    allocated = [d for d in vms if is_allocated(cloud, d["id"])]
    return {"utilizationInfo": {"currentCapacity": len(allocated),
                                "virtualMachinesAllocated": [{"id": d["id"]} for d in allocated]},
            "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                          "displayStatus": "Provisioning succeeded"}]}


class CapacityReservationType(ResourceType):
    type = v.CAPACITY_RESERVATION
    create_timing = update_timing = "cr.write"
    readonly_properties = ("provisioningState", "virtualMachinesAssociated", "instanceView", "reservationId",
                           "provisioningTime", "timeCreated")

    def server_properties(self):
        return ("provisioningState", "reservationId", "provisioningTime", "timeCreated", "platformFaultDomainCount")

    def build(self, cloud, rid, doc, old, call):
        sku = doc.get("sku")
        if not isinstance(sku, dict) or not sku.get("name"):
            raise required("C15", "sku.name")
        try:
            cap = int(sku.get("capacity", 0))
        except (TypeError, ValueError) as e:
            raise RULES["C15"].refuse(1) from e
        if cap < 0:
            raise RULES["C15"].refuse(1)
        doc["sku"] = {"name": sku["name"], "capacity": cap, **({"tier": sku["tier"]} if sku.get("tier") else {})}
        if old is None:
            p = doc["properties"]
            p["reservationId"] = new_guid()
            p["provisioningTime"] = p["timeCreated"] = cloud.now_iso()
            p.setdefault("platformFaultDomainCount", 1)
        elif "zones" not in doc and old.get("zones"):
            doc["zones"] = old["zones"]
        return doc

    def render(self, cloud, doc, call):
        out = dict(doc)
        group = doc["id"].rsplit("/capacityReservations/", 1)[0]
        props = {**doc["properties"], "virtualMachinesAssociated": [
            {"id": d["id"]} for d in associated_vms(cloud, group) if _matches(d, doc)]}
        if call is not None and "instanceview" in (call.expand or "").lower():
            props["instanceView"] = _utilization(cloud, doc)
        out["properties"] = props
        return out


register(CapacityReservationGroupType())
register(CapacityReservationType())
