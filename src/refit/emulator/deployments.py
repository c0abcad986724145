"""The wire of template deployments (the engine is refit.platform.effects.deployments).

  {scope}/providers/Microsoft.Resources/deployments                              GET list
  {scope}/providers/Microsoft.Resources/deployments/{name}                       PUT GET HEAD DELETE
  {scope}/providers/Microsoft.Resources/deployments/{name}/validate              POST
  {scope}/providers/Microsoft.Resources/deployments/{name}/exportTemplate        POST
  {scope}/providers/Microsoft.Resources/deployments/{name}/operations[/{id}]     GET
  {scope}/providers/Microsoft.Resources/deployments/{name}/operationStatuses/{id} GET (Azure-AsyncOperation)

{scope} is a resource group or a subscription. A PUT answers 201 with Azure-AsyncOperation pointing at the
deployment's own operationStatuses resource, as ARM's deployments do (specs deployments/routes.tsp
Deployments_CreateOrUpdate: 200/201, long-running with azure-async-operation).
"""

from __future__ import annotations

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.emulator.core import Emulator, WireRequest, WireResponse
from refit.platform import writes
from refit.platform.effects import deployments as engine


def route(emu: Emulator, req: WireRequest, scope: ResourceId, segs: list[str]) -> WireResponse:
    emu.check_api_version(req)
    low = [s.lower() for s in segs]
    if not segs:
        return _list(emu, req, scope)
    rid = ResourceId(scope.subscription, scope.resource_group, "Microsoft.Resources", (("deployments", segs[0]),))
    m = req.method
    if len(segs) == 1:
        if m == "HEAD":  # Deployments_CheckExistence
            return WireResponse(204 if emu.get(rid) is not None else 404)
        if m == "GET":
            return WireResponse(200, writes.read(emu, rid, req.call()))
        if m == "PUT":
            a = writes.write(emu, rid, req.call())
            return WireResponse(a.status, a.body, _lro_headers(emu, req, rid, a.op))
        if m == "DELETE":
            from refit.emulator.dispatch import answer

            return answer(emu, req, writes.delete(emu, rid, req.call()))
        raise _method(m)
    if low[1] == "validate" and len(segs) == 2:
        if m != "POST":
            raise _method(m)
        a = engine.validate(emu, rid, req.call())
        return WireResponse(a.status, a.body)
    doc = emu.get(rid)
    if doc is None:
        raise engine.not_found(rid)
    if low[1] == "exporttemplate" and len(segs) == 2 and m == "POST":
        return WireResponse(200, {"template": emu.priv(rid)["request"]["template"]})
    if low[1] == "operations" and m == "GET":
        ops = engine.operations(emu, doc)
        if len(segs) == 2:
            from refit.emulator.dispatch import page

            return page(emu, req, ops)
        if len(segs) == 3:
            found = next((o for o in ops if o["operationId"].lower() == low[2]), None)
            if found is not None:
                return WireResponse(200, found)
    if low[1] == "operationstatuses" and len(segs) == 3 and m == "GET":
        op = emu.ops.get(segs[2])
        if op is not None and id_key(op.resource_id) == id_key(rid):
            from refit.emulator.dispatch import poll_hint

            body = engine.status(op, emu)
            return WireResponse(200, body, {"retry-after-ms": poll_hint(emu, op)} if op.status == "InProgress" else {})
    raise ArmError(404, "NotFound", f"The requested path '{req.path}' was not found.")


def _list(emu: Emulator, req: WireRequest, scope: ResourceId) -> WireResponse:
    from refit.emulator.dispatch import page

    if req.method != "GET":
        raise _method(req.method)
    prefix = id_key(scope) + "/providers/microsoft.resources/deployments/"
    docs = [d for d in emu.world.of_type(engine.DEPLOYMENT) if id_key(d["id"]).startswith(prefix)
            and "/" not in id_key(d["id"])[len(prefix):]]
    return page(emu, req, docs)


def _lro_headers(emu: Emulator, req: WireRequest, rid: ResourceId, op) -> dict[str, str]:
    if op is None:
        return {}
    from refit.emulator.dispatch import poll_hint

    url = f"{req.base_url}{rid}/operationStatuses/{op.id}?api-version={req.api_version}"
    return {"Azure-AsyncOperation": url, "retry-after-ms": poll_hint(emu, op)}


def _method(m: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The requested method '{m}' is not allowed for 'deployments'.")
