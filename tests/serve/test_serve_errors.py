"""A campaign's errors on its page carry Azure's error codes, as the journal recorded them: a canary whose start
Azure refuses for capacity (the refresh-health scenario's `no_capacity` image) is retried, rolled back, and the run
halts; the page lists each refused start with its code, and the run's halt."""

from __future__ import annotations

import html
import re

import httpx

from clitools import run_cli
from refit.run.journal import Journal

RG = "rg-refresh"


def test_the_errors_of_a_halted_run_show_azures_codes(server, session, serve, capsys, monkeypatch, tmp_path):
    state = tmp_path / "state"
    monkeypatch.setenv("REFIT_STATE_DIR", str(state))
    session.control("POST", "scenario", {"name": "refresh-health", "params": {"vms": 3, "no_capacity": "2026.11.0"}})
    version = (f"/subscriptions/{session.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
               "galRefresh/images/ubuntu-refresh/versions/2026.11.0")
    assert run_cli(capsys, monkeypatch, server, "refresh", "disks", "--image", version, "--suffix", "2026-11",
                   "--yes")[0] == 0
    assert run_cli(capsys, monkeypatch, server, "refresh", "tag", "--suffix", "2026-11", "--yes")[0] == 0
    code, _, _ = run_cli(capsys, monkeypatch, server, "refresh", "swap", "--start-retries", "1", "--start-backoff",
                         "1", "--yes")
    assert code == 1
    j = Journal(state / "journal.sqlite")
    try:
        run = next(r for r in j.runs() if r.kind == "swap")
        failed = [s for s in j.steps(run.id) if s["status"] == "failed"]
        names = {r.vm: r.name for r in j.vms(run.id)}
    finally:
        j.close()
    assert run.status == "halted"

    s = serve(server, state=state)
    with httpx.Client(base_url=s.base, timeout=60) as c:
        c.get(s.url.removeprefix(s.base))
        page = c.get(f"/campaigns/{run.id}").text
    table = page.split('<table class="errors">', 1)[1].split("</table>", 1)[0]
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td>(.*?)</td>", tr)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1])]
    refused = ("(ZonalAllocationFailed) Allocation failed. We do not have sufficient capacity for the requested VM "
               "size in this zone. Read more about improving likelihood of allocation success at "
               "http://aka.ms/allocation-guidance")
    # the start and its one retry (--start-retries 1), refused in the canary's zone; then the halt
    assert rows == [["vm-01", "start", "ZonalAllocationFailed", refused]] * 2 + [
        [run.id, "halted", "", "wave 0 halted the campaign: 1 of 1 VMs failed (more than --max-unhealthy-percent 20)"]]
    assert [(names[f["vm"]], f["step"], f["detail"]) for f in failed] == [("vm-01", "start", refused)] * 2
