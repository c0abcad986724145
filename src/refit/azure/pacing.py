"""refit's paced ARM client: requests through the SDK's pipeline, client-side pacing learned from what Azure
says about its own limits, Retry-After honoured through the Clock, and long-running operations polled on
refit's own schedule.

Throttling (reference/azure-platform-rules.md section 6):
- azure-core's `RetryPolicy` (T8) retries any response >= 400 that carries `Retry-After`, sleeping
  `retry-after-ms` / `Retry-After` with a real `time.sleep`, at most `retry_status` (3) times. That is
  what every SDK client of refit (`Session.compute`, `.graph`, `.resources`) does, unchanged.
- The campaign client below turns that retry off for 429 only (`ThrottleAwareRetryPolicy`) and handles
  429 itself: it waits Retry-After through the Clock and tries again, up to `MAX_THROTTLED` times.
- It knows no limit in advance. Every response says what is left: ARM's
  `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` (and `-global-`), Compute's
  `x-ms-ratelimit-remaining-resource: Microsoft.Compute/<Policy>;<n>,...`. The `Pacer` keeps, per
  bucket it has been told about, what is left (less the requests still outstanding on it), the
  largest count ever seen (its capacity) and the refill rate it has watched (what was left rising
  faster than refit spent it), or, before it has watched one, what a 429's Retry-After implied. A
  request waits for its slot only on buckets it has learned about; the first requests of a kind go
  out and teach it which buckets they draw from.

The helpers `request()` and `operation()` are generators: they yield `Http` (one request, answered
with a `Reply`) and `Wait` (simulated or real seconds, per the Clock) actions that refit's scheduler
(`refit.run.sched`) executes, many VMs at once on a few threads.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest

from refit.arm.errors import ArmError

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


# ---- what Azure said about its buckets ---------------------------------------------------------------------
ARM_HEADER = "x-ms-ratelimit-remaining-subscription-"
COMPUTE_HEADER = "x-ms-ratelimit-remaining-resource"
MIN_RATE_SPAN = 3.0  # clock seconds between two readings of a bucket before its refill rate is estimated
PROBE_SECONDS = 1.0  # an exhausted bucket whose refill was never seen: look again after this long
HORIZON_SECONDS = 2.0  # slots are booked at most this far ahead; a later one is asked for again (the
                       # refill learned meanwhile may bring it closer)
LOW_FRACTION = 0.1  # a bucket this empty (or with one token) refills unseen by no cap: a reading to measure from


@dataclass
class _Policy:
    """What refit has learned of one policy (shared by every resource it applies to)."""

    capacity: float = 0.0  # the most ever seen left, plus the request that reported it
    rate: float | None = None  # tokens per clock second, watched
    guess: float | None = None  # tokens per clock second implied by a 429's Retry-After (a lower bound)

    def refill_rate(self) -> float | None:
        return self.rate if self.rate is not None else self.guess


@dataclass
class _ObservedBucket:
    """What refit believes of one of Azure's token buckets, from what Azure said of it (not a bucket refit
    enforces: that is refit.platform.throttling.Bucket, the emulator's)."""

    policy: _Policy
    tokens: float  # believed left at `at` (below 0: slots already booked by waiting requests)
    at: float
    outstanding: int = 0  # requests booked on it whose reply has not come back
    slots: list[float] = field(default_factory=list)  # the send times booked for those requests
    reading: tuple[float, float] | None = None  # (time, remaining) of a low reading, to measure the refill from
    spent_since: int = 0  # requests sent after `reading` and answered (not 429)
    blocked_until: float = 0.0  # a 429 said: nothing before then
    probe_until: float = 0.0  # exhausted with no known refill: one request probes, the others wait till then

    def exhausted_unknown(self, t: float) -> bool:
        return self.policy.refill_rate() is None and self.available(t) < 1

    def available(self, t: float) -> float:
        """Tokens believed there at `t`. Before `at` (slots already booked into the future) that is fewer than
        `tokens`: the refill between `t` and `at` has not come yet."""
        rate = self.policy.refill_rate()
        if rate is None:
            return self.tokens
        if t <= self.at:
            return self.tokens - (self.at - t) * rate
        return min(self.policy.capacity, self.tokens + (t - self.at) * rate)

    def next_slot(self, t: float) -> float:
        t = max(t, self.blocked_until)
        if self.available(t) >= 1:
            return t
        rate = self.policy.refill_rate()
        if not rate:
            return max(t, self.at) + PROBE_SECONDS
        return max(t, self.at + (1 - self.tokens) / rate)

    def take(self, t: float) -> None:
        if t < self.at:
            self.tokens -= 1  # one token fewer at `at` too
        else:
            self.tokens = self.available(t) - 1
            self.at = t
        self.outstanding += 1
        self.slots.append(t)

    def observe(self, t: float, remaining: float, booked: bool, consumed: bool = True,
                sent_at: float | None = None) -> None:
        """A reply said `remaining` are left (its own request counted when `consumed`: a 429 takes no token;
        `booked`: it was one of `outstanding`; `sent_at`: when it was sent).

        The refill rate is measured from a reading taken when the bucket was (nearly) empty to a later one
        that is below its capacity: between the two the bucket cannot have been capped, so what it gained
        plus what was spent is its refill. Only requests sent after the first reading count as spent (the
        platform may have counted earlier ones before that reading, whatever order the replies came in), so
        the measure errs low, never high. Readings of a fuller bucket say nothing of the rate (it may have sat
        at its capacity) and are not used for it."""
        p = self.policy
        p.capacity = max(p.capacity, remaining + 1)
        if self.reading is not None:
            t0, r0 = self.reading
            if consumed and sent_at is not None and sent_at > t0:
                self.spent_since += 1
            if t - t0 >= MIN_RATE_SPAN:
                if remaining + 1 < p.capacity:
                    est = (remaining - r0 + self.spent_since) / (t - t0)
                    if est > 0:
                        p.rate = est if p.rate is None else 0.5 * p.rate + 0.5 * est
                self.reading = None
        # A reading to measure from: the bucket low, and no other request of ours sent and not yet answered
        # (the platform may count it before or after this reading: the measure could not tell).
        in_flight = sum(1 for x in self.slots if x <= t) - (1 if booked else 0)
        if self.reading is None and remaining <= max(1.0, LOW_FRACTION * p.capacity) and in_flight <= 0:
            self.reading = (t, remaining)
            self.spent_since = 0
        fresh = remaining - max(0, self.outstanding - (1 if booked else 0))
        if p.refill_rate() is not None and t >= self.at:
            # Replies come back in any order: one answered earlier on the platform's side may say more is left
            # than a later one did. With the refill known, believe the lower of what it says and what the
            # learned refill gives.
            fresh = min(fresh, self.available(t))
        if t >= self.at:
            self.tokens, self.at = fresh, t
        else:
            self.tokens = min(self.tokens, fresh)  # slots are booked beyond `t`: only ever lower them

    def done(self, slot: float | None) -> None:
        self.outstanding = max(0, self.outstanding - 1)
        if slot is not None and slot in self.slots:
            self.slots.remove(slot)


