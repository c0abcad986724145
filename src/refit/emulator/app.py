"""The emulator's HTTP surface: ARM over HTTPS, the identity routes, and the `/_refit/` control API."""

from __future__ import annotations

import json
import re
import traceback
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse
from starlette.responses import Response as HttpResponse
from starlette.routing import Route

from refit.arm import jsonc
from refit.arm.errors import ArmError
from refit.emulator import control, identity, msgraph, throttle
from refit.emulator.core import Emulator, WireRequest, WireResponse

JSON = "application/json; charset=utf-8"


def _render(resp: WireResponse, extra: dict[str, str] | None = None) -> HttpResponse:
    headers = {**resp.headers, **(extra or {})}
    if resp.body is None:
        return HttpResponse(status_code=resp.status, headers=headers)
    return HttpResponse(json.dumps(resp.body, separators=(",", ":")), status_code=resp.status, headers=headers,
                        media_type=JSON)


def _error(err: ArmError, headers: dict[str, str] | None = None) -> HttpResponse:
    return _render(WireResponse(err.status, err.body(), headers or {}))


def _base_url(request: HttpRequest) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _query(request: HttpRequest) -> dict[str, str]:
    # Query parameter names are case-insensitive for api-version in ARM; keep the rest as sent.
    out: dict[str, str] = {}
    for k, v in parse_qsl(request.url.query, keep_blank_values=True):
        out["api-version" if k.lower() == "api-version" else k] = v
    return out


def build_app(emu: Emulator, *, arm: bool = True) -> Starlette:
    """`arm=False` builds the plain-http identity app (managed identity token routes only)."""

    async def msi_token(request: HttpRequest) -> HttpResponse:
        q = _query(request)
        try:
            body = identity.managed_identity_token(emu.tenant_id, q.get("resource"),
                                                   request.headers.get("x-identity-header"),
                                                   emu.settings["identity_header"])
        except ArmError as e:
            return JSONResponse({"error": e.code, "error_description": e.message}, status_code=e.status)
        return JSONResponse(body)

    async def imds_token(request: HttpRequest) -> HttpResponse:
        q = _query(request)
        if request.headers.get("metadata", "").lower() != "true":
            return JSONResponse({"error": "invalid_request", "error_description": "Required metadata header not specified"},
                                status_code=400)
        try:
            return JSONResponse(identity.managed_identity_token(emu.tenant_id, q.get("resource"), None, "", imds=True))
        except ArmError as e:
            return JSONResponse({"error": e.code, "error_description": e.message}, status_code=e.status)

    routes = [
        Route("/msi/token", msi_token, methods=["GET"]),
        Route("/metadata/identity/oauth2/token", imds_token, methods=["GET"]),
    ]
    if not arm:
        return Starlette(routes=routes)

    async def metadata(request: HttpRequest) -> HttpResponse:
        return JSONResponse(identity.metadata_endpoints(_base_url(request), _query(request).get("api-version")))

    async def openid(request: HttpRequest) -> HttpResponse:
        return JSONResponse(identity.openid_configuration(_base_url(request), request.path_params["tenant"]))

    async def instance_discovery(request: HttpRequest) -> HttpResponse:
        base = _base_url(request)
        host = request.url.netloc
        return JSONResponse({"tenant_discovery_endpoint": f"{base}/common/v2.0/.well-known/openid-configuration",
                             "api-version": "1.1",
                             "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})

    async def token(request: HttpRequest) -> HttpResponse:
        # urlencoded form, parsed here (starlette's form parser would pull in python-multipart).
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            tenant = request.path_params["tenant"]
            return JSONResponse(identity.token_response(form,
                                                        emu.tenant_id if tenant in ("common", "organizations") else tenant))
        except ArmError as e:
            return JSONResponse({"error": e.code, "error_description": e.message}, status_code=e.status)

    async def control_route(request: HttpRequest) -> HttpResponse:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            return _error(ArmError(400, "InvalidRequestContent", "The control request body is not JSON."))
        try:
            status, out = control.handle(emu, request.method, request.path_params["op"], body, _query(request))
        except ArmError as e:
            return _error(e)
        return JSONResponse(out, status_code=status)

    async def arm_route(request: HttpRequest) -> HttpResponse:
        req_id = str(uuid.uuid4())
        ids = {"x-ms-request-id": req_id, "x-ms-correlation-request-id": request.headers.get(
            "x-ms-correlation-request-id", req_id)}
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            # https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors
            return _error(ArmError(401, "AuthenticationFailed",
                                   "Authentication failed. The 'Authorization' header is missing."), ids)
        fault = control.request_fault(emu, request.method, request.url.path)
        if fault is not None:
            err, headers = fault
            return _error(err, {**ids, **headers})
        throttled, limits = throttle.admit(emu, request.method, request.url.path, auth)  # issue 4: section 6
        if throttled is not None:
            return _error(throttled, {**ids, **limits})
        raw = await request.body()
        body: Any = None
        if raw:
            try:
                body = jsonc.loads(raw)  # ARM's deserialiser also takes comments and bare property names
            except (ValueError, RecursionError) as e:  # RecursionError: nesting deeper than Python's parser goes
                return _error(ArmError(400, "InvalidRequestContent",
                                       f"The request content was invalid and could not be deserialized: '{e}'."), ids)
        req = WireRequest(method=request.method, path=request.url.path, query=_query(request), body=body,
                      base_url=_base_url(request), headers=dict(request.headers))
        try:
            resp = emu.handle(req)
        except Exception:  # never a traceback on the wire: an ARM-shaped 500, and the trace in the log
            traceback.print_exc()
            return _error(ArmError(500, "InternalServerError", "The emulator hit an internal error; see its log."), ids)
        return _render(resp, {**ids, **control.ratelimit_headers(request.method), **limits})

    async def graph_devices(request: HttpRequest) -> HttpResponse:
        # Microsoft Graph's devices (refit.emulator.msgraph): the path after /v1.0/devices, as sent
        rest = request.url.path[len("/v1.0/devices"):]
        status, body = msgraph.handle(emu, request.method, rest, _query(request), dict(request.headers),
                                      _base_url(request))
        return _render(WireResponse(status, body))

    routes += [
        Route("/metadata/endpoints", metadata, methods=["GET"]),
        Route("/v1.0/devices{rest:path}", AnyMethod(graph_devices)),
        Route("/_refit/{op:path}", control_route, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/common/discovery/instance", instance_discovery, methods=["GET"]),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", openid, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        # Every method reaches ARM's routing, which answers one a resource does not take with ARM's 405 (a
        # Starlette method filter would answer it in plain text): an ASGI endpoint takes any method.
        Route("/{path:path}", AnyMethod(arm_route)),
    ]
    return CollapseSlashes(Starlette(routes=routes))


class AnyMethod:
    """A request handler as an ASGI app, so that its route takes every method (OPTIONS, TRACE, anything)."""

    def __init__(self, handler):
        self.handler = handler

    async def __call__(self, scope, receive, send):
        response = await self.handler(HttpRequest(scope, receive))
        await response(scope, receive, send)


class CollapseSlashes:
    """ARM tolerates '//' in paths; clients build them (az appends '/metadata/endpoints' to an endpoint
    that ends in '/')."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and "//" in scope["path"]:
            path = re.sub(r"/{2,}", "/", scope["path"])
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)
