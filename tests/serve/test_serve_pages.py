"""Acceptance (issue 16): the plan page renders seed 000's plan (the same waves, steps and headline as its
`refit plan -o markdown`, tests/plan/golden/seed-000.md), from the plan file and planned afresh from the goal; the
fleet page lists the versions per region as `refit release status` reports them, the capacity reservations, and
`refit doctor`'s findings, each linking to its check's page. No console errors; screenshots in .artifacts/serve/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import accessibility_problems, shot
from playwright.sync_api import expect

from clitools import run_cli
from refit.plan.markdown import duration
from refit.plan.model import Plan
from refit.run.journal import Journal
from refit.run.stepgraph import dependencies
from seed_goals import seed_000_app_tl

# The first browser test of a clean machine also installs chromium (browser.ensure_chromium).
pytestmark = pytest.mark.timeout(900)
GOLDEN = Path(__file__).resolve().parents[1] / "plan" / "golden" / "seed-000.md"


def _golden_waves() -> list[tuple[str, list[str]]]:
    """(wave heading, ['#1 summary (temporary)', ...]) from seed 000's markdown plan."""
    out: list[tuple[str, list[str]]] = []
    for line in GOLDEN.read_text().splitlines():
        if line.startswith("### Wave"):
            out.append((line.removeprefix("### "), []))
        elif re.match(r"\| c?\d+ \|", line):
            n, summary = [c.strip() for c in line.strip("|").split(" | ")][:2]
            summary = summary.replace("*(temporary)*", "(temporary)").replace("**irreversible**", "irreversible")
            out[-1][1].append(f"#{n} {summary}")
    return out


def _page_waves(page) -> list[tuple[str, list[str]]]:
    cols = page.locator("li.wave-col")
    return [(cols.nth(i).locator("h3").inner_text(), [t.strip() for t in cols.nth(i).locator("h4").all_inner_texts()])
            for i in range(cols.count())]


