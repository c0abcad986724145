"""The control API under /_refit/: for tests, demos and rehearsals (never part of Azure's surface).

  GET  /_refit/health                 liveness, resource count, simulated time
  POST /_refit/reset                  forget everything
  POST /_refit/scenario               {"name"|"yaml", "params": {...}, "reset": true}
  GET  /_refit/clock                  {"now", "iso", "scale"}
  POST /_refit/clock                  {"advance": seconds} and/or {"scale": factor}
  GET|PUT /_refit/faults              {"throttle": {"fraction", "retry_after"}, "server_error": {"fraction"},
                                       "allocation_failed": {"fraction"|"remaining", "vms": [...]}}; all off by default
  GET|PUT /_refit/timing              the timing model (timing.py) with overrides
  GET|PUT /_refit/health-model        per-image-version health settings (health.py)
  GET|PUT /_refit/throttling          {"enabled": bool}: ARM and Compute token buckets (throttle.py)
  POST /_refit/evictions              {"scaleSet": id, "count": N}: Azure reclaims N Spot instances (spot.py)
"""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.emulator.core import Emulator
from refit.platform.clock import iso

FAULT_KEYS = {"throttle": {"fraction", "retry_after"}, "server_error": {"fraction"},
              "allocation_failed": {"fraction", "remaining", "vms"}}


def handle(emu: Emulator, method: str, op: str, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    op = op.strip("/").lower()
    with emu.lock:
        emu.tick()
        try:
            return _dispatch(emu, method, op, body or {})
        finally:
            emu.flush()


def _dispatch(emu: Emulator, method: str, op: str, body: dict[str, Any]) -> tuple[int, Any]:
    if op == "health":
        return 200, {"ok": True, "resources": len(emu.world), "now": iso(emu.now()), "scale": emu.clock.scale,
                     "inflight": len(emu.inflight)}
    if op == "reset" and method == "POST":
        emu.reset()
        return 200, {"ok": True}
    if op == "scenario" and method == "POST":
        from refit.emulator import scenario as scenarios

        try:
            if body.get("yaml"):
                sc = scenarios.parse(body["yaml"], source="request")
            else:
                sc = scenarios.load(str(body.get("name") or ""))
            summary = scenarios.seed(emu, sc, body.get("params") or {}, reset=body.get("reset", True))
        except scenarios.ScenarioError as e:
            raise ArmError(400, "InvalidScenario", str(e)) from e
        return 200, summary
    if op == "clock":
        if method == "POST":
            if "scale" in body:
                _positive(body["scale"], "scale")
                emu.clock.set_scale(float(body["scale"]))
            if "advance" in body:
                _positive(body["advance"], "advance", allow_zero=True)
                emu.clock.advance(float(body["advance"]))
                emu.tick()
        return 200, {"now": emu.now(), "iso": iso(emu.now()), "scale": emu.clock.scale}
    if op == "faults":
        if method == "PUT":
            emu.settings["faults"] = validate_faults(body)
        return 200, emu.settings.get("faults") or {}
    if op == "health-model":  # issue 4: the refresh health model (refit.platform.effects.health)
        from refit.platform.effects import health

        if method == "PUT":
            try:
                health.configure(emu, body)
            except health.HealthModelError as e:
                raise ArmError(400, "InvalidHealthModel", str(e)) from e
        elif method != "GET":
            raise ArmError(405, "MethodNotAllowed", "Use GET or PUT on /_refit/health-model.")
        return 200, emu.settings.get("health") or {}
    if op == "throttling":  # issue 4: throttling on/off and its limits
        from refit.emulator import throttle

        return throttle.control(emu, method, body)
    if op == "evictions" and method == "POST":
        return 200, _evict(emu, body)
    if op == "timing":
        if method == "PUT":
            try:
                emu.timing.update(body)
            except (ValueError, TypeError) as e:
                raise ArmError(400, "InvalidTiming", str(e)) from e
        return 200, emu.timing.table
    raise ArmError(404, "NotFound", f"Unknown control operation '{method} /_refit/{op}'.")


def _evict(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    from refit.arm.ids import ResourceId
    from refit.platform.effects import spot

    sid, count = body.get("scaleSet"), body.get("count", 1)
    if not isinstance(sid, str) or not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ArmError(400, "InvalidEviction", "POST /_refit/evictions takes {\"scaleSet\": <scale set id>, "
                                               "\"count\": <whole number >= 1>}.")
    try:
        vmss = emu.get(ResourceId.parse(sid))
    except ArmError:
        vmss = None
    if vmss is None or vmss.get("type", "").lower() != "microsoft.compute/virtualmachinescalesets":
        raise ArmError(404, "NotFound", f"No scale set '{sid}' to evict from.")
    return {"evicted": spot.evict(emu, vmss, count)}


def _positive(value: Any, name: str, allow_zero: bool = False) -> None:
    try:
        f = float(value)
    except (TypeError, ValueError) as e:
        raise ArmError(400, "InvalidControlRequest", f"'{name}' must be a number.") from e
    if f < 0 or (f == 0 and not allow_zero):
        raise ArmError(400, "InvalidControlRequest", f"'{name}' must be {'>= 0' if allow_zero else '> 0'}.")


def validate_faults(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidControlRequest", "faults must be an object")
    for k, v in body.items():
        if k not in FAULT_KEYS:
            raise ArmError(400, "InvalidControlRequest", f"unknown fault '{k}' (known: {', '.join(FAULT_KEYS)})")
        if not isinstance(v, dict) or set(v) - FAULT_KEYS[k]:
            raise ArmError(400, "InvalidControlRequest",
                           f"fault '{k}' takes an object with {', '.join(sorted(FAULT_KEYS[k]))}")
        if "fraction" in v and not 0 <= float(v["fraction"]) <= 1:
            raise ArmError(400, "InvalidControlRequest", f"fault '{k}': fraction must be between 0 and 1")
    return body


def request_fault(emu: Emulator, method: str, path: str) -> tuple[ArmError, dict[str, str]] | None:
    """Injected failures answered before the request reaches the resource engine."""
    faults = emu.settings.get("faults") or {}
    if not faults:
        return None
    write = method in ("PUT", "PATCH", "DELETE", "POST") and "/microsoft.resourcegraph/" not in path.lower()
    with emu.lock:
        th = faults.get("throttle")
        if th and write and emu.rng.random() < float(th.get("fraction", 0)):
            retry = int(th.get("retry_after", 1))
            sub = path.split("/")[2] if path.lower().startswith("/subscriptions/") else "-"
            # T4 (request-limits-and-throttling.md): ARM's 429 with Retry-After.
            return (ArmError(429, "SubscriptionRequestsThrottled",
                             f"Number of 'write' requests for subscription '{sub}' actor 'refit-emulator' exceeded. "
                             f"Please try again after '{retry}' seconds."), {"Retry-After": str(retry)})
        se = faults.get("server_error")
        if se and emu.rng.random() < float(se.get("fraction", 0)):
            return ArmError(500, "InternalServerError",
                            "An internal server error occurred. Please retry the request."), {}
    return None


def ratelimit_headers(method: str) -> dict[str, str]:
    # T3: ARM reports what is left of its buckets; the emulator does not throttle unless a fault says so.
    if method in ("PUT", "PATCH", "POST"):
        return {"x-ms-ratelimit-remaining-subscription-writes": "199"}
    if method == "DELETE":
        return {"x-ms-ratelimit-remaining-subscription-deletes": "199"}
    return {"x-ms-ratelimit-remaining-subscription-reads": "249"}
