"""The Clock contract (DESIGN.md "Time"): everything in refit that waits goes through a Clock.

- `RealClock`: real Azure; seconds since the epoch, real sleeps.
- `EmulatorClock`: a running emulator; `now()` is the emulator's simulated time (read from
  `/_refit/clock` and extrapolated with its scale), `sleep(s)` sleeps s simulated seconds, i.e.
  s / scale real seconds.
- `SteppedClock`: discrete-event time for the schedule benchmark (bench/refresh.py (a)) and the pacing
  test that needs the same, when refit is the emulator's only client; no command selects it. It slows the emulator's clock to a crawl and, whenever refit waits, advances
  it by exactly the wait: the simulated makespan of a campaign then holds only the platform's durations,
  throttling and refit's waiting decisions, not the CPU time of this machine (reported separately).

Durations are in simulated seconds for the emulator clocks and real seconds for `RealClock`; `scale`
converts a server's real-time hint (Retry-After) into the clock's seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

# The emulator's clock while a SteppedClock drives it: simulated time moves 10^-9 s per real second.
STEPPED_SCALE = 1e-9
EPSILON = 0.001  # a stepped advance lands just past the target, so an operation due then is complete


class Clock(Protocol):
    scale: float

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    scale = 1.0

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)  # the one real sleep of refit's logic: against real Azure, time is real


class EmulatorClock:
    """The emulator's virtual clock, read over its control API and extrapolated between reads."""

    RESYNC_REAL_SECONDS = 1.0

    def __init__(self, session):
        self._session = session
        self._lock = threading.Lock()
        self._syncing = threading.Lock()  # held by the one thread reading the emulator's clock
        self._sync()

    def _sync(self) -> None:
        c = self._session.control("GET", "clock")
        with self._lock:
            self.scale = float(c["scale"])
            self._anchor_sim = float(c["now"])
            self._anchor_real = time.monotonic()

    def now(self) -> float:
        # Someone may have advanced or rescaled the emulator's clock: read it again once a second. One thread
        # reads it, the others extrapolate meanwhile: a worker's hundreds of activity threads would otherwise
        # all read it at the same moment (each read a new TLS connection to the emulator).
        if time.monotonic() - self._anchor_real > self.RESYNC_REAL_SECONDS and self._syncing.acquire(blocking=False):
            try:
                self._sync()
            finally:
                self._syncing.release()
        with self._lock:
            return self._anchor_sim + (time.monotonic() - self._anchor_real) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)


class SteppedClock:
    """Discrete-event time: the emulator's clock stands (nearly) still and moves only when refit waits.

    Valid while refit is the emulator's only client (benchmarks, tests): everything that waits must go
    through this clock from ONE thread at a time (refit's scheduler does), and nothing may wait for the
    emulator's real-time hints (refit's client converts Retry-After with `scale`)."""

    def __init__(self, session):
        self._session = session
        c = session.control("GET", "clock")
        self._restore = float(c["scale"])
        c = session.control("POST", "clock", {"scale": STEPPED_SCALE})
        self.scale = STEPPED_SCALE
        self._now = float(c["now"])
        self.advanced = 0.0

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        c = self._session.control("POST", "clock", {"advance": seconds + EPSILON})
        self._now = float(c["now"])
        self.advanced += seconds + EPSILON

    def close(self) -> None:
        """Give the emulator its real-time scale back."""
        c = self._session.control("POST", "clock", {"scale": self._restore})
        self._now = float(c["now"])


def clock_for(session) -> Clock:
    """The clock of a session's target: real for Azure, the emulator's otherwise."""
    if not getattr(session, "emulator", False):
        return RealClock()
    return EmulatorClock(session)
