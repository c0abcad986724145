"""Operator controls for a campaign in flight: pause, resume, abort. `refit campaign pause|resume|abort RUN` and
the buttons of `refit serve` call `request`; the process executing the run consults a `Gate`.

A request is a row of the journal's `controls` table, so any process can make it, and the process that holds the
run's lock acts on it at its next decision point (before a VM or a plan step starts, and between waves):
- pause: nothing new starts; what is in flight finishes its chain (a VM half-way through deallocate, swap and
  start is never left deallocated); the run's status is `paused` until resumed.
- resume: the pause is lifted; the run's status is `running` again.
- abort: nothing new starts; once what is in flight is done, the wave in flight is rolled back as a halt does
  (refresh), or the remaining plan steps are left not started (apply); the run ends `halted`.
The model is Argo Rollouts' pause/abort and Spinnaker's "pause/cancel pipeline" (INFERRED: neither defines
these exact semantics for VM disk swaps; these are refit's). A request for a run whose process is gone is kept
and honoured when the run is resumed.
"""

from __future__ import annotations

import time
from typing import Any

from refit.arm.errors import UserError
from refit.run.journal import LIVE_RUN_STATUSES, Journal, Run

ACTIONS = ("pause", "resume", "abort")
KINDS = ("swap", "rollback", "apply")  # the runs executed by a Gate-aware engine (run/campaign.py, run/apply.py)
ABORTED = "aborted by the operator"
PAUSED = "paused by the operator"
# A run's rows that are finished, by kind: the VMs of a swap or rollback, the disks created, the VMs tagged, the
# disks pruned (run/refresh), the steps of an apply.
FINISHED_STATES = ("done", "in-sync", "rolled-back", "skipped", "created", "tagged", "deleted")


def shown_status(journal: Journal, run: Run) -> str:
    """A run's status as refit shows it: `interrupted` for a run left running (or paused) by a process that is gone
    (its lock is free), except a run a Temporal worker executes (it holds no local lock)."""
    engine = ((run.params or {}).get("engine") or {}).get("name")
    if run.status in LIVE_RUN_STATUSES and engine != "temporal" and not journal.held_elsewhere(run.id):
        return "interrupted"
    return run.status


def run_summary(journal: Journal, run: Run) -> dict[str, Any]:
    """One run as `refit campaign list` and `refit serve` show it: kind, status, the pending control, progress."""
    if run.kind == "apply":
        states = [r.state for r in journal.apply_steps(run.id)]
    else:
        states = [v.state for v in journal.vms(run.id) if v.wave >= 0]
    live = run.status in LIVE_RUN_STATUSES
    return {"id": run.id, "kind": run.kind, "status": shown_status(journal, run),
            "control": journal.control(run.id) if live else None,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.created)),
            "done": sum(1 for st in states if st in FINISHED_STATES), "total": len(states), "message": run.message}


def request(journal: Journal, run_id: str, action: str) -> str:
    """Record an operator's request; returns one line saying what happens next. UserError for a request that
    cannot be honoured (unknown run, a finished run, resume of a run that is not paused)."""
    if action not in ACTIONS:
        raise UserError(f"unknown action '{action}': use one of {', '.join(ACTIONS)}")
    run = journal.run(run_id)
    if run is None:
        raise UserError(f"no run '{run_id}' in the journal ({journal.path}); `refit campaign list` shows the runs")
    if run.kind not in KINDS:
        raise UserError(f"run {run_id} is a {run.kind} run; pause, resume and abort apply to refresh swap and "
                        "rollback runs and to apply runs")
    if run.status not in LIVE_RUN_STATUSES:
        raise UserError(f"run {run_id} is already {run.status}; there is nothing to {action}")
    current = journal.control(run_id)
    if current == "abort":
        raise UserError(f"run {run_id} is being aborted already; wait for it to end (`refit campaign list`)")
    executing = journal.held_elsewhere(run_id)
    if ((run.params or {}).get("engine") or {}).get("name") == "temporal":
        # A run on the Temporal engine: its workflow gets the signal, wherever its workers are (refit.run.temporal),
        # and acts on it at the same decision points; the journal records the request as for a local run.
        if action == "resume" and current != "pause":
            raise UserError(f"run {run_id} is not paused; there is nothing to resume")
        from refit.run.temporal.client import signal_sync

        signal_sync(run, action)
        executing = True
    later = "" if executing else (" (no refit process is executing it now: the request is honoured when the run is "
                                  "resumed)")
    if action == "resume":
        if current != "pause":
            raise UserError(f"run {run_id} is not paused; there is nothing to resume")
        journal.set_control(run_id, None)
        return f"run {run_id} resumes: the next VMs and steps start{later}"
    if action == "pause":
        if current != "pause":
            journal.set_control(run_id, "pause")
        return f"run {run_id} pauses: nothing new starts, what is in flight finishes{later}"
    journal.set_control(run_id, "abort")
    how = "the wave in flight is rolled back" if run.kind == "swap" else "the rest is not started"
    return f"run {run_id} aborts: nothing new starts; once what is in flight is done, {how}{later}"


class Gate:
    """The executing process's view of the requests for its run. Cheap to ask often: the journal is read at
    most every POLL_REAL_SECONDS of real time (an operator acts in real time, whatever the clock's scale)."""

    POLL_REAL_SECONDS = 0.2

    def __init__(self, journal: Journal | None, run_id: str | None, clock, on_event=None):
        self.j = journal
        self.run_id = run_id
        self.clock = clock
        self.on_event = on_event or (lambda *a, **k: None)
        self._seen: str | None = None
        self._read_at = -1e18
        self._paused = False

    def state(self) -> str | None:
        """'pause', 'abort' or None (go on)."""
        if self.j is None or self.run_id is None:
            return None
        if time.monotonic() - self._read_at >= self.POLL_REAL_SECONDS:
            self._read_at = time.monotonic()
            self._seen = self.j.control(self.run_id)
            self._note(self._seen == "pause")
        return self._seen

    def aborted(self) -> bool:
        return self.state() == "abort"

    def _note(self, paused: bool) -> None:
        if paused and not self._paused:
            self.j.set_run_status(self.run_id, "paused", f"{PAUSED}: nothing new starts until `refit campaign "  # type: ignore[union-attr]
                                  f"resume {self.run_id}`")
            self.on_event("paused", run=self.run_id)
        elif not paused and self._paused:
            self.j.set_run_status(self.run_id, "running", "resumed by the operator")  # type: ignore[union-attr]
            self.on_event("resumed", run=self.run_id)
        self._paused = paused

    def poll_seconds(self) -> float:
        """Clock seconds between two looks at the journal while paused."""
        return max(1.0, self.POLL_REAL_SECONDS * self.clock.scale)

    def hold(self) -> bool:
        """Between waves: wait (on the clock) while paused. False if the run is to be aborted."""
        while (s := self.state()) == "pause":
            self.clock.sleep(self.poll_seconds())
        return s != "abort"

    def sleep(self, seconds: float) -> bool:
        """A soak that an abort cuts short. False if the run is to be aborted."""
        end = self.clock.now() + seconds
        while (left := end - self.clock.now()) > 0:
            if self.aborted():
                return False
            self.clock.sleep(min(left, self.poll_seconds()))
        return not self.aborted()
