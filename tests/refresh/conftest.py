"""Fixtures for the refresh acceptance tests: the CLI as a user runs it, against the test emulator."""

from __future__ import annotations

import json

import pytest

from refit.cli import main


@pytest.fixture
def state(tmp_path, monkeypatch, server):
    """refit's journal in a test dir; the SDK trusts the test emulator's certificate."""
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    return tmp_path / "state"


@pytest.fixture
def refit(capsys, server, state):
    """refit(*args) -> (exit code, stdout, stderr), run in-process with --endpoint the test emulator."""

    def run(*args: str):
        with pytest.raises(SystemExit) as e:
            main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, *args])
        out = capsys.readouterr()
        return e.value.code, out.out, out.err

    return run


@pytest.fixture
def refit_json(refit):
    def run(*args: str, code: int = 0):
        rc, out, err = refit(*args, "--output", "json")
        assert rc == code, (rc, out[-3000:], err[-3000:])
        return json.loads(out)

    return run
