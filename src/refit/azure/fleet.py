"""Reading the fleet as ARM documents, and sending planned requests: both through the SDK pipeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.core.polling.arm_polling import ARMPolling

from refit.arm.errors import ArmError
from refit.arm.world import World
from refit.platform import apis

VERSION_API = apis.GALLERY


def load_world(session, subscriptions: list[str] | None = None,
               get_version: Callable[[str], Any] | None = None) -> World:
    """Every resource Resource Graph shows (rows are ARM documents plus `properties.extended`, where the
    power state of VMs lives), resource groups, and image versions with their replication status (which
    only a GET with $expand=ReplicationStatus returns; `get_version(id)` reads one, by default through the
    SDK pipeline), and Resource Graph's AuthorizationResources (role assignments and definitions). The one world loader: the planner, the doctor and the campaigns read the fleet here."""
    docs = session.graph_query("Resources", subscriptions)
    docs += session.graph_query("ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups'",
                                subscriptions)
    # Role assignments and custom role definitions (who may do what: an Image Builder identity's rights).
    docs += session.graph_query("AuthorizationResources | where type in~ ('microsoft.authorization/roleassignments', "
                                "'microsoft.authorization/roledefinitions')", subscriptions)
    out = []
    for d in docs:
        d = {k: val for k, val in d.items() if val is not None}
        t = d.get("type", "")
        if t == "microsoft.resources/subscriptions/resourcegroups":
            d["type"] = "Microsoft.Resources/resourceGroups"
        elif t == "microsoft.compute/galleries/images/versions":
            body = (get_version or (lambda vid: _get_version(session, vid)))(d["id"])
            if isinstance(body, dict):
                d = body
        out.append(_canonical_type(d))
    world = World(out)
    world.devices = entra_devices(session, out)
    return world


AAD_LOGIN = ("microsoft.azure.activedirectory", "aadloginforwindows")  # publisher, type (refit.platform.directory)


def entra_devices(session, docs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The tenant's Entra device objects through Microsoft Graph (refit.azure.msgraph), with the session's
    credential. Only VMs with AADLoginForWindows join Entra ID (refit.platform.directory): with none in `docs`, Graph
    is not asked ([]). None: Graph refused the credential (401/403: it lacks Device.Read.All), so the directory is
    unknown (the doctor's check says so rather than passing)."""
    from refit.azure import msgraph

    if not hasattr(session, "msgraph"):  # not one of refit's sessions (a test's stand-in): no directory
        return []
    if not any(str(d.get("type") or "").lower() == "microsoft.compute/virtualmachines/extensions" and
               (str((d.get("properties") or {}).get("publisher") or "").lower(),
                str((d.get("properties") or {}).get("type") or "").lower()) == AAD_LOGIN for d in docs):
        return []
    try:
        return msgraph.devices(session.msgraph)
    except ArmError as e:
        if e.status in (401, 403):
            return None
        raise


def _get_version(session, vid: str) -> Any:
    status, _, body = send(session, "GET", vid, VERSION_API, params={"$expand": "ReplicationStatus"})
    return body if status == 200 else None


_TYPES = {
    "microsoft.compute/virtualmachines": "Microsoft.Compute/virtualMachines",
    "microsoft.compute/virtualmachinescalesets": "Microsoft.Compute/virtualMachineScaleSets",
    "microsoft.compute/disks": "Microsoft.Compute/disks",
    "microsoft.compute/images": "Microsoft.Compute/images",
    "microsoft.compute/galleries": "Microsoft.Compute/galleries",
    "microsoft.compute/galleries/images": "Microsoft.Compute/galleries/images",
    "microsoft.compute/galleries/images/versions": "Microsoft.Compute/galleries/images/versions",
    "microsoft.compute/capacityreservationgroups": "Microsoft.Compute/capacityReservationGroups",
    "microsoft.compute/capacityreservationgroups/capacityreservations":
        "Microsoft.Compute/capacityReservationGroups/capacityReservations",
}


def _canonical_type(d: dict[str, Any]) -> dict[str, Any]:
    # Resource Graph lowercases `type`; ARM documents (and refit's rules) use Azure's casing.
    t = d.get("type", "")
    if t in _TYPES:
        d["type"] = _TYPES[t]
    elif t and t == t.lower():
        from refit.platform.effects import all_types

        d["type"] = next((x for x in all_types() if x.lower() == t), t)
    return d


def _run(session, method: str, path: str, api_version: str, body: Any = None,
         params: dict[str, str] | None = None):
    """Through the SDK's own pipeline (auth, retries honouring Retry-After, TLS, ARM policies)."""
    mgmt = session.resources
    client = mgmt._client  # azure.mgmt.core.ARMPipelineClient
    req = HttpRequest(method, path, params={"api-version": api_version, **(params or {})},
                      json=body if body is not None else None)
    req.url = client.format_url(req.url, endpoint=mgmt._config.base_url)
    return client, client._pipeline.run(req, stream=False)


def send(session, method: str, path: str, api_version: str, body: Any = None,
         params: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One ARM request; no waiting for its operation."""
    _, pr = _run(session, method, path, api_version, body, params)
    resp = pr.http_response
    return resp.status_code, dict(resp.headers), _json(resp)


def execute(session, method: str, path: str, api_version: str, body: Any = None) -> Any:
    """Send a request and wait for its long-running operation (ARMPolling, as the SDK's begin_* do).
    Raises ArmError with Azure's code and message when the request or its operation fails."""
    client, pr = _run(session, method, path, api_version, body)
    resp = pr.http_response
    if resp.status_code >= 400:
        raise _arm_error(resp.status_code, resp)
    if "azure-asyncoperation" in {k.lower() for k in resp.headers} or resp.status_code == 202:
        poller = LROPoller(client, pr, lambda r: _json(r.http_response), ARMPolling(0))
        try:
            return poller.result()
        except HttpResponseError as e:
            err = getattr(e, "error", None)
            raise ArmError(e.status_code or 409, getattr(err, "code", None) or "OperationFailed",
                           getattr(err, "message", None) or str(e)) from e
    return _json(resp)


def _json(resp) -> Any:
    try:
        return json.loads(resp.text()) if resp.text() else None
    except ValueError:
        return None


def _arm_error(status: int, resp) -> ArmError:
    body = _json(resp) or {}
    err = body.get("error") if isinstance(body, dict) else None
    err = err or {}
    return ArmError(status, err.get("code") or "HttpError", err.get("message") or f"HTTP {status}", err.get("target"))
