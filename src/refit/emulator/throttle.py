"""Throttling as Azure does it: ARM's token buckets and Microsoft.Compute's per-resource and
per-subscription buckets, in simulated time (reference/azure-platform-rules.md section 6).

- ARM (T1): per subscription, per principal, per operation type: reads bucket 250 refilled 25/s,
  writes 200 refilled 10/s, deletes 200 refilled 10/s; and a global per-subscription bucket of 15x
  those across principals. A throttled request gets 429 `SubscriptionRequestsThrottled` (T4).
  Resource Graph queries are left out: ARG has its own user quota (INFERRED: not modelled).
- Compute (6b): per region, a bucket per policy per resource and one per subscription, "refill tokens
  per minute (max capacity)": PutVM / UpdateVM / DeleteVM 4 (12) per VM and 500 (1500) per subscription,
  LowCostGet 12 (36) / 8000 (24000), HighCostGet - / 300 (900), GetOperation 15 (45) / 5000 (15000).
  Start, PATCH, restart, powerOff... count against UpdateVM, deallocate and delete against DeleteVM.
  A throttled request gets 429 with CRP's `OperationNotAllowed` / `TooManyRequests` body (T6).
  Buckets start full and refill continuously (the doc's per-minute steps, smoothed).

Every answered request carries `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`,
`...-subscription-global-...` (T3) and, for Compute, `x-ms-ratelimit-remaining-resource` (T5; the
per-policy names `<Policy>Resource` / `<Policy>Subscription` are INFERRED). A 429 carries `Retry-After`
(whole seconds, at least 1) and `retry-after-ms`, both in REAL time: the simulated wait divided by the
clock's scale, so a client that honours them waits exactly until a token is back (T8: Retry-After only
ever on 429). Off by default; `PUT /_refit/throttling {"enabled": true}` turns it on.

The limit tables are the single source for refit's client-side pacing (refit.azure.pacing) too.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

from refit.arm.errors import ArmError
from refit.emulator.clock import iso
from refit.emulator.core import Emulator

# T1: (capacity, refill per second)
ARM_LIMITS: dict[str, tuple[float, float]] = {"read": (250, 25.0), "write": (200, 10.0), "delete": (200, 10.0)}
ARM_GLOBAL_FACTOR = 15
# 6b: policy -> (per resource (refill per minute, capacity) or None, per subscription (refill per minute, capacity))
COMPUTE_LIMITS: dict[str, tuple[tuple[float, float] | None, tuple[float, float]]] = {
    "PutVM": ((4, 12), (500, 1500)),
    "UpdateVM": ((4, 12), (500, 1500)),
    "DeleteVM": ((4, 12), (500, 1500)),
    "LowCostGet": ((12, 36), (8000, 24000)),
    "HighCostGet": (None, (300, 900)),
    "GetOperation": ((15, 45), (5000, 15000)),
}
DELETE_VM_ACTIONS = {"deallocate", "simulateeviction"}
ARM_KIND_HEADER = {"read": "reads", "write": "writes", "delete": "deletes"}


@dataclass
class Bucket:
    capacity: float
    rate: float  # tokens per simulated second
    tokens: float
    at: float
    window: float = 0.0  # start of the current one-minute window (for T6's measuredRequestCount)
    measured: int = 0

    @classmethod
    def full(cls, capacity: float, rate: float, now: float) -> Bucket:
        return cls(capacity, rate, capacity, now, math.floor(now / 60) * 60)

    def refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now
        w = math.floor(now / 60) * 60
        if w != self.window:
            self.window, self.measured = w, 0

    def wait(self) -> float:
        """Simulated seconds until one token is back (0 when one is there)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass(frozen=True)
class Classified:
    arm: str | None  # read | write | delete; None: not ARM-throttled (Resource Graph)
    policy: str | None = None  # Compute policy
    resource: str | None = None  # the VM the request is about (lowercase id)
    region: str = ""


