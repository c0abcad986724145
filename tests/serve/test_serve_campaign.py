"""Acceptance (issue 16): a real `refit refresh swap` on the emulator, started in ANOTHER process, followed live in
headless Chromium without a reload; the page's pause, resume and abort buttons (refit.run.control, what `refit
campaign` calls) act on it, and the abort halts it: the journal and the VMs say so. Screenshots in .artifacts/serve/.

The emulator runs slowly here (time scale 40: a wave of swaps takes a few seconds of real time) so the waves can be
seen moving; the soak between waves (600 s on the campaign's clock, 15 s real) is the window the buttons act in.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from browser import accessibility_problems, shot
from playwright.sync_api import expect
from serve_helpers import refit_argv, refit_env

from clitools import run_cli
from refit.azure import Session, StaticCredential
from refit.emulator.server import EmulatorServer
from refit.run.journal import Journal
from snapshots import os_disks_and_power

# The first browser test of a clean machine also installs chromium (browser.ensure_chromium).
pytestmark = pytest.mark.timeout(900)
RG = "rg-refresh"
SLOW_TIME_SCALE = 40.0
WAIT_MS = 120_000  # generous: conditions are waited on, never timed


@pytest.fixture
def slow(tmp_path):
    srv = EmulatorServer(tmp_path / "emulator", time_scale=SLOW_TIME_SCALE).start()
    try:
        yield srv
    finally:
        srv.stop()


def _fleet(session) -> dict[str, tuple[str, str]]:
    return os_disks_and_power(session, RG)


def _wait_for_run(state, kind: str, deadline_s: float = 120.0) -> str:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        j = Journal(state / "journal.sqlite")
        try:
            runs = [r for r in j.runs() if r.kind == kind]
        finally:
            j.close()
        if runs:
            return runs[-1].id
        time.sleep(0.2)
    pytest.fail(f"no {kind} run appeared in the journal")


def _act(page, name: str) -> None:
    """Click an action, then confirm it in the page's dialog."""
    page.get_by_role("button", name=name, exact=True).click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()


