"""The resiliency checks (RF-RES-001..003, issue 17 scope 4): exact results on the `misconfig` scenario in each
source (live state, ARM template, Terraform plan), the DR region (Azure's pairs, the `refit-dr-region` tag, a
nonpaired region), tiers by role tag, the DR standby that RF-CR-003 passes, and their user errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "sources"))
from doctor_fixtures import RG, arm_template, tf_plan

from refit.arm.errors import UserError
from refit.checks.context import Options
from refit.checks.run import run
from refit.cli import main
from refit.plan.goal import from_sets
from refit.platform import regions
from refit.sources import arm, live, terraform

C = "Microsoft.Compute"
RES = ("RF-RES-001", "RF-RES-002", "RF-RES-003")


def outcomes(report, checks=RES) -> dict[tuple[str, str], tuple[str, str]]:
    """(check, resource path below the resource group's providers) -> (status, message)."""
    return {(r.check, r.resource.split("/providers/", 1)[1]): (r.status, r.message)
            for r in report.results if r.check in checks}


def misconfig_expected(good_consumer: str) -> dict[tuple[str, str], tuple[str, str]]:
    web = "tier role=web (vm-web-1, vm-web-2) is all in zone 1 of eastus; move one to zone 2"
    return {
        ("RF-RES-001", f"{C}/galleries/galMis/images/app/versions/2.0.0"):
            ("fail", f"critical VMs run it, but it is not replicated to westus (DR region of eastus: {good_consumer})"),
        ("RF-RES-001", f"{C}/galleries/galMis/images/app-dr/versions/1.0.0"): ("pass", ""),
        ("RF-RES-002", f"{C}/capacityReservationGroups/crg-ok"):
            ("fail", "cr-d2-z1 reserves 1 x Standard_D2s_v5 for critical VMs, but its DR region westus has no "
                     "reservation of Standard_D2s_v5"),
        ("RF-RES-002", f"{C}/capacityReservationGroups/crg-dr"): ("pass", ""),
        ("RF-RES-003", f"{C}/virtualMachines/vm-web-1"): ("fail", web),
        ("RF-RES-003", f"{C}/virtualMachines/vm-web-2"): ("fail", web),
        ("RF-RES-003", f"{C}/virtualMachines/vm-api-1"): ("pass", ""),
        ("RF-RES-003", f"{C}/virtualMachines/vm-api-2"): ("pass", ""),
    }


def _standby(report) -> tuple[str, str]:
    return outcomes(report, ("RF-CR-003",))[("RF-CR-003", f"{C}/capacityReservationGroups/crg-dr-westus/"
                                                        "capacityReservations/cr-d4")]


def test_misconfig_live_state(session):
    session.control("POST", "scenario", {"name": "misconfig"})
    report = run(live.load(session))
    # live state has vm-good's OS disk, which is what runs the version
    assert outcomes(report) == misconfig_expected("vm-good (OS disk vm-good-os)")
    assert _standby(report) == ("pass", "DR standby for crg-dr")


def test_misconfig_arm_template_and_terraform_plan(tmp_path):
    sub = "00000000-0000-4000-8000-0000000000aa"
    template, params = arm_template(sub)
    (tmp_path / "t.json").write_text(json.dumps(template))
    (tmp_path / "p.json").write_text(json.dumps(params))
    (tmp_path / "plan.json").write_text(json.dumps(tf_plan(sub)))
    for source in (arm.load(tmp_path / "t.json", tmp_path / "p.json", subscription=sub, resource_group=RG),
                   terraform.load(tmp_path / "plan.json")):
        report = run(source)
        assert outcomes(report) == misconfig_expected("vm-good"), source.kind
        assert _standby(report) == ("pass", "DR standby for crg-dr")


def test_region_pairs_are_azures():
    assert regions.paired("East US") == "westus" and regions.paired("westus") == "eastus"
    assert regions.paired("northeurope") == "westeurope" and regions.paired("westeurope") == "northeurope"
    # one-way pairs: West US 3 -> East US, Brazil South -> South Central US
    assert regions.paired("westus3") == "eastus" and regions.paired("brazilsouth") == "southcentralus"
    assert regions.paired("southcentralus") == "northcentralus"
    assert regions.paired("polandcentral") is None  # a nonpaired region
    assert all(regions.paired(r) for r in regions.REGIONS)  # every region refit serves has a pair


# ---- small templates ------------------------------------------------------------------------------------------
SUB = "00000000-0000-4000-8000-0000000000bb"


def _vm(name, location="eastus", zones=("1",), tags=None, size="Standard_D2s_v5", crg=None, image=None):
    props = {"hardwareProfile": {"vmSize": size},
             "storageProfile": {"imageReference": {"id": image} if image else
                                {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                 "sku": "22_04-lts-gen2", "version": "latest"}}}
    if crg:
        props["capacityReservation"] = {"capacityReservationGroup": {"id": f"[resourceId('{C}/capacityReservationGroups', '{crg}')]"}}
    return {"type": f"{C}/virtualMachines", "apiVersion": "2024-07-01", "name": name, "location": location,
            "zones": list(zones), "tags": tags or {}, "properties": props}


def _crg(name, location, tags=None):
    return {"type": f"{C}/capacityReservationGroups", "apiVersion": "2024-07-01", "name": name, "location": location,
            "tags": tags or {}}


def _cr(group, name, location, size="Standard_D2s_v5", capacity=1):
    return {"type": f"{C}/capacityReservationGroups/capacityReservations", "apiVersion": "2024-07-01",
            "name": f"{group}/{name}", "location": location, "sku": {"name": size, "capacity": capacity}}


def results(tmp_path, resources, options=None, checks=RES):
    t = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
         "contentVersion": "1.0.0.0", "resources": resources}
    path = tmp_path / f"t{len(list(tmp_path.glob('t*.json')))}.json"
    path.write_text(json.dumps(t))
    return outcomes(run(arm.load(path, subscription=SUB, resource_group="rg"), options=options), checks)


