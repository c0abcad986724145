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


@pytest.fixture
def raw(server):
    """Plain HTTPS client for wire-level assertions (status codes, headers, bodies)."""
    import ssl

    import httpx

    with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.cert)), headers={"Authorization": "Bearer t"},
                      timeout=30) as c:
        yield c


def put_rg(raw, sub, rg="rg1", location="eastus"):
    r = raw.put(f"/subscriptions/{sub}/resourceGroups/{rg}", params={"api-version": "2024-11-01"},
                json={"location": location})
    assert r.status_code in (200, 201), r.text
    return r.json()
