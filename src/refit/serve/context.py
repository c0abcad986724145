"""What the pages read: the journal (the same SQLite file the CLI writes, read on every request), the session the
CLI opened (`--endpoint`, `--azure` or the embedded emulator) and the plan sources named on the command line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refit.run.journal import Journal
from refit.serve.access import Access

LOCK_PROBE_SECONDS = 5.0


class JournalReader:
    """The journal as the pages read it: the same `Journal`, except that whether a run's lock is held elsewhere is
    probed at most every LOCK_PROBE_SECONDS per run. The probe (`Journal.held_elsewhere`) takes the lock for an
    instant, and a `refit refresh swap --resume` starting in that instant would find it taken; a page polling every
    second must not make that likely. What it costs: an interrupted run shows as such up to 5 s late."""

    def __init__(self, journal: Journal):
        self._journal = journal
        self._held: dict[str, tuple[float, bool]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)

    def held_elsewhere(self, run_id: str) -> bool:
        at, held = self._held.get(run_id, (-1e18, False))
        if time.monotonic() - at >= LOCK_PROBE_SECONDS:
            held = self._journal.held_elsewhere(run_id)
            self._held[run_id] = (time.monotonic(), held)
        return held


@dataclass
class PlanSource:
    """A plan shown on the plan page: a file (`refit plan ... --out plan.json`) or a goal planned afresh."""

    path: Path
    fresh: bool  # True: a goal file, planned on the live state when the page is opened

    @property
    def label(self) -> str:
        return f"{'goal' if self.fresh else 'plan'} {self.path.name}"


@dataclass
class Context:
    journal: Journal
    session: Any  # refit.azure.Session
    access: Access
    plans: list[PlanSource] = field(default_factory=list)
    stopping: Callable[[], bool] = lambda: False  # the server is shutting down: event streams end
    tick_seconds: float = 1.0  # real seconds between two looks at the journal for the event stream
    # One live read at a time: the SDK clients of a session are shared by every request's thread.
    live_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.reader = JournalReader(self.journal)  # what the pages read; actions use the journal itself

    def world(self):
        """The fleet as the CLI reads it (Resource Graph, paged to the end): `refit.azure.fleet.load_world`."""
        from refit.azure.fleet import load_world

        with self.live_lock:
            return load_world(self.session)

    def live(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A call through the session (release status, doctor), one at a time."""
        with self.live_lock:
            return fn(*args)
