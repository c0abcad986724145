"""The emulator enforces Azure's throttling policies (refit.platform.throttling) in simulated time.

Every answered ARM request carries `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`,
`...-subscription-global-...` (T3) and, for Compute, `x-ms-ratelimit-remaining-resource` with Azure's
policy names (T5). A throttled request gets ARM's 429 `SubscriptionRequestsThrottled` (T4) or Compute's
429 `OperationNotAllowed` / `TooManyRequests` (T6), with `Retry-After` (whole seconds, at least 1) and
`retry-after-ms`, both in REAL time: the simulated wait divided by the clock's scale, so a client that
honours them waits exactly until a token is back (T8: Retry-After only ever on 429). Buckets start full.

Off by default; `PUT /_refit/throttling {"enabled": true}` turns it on, and `"limits": {...}` replaces
any of Azure's limits (`refit.platform.throttling.Limits.from_json`), so tests can check that refit
learns limits it was never told.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from refit.arm import location
from refit.arm.errors import ArmError
from refit.emulator.core import Emulator
from refit.platform import throttling
from refit.platform.clock import iso
from refit.platform.throttling import ARM_KIND_HEADER, Bucket, Classified, Limits, policy_name


def classify(emu: Emulator, method: str, path: str) -> tuple[Classified, str]:
    """The platform's classification plus the region whose Compute buckets the request draws from."""
    c = throttling.classify(method, path)
    if c.operation is not None:
        op = emu.ops.get(path.rstrip("/").split("/")[-1].split("?")[0])
        if op is None:
            return c, ""
        return Classified(c.arm, c.group, op.resource_id.lower(), c.operation), op.region
    if c.resource is not None:
        doc = emu.get(c.resource)
        return c, location.normalize((doc or {}).get("location"))
    return c, ""


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


class State:
    """The buckets in use and what the emulator saw (`GET /_refit/throttling` reports `stats`)."""

    def __init__(self) -> None:
        self.buckets: dict[tuple, Bucket] = {}
        self.stats = {"requests": 0, "throttled": 0, "early_retries": 0}
        # (actor, method, path) -> the simulated time its last 429 said to wait until
        self.retry_deadlines: dict[tuple[str, str, str], float] = {}


def _state(emu: Emulator) -> State:
    st = getattr(emu, "throttle_state", None)
    if st is None:
        st = emu.throttle_state = State()  # type: ignore[attr-defined]
    return st


def _bucket(emu: Emulator, key: tuple, capacity: float, rate: float, now: float) -> Bucket:
    buckets = _state(emu).buckets
    b = buckets.get(key)
    if b is None:
        b = buckets[key] = Bucket.full(capacity, rate, now)
    b.refill(now)
    return b


def limits(emu: Emulator) -> Limits:
    cfg = emu.settings.get("throttling") or {}
    return Limits.from_json(cfg.get("limits") or {})


def control(emu: Emulator, method: str, body: Any) -> tuple[int, Any]:
    """GET|PUT /_refit/throttling {"enabled": bool, "limits": {...}}; a PUT starts every bucket full."""
    if method == "PUT":
        if not isinstance(body, dict) or set(body) - {"enabled", "limits"} or not isinstance(body.get("enabled"), bool):
            raise ArmError(400, "InvalidControlRequest",
                           "throttling takes {\"enabled\": true|false, \"limits\": {\"arm\": ..., \"compute\": ...}}")
        given = body.get("limits") or {}
        if not isinstance(given, dict) or set(given) - {"arm", "compute", "arm_global_factor"}:
            raise ArmError(400, "InvalidControlRequest", "limits take 'arm', 'compute' and 'arm_global_factor'")
        try:
            Limits.from_json(given)
        except ValueError as e:
            raise ArmError(400, "InvalidControlRequest", f"throttling limits: {e}") from e
        emu.settings["throttling"] = {"enabled": body["enabled"], "limits": given}
        emu.throttle_state = State()  # type: ignore[attr-defined]
    elif method != "GET":
        raise ArmError(405, "MethodNotAllowed", "Use GET or PUT on /_refit/throttling.")
    return 200, {"enabled": enabled(emu), **limits(emu).to_json(), "stats": dict(_state(emu).stats)}