def classify(emu: Emulator, method: str, path: str) -> Classified:
    low = path.lower().rstrip("/")
    if "/providers/microsoft.resourcegraph/" in low:
        return Classified(None)
    arm = "read" if method in ("GET", "HEAD") else ("delete" if method == "DELETE" else "write")
    parts = low.split("/")
    if "microsoft.compute" not in parts:
        return Classified(arm)
    i = parts.index("microsoft.compute")
    rest = parts[i + 1:]
    if len(rest) == 4 and rest[0] == "locations" and rest[2] in ("operations", "operationstatuses"):
        op = emu.ops.get(path.rstrip("/").split("/")[-1])
        if op is None:
            return Classified(arm, "GetOperation", None, rest[1])
        return Classified(arm, "GetOperation", op.resource_id.lower(), op.region)
    if not rest or rest[0] != "virtualmachines" or "providers" in rest:
        return Classified(arm)  # extension resources of a VM (tags) are ARM's, not Compute's
    if len(rest) == 1:
        return Classified(arm, "HighCostGet" if method == "GET" else None, None, "")
    vm_key = "/".join(parts[: i + 3])
    doc = emu.get(vm_key)
    region = (doc or {}).get("location", "") if doc else ""
    if len(rest) == 2:
        policy = {"PUT": "PutVM", "PATCH": "UpdateVM", "DELETE": "DeleteVM", "GET": "LowCostGet",
                  "HEAD": "LowCostGet"}.get(method)
    elif method in ("GET", "HEAD"):
        policy = "LowCostGet"  # instanceView, extensions (INFERRED: the doc lists instance view under VMSS only)
    elif len(rest) == 3 and method == "POST":
        policy = "DeleteVM" if rest[2] in DELETE_VM_ACTIONS else "UpdateVM"
    else:
        policy = "UpdateVM"  # extensions CUD
    return Classified(arm, policy, vm_key, region)


def principal_of(authorization: str | None) -> str:
    """The actor of T4's message: the token's object id when it is a JWT, else the opaque token's name."""
    token = (authorization or "").split(" ", 1)[-1].strip()
    parts = token.split(".")
    if len(parts) == 3:
        try:
            pad = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(pad))
            return str(claims.get("oid") or claims.get("appid") or claims.get("sub") or "unknown")
        except (ValueError, TypeError):
            pass
    return token[:64] or "anonymous"


# ---- state -------------------------------------------------------------------------------------------------
def enabled(emu: Emulator) -> bool:
    return bool((emu.settings.get("throttling") or {}).get("enabled"))


def _buckets(emu: Emulator) -> dict[tuple, Bucket]:
    b = getattr(emu, "_throttle_buckets", None)
    if b is None:
        b = emu._throttle_buckets = {}  # type: ignore[attr-defined]
    return b


def _bucket(emu: Emulator, key: tuple, capacity: float, rate: float, now: float) -> Bucket:
    buckets = _buckets(emu)
    b = buckets.get(key)
    if b is None:
        b = buckets[key] = Bucket.full(capacity, rate, now)
    b.refill(now)
    return b


def control(emu: Emulator, method: str, body: Any) -> tuple[int, Any]:
    """GET|PUT /_refit/throttling {"enabled": bool}; turning it on starts every bucket full."""
    if method == "PUT":
        if not isinstance(body, dict) or set(body) - {"enabled"} or not isinstance(body.get("enabled"), bool):
            raise ArmError(400, "InvalidControlRequest", "throttling takes {\"enabled\": true|false}")
        emu.settings["throttling"] = {"enabled": body["enabled"]}
        emu._throttle_buckets = {}  # type: ignore[attr-defined]
    elif method != "GET":
        raise ArmError(405, "MethodNotAllowed", "Use GET or PUT on /_refit/throttling.")
    return 200, {"enabled": enabled(emu), "arm": {k: {"capacity": c, "refill_per_second": r} for k, (c, r) in
                                                  ARM_LIMITS.items()},
                 "compute": {p: {"resource": {"refill_per_minute": r[0], "capacity": r[1]} if r else None,
                                 "subscription": {"refill_per_minute": s[0], "capacity": s[1]}}
                             for p, (r, s) in COMPUTE_LIMITS.items()}}


