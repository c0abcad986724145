"""Microsoft.Resources: subscriptions, tenants, resource groups, tags at scope, locations."""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.emulator.core import Emulator, WireRequest, WireResponse
from refit.platform import regions
from refit.platform.effects.resources import RG_TYPE, delete_group
from refit.platform.effects.tags import tags_at_scope


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


def list_subscriptions(emu: Emulator, req: WireRequest) -> WireResponse:
    emu.check_api_version(req)
    subs = [_sub_doc(emu, s) for s in emu.subscriptions]
    return WireResponse(200, {"value": subs, "count": {"type": "Total", "value": len(subs)}})


def get_subscription(emu: Emulator, req: WireRequest, sub: str) -> WireResponse:
    emu.check_api_version(req)
    s = next(s for s in emu.subscriptions if s["id"].lower() == sub.lower())
    return WireResponse(200, _sub_doc(emu, s))


def tenants(emu: Emulator, req: WireRequest) -> WireResponse:
    emu.check_api_version(req)
    t = emu.tenant_id
    return WireResponse(200, {"value": [{"id": f"/tenants/{t}", "tenantId": t, "tenantCategory": "Home",
                                     "displayName": "refit emulator", "defaultDomain": "refit.local",
                                     "tenantType": "AAD"}]})


def locations(emu: Emulator, req: WireRequest, sub: str) -> WireResponse:
    emu.check_api_version(req)
    out = []
    for name, (display, zones) in regions.REGIONS.items():
        loc: dict[str, Any] = {"id": f"/subscriptions/{sub}/locations/{name}", "name": name, "type": "Region",
                               "displayName": display, "regionalDisplayName": display,
                               "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}}
        pair = regions.paired(name)
        if pair:  # as `az account list-locations` shows it (Subscriptions - List Locations, metadata.pairedRegion)
            loc["metadata"]["pairedRegion"] = [{"name": pair, "id": f"/subscriptions/{sub}/locations/{pair}"}]
        if zones:
            loc["availabilityZoneMappings"] = [{"logicalZone": z, "physicalZone": f"{name}-az{z}"} for z in "123"]
        out.append(loc)
    return WireResponse(200, {"value": out})


def list_resource_groups(emu: Emulator, req: WireRequest, sub: str) -> WireResponse:
    from refit.emulator.dispatch import page

    emu.check_api_version(req)
    prefix = f"/subscriptions/{sub}/".lower()
    return page(emu, req, [d for d in emu.world.of_type(RG_TYPE) if d["id"].lower().startswith(prefix)])


def resource_group(emu: Emulator, req: WireRequest, sub: str, rg: str) -> WireResponse:
    from refit.emulator.dispatch import answer, resource

    rid = ResourceId(sub, rg)
    emu.check_api_version(req)
    doc = emu.get(rid)
    if req.method in ("GET", "HEAD"):
        if doc is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return WireResponse(200 if req.method == "GET" else 204, doc if req.method == "GET" else None)
    if req.method == "DELETE":
        return answer(emu, req, delete_group(emu, rid, req.call()))
    if doc is not None and doc["properties"].get("provisioningState") == "Deleting":
        raise ArmError(409, "ResourceGroupBeingDeleted",
                       f"The resource group '{rg}' is in deprovisioning state and cannot perform this operation.")
    return resource(emu, req, rid)


# ---- tags at scope -----------------------------------------------------------------------------
def tags(emu: Emulator, req: WireRequest, scope: str) -> WireResponse:
    emu.check_api_version(req)
    return WireResponse(200, tags_at_scope(emu, scope, req.call()))
