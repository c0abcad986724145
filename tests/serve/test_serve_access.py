"""`refit serve` lets in only whoever has its token: 403 for every page, asset, event stream and action without it
(or with another Host), actions also need the page's CSRF token; it listens on 127.0.0.1 only, stops on Ctrl-C, and
refuses bad input as every command does (one line, exit 2)."""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from clitools import run_cli
from refit.run.journal import Journal


def _journal_with_a_run(state, sub: str) -> str:
    """A swap run left `running` with its lock free (its process gone): the controls accept requests for it."""
    j = Journal(state / "journal.sqlite")
    try:
        return j.new_run("swap", sub, "https://127.0.0.1:1", {"policy": {}}, 0.0).id
    finally:
        j.close()


def _control(state, rid: str) -> str | None:
    j = Journal(state / "journal.sqlite")
    try:
        return j.control(rid)
    finally:
        j.close()


def test_without_the_token_every_page_asset_stream_and_action_is_403(server, serve, tmp_path):
    state = tmp_path / "state"
    rid = _journal_with_a_run(state, server.endpoint.subscription)
    s = serve(server, state=state)
    gets = ["/", "/campaigns", f"/campaigns/{rid}", f"/campaigns/{rid}/events", "/events/campaigns", "/plan", "/plan/0", "/fleet",
            "/docs/checks/RF-VMSS-001", "/static/style.css", "/static/app.js", "/no-such-page"]
    with httpx.Client(base_url=s.base, timeout=30) as c:
        assert {p: c.get(p).status_code for p in gets} == {p: 403 for p in gets}
        assert {p: c.get(p, params={"token": "not-the-token"}).status_code for p in gets} == {p: 403 for p in gets}
    with httpx.Client(base_url=s.base, timeout=30, cookies={f"refit_token_{s.port}": "not-the-token"}) as c:
        assert c.get("/campaigns").status_code == 403
    with httpx.Client(base_url=s.base, timeout=30) as c:
        for action in ("pause", "resume", "abort"):
            r = c.post(f"/campaigns/{rid}/control", data={"action": action})
            assert r.status_code == 403
        # the token, but a Host that is not 127.0.0.1 (DNS rebinding): refused too
        assert c.get("/campaigns", params={"token": s.token}, headers={"host": f"evil.example:{s.port}"}).status_code \
            == 403
    assert _control(state, rid) is None  # nothing was asked of the run


def test_the_token_opens_the_pages_and_actions_also_need_the_pages_csrf_token(server, serve, tmp_path):
    state = tmp_path / "state"
    rid = _journal_with_a_run(state, server.endpoint.subscription)
    other = _journal_with_a_run(state, server.endpoint.subscription)
    s = serve(server, state=state)
    with httpx.Client(base_url=s.base, timeout=30) as c:
        first = c.get(s.url.removeprefix(s.base))
        # the token in the URL sets an HttpOnly, SameSite=Strict cookie and is dropped from the address
        assert (first.status_code, first.headers["location"]) == (303, "/")
        assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=strict" in first.headers["set-cookie"]
        assert c.get("/campaigns").status_code == 200
        assert c.get("/static/app.js").status_code == 200
        page = c.get(f"/campaigns/{rid}")
        assert page.status_code == 200
        assert page.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        other_csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', c.get(f"/campaigns/{other}").text).group(1)
        url = f"/campaigns/{rid}/control"
        assert c.post(url, data={"action": "pause"}).status_code == 403  # no CSRF token
        assert c.post(url, data={"action": "pause", "csrf": other_csrf}).status_code == 403  # another page's
        assert c.post(url, data={"action": "pause", "csrf": csrf},
                      headers={"sec-fetch-site": "cross-site"}).status_code == 403
        assert c.post(url, data={"action": "pause", "csrf": csrf},
                      headers={"origin": "http://evil.example"}).status_code == 403
        assert _control(state, rid) is None
        r = c.post(url, data={"action": "pause", "csrf": csrf}, headers={"accept": "application/json"})
        assert r.json() == {"ok": True, "message": (
            f"run {rid} pauses: nothing new starts, what is in flight finishes (no refit process is executing it "
            "now: the request is honoured when the run is resumed)")}
        assert _control(state, rid) == "pause"
        # what refit.run.control refuses comes back as its one line, and changes nothing
        r = c.post(url, data={"action": "explode", "csrf": csrf}, headers={"accept": "application/json"})
        assert r.json() == {"ok": False, "message": "unknown action 'explode': use one of pause, resume, abort"}
    assert _control(state, rid) == "pause"
    assert _control(state, other) is None


def test_it_listens_on_127_0_0_1_only_and_stops_on_ctrl_c(server, serve):
    s = serve(server)
    with httpx.Client(timeout=30) as c:
        assert c.get(f"http://127.0.0.1:{s.port}/campaigns").status_code == 403  # it answers there
    # a wildcard bind would accept on every loopback address; 127.0.0.1 alone refuses 127.0.0.2
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", s.port), timeout=10):
        pass
    code, out = s.stop()
    assert (code, out) == (0, f"(Ctrl-C stops it; journal {s.stderr.parent / 'state' / 'journal.sqlite'})\n"
                              "refit serve: stopped\n")


def test_bad_input_is_one_line_and_exit_2(server, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    assert run_cli(capsys, monkeypatch, server, "serve", "--port", "70000") == (
        2, "", "error: --port must be a TCP port, 0 to 65535 (0: any free port), not 70000\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert run_cli(capsys, monkeypatch, server, "serve", "--port", str(port)) == (
            2, "", f"error: port {port} is in use on 127.0.0.1: pick another with --port N (0: any free port)\n")
    missing = tmp_path / "nope.json"
    code, out, err = run_cli(capsys, monkeypatch, server, "serve", "--plan", str(missing))
    assert (code, out) == (2, "")
    assert err == (f"error: --plan {missing}: no such file; give the path of a plan written by `refit plan GOAL "
                   "--out FILE`\n")
