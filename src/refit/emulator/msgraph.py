"""Microsoft Graph's devices on the emulator's wire: GET /v1.0/devices[?$filter=...], GET and DELETE
/v1.0/devices/{id} and /v1.0/devices(deviceId='{deviceId}'). What the directory does is refit.platform.directory's;
this module only routes and renders in Graph's shape.

Graph is served on the emulator's own HTTPS endpoint under /v1.0 (no second host to trust): `refit emulator
az-login` registers the emulator as an az cloud whose `microsoftGraphResourceId` is the endpoint (its
/metadata/endpoints says so), so `az rest --url "$(az cloud show --query endpoints.microsoftGraphResourceId -o
tsv)v1.0/devices"` reaches it, and refit's own Graph client (refit.azure.msgraph) talks to the endpoint it was given.
Shapes (https://learn.microsoft.com/graph/api/device-list, device-get, device-delete): a list is
{"@odata.context": ".../$metadata#devices", "value": [...]}, one device {"@odata.context": ".../$metadata#devices/
$entity", ...}, a delete 204 with no body; an error {"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}} (https://learn.microsoft.com/graph/errors).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from refit.arm.errors import ArmError
from refit.platform import directory
from refit.platform.rules import RULES

_BY_DEVICE_ID = re.compile(r"^\(deviceId='([^']*)'\)$", re.IGNORECASE)


def _error(err: ArmError, client_request_id: str | None, now: str) -> tuple[int, Any]:
    rid = str(uuid.uuid4())
    return err.status, {"error": {"code": err.code, "message": err.message, "innerError": {
        "date": now.split(".")[0] + "Z" if not now.endswith("Z") else now, "request-id": rid,
        "client-request-id": client_request_id or rid}}}


_CLAUSE = re.compile(r"\s*(\w+)\s+eq\s+('(?:[^']|'')*'|true|false)\s*", re.IGNORECASE)
_STARTS = re.compile(r"\s*startswith\(\s*(\w+)\s*,\s*('(?:[^']|'')*')\s*\)\s*", re.IGNORECASE)
FILTERABLE = ("id", "deviceId", "displayName", "operatingSystem", "trustType", "accountEnabled")


def matching(devices: list[dict[str, Any]], expr: str | None) -> list[dict[str, Any]]:
    """The devices a Graph `$filter` selects (the query language is the wire's, as ARM's $filter is
    refit.emulator.discovery's): `eq` on FILTERABLE and `startswith(displayName,'...')`, joined by `and`
    (https://learn.microsoft.com/graph/api/device-list: "$filter=displayName eq 'x'"; eq and startsWith on
    displayName, https://learn.microsoft.com/graph/aad-advanced-queries); anything else is rule GRAPH2. String
    comparisons are case-insensitive (INFERRED)."""
    out = list(devices)
    if not expr or not expr.strip():
        return out
    for clause in re.split(r"\s+and\s+", expr.strip(), flags=re.IGNORECASE):
        m = _CLAUSE.fullmatch(clause) or _STARTS.fullmatch(clause)
        if m is None or m.group(1) not in FILTERABLE:
            raise RULES["GRAPH2"].refuse(expr=expr)
        field, raw = m.group(1), m.group(2)
        value: Any = raw.lower() == "true" if raw.lower() in ("true", "false") else raw[1:-1].replace("''", "'")
        if m.re is _STARTS:
            out = [d for d in out if str(d.get(field) or "").lower().startswith(str(value).lower())]
        elif isinstance(value, bool):
            out = [d for d in out if d.get(field) is value]
        else:
            out = [d for d in out if str(d.get(field) or "").lower() == value.lower()]
    return out


def handle(emu, method: str, rest: str, query: dict[str, str], headers: dict[str, str], base_url: str
           ) -> tuple[int, Any]:
    """(status, body) of a Graph request under /v1.0/devices; `rest` is what follows `/v1.0/devices`."""
    client_id = headers.get("client-request-id")
    with emu.lock:
        emu.tick()  # an extension's join that has finished by now has made its device
        now = emu.now_iso()
        if not headers.get("authorization", "").lower().startswith("bearer "):
            return _error(ArmError(401, "InvalidAuthenticationToken", "Access token is empty."), client_id, now)
        try:
            status, body = _route(emu, method.upper(), rest, query, base_url)
        except ArmError as e:
            status, body = _error(e, client_id, now)
        if emu.version != emu._flushed_version:  # as Emulator.handle: only a change reaches SQLite
            emu._flushed_version = emu.version
            emu._save_meta()
        emu.store.flush()
        return status, body


def _route(emu, method: str, rest: str, query: dict[str, str], base_url: str) -> tuple[int, Any]:
    context = f"{base_url}/v1.0/$metadata#devices"
    rest = rest.rstrip("/")
    if rest == "":
        if method != "GET":
            raise _not_allowed(method)
        return 200, {"@odata.context": context, "value": matching(directory.devices(emu), query.get("$filter"))}
    m = _BY_DEVICE_ID.match(rest)
    if m is not None:
        key, by_device_id = m.group(1), True
    elif rest.startswith("/") and "/" not in rest[1:]:
        key, by_device_id = rest[1:], False
    else:
        raise ArmError(400, "BadRequest", f"Resource not found for the segment '{rest.strip('/').split('/')[-1]}'.")
    if method == "GET":
        return 200, {"@odata.context": f"{context}/$entity", **directory.get(emu, key, by_device_id)}
    if method == "DELETE":
        directory.delete(emu, key, by_device_id)
        return 204, None
    raise _not_allowed(method)


def _not_allowed(method: str) -> ArmError:
    # Graph's answer to a method a segment does not take (INFERRED text)
    return ArmError(405, "Request_BadRequest", f"The HTTP method '{method}' is not allowed on this resource.")