def test_the_plan_page_renders_seed_000s_plan_from_its_file_and_afresh(server, session, serve, page, capsys,
                                                                        monkeypatch, tmp_path):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "deadlock"})
    goal = seed_000_app_tl(session, tmp_path / "goal.yaml")
    plan_json = tmp_path / "plan.json"
    assert run_cli(capsys, monkeypatch, server, "plan", str(goal), "--out", str(plan_json))[0] == 0
    served = serve(server, "--plan", str(plan_json), "--goal", str(goal))

    page.goto(served.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Campaigns")  # the journal is empty
    page.get_by_role("link", name="Plan").click()
    expect(page.get_by_role("link", name="plan plan.json")).to_be_visible()
    expect(page.get_by_role("link", name="goal goal.yaml")).to_be_visible()
    page.get_by_role("link", name="plan plan.json").click()
    golden = _golden_waves()
    headline = GOLDEN.read_text().splitlines()[0].removeprefix("## refit plan: ")
    assert headline == "6 steps (+2 clean-up) in 8 waves, no downtime"
    expect(page.locator("#plan-headline")).to_have_text(headline)
    assert _page_waves(page) == golden
    assert [h for h, _ in golden] == [f"Wave {n}" for n in range(1, 7)] + ["Wave 7 (clean-up)", "Wave 8 (clean-up)"]

    # the dependency graph: each step's "waits for" links are the steps `refit apply` makes it wait for
    plan = Plan.read(plan_json)
    steps = [*plan.steps, *plan.cleanup]
    labels = [str(s.n) for s in plan.steps] + [f"c{s.n}" for s in plan.cleanup]
    deps = dependencies(steps, cleanup_from=len(plan.steps))
    shown = {a.get_attribute("data-step"): a.locator("dd").nth(4).locator("a").all_inner_texts()
             for a in page.locator("article.step").all()}
    assert shown == {labels[i]: [f"#{labels[j]}" for j in sorted(d)] for i, d in enumerate(deps)}
    assert shown["1"] == [] and shown["2"] == ["#1"]
    # downtime per resource (none in this plan), and each step's rollback
    def total(name: str) -> str:
        return duration(sum(s.duration_seconds for s in plan.steps if s.resource.endswith(name)))

    rows = page.locator("table").nth(1).locator("tbody tr")
    assert [r.locator("td").all_inner_texts() for r in rows.all()] == [
        ["galProd/app-tl-tls-bridge", "1", total("/app-tl-tls-bridge"), "none"],
        ["galProd/app-tl-tls-bridge/1.0.0", "1", total("/1.0.0"), "none"],
        ["vmss-app", "4", total("/vmss-app"), "none"]]
    assert page.locator("article#step-1 dd").nth(3).inner_text() == "DELETE galProd/app-tl-tls-bridge"
    shot(page, "plan-seed-000")
    assert accessibility_problems(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "plan-seed-000-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # the same goal planned afresh on the live state: the same plan
    page.get_by_role("link", name="Plan").click()
    page.get_by_role("link", name="goal goal.yaml").click()
    expect(page.locator("#plan-headline")).to_have_text(headline)
    assert _page_waves(page) == golden

    # applied (`refit apply`, in-process here), the plan is a campaign: its steps by the same 8 waves, all done
    assert run_cli(capsys, monkeypatch, server, "apply", str(plan_json), "--yes", "--cleanup")[0] == 0
    page.get_by_role("link", name="Campaigns").click()
    link = page.locator("table.runs tbody a")
    expect(link).to_have_count(1)
    rid = link.inner_text()
    link.click()
    expect(page.locator("#run-state .badge")).to_have_text("completed")
    j = Journal(tmp_path / "state" / "journal.sqlite")
    try:
        states = [s.state for s in j.apply_steps(rid)]
    finally:
        j.close()
    assert states == ["done"] * 8
    assert page.locator("section.wave").count() == 8
    assert page.locator("section.wave").evaluate_all("ws => ws.map(w => w.dataset.status)") == ["done"] * 8
    shown = page.locator("section.wave").evaluate_all(
        "ws => ws.map(w => [...w.querySelectorAll('tbody tr td:first-child')].map(td => td.textContent.split(' ')[0]))")
    assert shown == [[x.split(" ")[0] for x in steps] for _, steps in golden]  # the plan's waves, step by step
    expect(page.locator('#counts li[data-state="done"] .num')).to_have_text("8")
    shot(page, "campaign-apply")
    assert accessibility_problems(page) == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_fleet_page_lists_versions_per_region_reservations_and_doctor_findings(server, session, serve, page,
                                                                                    capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REFIT_STATE_DIR", str(tmp_path / "state"))
    session.control("POST", "scenario", {"name": "rollout"})  # payments-auth 1.6.0 in eastus and westus3
    session.control("POST", "scenario", {"name": "misconfig", "reset": False})  # reservations, findings
    definition = (f"/subscriptions/{session.subscription}/resourceGroups/rg-payments/providers/Microsoft.Compute/"
                  "galleries/galPayments/images/payments-auth")
    code, out, _ = run_cli(capsys, monkeypatch, server, "release", "status", definition, "-o", "json")
    assert code == 0
    status = json.loads(out)
    assert [(v["name"], v["regions"]) for v in status["versions"]] == [
        ("1.6.0", {"eastus": "Completed", "westus3": "Completed"})]
    code, out, _ = run_cli(capsys, monkeypatch, server, "doctor", "-o", "json")
    findings = json.loads(out)["findings"]
    served = serve(server)

    page.goto(served.url)
    page.get_by_role("link", name="Fleet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fleet")
    img = page.locator('section.image[data-image="galPayments/payments-auth"]')
    versions = img.locator("table.versions")
    assert versions.locator("thead th").all_inner_texts() == ["version", "eastus", "westus3"]
    assert [r.locator("td").all_inner_texts() for r in versions.locator("tbody tr").all()] == [
        ["1.6.0", "Completed", "Completed"], ["latest", "1.6.0", "1.6.0"]]
    runs = img.locator("table.runs-per-region tbody tr")
    assert [r.locator("td").all_inner_texts()[:3] for r in runs.all()] == [
        ["eastus", "1.6.0", "10"], ["westus3", "1.6.0", "5"]]

    # the reservations the misconfig scenario holds, with their capacity
    groups = page.locator("section[aria-labelledby=h-res] tbody tr")
    assert [g.locator("td").first.inner_text() for g in groups.all()] == ["crg-dr", "crg-dr-westus", "crg-ok", "crg-over"]

    # doctor's findings, as `refit doctor -o json` reports them, each linking to its check's page
    rows = page.locator("table.findings tbody tr")
    assert rows.count() == len(findings) > 0
    assert [(r.locator("td").nth(0).inner_text(), r.locator("td").nth(3).inner_text()) for r in rows.all()] == [
        (f["check"], f["resource"].rsplit("/", 1)[-1]) for f in findings]
    shot(page, "fleet")
    assert accessibility_problems(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "fleet-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    first = findings[0]["check"]
    rows.first.get_by_role("link", name=first).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{first}: ")
    expect(page.get_by_text(f"docs/checks/{first}.md")).to_be_visible()
    expect(page.get_by_role("heading", name="RECOMMENDATION")).to_be_visible()
    assert accessibility_problems(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