# ---- the check ---------------------------------------------------------------------------------------------
def admit(emu: Emulator, method: str, path: str, authorization: str | None) -> tuple[ArmError | None, dict[str, str]]:
    """(429 error or None, rate-limit headers) for one ARM request; (None, {}) when throttling is off."""
    if not enabled(emu) or not path.lower().startswith("/subscriptions/"):
        return None, {}
    with emu.lock:
        now = emu.now()
        c, region = classify(emu, method, path)
        if c.arm is None:
            return None, {}
        lim = limits(emu)
        sub = path.split("/")[2].lower()
        actor = principal_of(authorization)
        st = _state(emu)
        st.stats["requests"] += 1
        again = (actor, method, path.lower())
        deadline = st.retry_deadlines.pop(again, None)
        if deadline is not None and now < deadline - 1e-6:
            st.stats["early_retries"] += 1  # sent again before the Retry-After it was given
        cap, rate = lim.arm[c.arm]
        f = lim.arm_global_factor
        mine = _bucket(emu, ("arm", sub, actor, c.arm), cap, rate, now)
        glob = _bucket(emu, ("arm-global", sub, c.arm), cap * f, rate * f, now)
        name = ARM_KIND_HEADER[c.arm]
        headers: dict[str, str] = {}
        for b in (mine, glob):
            b.measured += 1
        wait = max(mine.wait(), glob.wait())
        if wait > 0:
            headers.update(_retry_headers(emu, wait, st, again))
            headers[f"x-ms-ratelimit-remaining-subscription-{name}"] = "0"
            # T4, verbatim shape (request-limits-and-throttling.md; public ARM 429 bodies)
            return ArmError(429, "SubscriptionRequestsThrottled",
                            f"Number of '{c.arm}' requests for subscription '{sub}' actor '{actor}' exceeded. "
                            f"Please try again after '{math.ceil(wait)}' seconds."), headers
        mine.tokens -= 1
        glob.tokens -= 1
        headers[f"x-ms-ratelimit-remaining-subscription-{name}"] = str(int(mine.tokens))
        headers[f"x-ms-ratelimit-remaining-subscription-global-{name}"] = str(int(glob.tokens))
        if c.group is None:
            return None, headers
        per_res, per_sub = lim.compute[c.group]
        sb = _bucket(emu, ("compute-sub", sub, region, c.group), per_sub[1], per_sub[0] / 60.0, now)
        rb = None
        if per_res is not None and c.resource:
            rb = _bucket(emu, ("compute-res", c.resource, c.group), per_res[1], per_res[0] / 60.0, now)
        for b in (sb, rb):
            if b is not None:
                b.measured += 1
        for b, scope in ((rb, "resource"), (sb, "subscription")):
            if b is not None and b.wait() > 0:
                headers.update(_retry_headers(emu, b.wait(), st, again))
                headers["x-ms-ratelimit-remaining-resource"] = _remaining(c.group, rb, sb)
                return _compute_429(policy_name(c.group, scope == "resource"), b, scope), headers
        sb.tokens -= 1
        if rb is not None:
            rb.tokens -= 1
        headers["x-ms-ratelimit-remaining-resource"] = _remaining(c.group, rb, sb)
        return None, headers


def _remaining(group: str, rb: Bucket | None, sb: Bucket) -> str:
    parts = []
    if rb is not None:
        parts.append(f"{policy_name(group, True)};{max(0, int(rb.tokens))}")
    parts.append(f"{policy_name(group, False)};{max(0, int(sb.tokens))}")
    return ",".join(parts)


def _retry_headers(emu: Emulator, sim_wait: float, st: State, again: tuple[str, str, str]) -> dict[str, str]:
    """A 429's Retry-After (whole seconds) and retry-after-ms, in real time; the same request sent again
    before retry-after-ms has passed counts as an early retry."""
    real = emu.clock.real_seconds(sim_wait)
    ms = max(1, math.ceil(real * 1000))
    st.stats["throttled"] += 1
    st.retry_deadlines[again] = emu.now() + ms / 1000 * emu.clock.scale
    return {"Retry-After": str(max(1, math.ceil(real))), "retry-after-ms": str(ms)}


def _compute_429(policy: str, b: Bucket, scope: str) -> ArmError:
    # T6 (troubleshooting-throttling-errors.md): target and operationGroup name the policy without its
    # namespace ("HighCostGet30Min"); the per-resource wording is INFERRED.
    group = policy.split("/", 1)[1]
    inner = {"operationGroup": group, "startTime": iso(b.window), "endTime": iso(b.window + 60),
             "allowedRequestCount": int(b.capacity), "measuredRequestCount": b.measured}
    return ArmError(429, "OperationNotAllowed",
                    f"The server rejected the request because too many requests have been received for this {scope}.",
                    details=[{"code": "TooManyRequests", "target": group,
                              "message": json.dumps(inner, separators=(",", ":"))}])
