"""Waves: which VMs change together, and the campaign policy that governs them.

A campaign starts with a canary (default 1 VM), then batches of `batch_percent` of the selection
(default 20%). With `wave_by="zone"` no wave holds VMs of two zones: zones go one after the other
(regional VMs last), so a bad change is contained in one zone. `max_parallel` bounds how many VMs of a
wave are in flight at once. Between waves the campaign soaks (`soak_seconds`). A VM passes its health
gate when it is PowerState/running and, with the Application Health extension, HealthState/healthy
within `grace_seconds`; a wave whose failures exceed `max_unhealthy_percent` halts the campaign.

`lower_bound()` is the makespan an ideal client would reach under the same wave policy, timing model
and throttling model (no request latency, every completion seen at once, every token used): what
`bench/refresh.py` compares refit against.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from refit.platform.throttling import ARM_LIMITS, COMPUTE_LIMITS, Bucket


@dataclass
class Policy:
    canary: int = 1
    batch_percent: float = 20.0
    max_parallel: int = 0  # 0: a whole wave at once
    wave_by: str | None = None  # None | "zone"
    soak_seconds: float = 60.0
    grace_seconds: float = 600.0
    max_unhealthy_percent: float = 20.0
    start_retries: int = 5  # AllocationFailed / ZonalAllocationFailed on start
    start_backoff_seconds: float = 60.0  # doubled after each failed start, at most 16x

    def validate(self) -> None:
        from refit.arm.errors import UserError

        if self.canary < 0:
            raise UserError("--canary must be >= 0")
        if not 0 < self.batch_percent <= 100:
            raise UserError("--batch-percent must be in (0, 100]")
        if self.max_parallel < 0:
            raise UserError("--max-parallel must be >= 0 (0: no limit)")
        if self.wave_by not in (None, "zone"):
            raise UserError(f"--wave-by takes 'zone' (got '{self.wave_by}')")
        if self.soak_seconds < 0 or self.grace_seconds < 0 or self.start_backoff_seconds < 0:
            raise UserError("--soak, --grace and --start-backoff are seconds >= 0")
        if not 0 <= self.max_unhealthy_percent <= 100:
            raise UserError("--max-unhealthy-percent must be in [0, 100]")
        if self.start_retries < 0:
            raise UserError("--start-retries must be >= 0")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Member:
    key: str  # VM id, lowercase
    name: str
    zone: str  # "" for a regional VM


@dataclass
class Wave:
    n: int  # 0 is the canary
    zone: str | None  # the one zone of the wave (wave_by zone), else None
    members: list[Member] = field(default_factory=list)

    @property
    def canary(self) -> bool:
        return self.n == 0


def natural(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name))


def batch_size(total: int, policy: Policy) -> int:
    return max(1, math.ceil(total * policy.batch_percent / 100.0))


def plan_waves(members: Sequence[Member], policy: Policy) -> list[Wave]:
    """Canary first, then batches; with wave_by zone, zone after zone (sorted, regional last)."""
    if not members:
        return []
    size = batch_size(len(members), policy)
    if policy.wave_by == "zone":
        zones = sorted({m.zone for m in members}, key=lambda z: (z == "", natural(z)))
        groups = [(z, sorted((m for m in members if m.zone == z), key=lambda m: natural(m.name))) for z in zones]
    else:
        groups = [(None, sorted(members, key=lambda m: natural(m.name)))]
    waves: list[Wave] = []
    canary_left = policy.canary
    n = 0
    for zone, group in groups:
        rest = list(group)
        if canary_left > 0:
            take = rest[:canary_left]
            rest = rest[canary_left:]
            canary_left -= len(take)
            if not waves:
                waves.append(Wave(0, zone, take))
            else:
                waves[0].members += take
                if waves[0].zone != zone:
                    waves[0].zone = None
        for i in range(0, len(rest), size):
            n += 1
            waves.append(Wave(n, zone, rest[i:i + size]))
    if waves and waves[0].n != 0:  # no canary (canary=0)
        for i, w in enumerate(waves):
            w.n = i + 1
    return waves


# ---- the lower bound ------------------------------------------------------------------------------------------
def chain(timing: dict[str, float], health: bool) -> list[tuple[str, str | None, float]]:
    """One VM's refresh as (ARM kind, Compute policy, duration after it is sent): record the previous disk
    (a tag write), deallocate, swap (PATCH on the deallocated VM), start, then the health extension's boot."""
    steps: list[tuple[str, str | None, float]] = [
        ("write", None, 0.0),
        ("write", "DeleteVM", timing["vm.deallocate"]),
        ("write", "UpdateVM", timing["vm.update"]),
        ("write", "UpdateVM", timing["vm.start"]),
    ]
    if health:
        steps.append(("", None, timing["vm.boot"]))
    return steps


def lower_bound(wave_sizes: Sequence[int], timing: dict[str, float], soak: float, health: bool = False,
                throttling: bool = True, max_parallel: int = 0) -> float:
    """The makespan of an ideal client: every request sent the moment its VM is ready and a token is
    there (first come, first served), every completion seen at once, waves and soaks as the policy says."""
    buckets: dict[tuple, Bucket] = {}

    def bucket(key: tuple, cap: float, rate: float, t: float) -> Bucket:
        b = buckets.get(key)
        if b is None:
            b = buckets[key] = Bucket.full(cap, rate, t)
        return b

    def next_token(b: Bucket, t: float) -> float:
        b.refill(t)
        return t if b.tokens >= 1 else max(t, b.at) + b.wait()

    def take(b: Bucket, t: float) -> None:
        b.refill(t)
        b.tokens -= 1

    steps = chain(timing, health)
    t = 0.0
    seq = 0
    for w, size in enumerate(wave_sizes):
        if w > 0:
            t += soak
        heap: list[tuple[float, int, int, int]] = []  # (ready, seq, vm, step)
        slots = size if max_parallel <= 0 else min(size, max_parallel)
        waiting = list(range(slots, size))
        for vm in range(slots):
            heapq.heappush(heap, (t, seq, vm, 0))
            seq += 1
        end = t
        while heap:
            ready, _, vm, i = heapq.heappop(heap)
            kind, policy, dur = steps[i]
            at = ready
            if throttling and kind:
                # the latest of the buckets' next tokens; each bucket is then charged at that time
                cap, rate = ARM_LIMITS[kind]
                drawn = [bucket(("arm", kind), cap, rate, at)]
                if policy:
                    _, per_sub = COMPUTE_LIMITS[policy]
                    drawn.append(bucket(("sub", policy), per_sub[1], per_sub[0] / 60.0, at))
                at = max(next_token(b, at) for b in drawn)
                for b in drawn:
                    take(b, at)
            done = at + dur
            if i + 1 < len(steps):
                heapq.heappush(heap, (done, seq, vm, i + 1))
                seq += 1
            else:
                end = max(end, done)
                if waiting:
                    heapq.heappush(heap, (done, seq, waiting.pop(0), 0))
                    seq += 1
        t = end
    return t
