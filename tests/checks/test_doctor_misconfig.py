"""Acceptance: the `misconfig` scenario holds, for every check that reads live state, one resource that fails
it and one that passes; `refit doctor --output json` returns exactly the expected failures."""

from __future__ import annotations

import json

import pytest

from refit.checks.model import FAIL, PASS
from refit.checks.registry import all_checks
from refit.checks.run import run
from refit.cli import main
from refit.sources import live

RG = "rg-misconfig"
C = "Microsoft.Compute"

# (check id, resource id relative to the resource group's providers)
EXPECTED = {
    ("RF-AIB-001", "Microsoft.VirtualMachineImages/imageTemplates/aib-bad"),
    ("RF-AIB-002", "Microsoft.VirtualMachineImages/imageTemplates/aib-bad"),
    ("RF-AIB-003", "Microsoft.VirtualMachineImages/imageTemplates/aib-bad"),
    ("RF-AS-001", "Microsoft.Insights/autoscalesettings/as-overlap"),
    ("RF-AS-002", "Microsoft.Insights/autoscalesettings/as-cooldown"),
    ("RF-CR-001", f"{C}/virtualMachines/vm-std"),
    ("RF-CR-002", f"{C}/capacityReservationGroups/crg-over"),
    ("RF-CR-003", f"{C}/capacityReservationGroups/crg-ok/capacityReservations/cr-unused"),
    ("RF-GAL-001", f"{C}/galleries/galMis/images/app/versions/2.0.0"),
    ("RF-GAL-002", f"{C}/galleries/galMis/images/app-std/versions/1.0.0"),
    ("RF-GAL-003", f"{C}/galleries/galMis/images/app-std/versions/1.0.0"),
    ("RF-GAL-004", f"{C}/galleries/galMis/images/app-excluded"),
    ("RF-GAL-005", f"{C}/galleries/galMis/images/app-eol/versions/1.0.0"),
    ("RF-GAL-006", f"{C}/galleries/galMis/images/app-std"),
    ("RF-IMG-001", f"{C}/virtualMachineScaleSets/vmss-legacy"),
    ("RF-NET-001", "Microsoft.Network/networkWatchers/NetworkWatcher_eastus/flowLogs/fl-nsg-web"),
    ("RF-RES-001", f"{C}/galleries/galMis/images/app/versions/2.0.0"),
    ("RF-RES-002", f"{C}/capacityReservationGroups/crg-ok"),
    ("RF-RES-003", f"{C}/virtualMachines/vm-web-1"),
    ("RF-RES-003", f"{C}/virtualMachines/vm-web-2"),
    ("RF-VM-001", f"{C}/virtualMachines/vm-std"),
    ("RF-VM-002", f"{C}/virtualMachines/vm-std"),
    ("RF-VM-003", f"{C}/virtualMachines/vm-cvm-std"),
    ("RF-VM-004", f"{C}/virtualMachines/vm-entra-reused"),
    ("RF-VMSS-001", f"{C}/virtualMachineScaleSets/vmss-autoos"),
    ("RF-VMSS-002", f"{C}/virtualMachineScaleSets/vmss-twohealth"),
    ("RF-VMSS-004", f"{C}/virtualMachineScaleSets/vmss-grace"),
    ("RF-VMSS-005", f"{C}/virtualMachineScaleSets/vmss-loose"),
    ("RF-VMSS-006", f"{C}/virtualMachineScaleSets/vmss-loose"),
    ("RF-VMSS-007", f"{C}/virtualMachineScaleSets/vmss-loose"),
    ("RF-VMSS-008", f"{C}/virtualMachineScaleSets/vmss-loose"),
    ("RF-VMSS-009", f"{C}/virtualMachineScaleSets/vmss-loose"),
    ("RF-VMSS-010", f"{C}/virtualMachineScaleSets/vmss-fd"),
    ("RF-VMSS-011", f"{C}/virtualMachineScaleSets/vmss-onezone"),
    ("RF-VMSS-012", f"{C}/virtualMachineScaleSets/vmss-spot"),
    ("RF-VMSS-013", f"{C}/virtualMachineScaleSets/vmss-spot"),
    ("RF-VMSS-014", f"{C}/virtualMachineScaleSets/vmss-legacy"),
    ("RF-VMSS-014", f"{C}/virtualMachineScaleSets/vmss-standard"),
    ("RF-VMSS-015", f"{C}/virtualMachineScaleSets/vmss-probe"),
}


