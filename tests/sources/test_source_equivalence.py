"""Acceptance: the misconfigurations of the `misconfig` scenario written as an ARM template and as a
Terraform plan give the same check ids on the corresponding resources as live state."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from doctor_fixtures import RG, arm_template, tf_plan

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from test_doctor_misconfig import EXPECTED

from refit.checks.run import run
from refit.sources import arm, live, terraform


def fails(report, only_checks=None) -> set[tuple[str, str]]:
    return {(r.check, r.resource.lower()) for r in report.results
            if r.status == "fail" and (only_checks is None or r.check in only_checks)}


def test_template_and_plan_give_the_live_findings(session, sub, tmp_path):
    session.control("POST", "scenario", {"name": "misconfig"})
    live_report = run(live.load(session))
    assert len(fails(live_report)) == len(EXPECTED)
    # Role assignments are live state only (Resource Graph's AuthorizationResources): RF-AIB-003 reads no template;
    # nor do Entra device objects (Microsoft Graph) reach one: RF-VM-004.
    everywhere = {c.id for c in live_report.checks if {"arm", "terraform"} <= set(c.inputs)}
    live_fails = fails(live_report, everywhere)
    aib = f"/subscriptions/{sub}/resourcegroups/{RG}/providers/microsoft.virtualmachineimages/imagetemplates/aib-bad"
    entra = f"/subscriptions/{sub}/resourcegroups/{RG}/providers/microsoft.compute/virtualmachines/vm-entra-reused"
    assert fails(live_report) - live_fails == {("RF-AIB-003", aib.lower()), ("RF-VM-004", entra.lower())}

    template, params = arm_template(sub)
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    (tmp_path / "p.json").write_text(json.dumps(params))
    arm_report = run(arm.load(tmp_path / "t.json", tmp_path / "p.json", subscription=sub, resource_group=RG))
    assert [r for r in arm_report.results if r.status == "unknown"] == []
    live_ids = everywhere
    assert fails(arm_report, live_ids) == live_fails

    (tmp_path / "plan.json").write_text(json.dumps(tf_plan(sub)))
    tf_report = run(terraform.load(tmp_path / "plan.json"))
    assert [r for r in tf_report.results if r.status == "unknown"] == []
    assert fails(tf_report, live_ids) == live_fails
    # and the Terraform-only check, on the count-keyed disks only (the for_each over stable keys passes)
    tf_only = fails(tf_report) - live_fails
    prefix = f"/subscriptions/{sub}/resourcegroups/{RG}/providers/microsoft.compute/disks/".lower()
    assert tf_only == {("RF-TF-001", prefix + "data-0"), ("RF-TF-001", prefix + "data-1")}
    assert {r.status for r in tf_report.results if r.check == "RF-TF-001" and "logs-" in r.resource} == {"pass"}
