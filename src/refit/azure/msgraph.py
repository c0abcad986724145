"""Microsoft Graph, the directory's API, with the session's own credential: Entra device objects.

refit reads and deletes device objects (a VM recreated with the same hostname cannot join Entra ID while the old
VM's device exists: refit.platform.directory). Against Azure the requests go to https://graph.microsoft.com with a
token for https://graph.microsoft.com/.default from the same DefaultAzureCredential as ARM's; against the emulator,
to its own endpoint (it serves Graph under /v1.0: refit.emulator.msgraph). Permissions
(https://learn.microsoft.com/graph/api/device-list, device-delete): listing needs Device.Read.All, deleting
Device.ReadWrite.All (application) or, for a signed-in user, Directory.AccessAsUser.All with the Cloud Device
Administrator, Intune Administrator or Windows 365 Administrator role.
"""

from __future__ import annotations

import json
from typing import Any

from refit.arm.errors import ArmError

GRAPH = "https://graph.microsoft.com"
SCOPE = "https://graph.microsoft.com/.default"
DEVICE_FIELDS = ("id", "deviceId", "displayName", "operatingSystem", "operatingSystemVersion", "trustType",
                 "accountEnabled", "approximateLastSignInDateTime", "registrationDateTime")


def graph_url(session) -> str:
    """Where the session's directory answers: Graph for Azure, the emulator's endpoint for the emulator."""
    from refit.azure.session import AZURE_ARM

    return GRAPH if session.endpoint == AZURE_ARM else session.endpoint.rstrip("/")


def local_path(url: str) -> str:
    """A planned step's Graph URL (always written https://graph.microsoft.com/v1.0/...) as a path to send."""
    return url[len(GRAPH):] if url.lower().startswith(GRAPH) else url


class GraphClient:
    """Graph requests through azure-core's pipeline: bearer token for Graph's scope, retries honouring Retry-After
    (Graph throttles with 429 and Retry-After: https://learn.microsoft.com/graph/throttling), the session's TLS trust."""

    def __init__(self, session):
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy, UserAgentPolicy
        from azure.core.pipeline.transport import RequestsTransport

        self.base = graph_url(session)
        self._client = PipelineClient(
            base_url=self.base,
            policies=[UserAgentPolicy("refit"), RetryPolicy(), BearerTokenCredentialPolicy(session.credential, SCOPE)],
            transport=RequestsTransport(connection_verify=session.verify))

    def send(self, method: str, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        from azure.core.rest import HttpRequest

        path = local_path(path)  # a planned step names Graph itself; this session's directory may be the emulator
        url = path if "://" in path else self.base + path
        resp = self._client.send_request(HttpRequest(method, url, params=params or None))
        text = resp.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return resp.status_code, body

    def close(self) -> None:
        self._client.close()


def error_of(status: int, body: Any) -> ArmError:
    err = (body or {}).get("error") if isinstance(body, dict) else None
    err = err or {}
    return ArmError(status, err.get("code") or "HttpError", err.get("message") or f"HTTP {status}")


def devices(client: GraphClient, display_name: str | None = None) -> list[dict[str, Any]]:
    """Every device (or those named `display_name`), following @odata.nextLink to the end."""
    params = {"$select": ",".join(DEVICE_FIELDS)}
    if display_name is not None:
        params["$filter"] = "displayName eq '{}'".format(display_name.replace("'", "''"))
    out: list[dict[str, Any]] = []
    path: str | None = "/v1.0/devices"
    while path:
        status, body = client.send("GET", path, params)
        if status >= 400:
            raise error_of(status, body)
        out.extend({k: d.get(k) for k in DEVICE_FIELDS if k in d} for d in (body or {}).get("value") or [])
        path, params = (body or {}).get("@odata.nextLink"), None
    return out


def delete_device(client: GraphClient, object_id: str) -> int:
    """DELETE /devices/{id}: 204; a device already gone answers 404 Request_ResourceNotFound (returned, not
    raised: the effect the step wants holds)."""
    status, body = client.send("DELETE", f"/v1.0/devices/{object_id}")
    if status >= 400 and status != 404:
        raise error_of(status, body)
    return status
