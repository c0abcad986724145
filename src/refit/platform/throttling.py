"""Azure's throttling policies: ARM's token buckets and Microsoft.Compute's per-region policies, with the
names Azure reports them under (reference/azure-platform-rules.md section 6; scale-sets-throttling-durable.md 2).

- ARM (T1, request-limits-and-throttling): per subscription and principal, per operation type, a token
  bucket: reads 250 refilled 25/s, writes 200 refilled 10/s, deletes 200 refilled 10/s; and a global
  per-subscription bucket of 15x those across principals. Reported in
  `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` (T3).
- Compute (compute-throttling-limits.md): per region, per operation group, a bucket per resource and one
  per subscription, "refill tokens per minute (max capacity)". Reported in
  `x-ms-ratelimit-remaining-resource: Microsoft.Compute/<Policy>;<remaining>` (T5), one entry per policy,
  as Azure's responses show them (`Microsoft.Compute/PutVM3Min;239`, `Microsoft.Compute/HighCostGet3Min;159`,
  e.g. in azure-sdk-for-java's ResourceManagerThrottlingInfo tests). Every bucket holds three minutes of
  its refill, hence `<Group>3Min` for the subscription's bucket; the per-resource bucket is reported as
  `<Group>Resource3Min` (INFERRED: no public response shows a per-resource policy's name).

These are the platform's facts: the emulator enforces them (with limits a test can change), the
benchmarks' lower bound uses them. refit's client does NOT read them: it learns what is left from the
headers Azure sends (refit.azure.pacing).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

# T1: operation type -> (capacity, refill per second)
ARM_LIMITS: dict[str, tuple[float, float]] = {"read": (250, 25.0), "write": (200, 10.0), "delete": (200, 10.0)}
ARM_GLOBAL_FACTOR = 15
ARM_KIND_HEADER = {"read": "reads", "write": "writes", "delete": "deletes"}

# compute-throttling-limits.md: group -> (per resource (refill per minute, capacity) or None,
#                                          per subscription (refill per minute, capacity))
COMPUTE_LIMITS: dict[str, tuple[tuple[float, float] | None, tuple[float, float]]] = {
    "PutVM": ((4, 12), (500, 1500)),
    "UpdateVM": ((4, 12), (500, 1500)),  # PATCH, start, restart, powerOff, reimage, runCommand...
    "DeleteVM": ((4, 12), (500, 1500)),  # DELETE, deallocate
    "LowCostGet": ((12, 36), (8000, 24000)),
    "HighCostGet": (None, (300, 900)),  # lists
    "GetOperation": ((15, 45), (5000, 15000)),
    "PutVMScaleSet": ((4, 12), (125, 375)),
    "UpdateVMScaleSet": ((4, 12), (500, 1500)),  # incl. rolling-upgrade cancel
    "DeleteVMScaleSet": ((4, 12), (175, 525)),  # DELETE, deallocate
    "LowCostGetVMScaleSet": ((12, 36), (800, 2400)),  # incl. rollingUpgrades/latest
    "HighCostGetVMScaleSet": ((10, 30), (360, 1080)),
    "UpdateVMScaleSetVM": ((4, 12), (500, 1500)),  # scale-set VM update/delete
}
DELETE_ACTIONS = {"deallocate", "simulateeviction"}


def policy_name(group: str, per_resource: bool) -> str:
    return f"Microsoft.Compute/{group}Resource3Min" if per_resource else f"Microsoft.Compute/{group}3Min"


@dataclass
class Limits:
    """The limits in force: Azure's by default; the emulator's control API may change them."""

    arm: dict[str, tuple[float, float]]
    compute: dict[str, tuple[tuple[float, float] | None, tuple[float, float]]]
    arm_global_factor: float = ARM_GLOBAL_FACTOR

    @classmethod
    def azure(cls) -> Limits:
        return cls(dict(ARM_LIMITS), copy.deepcopy(COMPUTE_LIMITS))

    def to_json(self) -> dict[str, Any]:
        return {"arm": {k: {"capacity": c, "refill_per_second": r} for k, (c, r) in self.arm.items()},
                "arm_global_factor": self.arm_global_factor,
                "compute": {p: {"resource": {"refill_per_minute": r[0], "capacity": r[1]} if r else None,
                                "subscription": {"refill_per_minute": s[0], "capacity": s[1]}}
                            for p, (r, s) in self.compute.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Limits:
        """Azure's limits with the given entries replaced; ValueError names a bad entry."""
        out = cls.azure()
        for kind, v in (data.get("arm") or {}).items():
            if kind not in out.arm:
                raise ValueError(f"unknown ARM operation type '{kind}' (known: {', '.join(out.arm)})")
            out.arm[kind] = (_positive(v, "capacity", f"arm.{kind}"), _positive(v, "refill_per_second", f"arm.{kind}"))
        if "arm_global_factor" in data:
            out.arm_global_factor = _positive(data, "arm_global_factor", "arm_global_factor")
        for group, v in (data.get("compute") or {}).items():
            if group not in out.compute:
                raise ValueError(f"unknown Compute policy '{group}' (known: {', '.join(out.compute)})")
            if not isinstance(v, dict):
                raise ValueError(f"compute.{group} takes {{'resource': ..., 'subscription': ...}}")
            res, sub = out.compute[group]
            if "resource" in v:
                r = v["resource"]
                res = None if r is None else (_positive(r, "refill_per_minute", f"compute.{group}.resource"),
                                              _positive(r, "capacity", f"compute.{group}.resource"))
            if "subscription" in v:
                s = v["subscription"]
                sub = (_positive(s, "refill_per_minute", f"compute.{group}.subscription"),
                       _positive(s, "capacity", f"compute.{group}.subscription"))
            out.compute[group] = (res, sub)
        return out