# ---- the check ---------------------------------------------------------------------------------------------
def admit(emu: Emulator, method: str, path: str, authorization: str | None) -> tuple[ArmError | None, dict[str, str]]:
    """(429 error or None, rate-limit headers) for one ARM request; (None, {}) when throttling is off."""
    if not enabled(emu) or not path.lower().startswith("/subscriptions/"):
        return None, {}
    with emu.lock:
        now = emu.now()
        c = classify(emu, method, path)
        if c.arm is None:
            return None, {}
        sub = path.split("/")[2].lower()
        actor = principal_of(authorization)
        cap, rate = ARM_LIMITS[c.arm]
        mine = _bucket(emu, ("arm", sub, actor, c.arm), cap, rate, now)
        glob = _bucket(emu, ("arm-global", sub, c.arm), cap * ARM_GLOBAL_FACTOR, rate * ARM_GLOBAL_FACTOR, now)
        name = ARM_KIND_HEADER[c.arm]
        headers: dict[str, str] = {}
        for b in (mine, glob):
            b.measured += 1
        wait = max(mine.wait(), glob.wait())
        if wait > 0:
            headers.update(_retry_headers(emu, wait))
            headers[f"x-ms-ratelimit-remaining-subscription-{name}"] = "0"
            # T4, verbatim shape (request-limits-and-throttling.md; public ARM 429 bodies)
            return ArmError(429, "SubscriptionRequestsThrottled",
                            f"Number of '{c.arm}' requests for subscription '{sub}' actor '{actor}' exceeded. "
                            f"Please try again after '{math.ceil(wait)}' seconds."), headers
        mine.tokens -= 1
        glob.tokens -= 1
        headers[f"x-ms-ratelimit-remaining-subscription-{name}"] = str(int(mine.tokens))
        headers[f"x-ms-ratelimit-remaining-subscription-global-{name}"] = str(int(glob.tokens))
        if c.policy is None:
            return None, headers
        per_res, per_sub = COMPUTE_LIMITS[c.policy]
        region = (c.region or "").replace(" ", "").lower()
        sb = _bucket(emu, ("compute-sub", sub, region, c.policy), per_sub[1], per_sub[0] / 60.0, now)
        rb = None
        if per_res is not None and c.resource:
            rb = _bucket(emu, ("compute-res", c.resource, c.policy), per_res[1], per_res[0] / 60.0, now)
        for b in (sb, rb):
            if b is not None:
                b.measured += 1
        for b, scope in ((rb, "resource"), (sb, "subscription")):
            if b is not None and b.wait() > 0:
                w = b.wait()
                headers.update(_retry_headers(emu, w))
                headers["x-ms-ratelimit-remaining-resource"] = _remaining(c.policy, rb, sb)
                return _compute_429(c.policy, b, scope), headers
        sb.tokens -= 1
        if rb is not None:
            rb.tokens -= 1
        headers["x-ms-ratelimit-remaining-resource"] = _remaining(c.policy, rb, sb)
        return None, headers


def _remaining(policy: str, rb: Bucket | None, sb: Bucket) -> str:
    parts = []
    if rb is not None:
        parts.append(f"Microsoft.Compute/{policy}Resource;{max(0, int(rb.tokens))}")
    parts.append(f"Microsoft.Compute/{policy}Subscription;{max(0, int(sb.tokens))}")
    return ",".join(parts)


def _retry_headers(emu: Emulator, sim_wait: float) -> dict[str, str]:
    real = emu.clock.real_seconds(sim_wait)
    return {"Retry-After": str(max(1, math.ceil(real))), "retry-after-ms": str(max(1, math.ceil(real * 1000)))}


def _compute_429(policy: str, b: Bucket, scope: str) -> ArmError:
    # T6 (troubleshooting-throttling-errors.md); the per-resource wording is INFERRED.
    inner = {"operationGroup": policy, "startTime": iso(b.window), "endTime": iso(b.window + 60),
             "allowedRequestCount": int(b.capacity), "measuredRequestCount": b.measured}
    return ArmError(429, "OperationNotAllowed",
                    f"The server rejected the request because too many requests have been received for this {scope}.",
                    details=[{"code": "TooManyRequests", "target": policy,
                              "message": json.dumps(inner, separators=(",", ":"))}])
