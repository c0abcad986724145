"""The campaign journal: SQLite in refit's state dir ($REFIT_STATE_DIR, else the platform's user state
dir, e.g. ~/.local/state/refit/journal.sqlite).

Every step of a campaign is written before it is taken ("started") and after it completes ("done" or
"failed"), so a process killed at any point leaves a record that, together with the live state, says
where each VM is (DESIGN.md "reconcile, don't replay"). Tables:

  runs   one row per campaign: kind (disks | tag | swap | rollback | prune | apply), status (running |
         completed | halted | failed), its parameters (policy, tag names, selection; a plan) as JSON
  vms    one row per VM of a campaign: wave, previous and target OS disk, state, detail
  waves  one row per wave: zone, size, status, failures
  steps  the append-only log: (run, vm, step, status, detail, clock time, wall time)
  controls  an operator's pending request for a run (pause | abort), from any process (refit.run.control)
  apply_steps  one row per step of an `apply` run (position, plan step number, resource, group, the
         positions it waits for, the step itself as JSON), its state (pending | running | done | skipped |
         failed | not-started) and when it was sent and completed, in clock time

A run being executed holds an exclusive lock file (`runs/<id>.lock`); a run whose status is `running`
and whose lock is free was interrupted and can be resumed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, subscription TEXT NOT NULL, endpoint TEXT NOT NULL,
  status TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, params TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '', clock_started REAL, clock_finished REAL);
CREATE TABLE IF NOT EXISTS vms (
  run TEXT NOT NULL, vm TEXT NOT NULL, name TEXT NOT NULL, zone TEXT NOT NULL DEFAULT '',
  wave INTEGER NOT NULL, previous TEXT, target TEXT, state TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
  updated REAL NOT NULL, region TEXT NOT NULL DEFAULT '', health INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run, vm));
CREATE TABLE IF NOT EXISTS waves (
  run TEXT NOT NULL, n INTEGER NOT NULL, zone TEXT NOT NULL DEFAULT '', size INTEGER NOT NULL,
  status TEXT NOT NULL, failed INTEGER NOT NULL DEFAULT 0, started REAL, finished REAL,
  PRIMARY KEY (run, n));
CREATE TABLE IF NOT EXISTS steps (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, vm TEXT NOT NULL, step TEXT NOT NULL,
  status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at REAL, wall REAL NOT NULL);
CREATE INDEX IF NOT EXISTS steps_run ON steps (run, vm);
CREATE TABLE IF NOT EXISTS apply_steps (
  run TEXT NOT NULL, pos INTEGER NOT NULL, n INTEGER NOT NULL, resource TEXT NOT NULL, grp INTEGER NOT NULL,
  after TEXT NOT NULL, step TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
  started REAL, finished REAL, PRIMARY KEY (run, pos));
CREATE TABLE IF NOT EXISTS controls (run TEXT PRIMARY KEY, action TEXT NOT NULL, at REAL NOT NULL);
"""

# A run in one of these is not over: executing (its lock held) or interrupted (its lock free). `paused` is a
# running run an operator paused (refit.run.control).
LIVE_RUN_STATUSES = ("running", "paused")
TERMINAL_VM_STATES = ("done", "in-sync", "rolled-back", "skipped", "not-started")


