"""The platform model's clocks, in simulated seconds since the Unix epoch.

- `VirtualClock` (the emulator's): simulated seconds advance `scale` times faster than real ones, so a
  45 s deallocate at scale 1000 takes 45 ms; `advance()` jumps ahead (tests, demos); the emulator
  persists its simulated time across a restart.
- `ManualClock` (the planner's): time moves only when the simulation advances it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class VirtualClock:
    def __init__(self, scale: float = 1000.0, sim_now: float | None = None, real=time.monotonic):
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        self._real = real
        self.scale = float(scale)
        self._anchor_real = real()
        self._anchor_sim = time.time() if sim_now is None else float(sim_now)

    def now(self) -> float:
        """Simulated seconds since the Unix epoch."""
        return self._anchor_sim + (self._real() - self._anchor_real) * self.scale

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._anchor_sim += seconds
        return self.now()

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        now = self.now()
        self._anchor_real, self._anchor_sim, self.scale = self._real(), now, float(scale)

    def real_seconds(self, sim_seconds: float) -> float:
        """How long a simulated span takes in real time."""
        return max(0.0, sim_seconds) / self.scale


def iso(ts: float) -> str:
    """Azure's timestamp format: 7 fractional digits and an explicit +00:00 offset."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0+00:00"


class ManualClock:
    """Simulated time that moves only when told to (the planner's simulations): `advance()` is the only
    way forward, so an operation's duration is exactly what the timing model says."""

    scale = 1.0

    def __init__(self, now: float):
        self._now = float(now)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds
        return self._now

    def real_seconds(self, sim_seconds: float) -> float:
        return 0.0