def request_kind(method: str, path: str) -> tuple[str, ...]:
    """Requests that draw from the same buckets: the method, the namespace, the resource types named in the
    path (an action counts as one) and whether it ends on an item or on a collection / action."""
    segs = path.lower().split("?", 1)[0].strip("/").split("/")
    if "providers" not in segs:
        return (method, *segs[::2], "item" if len(segs) % 2 == 0 else "list")
    i = len(segs) - 1 - segs[::-1].index("providers")
    tail = segs[i + 1:]
    rest = tail[1:]
    return (method, tail[0] if tail else "", *rest[::2], "item" if len(rest) % 2 == 0 else "list")


def resource_of(path: str) -> str | None:
    """The top-level resource a request is about (`.../providers/{ns}/{type}/{name}`), as Compute counts it."""
    segs = path.split("?", 1)[0].strip("/").split("/")
    low = [x.lower() for x in segs]
    if "providers" not in low:
        return None
    i = low.index("providers")
    if len(segs) < i + 4:
        return None
    return "/" + "/".join(segs[: i + 4])


@dataclass
class Ticket:
    """A booked request: the buckets it holds a slot on, the slot (clock time it may be sent), and the kind of
    request it probes when it is the first of its kind."""

    buckets: list[tuple] = field(default_factory=list)
    slot: float = 0.0
    probe: tuple[str, ...] | None = None


