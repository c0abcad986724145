"""Sessions: one target (Azure or an emulator), its credential, and the SDK clients built for it."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from refit.arm.errors import Unreachable, UserError

AZURE_ARM = "https://management.azure.com"
# What to do when an endpoint cannot be reached (the CLI's error boundary says the same).
REACH_HINT = ("is the emulator running? start it with `refit emulator start` (then `eval \"$(refit emulator env)\"`), "
              "or fix --endpoint / REFIT_ENDPOINT")


class StaticCredential:
    """A TokenCredential for the emulator, which needs a bearer token but checks nothing in it.
    refit stores no credential: this one holds no secret."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("refit-emulator", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo("refit-emulator", int(time.time()) + 3600)

    def close(self) -> None:
        pass


@dataclass
class Session:
    endpoint: str
    subscription: str
    credential: Any
    verify: str | bool = True
    emulator: bool = False  # the endpoint has the local emulator's control API (/_refit/)
    on_close: list[Any] = field(default_factory=list)  # what to stop with the session (an embedded server)
    _clients: dict[str, Any] = field(default_factory=dict)

    def _kw(self) -> dict[str, Any]:
        kw: dict[str, Any] = {}
        if self.endpoint != AZURE_ARM:
            kw["base_url"] = self.endpoint
        if self.verify is not True:
            kw["connection_verify"] = self.verify
        return kw

    @property
    def compute(self):
        if "compute" not in self._clients:
            from azure.mgmt.compute import ComputeManagementClient

            self._clients["compute"] = ComputeManagementClient(self.credential, self.subscription, **self._kw())
        return self._clients["compute"]

    @property
    def graph(self):
        if "graph" not in self._clients:
            from azure.mgmt.resourcegraph import ResourceGraphClient

            self._clients["graph"] = ResourceGraphClient(self.credential, **self._kw())
        return self._clients["graph"]

    @property
    def msgraph(self):
        """Microsoft Graph (the directory: Entra device objects) with this session's credential
        (refit.azure.msgraph)."""
        if "msgraph" not in self._clients:
            from refit.azure.msgraph import GraphClient

            self._clients["msgraph"] = GraphClient(self)
        return self._clients["msgraph"]

    @property
    def resources(self):
        if "resources" not in self._clients:
            from azure.mgmt.resource.resources import ResourceManagementClient

            self._clients["resources"] = ResourceManagementClient(self.credential, self.subscription, **self._kw())
        return self._clients["resources"]

    def graph_query(self, query: str, subscriptions: list[str] | None = None, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every row of a Resource Graph query, following $skipToken (the seed's scripts saw only the first 100)."""
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        rows: list[dict[str, Any]] = []
        token = None
        while True:
            opts = QueryRequestOptions(top=page_size, skip_token=token, result_format="objectArray")
            res = self.graph.resources(QueryRequest(subscriptions=subscriptions or [self.subscription], query=query,
                                                    options=opts))
            rows.extend(res.data or [])
            token = res.skip_token
            if not token:
                return rows

    def control(self, method: str, op: str, body: Any = None) -> Any:
        """Call the emulator's control API (/_refit/...); refused against real Azure."""
        if not self.emulator:
            raise UserError("this needs the local emulator; it is not available against real Azure")
        return control_call(self.endpoint, self.verify, method, op, body)

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()
        while self.on_close:
            self.on_close.pop()()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_azure(subscription: str | None) -> Session:
    """Real Azure with DefaultAzureCredential (refit stores no credential)."""
    if not subscription:
        raise UserError("--azure needs a subscription: pass --subscription ID or set AZURE_SUBSCRIPTION_ID")
    from azure.identity import DefaultAzureCredential

    return Session(AZURE_ARM, subscription, DefaultAzureCredential())


def connect_endpoint(endpoint: str, subscription: str | None = None, verify: str | bool | None = None) -> Session:
    """A local ARM endpoint (the emulator) that takes a bearer token it does not check. `verify`: its CA
    certificate (else $REQUESTS_CA_BUNDLE, else the system's)."""
    endpoint = endpoint.rstrip("/")
    if not endpoint.startswith("https://"):
        raise UserError(f"--endpoint must be an https:// URL (the SDK refuses bearer tokens over http), not '{endpoint}'")
    if verify is None:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or True
    sub = subscription or _only_subscription(endpoint, verify)
    if not sub:
        raise UserError("no subscription known for that endpoint: pass --subscription ID")
    return Session(endpoint, sub, StaticCredential(), verify, emulator=True)


def tls_context(verify: str | bool):
    """The TLS context for `verify` (a CA file, or the system's), made once per version of the file: loading a CA
    file costs more than the control call it serves (a worker reads the emulator's clock every second)."""
    try:
        version = os.stat(verify).st_mtime_ns if isinstance(verify, str) else None
    except OSError:
        version = None  # ssl says what is wrong with it
    return _tls_context(verify, version)


@functools.lru_cache(maxsize=8)
def _tls_context(verify: str | bool, version: int | None):
    import ssl

    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else ssl.create_default_context()


def control_call(endpoint: str, verify: str | bool, method: str, op: str, body: Any = None) -> Any:
    import json
    import urllib.error
    import urllib.request

    ctx = tls_context(verify)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{endpoint}/_refit/{op}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=600) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            err = json.loads(e.read())["error"]
        except (ValueError, KeyError):
            raise UserError(f"the emulator answered {e.code} to {method} /_refit/{op}") from e
        raise UserError(f"{err.get('message')}") from e
    except (urllib.error.URLError, OSError) as e:
        raise _unreachable(endpoint, e) from e


def _only_subscription(endpoint: str, verify: str | bool) -> str | None:
    """The endpoint's subscription when it has exactly one (what `az login` would pick too)."""
    import json
    import urllib.request

    ctx = tls_context(verify)
    req = urllib.request.Request(f"{endpoint}/subscriptions?api-version=2022-12-01",
                                 headers={"Authorization": "Bearer refit-emulator"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            subs = [x["subscriptionId"] for x in json.loads(r.read()).get("value", [])]
    except OSError as e:
        raise _unreachable(endpoint, e) from e
    except (ValueError, KeyError) as e:
        raise UserError(f"{endpoint} answered GET /subscriptions with no subscription list: is it an ARM endpoint?") from e
    return subs[0] if len(subs) == 1 else None


def _unreachable(endpoint: str, e: OSError) -> Unreachable:
    reason = getattr(e, "reason", None) or e
    text = getattr(reason, "strerror", None) or str(reason)
    if "CERTIFICATE_VERIFY_FAILED" in str(reason):  # reached, but not trusted
        return Unreachable(f"cannot reach {endpoint}: its TLS certificate is not trusted: set REQUESTS_CA_BUNDLE to "
                           "the emulator's certificate (`eval \"$(refit emulator env)\"` does)")
    return Unreachable(f"cannot reach {endpoint}: {text.lower() if text[:1].isupper() else text}; {REACH_HINT}")