def test_a_swap_in_another_process_is_followed_live_and_aborted_from_the_page(slow, serve, page, capsys, monkeypatch,
                                                                              tmp_path):
    e = slow.endpoint
    session = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
    state = tmp_path / "state"
    monkeypatch.setenv("REFIT_STATE_DIR", str(state))
    try:
        session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 6}})
        version = (f"/subscriptions/{e.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
                   "galRefresh/images/ubuntu-refresh/versions/2026.11.0")
        assert run_cli(capsys, monkeypatch, slow, "refresh", "disks", "--image", version, "--suffix", "2026-11",
                       "--yes")[0] == 0
        assert run_cli(capsys, monkeypatch, slow, "refresh", "tag", "--suffix", "2026-11", "--yes")[0] == 0
        served = serve(slow, state=state)

        page.goto(served.url)
        expect(page.locator("table.runs tbody tr")).to_have_count(2)  # the disks and tag runs

        # The campaign, in its own process, as an operator starts it from a terminal.
        log = (tmp_path / "swap.out").open("w")
        swap = subprocess.Popen(refit_argv(slow, "refresh", "swap", "--soak", "600", "--yes"), stdout=log,
                                stderr=subprocess.STDOUT, env=refit_env(slow, state))
        try:
            rid = _wait_for_run(state, "swap")
            expect(page.get_by_role("link", name=rid)).to_be_visible(timeout=WAIT_MS)  # the list is live too
            expect(page.locator("table.runs tbody tr")).to_have_count(3)
            assert accessibility_problems(page) == []
            shot(page, "campaigns")
            page.keyboard.press("Tab")  # the first stop is the skip link
            assert page.evaluate("document.activeElement.textContent") == "Skip to content"
            page.get_by_role("link", name=rid).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Campaign {rid}")
            # canary (vm-01), then waves of 20% of 6 (2 VMs): vm-02 vm-03, vm-04 vm-05, vm-06
            waves = page.locator("section.wave")
            expect(waves).to_have_count(4)
            expect(page.locator('section.wave[data-wave="1"]')).to_have_attribute("data-status", "pending")
            page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads (set after the click)
            # the header: what changes, from -> to (disks from the journal, their image versions from live state)
            expect(page.locator("#run-change")).to_contain_text("OS disk <vm>-2026-10 \u2192 <vm>-2026-11")
            expect(page.locator("#run-change")).to_contain_text(
                "image ubuntu-refresh/2026.10.0 \u2192 ubuntu-refresh/2026.11.0")

            # live, without a reload: the canary finishes, then (after pause and resume) wave 1 does
            expect(page.locator('section.wave[data-wave="0"]')).to_have_attribute("data-status", "done",
                                                                                  timeout=WAIT_MS)
            _act(page, "Pause")
            expect(page.locator("#action-result")).to_have_text(
                f"run {rid} pauses: nothing new starts, what is in flight finishes")
            expect(page.locator("#run-state .badge")).to_have_text("paused", timeout=WAIT_MS)
            expect(page.get_by_role("button", name="Resume", exact=True)).to_be_enabled()
            expect(page.get_by_role("button", name="Pause", exact=True)).to_be_disabled()
            shot(page, "campaign-paused")
            # by keyboard alone: focus Resume, Enter opens the dialog (focus on Cancel), Tab, Enter confirms
            page.get_by_role("button", name="Resume", exact=True).focus()
            page.keyboard.press("Enter")
            expect(page.locator("dialog#confirm")).to_be_visible()
            assert page.evaluate("document.activeElement.id") == "confirm-cancel"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "confirm-ok"
            page.keyboard.press("Enter")
            expect(page.locator("dialog#confirm")).to_be_hidden()
            expect(page.locator("#run-state .badge")).to_have_text("running", timeout=WAIT_MS)
            expect(page.locator('section.wave[data-wave="1"]')).to_have_attribute("data-status", "done",
                                                                                  timeout=WAIT_MS)
            expect(page.locator('section.wave[data-wave="2"]')).to_have_attribute("data-status", "pending")
            expect(page.locator("#run-wave")).to_have_text("wave 1: 2 of 4 waves")
            shot(page, "campaign-running")

            # abort in the soak before wave 2: the run halts there, nothing of waves 2 and 3 is touched
            _act(page, "Abort")
            expect(page.locator("#action-result")).to_have_text(
                f"run {rid} aborts: nothing new starts; once what is in flight is done, the wave in flight is "
                "rolled back")
            expect(page.locator("#run-state .badge")).to_have_text("halted", timeout=WAIT_MS)
            assert page.evaluate("window.__sameDocument") is True
            expect(page.locator("#run-message")).to_have_text("wave 2 halted the campaign: aborted by the operator")
            expect(page.locator("#run-wave")).to_have_text("wave 2: 3 of 4 waves")
            expect(page.locator('#counts li[data-state="done"] .num')).to_have_text("3")
            expect(page.locator('#counts li[data-state="not-started"] .num')).to_have_text("3")
            for name in ("Pause", "Resume", "Abort"):
                expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()
            shot(page, "campaign-halted")
            assert accessibility_problems(page) == []
            page.set_viewport_size({"width": 390, "height": 844})
            shot(page, "campaign-halted-phone")
            assert swap.wait(timeout=300) == 1  # halted: exit 1, as the CLI contract says
        finally:
            if swap.poll() is None:
                swap.kill()
                swap.wait()
            log.close()

        # the journal says what the page said
        j = Journal(state / "journal.sqlite")
        try:
            run = j.run(rid)
            assert (run.status, run.message) == ("halted", "wave 2 halted the campaign: aborted by the operator")
            assert [(w["n"], w["status"]) for w in j.waves(rid)] == [(0, "done"), (1, "done"), (2, "halted"),
                                                                       (3, "halted")]
            assert {r.name: r.state for r in j.vms(rid)} == {
                "vm-01": "done", "vm-02": "done", "vm-03": "done", "vm-04": "not-started", "vm-05": "not-started",
                "vm-06": "not-started"}
            assert j.control(rid) == "abort"
        finally:
            j.close()
        # and so do the VMs: the first three on their new disk, the others untouched, every one running
        assert _fleet(session) == {**{f"vm-0{n}": (f"vm-0{n}-2026-11", "running") for n in (1, 2, 3)},
                                   **{f"vm-0{n}": (f"vm-0{n}-2026-10", "running") for n in (4, 5, 6)}}
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        session.close()