class Pacer:
    """What refit has been told of the target's token buckets, in the Clock's time. Thread-safe."""

    def __init__(self, clock, enabled: bool = True):
        self.clock = clock
        self.enabled = enabled
        self._lock = threading.Lock()
        self._policies: dict[tuple, _Policy] = {}
        self._buckets: dict[tuple, _ObservedBucket] = {}
        self._kinds: dict[tuple[str, ...], set[tuple[str, str]]] = {}  # request kind -> (family, name) drawn from
        self._probes: dict[tuple[str, ...], int] = {}  # request kind never answered -> requests out
        self.waited = 0.0  # clock seconds spent waiting for a token (reported by benchmarks)

    @staticmethod
    def _instance(family: str, name: str, sub: str, region: str, resource: str | None) -> tuple | None:
        if family == "arm":
            return ("arm", sub, name)
        if "resource3min" in name.lower() or name.lower().endswith("resource"):
            # A per-resource Compute policy (INFERRED naming, see refit.platform.throttling).
            return ("compute-res", (resource or "").lower(), name) if resource else None
        return ("compute", sub, region.lower(), name)

    def release(self, ticket: Ticket) -> None:
        """A booked request that never got a reply (connection error)."""
        with self._lock:
            self._done(ticket)

    def _done(self, ticket: Ticket) -> None:
        if ticket.probe is not None:
            self._probes[ticket.probe] -= 1
        for inst in ticket.buckets:
            self._buckets[inst].done(ticket.slot)

    def _keys(self, method: str, path: str, resource: str | None, region: str) -> list[tuple[tuple, tuple]]:
        sub = path.split("/")[2].lower() if path.lower().startswith("/subscriptions/") else ""
        out = []
        for family, name in self._kinds.get(request_kind(method, path), ()):
            inst = self._instance(family, name, sub, region, resource)
            if inst is not None:
                out.append(((family, name), inst))
        return out

    def reserve(self, method: str, path: str, resource: str | None = None,
                region: str = "") -> tuple[float, Ticket, bool]:
        """Book the request's slot: the earliest time every bucket it is known to draw from has a token for it.
        Returns (clock seconds to wait, its ticket, firm). Slots are handed out first come, first
        served, so many waiting requests never stampede. Not firm: nothing was booked; wait, then ask
        again. That is the answer while a first request of its kind (or a probe of an exhausted bucket whose
        refill was never seen) has not come back: refit asks once rather than 429 in a crowd."""
        now = self.clock.now()
        if not self.enabled:
            return 0.0, Ticket(slot=now), True
        kind = request_kind(method, path)
        with self._lock:
            if kind not in self._kinds:
                if self._probes.get(kind, 0) > 0:
                    return PROBE_SECONDS / 10, Ticket(), False
                self._probes[kind] = self._probes.get(kind, 0) + 1
                return 0.0, Ticket(slot=now, probe=kind), True
            booked = [inst for _, inst in self._keys(method, path, resource, region) if inst in self._buckets]
            buckets = [self._buckets[i] for i in booked]
            unknown = [b for b in buckets if b.exhausted_unknown(now)]
            if unknown and now < max(b.probe_until for b in unknown):
                return max(b.probe_until for b in unknown) - now, Ticket(), False
            slot = max((b.next_slot(now) for b in buckets), default=now)
            if slot - now > HORIZON_SECONDS and not unknown:
                return HORIZON_SECONDS, Ticket(), False
            for b in unknown:
                b.probe_until = slot + PROBE_SECONDS / 10  # the others ask again once this probe is back
            for b in buckets:
                b.take(slot)
            if slot > now:
                self.waited += slot - now
            return slot - now, Ticket(booked, slot), True

    def learn(self, method: str, path: str, resource: str | None, region: str, reply: Reply, ticket: Ticket,
              retry_after: float | None = None) -> None:
        """Take in what a reply said of the buckets its request drew from (`ticket`: what `reserve` booked;
        `retry_after`: clock seconds, on a 429). A bucket never reported before starts as reported."""
        if not self.enabled:
            return
        now = self.clock.now()
        sub = path.split("/")[2].lower() if path.lower().startswith("/subscriptions/") else ""
        seen: list[tuple[tuple[str, str], float]] = []
        for k, v in reply.headers.items():
            if k.startswith(ARM_HEADER):
                try:
                    seen.append((("arm", k[len(ARM_HEADER):]), float(v)))
                except ValueError:
                    continue
            elif k == COMPUTE_HEADER:
                for part in v.split(","):
                    name, _, n = part.strip().rpartition(";")
                    try:
                        seen.append((("compute", name), float(n)))
                    except ValueError:
                        continue
        with self._lock:
            known = self._kinds.setdefault(request_kind(method, path), set())
            for pkey, remaining in seen:
                known.add(pkey)
                inst = self._instance(pkey[0], pkey[1], sub, region, resource)
                if inst is None:
                    continue
                policy = self._policies.setdefault(pkey, _Policy())
                b = self._buckets.get(inst)
                mine = inst in ticket.buckets
                if b is None:
                    b = self._buckets[inst] = _ObservedBucket(policy, remaining, now)
                b.observe(now, remaining, mine, consumed=reply.status != 429, sent_at=ticket.slot)
                if reply.status == 429 and remaining <= 0 and retry_after:
                    b.blocked_until = max(b.blocked_until, now + retry_after)
                    if policy.rate is None:
                        policy.guess = max(policy.guess or 0.0, 1.0 / retry_after)
            self._done(ticket)


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
        """One request, no waiting of refit's own (thread-safe). A Microsoft Graph URL (a planned directory step)
        goes through the session's Graph client: Graph's token scope, not ARM's (refit.azure.msgraph)."""
        from refit.azure import msgraph

        if h.path.lower().startswith(msgraph.GRAPH):
            status, body = self.session.msgraph.send(h.method, h.path, h.params)
            with self._lock:
                self.requests += 1
            return Reply(status, {}, body)
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
    """One ARM request, paced by what Azure said of its buckets; a 429 is waited out (Retry-After, through
    the Clock) and sent again."""
    where = urlsplit(path).path if "://" in path else path  # an LRO poll is an absolute URL
    resource = resource or resource_of(where)
    for _ in range(MAX_THROTTLED):
        while True:
            d, ticket, firm = c.pacer.reserve(method, where, resource, region)
            if firm:
                break
            yield Wait(d)
        try:
            if d > 0:
                yield Wait(d)
            reply = yield Http(method, path, api_version, body, params, resource, region)
        except BaseException:
            c.pacer.release(ticket)
            raise
        real = reply.retry_after() if reply.status == 429 else None
        wait = real * c.clock.scale if real is not None else POLL_SECONDS
        c.pacer.learn(method, where, resource, region, reply, ticket, wait if reply.status == 429 else None)
        if reply.status != 429:
            return reply
        c.throttled += 1
        yield Wait(wait)
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
    is waited out and the request sent again. Polls count against the resource written (as Compute's
    per-resource GetOperation policy does)."""
    resource = resource or resource_of(path)
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