def _positive(obj: Any, key: str, where: str) -> float:
    if not isinstance(obj, dict) or key not in obj:
        raise ValueError(f"{where} needs '{key}'")
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
        raise ValueError(f"{where}.{key} must be a number > 0, not {v!r}")
    return float(v)


@dataclass
class Bucket:
    """A token bucket in simulated seconds (refilled continuously: the documented per-minute steps, smoothed)."""

    capacity: float
    rate: float  # tokens per second
    tokens: float
    at: float
    window: float = 0.0  # start of the current one-minute window (for the 429's measuredRequestCount)
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
        """Seconds until one token is back (0 when one is there)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass(frozen=True)
class Classified:
    arm: str | None  # read | write | delete; None: not ARM-throttled (Resource Graph has its own quota)
    group: str | None = None  # Compute operation group
    resource: str | None = None  # lowercase id of the VM or scale set the request draws on
    operation: str | None = None  # the operation id of an operation-status poll


def classify(method: str, path: str) -> Classified:
    """Which ARM bucket and which Compute policy a request draws from (compute-throttling-limits.md)."""
    low = path.lower().split("?", 1)[0].rstrip("/")
    if "/providers/microsoft.resourcegraph/" in low or not low.startswith("/subscriptions/"):
        return Classified(None)
    arm = "read" if method in ("GET", "HEAD") else ("delete" if method == "DELETE" else "write")
    parts = low.split("/")
    if "microsoft.compute" not in parts:
        return Classified(arm)
    i = parts.index("microsoft.compute")
    rest = parts[i + 1:]
    if len(rest) == 4 and rest[0] == "locations" and rest[2] in ("operations", "operationstatuses"):
        return Classified(arm, "GetOperation", None, rest[3])
    if "providers" in rest or not rest or rest[0] not in ("virtualmachines", "virtualmachinescalesets"):
        return Classified(arm)  # extension resources of a VM (tags) are ARM's, not Compute's
    vmss = rest[0] == "virtualmachinescalesets"
    suffix = "VMScaleSet" if vmss else ""
    if len(rest) == 1:
        return Classified(arm, f"HighCostGet{suffix}" if method == "GET" else None)
    key = "/".join(parts[: i + 3])
    reading = method in ("GET", "HEAD")
    if vmss and len(rest) >= 3 and rest[2] == "virtualmachines" and not reading:
        return Classified(arm, "UpdateVMScaleSetVM", key)
    if len(rest) == 2:
        group = {"PUT": "Put", "PATCH": "Update", "DELETE": "Delete"}.get(method)
        return Classified(arm, f"{group}VM{'ScaleSet' if vmss else ''}" if group else f"LowCostGet{suffix}", key)
    if reading:
        return Classified(arm, f"LowCostGet{suffix}", key)  # instanceView, rollingUpgrades/latest, extensions
    if len(rest) == 3 and method == "POST":
        return Classified(arm, f"{'Delete' if rest[2] in DELETE_ACTIONS else 'Update'}VM{'ScaleSet' if vmss else ''}", key)
    return Classified(arm, f"UpdateVM{'ScaleSet' if vmss else ''}", key)  # extensions CUD