CRIT = {"tier": "critical"}


def test_reservations_in_a_nonpaired_region_need_the_tag(tmp_path):
    grp = f"{C}/capacityReservationGroups/crg-pl"
    base = [_crg("crg-pl", "polandcentral"), _cr("crg-pl", "cr-d2", "polandcentral"),
            _vm("vm-pl", "polandcentral", zones=(), tags=CRIT, crg="crg-pl")]
    assert results(tmp_path, base) == {}  # no pair, no tag: no DR region to judge
    tagged = [_crg("crg-pl", "polandcentral", {"refit-dr-region": "Germany West Central"}), *base[1:]]
    assert results(tmp_path, tagged) == {("RF-RES-002", grp): (
        "fail", "cr-d2 reserves 1 x Standard_D2s_v5 for critical VMs, but its DR region germanywestcentral has no "
                "reservation of Standard_D2s_v5")}
    standby = [_crg("crg-de", "germanywestcentral"), _cr("crg-de", "cr-d2", "germanywestcentral")]
    assert results(tmp_path, tagged + standby) == {("RF-RES-002", grp): ("pass", "")}
    # the standby has no VM and passes RF-CR-003 as such; a reservation of another size there does not count
    assert results(tmp_path, tagged + standby, checks=("RF-CR-003",))[
        ("RF-CR-003", f"{C}/capacityReservationGroups/crg-de/capacityReservations/cr-d2")] == \
        ("pass", "DR standby for crg-pl")
    other = [_crg("crg-de", "germanywestcentral"), _cr("crg-de", "cr-d4", "germanywestcentral", "Standard_D4s_v5")]
    assert results(tmp_path, tagged + other)[("RF-RES-002", grp)][0] == "fail"
    assert results(tmp_path, tagged + other, checks=("RF-CR-003",))[
        ("RF-CR-003", f"{C}/capacityReservationGroups/crg-de/capacityReservations/cr-d4")][0] == "fail"


def test_only_reservations_serving_critical_vms_count(tmp_path):
    grp = f"{C}/capacityReservationGroups/crg-e"
    plain = [_crg("crg-e", "eastus"), _cr("crg-e", "cr-d2", "eastus"), _vm("vm-e", crg="crg-e")]
    assert results(tmp_path, plain) == {}  # not critical
    zero = [_crg("crg-e", "eastus"), _cr("crg-e", "cr-d2", "eastus", capacity=0), _vm("vm-e", tags=CRIT, crg="crg-e")]
    assert results(tmp_path, zero) == {}  # a zero-size reservation reserves nothing to fail over
    crit = [_crg("crg-e", "eastus"), _cr("crg-e", "cr-d2", "eastus"), _vm("vm-e", tags=CRIT, crg="crg-e")]
    assert results(tmp_path, crit)[("RF-RES-002", grp)][1].endswith("its DR region westus has no reservation of "
                                                                    "Standard_D2s_v5")
    # a critical scale set whose model names the group counts like a VM
    vmss = {"type": f"{C}/virtualMachineScaleSets", "apiVersion": "2024-07-01", "name": "vmss-e", "location": "eastus",
            "tags": CRIT, "sku": {"name": "Standard_D2s_v5", "capacity": 2}, "properties": {"virtualMachineProfile": {
                "capacityReservation": {"capacityReservationGroup": {
                    "id": f"[resourceId('{C}/capacityReservationGroups', 'crg-e')]"}}}}}
    assert results(tmp_path, [*plain[:2], vmss], checks=("RF-RES-002",)) == {("RF-RES-002", grp): (
        "fail", "cr-d2 reserves 1 x Standard_D2s_v5 for critical VMs, but its DR region westus has no reservation of "
                "Standard_D2s_v5")}


