"""SQLite persistence for the emulator: resources, operations, settings.

The emulator keeps its state in memory (a World plus private per-resource state) and writes every
change through to SQLite at the end of each request, in one transaction, so `refit emulator start`
can be stopped and restarted on the same data dir without losing the fleet or in-flight operations.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (key TEXT PRIMARY KEY, doc TEXT NOT NULL, private TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operations (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""


class Store:
    """Write-behind persistence; `None` path = memory only (used by throwaway emulators in tests)."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self._dirty_res: dict[str, tuple[dict, dict] | None] = {}
        self._dirty_ops: dict[str, dict | None] = {}
        self._dirty_meta: dict[str, Any] = {}

    # ---- reading (once, at start) -----------------------------------------------------------
    def load(self) -> tuple[list[tuple[dict, dict]], list[dict], dict[str, Any]]:
        with self._lock:
            res = [(json.loads(d), json.loads(p)) for d, p in self._conn.execute("SELECT doc, private FROM resources")]
            ops = [json.loads(d) for (d,) in self._conn.execute("SELECT data FROM operations")]
            meta = {k: json.loads(v) for k, v in self._conn.execute("SELECT k, v FROM meta")}
        return res, ops, meta

    # ---- marking changes ----------------------------------------------------------------------
    def put_resource(self, key: str, doc: dict, private: dict) -> None:
        self._dirty_res[key] = (doc, private)

    def delete_resource(self, key: str) -> None:
        self._dirty_res[key] = None

    def put_op(self, op_id: str, data: dict | None) -> None:
        self._dirty_ops[op_id] = data

    def put_meta(self, key: str, value: Any) -> None:
        self._dirty_meta[key] = value

    def flush(self) -> None:
        if not (self._dirty_res or self._dirty_ops or self._dirty_meta):
            return
        res, ops, meta = self._dirty_res, self._dirty_ops, self._dirty_meta
        self._dirty_res, self._dirty_ops, self._dirty_meta = {}, {}, {}
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN")
            try:
                ups = [(k, json.dumps(v[0]), json.dumps(v[1])) for k, v in res.items() if v is not None]
                dels = [(k,) for k, v in res.items() if v is None]
                if ups:
                    cur.executemany("INSERT OR REPLACE INTO resources (key, doc, private) VALUES (?, ?, ?)", ups)
                if dels:
                    cur.executemany("DELETE FROM resources WHERE key = ?", dels)
                op_ups = [(k, json.dumps(v)) for k, v in ops.items() if v is not None]
                op_dels = [(k,) for k, v in ops.items() if v is None]
                if op_ups:
                    cur.executemany("INSERT OR REPLACE INTO operations (id, data) VALUES (?, ?)", op_ups)
                if op_dels:
                    cur.executemany("DELETE FROM operations WHERE id = ?", op_dels)
                if meta:
                    cur.executemany("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)",
                                    [(k, json.dumps(v)) for k, v in meta.items()])
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def clear(self) -> None:
        self._dirty_res.clear()
        self._dirty_ops.clear()
        self._dirty_meta.clear()
        with self._lock:
            self._conn.executescript("DELETE FROM resources; DELETE FROM operations; DELETE FROM meta;")

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._conn.close()
