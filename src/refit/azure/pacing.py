"""refit's paced ARM client: requests through the SDK's pipeline, client-side token buckets that keep a
large campaign under Azure's limits, Retry-After honoured through the Clock, and long-running
operations polled on refit's own schedule.

Throttling (reference/azure-platform-rules.md section 6):
- azure-core's `RetryPolicy` (T8) retries any response >= 400 that carries `Retry-After`, sleeping
  `retry-after-ms` / `Retry-After` with a real `time.sleep`, at most `retry_status` (3) times. That is
  what every SDK client of refit (`Session.compute`, `.graph`, `.resources`) does, unchanged.
- The campaign client below turns that retry off for 429 only (`ThrottleAwareRetryPolicy`) and handles
  429 itself: it waits Retry-After through the Clock (so a stepped benchmark clock and a real one both
  wait exactly what Azure asked) and tries again, up to `MAX_THROTTLED` times.
- Before it sends, it takes a token from its own copy of Azure's buckets (the same tables as the
  emulator's `throttle` module: ARM 10 writes/s with a 200 burst, Compute UpdateVM/DeleteVM 4/min per VM
  and 500/min per subscription...), so it waits instead of being throttled. A 429 (another client used
  the budget) empties the matching local bucket, and so does a `x-ms-ratelimit-remaining-*` header of 0.

The helpers `request()` and `operation()` are generators: they yield `Http` (one request, answered
with a `Reply`) and `Wait` (simulated or real seconds, per the Clock) actions that refit's scheduler
(`refit.run.sched`) executes, many VMs at once on a few threads.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest

from refit.arm.errors import ArmError
from refit.emulator.throttle import ARM_LIMITS, COMPUTE_LIMITS, DELETE_VM_ACTIONS

MAX_THROTTLED = 30
POLL_SECONDS = 5.0  # GetOperation allows 15/min per resource: one poll per 5 s stays within it
CONFLICT_RETRIES = 60


@dataclass
class Http:
    """Action: send one request. `resource`/`region` say which Compute buckets it draws from."""

    method: str
    path: str
    api_version: str | None = None
    body: Any = None
    params: dict[str, str] | None = None
    resource: str | None = None
    region: str = ""


@dataclass
class Wait:
    """Action: wait this many clock seconds."""

    seconds: float


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    def error(self) -> ArmError:
        err = (self.body or {}).get("error") if isinstance(self.body, dict) else None
        err = err or {}
        return ArmError(self.status, err.get("code") or "HttpError", err.get("message") or f"HTTP {self.status}",
                        err.get("target"), err.get("details") or [])

    def retry_after(self) -> float | None:
        """Retry-After in real seconds (retry-after-ms preferred, as azure-core does)."""
        for h in ("retry-after-ms", "x-ms-retry-after-ms"):
            if self.headers.get(h):
                try:
                    return float(self.headers[h]) / 1000.0
                except ValueError:
                    pass
        ra = self.headers.get("retry-after")
        if ra:
            try:
                return float(ra)
            except ValueError:
                return None
        return None


class ThrottleAwareRetryPolicy(RetryPolicy):
    """azure-core's RetryPolicy (connection errors, 5xx on idempotent methods), except that a 429 is handed
    back to refit, which waits Retry-After through its Clock."""

    def is_retry(self, settings, response):  # type: ignore[override]
        if response.http_response.status_code == 429:
            return False
        return super().is_retry(settings, response)


# ---- client-side buckets -------------------------------------------------------------------------------------
@dataclass
class _Bucket:
    capacity: float
    rate: float  # per clock second
    tokens: float  # may go below 0: tokens already promised to requests waiting for their slot
    at: float

    def refill(self, t: float) -> None:
        if t > self.at:
            self.tokens = min(self.capacity, self.tokens + (t - self.at) * self.rate)
            self.at = t

    def next_slot(self, t: float) -> float:
        """The earliest time >= t at which this bucket has a token for one more request."""
        tokens = min(self.capacity, self.tokens + max(0.0, t - self.at) * self.rate)
        return t if tokens >= 1 else max(t, self.at) + (1 - tokens) / self.rate


def classify(method: str, path: str) -> tuple[str | None, str | None]:
    """(ARM operation type, Compute policy) of a request, as the platform counts it (6a/6b)."""
    low = path.lower().split("?", 1)[0].rstrip("/")
    if "/providers/microsoft.resourcegraph/" in low:
        return None, None
    arm = "read" if method in ("GET", "HEAD") else ("delete" if method == "DELETE" else "write")
    parts = low.split("/")
    if "microsoft.compute" not in parts:
        return arm, None
    rest = parts[parts.index("microsoft.compute") + 1:]
    if len(rest) == 4 and rest[0] == "locations" and rest[2] in ("operations", "operationstatuses"):
        return arm, "GetOperation"
    if "providers" in rest:
        return arm, None  # extension resources of a VM (tags) are ARM's, not Compute's
    if not rest or rest[0] != "virtualmachines" or len(rest) < 2:
        return arm, ("HighCostGet" if rest[:1] == ["virtualmachines"] and method == "GET" else None)
    if len(rest) == 2:
        return arm, {"PUT": "PutVM", "PATCH": "UpdateVM", "DELETE": "DeleteVM"}.get(method, "LowCostGet")
    if method in ("GET", "HEAD"):
        return arm, "LowCostGet"
    if len(rest) == 3 and method == "POST":
        return arm, "DeleteVM" if rest[2] in DELETE_VM_ACTIONS else "UpdateVM"
    return arm, "UpdateVM"


class Pacer:
    """refit's copy of Azure's token buckets, in the Clock's time. Thread-safe."""

    def __init__(self, clock, enabled: bool = True):
        self.clock = clock
        self.enabled = enabled
        self._lock = threading.Lock()
        self._buckets: dict[tuple, _Bucket] = {}
        self.waited = 0.0  # clock seconds spent waiting for a token (reported by benchmarks)

    def _keys(self, method: str, path: str, resource: str | None, region: str) -> list[tuple[tuple, float, float]]:
        arm, policy = classify(method, path)
        out: list[tuple[tuple, float, float]] = []
        if arm is not None:
            cap, rate = ARM_LIMITS[arm]
            out.append((("arm", arm), cap, rate))
        if policy is not None:
            per_res, per_sub = COMPUTE_LIMITS[policy]
            out.append((("compute-sub", region.lower(), policy), per_sub[1], per_sub[0] / 60.0))
            if per_res is not None and resource:
                out.append((("compute-res", resource.lower(), policy), per_res[1], per_res[0] / 60.0))
        return out

    def _bucket(self, key: tuple, cap: float, rate: float, now: float) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(cap, rate, cap, now)
        b.refill(now)
        return b

    def reserve(self, method: str, path: str, resource: str | None = None, region: str = "") -> float:
        """Book the request's slot: the earliest time every bucket it draws from has a token for it. Returns
        how long to wait (clock seconds) before sending. Slots are handed out first come, first served, so
        many waiting requests never stampede (each one waits exactly for its own token)."""
        if not self.enabled:
            return 0.0
        now = self.clock.now()
        with self._lock:
            keys = self._keys(method, path, resource, region)
            buckets = [self._bucket(k, c, r, now) for k, c, r in keys]
            slot = max((b.next_slot(now) for b in buckets), default=now)
            for b in buckets:
                b.refill(slot)
                b.tokens -= 1
            if slot > now:
                self.waited += slot - now
            return slot - now

    def exhausted(self, method: str, path: str, resource: str | None = None, region: str = "") -> None:
        """The server throttled (or said 0 left): what it counts is empty now."""
        now = self.clock.now()
        with self._lock:
            for k, c, r in self._keys(method, path, resource, region):
                b = self._bucket(k, c, r, now)
                b.tokens = min(b.tokens, 0.0)
                b.at = max(b.at, now)