def _gallery(targets):
    g = f"{C}/galleries"
    return [{"type": g, "apiVersion": "2024-03-03", "name": "gal", "location": "eastus"},
            {"type": f"{g}/images", "apiVersion": "2024-03-03", "name": "gal/app", "location": "eastus",
             "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
                            "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}},
            {"type": f"{g}/images/versions", "apiVersion": "2024-03-03", "name": "gal/app/1.0.0", "location": "eastus",
             "properties": {"publishingProfile": {"targetRegions": [{"name": t} for t in targets]}}}]


def test_image_version_dr_region_from_pair_or_tag(tmp_path):
    version = f"{C}/galleries/gal/images/app/versions/1.0.0"
    image = f"/subscriptions/{SUB}/resourceGroups/rg/providers/{version}"
    latest = f"/subscriptions/{SUB}/resourceGroups/rg/providers/{C}/galleries/gal/images/app"
    assert results(tmp_path, [*_gallery(["eastus"]), _vm("vm-1", image=image)]) == {}  # not critical
    assert results(tmp_path, [*_gallery(["eastus", "westus"]), _vm("vm-1", tags=CRIT, image=image)]) == \
        {("RF-RES-001", version): ("pass", "")}
    # the tag overrides the pair; a VM tracking latest counts like a pinned one
    tagged = {**CRIT, "refit-dr-region": "centralus"}
    assert results(tmp_path, [*_gallery(["eastus", "westus"]), _vm("vm-1", tags=tagged, image=latest),
                              _vm("vm-2", "westus3", tags=CRIT, image=image)]) == {("RF-RES-001", version): (
        "fail", "critical VMs run it, but it is not replicated to centralus (DR region of eastus: vm-1)")}
    # West US 3's pair is East US: replicated there already
    assert results(tmp_path, [*_gallery(["westus3", "eastus"]), _vm("vm-2", "westus3", tags=CRIT, image=image)]) == \
        {("RF-RES-001", version): ("pass", "")}


def test_tiers_by_role_tag(tmp_path):
    vm = f"{C}/virtualMachines"
    regional = [_vm("db-1", zones=(), tags={"role": "db"}), _vm("db-2", zones=(), tags={"Role": "db"})]
    msg = "tier role=db (db-1, db-2) has no zone (regional) in eastus; recreate VMs in zone 1 and zone 2"
    assert results(tmp_path, regional) == {("RF-RES-003", f"{vm}/db-1"): ("fail", msg),
                                           ("RF-RES-003", f"{vm}/db-2"): ("fail", msg)}
    # one zone and one regional VM: still one zone
    mixed = [_vm("db-1", zones=("2",), tags={"role": "db"}), _vm("db-2", zones=(), tags={"role": "db"})]
    assert results(tmp_path, mixed)[("RF-RES-003", f"{vm}/db-2")] == (
        "fail", "tier role=db (db-1, db-2) is all in zone 2 of eastus; move one to zone 1")
    # tag values are case-sensitive: DB is another tier; a tier is per region; alone in its tier, or in a region
    # without zones: no result
    assert results(tmp_path, [_vm("db-1", tags={"role": "db"}), _vm("db-2", tags={"role": "DB"})]) == {}
    split = [_vm("db-1", tags={"role": "db"}), _vm("db-2", "eastus2", tags={"role": "db"}),
             _vm("db-3", "westus", zones=(), tags={"role": "db"}), _vm("db-4", "westus", zones=(), tags={"role": "db"})]
    assert results(tmp_path, split) == {}
    # --role-tag names another tag
    apps = [_vm("a-1", tags={"app": "pay"}), _vm("a-2", zones=("3",), tags={"app": "pay"})]
    assert results(tmp_path, apps) == {}
    assert results(tmp_path, apps, Options(role_tag="app")) == {("RF-RES-003", f"{vm}/a-1"): ("pass", ""),
                                                                 ("RF-RES-003", f"{vm}/a-2"): ("pass", "")}


def test_set_takes_json_lists_for_the_zone_fix():
    goal = from_sets("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", ['zones=["2"]'])
    assert goal.goals[0].properties == {"zones": ["2"]}
    with pytest.raises(UserError, match=r"--set zones: '\[\"2\"' is not valid JSON"):
        from_sets("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", ['zones=["2"'])


@pytest.mark.parametrize("value", ["", "role=web"])
def test_role_tag_must_be_a_tag_name(capsys, tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["doctor", "--role-tag", value, "--template", "t.json"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert f"--role-tag is a tag NAME (like role), not '{value}'" in err and len(err.strip().splitlines()) == 1


def test_locations_show_the_pair_as_arm_does(raw, sub):
    r = raw.get(f"/subscriptions/{sub}/locations", params={"api-version": "2022-12-01"})
    assert r.status_code == 200
    by_name = {loc["name"]: loc for loc in r.json()["value"]}
    assert by_name["eastus"]["metadata"]["pairedRegion"] == [{"name": "westus",
                                                              "id": f"/subscriptions/{sub}/locations/westus"}]
    assert by_name["westus3"]["metadata"]["pairedRegion"][0]["name"] == "eastus"