def state_dir() -> Path:
    env = os.environ.get("REFIT_STATE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("refit"))


@dataclass
class Run:
    id: str
    kind: str
    subscription: str
    endpoint: str
    status: str
    created: float
    updated: float
    params: dict[str, Any]
    message: str
    clock_started: float | None
    clock_finished: float | None


@dataclass
class ApplyStepRow:
    """One step of an apply run: `pos` its place in the run, `after` the places it waits for."""

    pos: int
    n: int
    resource: str
    group: int
    after: list[int]
    step: dict[str, Any]
    state: str = "pending"
    detail: str = ""
    started: float | None = None
    finished: float | None = None


@dataclass
class VmRow:
    run: str
    vm: str
    name: str
    zone: str
    wave: int
    previous: str | None
    target: str | None
    state: str
    detail: str
    updated: float
    region: str = ""
    health: bool = False


class Journal:
    def __init__(self, path: Path | None = None):
        d = state_dir()
        self.path = path or d / "journal.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a killed process loses no committed row
        self._db.executescript(SCHEMA)
        self._locks: dict[str, Any] = {}

    def close(self) -> None:
        for f in self._locks.values():
            with contextlib.suppress(OSError):
                f.close()
        self._locks.clear()
        self._db.close()

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    # ---- runs ------------------------------------------------------------------------------------------------
    def new_run(self, kind: str, subscription: str, endpoint: str, params: dict[str, Any],
                clock_now: float | None = None, vms: list[VmRow] | None = None,
                waves: list[tuple[int, str, int]] | None = None, steps: list[ApplyStepRow] | None = None) -> Run:
        """A new run with its VMs and waves (or, for `apply`, its steps), in ONE transaction: a process killed
        while creating it leaves either nothing or the whole run."""
        rid = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO runs (id, kind, subscription, endpoint, status, created, updated, params, clock_started)"
                    " VALUES (?,?,?,?,?,?,?,?,?)",
                    (rid, kind, subscription, endpoint, "running", now, now, json.dumps(params), clock_now))
                self._db.executemany(_VM_INSERT, [_vm_args(rid, r, now) for r in vms or []])
                self._db.executemany("INSERT INTO waves (run, n, zone, size, status) VALUES (?,?,?,?,'pending')",
                                     [(rid, n, z, size) for n, z, size in waves or []])
                self._db.executemany(_STEP_INSERT, [_step_args(rid, r) for r in steps or []])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.run(rid)  # type: ignore[return-value]

    def run(self, run_id: str) -> Run | None:
        row = self._exec("SELECT id, kind, subscription, endpoint, status, created, updated, params, message, "
                         "clock_started, clock_finished FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def runs(self, subscription: str | None = None, kinds: tuple[str, ...] | None = None) -> list[Run]:
        rows = self._exec("SELECT id, kind, subscription, endpoint, status, created, updated, params, message, "
                          "clock_started, clock_finished FROM runs ORDER BY created, rowid").fetchall()
        out = [_run(r) for r in rows]
        if subscription:
            out = [r for r in out if r.subscription.lower() == subscription.lower()]
        if kinds:
            out = [r for r in out if r.kind in kinds]
        return out

    def finish_run(self, run_id: str, status: str, message: str = "", clock_now: float | None = None) -> None:
        self._exec("UPDATE runs SET status = ?, message = ?, updated = ?, clock_finished = ? WHERE id = ?",
                   (status, message, time.time(), clock_now, run_id))

    def set_run_status(self, run_id: str, status: str, message: str = "") -> None:
        self._exec("UPDATE runs SET status = ?, message = ?, updated = ? WHERE id = ?",
                   (status, message, time.time(), run_id))

    def update_params(self, run_id: str, params: dict[str, Any]) -> None:
        self._exec("UPDATE runs SET params = ?, updated = ? WHERE id = ?", (json.dumps(params), time.time(), run_id))

    # ---- the lock of a run being executed ---------------------------------------------------------------------
    # `held_elsewhere` tests a lock by taking it for an instant; a process taking the lock at that instant tries
    # again for this long (real seconds: a race between processes, not a wait of the campaign's).
    LOCK_RETRY_SECONDS = 1.0

    def acquire(self, run_id: str, retry: float | None = None) -> bool:
        """Hold the run's lock (released when this process ends, however it ends)."""
        d = self.path.parent / "runs"
        d.mkdir(parents=True, exist_ok=True)
        f = open(d / f"{run_id}.lock", "a+")  # noqa: SIM115 (held open for the lock's lifetime)
        end = time.monotonic() + (self.LOCK_RETRY_SECONDS if retry is None else retry)
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= end:
                    f.close()
                    return False
                time.sleep(0.02)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._locks[run_id] = f
        return True

    def release(self, run_id: str) -> None:
        f = self._locks.pop(run_id, None)
        if f is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                f.close()

    def held_elsewhere(self, run_id: str) -> bool:
        if run_id in self._locks:
            return False
        if self.acquire(run_id, retry=0.1):  # another checker holds it for an instant, a campaign for good
            self.release(run_id)
            return False
        return True

    def interrupted(self, subscription: str, kinds: tuple[str, ...]) -> list[Run]:
        """Runs left `running` by a process that is gone (their lock is free)."""
        return [r for r in self.runs(subscription, kinds)
                if r.status in LIVE_RUN_STATUSES and not self.held_elsewhere(r.id)]

    # ---- operator controls ---------------------------------------------------------------------------------------
    def set_control(self, run_id: str, action: str | None) -> None:
        if action is None:
            self._exec("DELETE FROM controls WHERE run = ?", (run_id,))
        else:
            self._exec("INSERT OR REPLACE INTO controls (run, action, at) VALUES (?,?,?)", (run_id, action, time.time()))

    def control(self, run_id: str) -> str | None:
        row = self._exec("SELECT action FROM controls WHERE run = ?", (run_id,)).fetchone()
        return row[0] if row else None

    # ---- VMs and waves ----------------------------------------------------------------------------------------------
    def add_vm(self, run_id: str, row: VmRow) -> None:
        self._exec(_VM_INSERT, _vm_args(run_id, row, time.time()))

    def set_vm(self, run_id: str, vm: str, state: str | None = None, detail: str | None = None,
               previous: str | None = None, target: str | None = None) -> None:
        sets, args = ["updated = ?"], [time.time()]
        for col, val in (("state", state), ("detail", detail), ("previous", previous), ("target", target)):
            if val is not None:
                sets.append(f"{col} = ?")
                args.append(val)
        self._exec(f"UPDATE vms SET {', '.join(sets)} WHERE run = ? AND vm = ?", (*args, run_id, vm.lower()))

    def vms(self, run_id: str) -> list[VmRow]:
        rows = self._exec(f"SELECT {_VM_COLS} FROM vms WHERE run = ? ORDER BY wave, name", (run_id,)).fetchall()
        return [_vm(r) for r in rows]

    def vm(self, run_id: str, vm: str) -> VmRow | None:
        row = self._exec(f"SELECT {_VM_COLS} FROM vms WHERE run = ? AND vm = ?", (run_id, vm.lower())).fetchone()
        return _vm(row) if row else None

    def latest_vm(self, vm: str, kinds: tuple[str, ...] = ("swap", "rollback")) -> VmRow | None:
        """The newest journal row of a VM in a campaign of these kinds that recorded a previous disk."""
        marks = ",".join("?" for _ in kinds)
        row = self._exec(
            "SELECT " + ", ".join("v." + c.strip() for c in _VM_COLS.split(",")) + " "
            f"FROM vms v JOIN runs r ON r.id = v.run WHERE v.vm = ? AND r.kind IN ({marks}) AND v.previous IS NOT NULL "
            "AND v.state NOT IN ('skipped', 'in-sync', 'not-started') ORDER BY r.created DESC, v.updated DESC LIMIT 1",
            (vm.lower(), *kinds)).fetchone()
        return _vm(row) if row else None

    def set_wave(self, run_id: str, n: int, zone: str, size: int, status: str, failed: int = 0,
                 started: float | None = None, finished: float | None = None) -> None:
        self._exec("INSERT INTO waves (run, n, zone, size, status, failed, started, finished) VALUES (?,?,?,?,?,?,?,?) "
                   "ON CONFLICT (run, n) DO UPDATE SET status = excluded.status, failed = excluded.failed, "
                   "started = COALESCE(excluded.started, waves.started), "
                   "finished = COALESCE(excluded.finished, waves.finished)",
                   (run_id, n, zone, size, status, failed, started, finished))

    def waves(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._exec("SELECT n, zone, size, status, failed, started, finished FROM waves WHERE run = ? ORDER BY n",
                          (run_id,)).fetchall()
        return [dict(zip(("n", "zone", "size", "status", "failed", "started", "finished"), r, strict=True)) for r in rows]

    # ---- steps -----------------------------------------------------------------------------------------------------
    def step(self, run_id: str, vm: str, step: str, status: str, detail: str = "", at: float | None = None) -> None:
        self._exec("INSERT INTO steps (run, vm, step, status, detail, at, wall) VALUES (?,?,?,?,?,?,?)",
                   (run_id, vm.lower(), step, status, detail, at, time.time()))

    def steps(self, run_id: str, vm: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT vm, step, status, detail, at FROM steps WHERE run = ?"
        args: tuple = (run_id,)
        if vm:
            q += " AND vm = ?"
            args += (vm.lower(),)
        rows = self._exec(q + " ORDER BY seq", args).fetchall()
        return [dict(zip(("vm", "step", "status", "detail", "at"), r, strict=True)) for r in rows]

    # ---- the steps of an apply run ---------------------------------------------------------------------------
    def apply_steps(self, run_id: str) -> list[ApplyStepRow]:
        rows = self._exec(f"SELECT {_STEP_COLS} FROM apply_steps WHERE run = ? ORDER BY pos", (run_id,)).fetchall()
        return [ApplyStepRow(r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), *r[7:]) for r in rows]

    def set_apply_step(self, run_id: str, pos: int, state: str, detail: str = "", started: float | None = None,
                       finished: float | None = None) -> None:
        """A step's new state; `started` / `finished` (clock time) are kept once set unless given again."""
        self._exec("UPDATE apply_steps SET state = ?, detail = ?, started = COALESCE(?, started), "
                   "finished = COALESCE(?, finished) WHERE run = ? AND pos = ?",
                   (state, detail, started, finished, run_id, pos))


_STEP_COLS = "run, pos, n, resource, grp, after, step, state, detail, started, finished"
_STEP_INSERT = f"INSERT INTO apply_steps ({_STEP_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"


def _step_args(run_id: str, r: ApplyStepRow) -> tuple:
    return (run_id, r.pos, r.n, r.resource, r.group, json.dumps(sorted(r.after)), json.dumps(r.step), r.state,
            r.detail, r.started, r.finished)


def _run(row: tuple) -> Run:
    return Run(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]), row[8], row[9], row[10])


_VM_COLS = "run, vm, name, zone, wave, previous, target, state, detail, updated, region, health"
_VM_INSERT = (f"INSERT OR REPLACE INTO vms ({_VM_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")


def _vm_args(run_id: str, r: VmRow, now: float) -> tuple:
    return (run_id, r.vm.lower(), r.name, r.zone, r.wave, r.previous, r.target, r.state, r.detail, now, r.region,
            int(bool(r.health)))


def _vm(row: tuple) -> VmRow:
    return VmRow(*row[:10], region=row[10], health=bool(row[11]))