# ---- the client -------------------------------------------------------------------------------------------------
class PacedClient:
    """ARM requests through the SDK pipeline (auth, TLS, ARM policies), shared by refit's worker threads."""

    def __init__(self, session, clock, workers: int = 32, pacing: bool = True):
        import requests
        from azure.core.pipeline.transport import RequestsTransport
        from azure.mgmt.resource.resources import ResourceManagementClient

        self.session = session
        self.clock = clock
        self.pacer = Pacer(clock, enabled=pacing)
        self.durations: dict[str, float] = {}  # learned operation durations (clock seconds), by kind
        self.requests = 0
        self.throttled = 0
        http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=workers + 4)
        http.mount("https://", adapter)
        http.mount("http://", adapter)
        kw: dict[str, Any] = {"retry_policy": ThrottleAwareRetryPolicy(),
                              "transport": RequestsTransport(session=http, session_owner=True,
                                                             connection_verify=session.verify)}
        if session.endpoint != "https://management.azure.com":
            kw["base_url"] = session.endpoint
        self._mgmt = ResourceManagementClient(session.credential, session.subscription, **kw)
        self._lock = threading.Lock()

    def send(self, h: Http) -> Reply:
        """One request, no waiting of refit's own (thread-safe)."""
        client = self._mgmt._client
        params = dict(h.params or {})
        if h.api_version and "api-version=" not in h.path:
            params["api-version"] = h.api_version
        req = HttpRequest(h.method, h.path, params=params, json=h.body if h.body is not None else None)
        req.url = client.format_url(req.url, endpoint=self._mgmt._config.base_url)
        resp = client._pipeline.run(req, stream=False).http_response
        with self._lock:
            self.requests += 1
        text = resp.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return Reply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, body)

    def close(self) -> None:
        self._mgmt.close()