def expected(sub: str) -> set[tuple[str, str]]:
    return {(c, f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{r}") for c, r in EXPECTED}


@pytest.fixture
def seeded(session):
    out = session.control("POST", "scenario", {"name": "misconfig"})
    assert out["scenario"] == "misconfig"
    return session


def cli(capsys, monkeypatch, server, *args):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    with pytest.raises(SystemExit) as e:
        main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, *args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_doctor_json_returns_exactly_the_expected_failures(seeded, server, sub, capsys, monkeypatch):
    code, out, err = cli(capsys, monkeypatch, server, "doctor", "--output", "json")
    assert code == 0, err
    doc = json.loads(out)
    fails = {(f["check"], f["resource"]) for f in doc["findings"] if f["status"] == "fail"}
    assert fails == expected(sub)
    assert {f["status"] for f in doc["findings"]} == {"fail"}  # nothing unknown in live state here
    one = next(f for f in doc["findings"] if f["check"] == "RF-VMSS-002")
    assert one["severity"] == "high" and one["doc"] == "docs/checks/RF-VMSS-002.md"
    assert one["evaluated"] == ["properties.virtualMachineProfile.networkProfile.healthProbe.id",
                                "properties.virtualMachineProfile.extensionProfile.extensions"]


def test_every_live_check_has_a_failing_and_a_passing_resource(seeded):
    report = run(live.load(seeded))
    live_checks = {c.id for c in all_checks() if "live" in c.inputs}
    assert {c.id for c in report.checks} == live_checks
    for cid in sorted(live_checks):
        statuses = {r.status for r in report.results if r.check == cid}
        assert {PASS, FAIL} <= statuses, f"{cid}: {statuses}"


def test_fail_on_exits_1_at_or_above_the_threshold_only(seeded, server, capsys, monkeypatch):
    code, _, _ = cli(capsys, monkeypatch, server, "doctor", "--output", "json", "--fail-on", "high")
    assert code == 1
    code, _, _ = cli(capsys, monkeypatch, server, "doctor", "--output", "json", "--fail-on", "info",
                     "--check", "RF-VMSS-002", "--check", "RF-GAL-006")
    assert code == 1
    # Only a low finding selected: --fail-on medium passes, --fail-on low fails.
    code, _, _ = cli(capsys, monkeypatch, server, "doctor", "-o", "json", "--check", "RF-GAL-006", "--fail-on", "medium")
    assert code == 0
    code, _, _ = cli(capsys, monkeypatch, server, "doctor", "-o", "json", "--check", "RF-GAL-006", "--fail-on", "low")
    assert code == 1


def test_text_report_groups_by_severity_with_the_fix(seeded, server, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = cli(capsys, monkeypatch, server, "doctor", "--check", "RF-VMSS-002", "--check", "RF-GAL-006")
    assert code == 0
    lines = out.splitlines()
    high = lines.index(next(ln for ln in lines if ln.startswith("HIGH (1)")))
    low = lines.index(next(ln for ln in lines if ln.startswith("LOW (1)")))
    assert high < low
    assert "  RF-VMSS-002 More than one health source  docs/checks/RF-VMSS-002.md" in lines
    assert any(ln.strip().startswith("fix: Keep exactly one health source") for ln in lines)
    assert lines[-1] == "2 failing (1 high, 0 medium, 1 low, 0 info), 0 unknown, 0 suppressed, 16 passed"
