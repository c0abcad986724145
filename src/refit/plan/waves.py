"""A fleet plan's waves: canary first, then batches that fit Azure's throttles.

The plan's groups (one per planned component, in plan order) are numbered into waves: wave 1 holds the first
`canary` groups; every later wave at most `batch_percent` of the groups, and no more than fit, all together, in
every throttling bucket their requests draw on (`refit.platform.throttling`: ARM's write bucket of 200 per
principal, Compute's per-subscription buckets such as UpdateVM's 1,500), so a wave that starts with full buckets
is never throttled. `refit apply` starts a wave's groups only once every group of the wave before it has finished
(`refit.run.stepgraph`), so a canary that fails stops the plan before the fleet is touched: the first failure
stops the start of new steps. The buckets are counted per subscription across regions (conservative: Compute's
buckets are per region too) and per principal for ARM.
"""

from __future__ import annotations

import math
from collections import Counter

from refit.arm.ids import ResourceId
from refit.plan.model import Plan, Step
from refit.platform import throttling


def _draws(steps: list[Step]) -> Counter:
    """The tokens a group's requests take, per bucket: ("arm", kind) and ("compute", subscription, group)."""
    out: Counter = Counter()
    for s in steps:
        for req in (s.request, s.followup):
            if not req:
                continue
            c = throttling.classify(req["method"].upper(), req["path"])
            if c.arm:
                out[("arm", c.arm)] += 1
            if c.group:
                out[("compute", ResourceId.parse(s.resource).subscription.lower(), c.group)] += 1
    return out


def _capacity(bucket: tuple) -> float:
    if bucket[0] == "arm":
        return throttling.ARM_LIMITS[bucket[1]][0]
    return throttling.COMPUTE_LIMITS[bucket[2]][1][1]


def assign(plan: Plan, canary: int = 1, batch_percent: float = 20.0) -> None:
    """Number the plan's steps into waves (Step.wave, from 1); clean-up steps stay outside them (0)."""
    groups: dict[int, list[Step]] = {}
    for s in plan.steps:
        groups.setdefault(s.group, []).append(s)
    order = list(groups)
    batch = max(1, math.ceil(len(order) * batch_percent / 100))
    wave, in_wave, load = 0, 0, Counter()
    for i, g in enumerate(order):
        draws = _draws(groups[g])
        fits = all(load[b] + n <= _capacity(b) for b, n in draws.items())
        first_after_canary = canary > 0 and i == canary
        if wave == 0 or first_after_canary or in_wave >= (canary if i < canary else batch) or not fits:
            wave, in_wave, load = wave + 1, 0, Counter()
        in_wave += 1
        load.update(draws)
        for s in groups[g]:
            s.wave = wave
    plan.waves = {"canary": canary, "batch_percent": batch_percent, "count": wave}