# ---- generator helpers: one request; one long-running operation ----------------------------------------------
def request(c: PacedClient, method: str, path: str, api_version: str | None = None, body: Any = None,
            params: dict[str, str] | None = None, resource: str | None = None,
            region: str = "") -> Generator[Http | Wait, Any, Reply]:
    """One ARM request, paced; a 429 is waited out (Retry-After, through the Clock) and sent again."""
    for _ in range(MAX_THROTTLED):
        d = c.pacer.reserve(method, path, resource, region)
        if d > 0:
            yield Wait(d)
        reply = yield Http(method, path, api_version, body, params, resource, region)
        if reply.status != 429:
            if any(k.startswith("x-ms-ratelimit-remaining-subscription-") and v.strip() == "0"
                   for k, v in reply.headers.items()):
                c.pacer.exhausted(method, path, resource, region)
            return reply
        c.throttled += 1
        c.pacer.exhausted(method, path, resource, region)
        real = reply.retry_after()
        yield Wait(real * c.clock.scale if real is not None else POLL_SECONDS)
    return reply


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    try:
        head, _, frac = text.partition(".")
        base = datetime.fromisoformat(head + "+00:00").timestamp()
        digits = "".join(ch for ch in frac.split("+")[0].split("Z")[0] if ch.isdigit())
        return base + (float("0." + digits) if digits else 0.0)
    except ValueError:
        return None


def _kind(method: str, path: str) -> str:
    seg = path.split("?", 1)[0].rstrip("/").split("/")
    return f"{method}:{seg[-1] if method == 'POST' else seg[-2]}".lower()


def operation(c: PacedClient, method: str, path: str, api_version: str, body: Any = None, *,
              resource: str | None = None, region: str = "",
              timeout: float = 4 * 3600) -> Generator[Http | Wait, Any, Reply]:
    """Send a write and wait for its long-running operation (reference section 7). Returns the initial
    reply once the operation Succeeded; raises ArmError with Azure's code and message when the request
    is refused or its operation fails. A 409 Conflict (another operation in flight on the resource, L9)
    is waited out and the request sent again."""
    for _ in range(CONFLICT_RETRIES):
        reply = yield from request(c, method, path, api_version, body, resource=resource, region=region)
        if reply.status == 409 and reply.error().code == "Conflict":
            yield Wait(POLL_SECONDS)
            continue
        break
    if reply.status >= 400:
        raise reply.error()
    url = reply.headers.get("azure-asyncoperation")
    location = reply.headers.get("location")
    if not url and not (location and reply.status == 202):
        return reply
    kind = _kind(method, path)
    start = c.clock.now()
    wait = c.durations.get(kind, POLL_SECONDS)
    while True:
        yield Wait(max(wait, 0.01))
        wait = POLL_SECONDS
        st = yield from request(c, "GET", url or location, None, resource=resource, region=region)
        if url:
            if st.status >= 400:
                if st.status == 404:
                    raise st.error()
                continue
            status = str((st.body or {}).get("status") or "")
            if status.lower() == "succeeded":
                b, e = _ts((st.body or {}).get("startTime")), _ts((st.body or {}).get("endTime"))
                if b is not None and e is not None and e >= b:
                    c.durations[kind] = min(c.durations.get(kind, e - b), e - b)
                return reply
            if status.lower() in ("failed", "canceled"):
                err = (st.body or {}).get("error") or {}
                raise ArmError(409, err.get("code") or "OperationFailed",
                               err.get("message") or f"The operation {status.lower()}.", err.get("target"))
        else:
            if st.status == 202:
                pass
            elif st.status < 300:
                return reply
            else:
                raise st.error()
        if c.clock.now() - start > timeout:
            raise ArmError(408, "OperationTimedOut", f"{method} {path.rsplit('/', 1)[-1]} did not finish within "
                           f"{math.ceil(timeout)} s")
