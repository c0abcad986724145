"""Shared fixtures: a real emulator over HTTPS on 127.0.0.1 per test, and refit sessions against it."""

from __future__ import annotations

import pytest

from refit.azure import Session, StaticCredential
from refit.emulator.server import EmulatorServer

# Tests run the virtual clock fast: a 45 s deallocate takes 4.5 ms. Nothing asserts on real time.
TEST_TIME_SCALE = 10000.0


@pytest.fixture
def server(tmp_path):
    srv = EmulatorServer(tmp_path / "emulator", time_scale=TEST_TIME_SCALE).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def session(server):
    e = server.endpoint
    s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sub(server):
    return server.endpoint.subscription
