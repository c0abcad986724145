"""Fixtures for `refit serve`: the command run as a user runs it (its own process, `--port 0`, the URL read from its
first line, stopped with Ctrl-C), a headless browser, and the page's console watched for errors."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from browser import launch
from serve_helpers import refit_argv, refit_env


class Served:
    """A running `refit serve`: its URL with the token, its base URL, its port."""

    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc = proc
        self.url = url
        self.base = url.split("/?", 1)[0]
        self.port = int(self.base.rsplit(":", 1)[1])
        self.token = url.split("token=", 1)[1]
        self.stderr: Path | None = None

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a user stops it: (exit code, the rest of stdout). Stopping twice is stopping once."""
        if self.proc.stdout.closed:
            return self.proc.returncode, ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # read through the text wrapper: it may hold lines already (communicate() reads the pipe past it)
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        return self.proc.returncode, out


@pytest.fixture
def serve(tmp_path):
    """serve(server, *args) -> Served; every process started is stopped (Ctrl-C, then kill) when the test ends."""
    started: list[Served] = []

    def start(server, *args: str, state: Path | None = None) -> Served:
        env = refit_env(server, state or tmp_path / "state")
        err = tmp_path / f"serve-{len(started)}.err"  # a file, not a pipe nobody reads (a full pipe blocks)
        with err.open("w") as f:
            proc = subprocess.Popen(refit_argv(server, "serve", "--port", "0", *args), env=env,
                                    stdout=subprocess.PIPE, stderr=f, text=True)
        line = proc.stdout.readline()  # the first line is the URL (blocks until the server accepts connections)
        if not line.startswith("refit serve: http://"):
            proc.kill()
            proc.wait()
            pytest.fail(f"refit serve did not start: {line!r} {err.read_text()[-3000:]}")
        s = Served(proc, line.split(": ", 1)[1].strip())
        s.stderr = err
        started.append(s)
        return s

    try:
        yield start
    finally:
        for s in started:
            s.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh page at 1280x800; console errors and page errors are collected in `page.errors`."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(f"page error: {e}"))  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        ctx.close()
