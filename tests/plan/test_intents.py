"""Issue 13 scope 2: fleet intents. A goal file's (or the command line's) intents expand, over the fleet as it is, to
one goal per selected resource; a fleet plan's waves put a canary first and fit Azure's throttles."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from refit.azure.fleet import load_world
from refit.cli import main
from refit.plan import intents, waves
from refit.plan.fleet import plan_file
from refit.plan.model import Plan, Step
from refit.run import apply as runner
from refit.run.stepgraph import dependencies

sys.path.insert(0, str(Path(__file__).parent))
import shapes

VM_SEC = "properties.securityProfile.securityType"
SEC = "properties.virtualMachineProfile.securityProfile.securityType"


def _plan(capsys, server, *args):
    with pytest.raises(SystemExit) as e:
        main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, "plan", *args])
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_one_command_plans_the_fleet_to_trusted_launch_canary_first(server, session, sub, capsys, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 12, "security_type": "Standard"}})
    shapes.scale_set(session, sub, "vmss-web")  # the fleet scenario has VMs only: two scale sets beside them
    shapes.scale_set(session, sub, "vmss-tl", trusted_launch=True)
    out_file = tmp_path / "plan.json"
    code, out, err = _plan(capsys, server, "--intent", "trusted-launch", "-o", "json", "--out", str(out_file))
    assert code == 0
    assert err == "intents: 14 resource(s) selected, 13 goal(s), 1 skipped; trusted-launch: already TrustedLaunch: 1\n"
    doc = json.loads(out)
    assert doc["status"] == "ok" and doc["situations"] == 8  # 12 VMs in 7 situations (zone, tier, gallery group), 1 set
    goals = {g["resource"].rsplit("/", 1)[-1]: g["properties"] for g in doc["goals"]}
    assert goals == {**{f"vm-{n:05d}": {VM_SEC: "TrustedLaunch"} for n in range(1, 13)},
                     "vmss-web": {SEC: "TrustedLaunch"}}
    # Groups in id order: rg-fleet-01..04, then rg-shapes. The canary is the first; then 20% of the 13 groups (3) a
    # wave: 39 writes at most, far inside ARM's 200 and Compute's 1,500 (see the next test for a wave the throttles cut).
    plan = Plan.read(out_file)
    by_group = {}
    for s in plan.steps:
        by_group.setdefault(s.group, set()).add(s.wave)
    assert [by_group[g] for g in sorted(by_group)] == [{1}, {2}, {2}, {2}, {3}, {3}, {3}, {4}, {4}, {4}, {5}, {5}, {5}]
    assert doc["waves"] == {"canary": 1, "batch_percent": 20.0, "count": 5}
    assert [s.summary for s in plan.steps if s.group == 1] == [
        "deallocate vm-00001", "PATCH vm-00001: securityProfile.securityType=TrustedLaunch", "start vm-00001"]
    assert [s.summary for s in plan.steps if s.group == 13] == [
        "PATCH vmss-web: securityProfile.securityType=TrustedLaunch", "update all instances of vmss-web to the latest model"]
    # refit apply: a wave's groups start once every group of the wave before has finished.
    deps = dependencies(plan.steps)
    first = {s.group: i for i, s in reversed(list(enumerate(plan.steps)))}
    assert deps[first[2]] == {2} and deps[first[5]] == {5, 8, 11}  # step positions: 3 steps a VM
    events = []
    result = runner.run(session, plan, progress=lambda step, status: events.append((step.group, status)))
    assert result.ok
    canary_done = max(i for i, (g, st) in enumerate(events) if g == 1 and st == "done")
    assert min(i for i, (g, st) in enumerate(events) if g != 1) > canary_done
    assert {vm.security_profile.security_type for rg in ("rg-fleet-01", "rg-fleet-02", "rg-fleet-03", "rg-fleet-04")
            for vm in session.compute.virtual_machines.list(rg)} == {"TrustedLaunch"}
    assert session.compute.virtual_machine_scale_sets.get(
        shapes.RG, "vmss-web").virtual_machine_profile.security_profile.security_type == "TrustedLaunch"


def _group(n: int) -> list[Step]:
    vm = f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{n}"
    reqs = [("POST", f"{vm}/deallocate"), ("PATCH", vm), ("POST", f"{vm}/start")]
    return [Step(n=0, op="x", summary="", resource=vm, request={"method": m, "path": p, "api_version": "x"}, why="",
                 rules=[], duration_seconds=1, downtime_seconds=0, group=n) for m, p in reqs]


def test_waves_fit_the_write_bucket():
    plan = Plan(goals=[], steps=[s for n in range(1, 301) for s in _group(n)])
    waves.assign(plan, canary=1, batch_percent=50)  # 150 groups would be 450 writes: ARM's bucket holds 200
    sizes: dict[int, int] = {}
    for s in plan.steps[::3]:
        sizes[s.wave] = sizes.get(s.wave, 0) + 1
    assert list(sizes.values()) == [1, 66, 66, 66, 66, 35]  # 66 VMs: 198 writes (deallocate and start included)


def test_intents_expand_to_goals(session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 20, "security_type": "Standard"}})
    shapes.scale_set(session, sub, "vmss-gen1", sku="22_04-lts")
    shapes.scale_set(session, sub, "vmss-bare", health=False)
    session.compute.virtual_machines.begin_deallocate("rg-fleet-03", "vm-00011").result()
    world = load_world(session)
    spec = intents.parse({"intents": [
        {"intent": "reserve-capacity", "where": {"tags": {"tier": "critical"}}},
        {"intent": "gen2", "where": {"resource_groups": ["RG-SHAPES"]}},
        {"intent": "track-latest", "where": {"types": ["vmss"]}}]})
    exp = intents.expand(world, spec)
    rg = f"/subscriptions/{sub}/resourceGroups"
    assert [(g.resource.rsplit("/", 1)[-1], g.properties) for g in exp.goals.goals] == [
        ("vm-00001", {"properties.capacityReservation.capacityReservationGroup.id":
                      f"{rg}/rg-fleet-01/providers/Microsoft.Compute/capacityReservationGroups/crg-eastus"}),
        ("vmss-gen1", {SEC: "TrustedLaunch",
                       "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade": True}),
    ]
    assert sorted((r.rsplit("/", 1)[-1], why) for r, why in exp.skipped) == [
        ("vm-00011", "reserve-capacity: not running (deallocated): no capacity to keep"),
        ("vmss-bare", "gen2: already Gen2"),
        ("vmss-bare", "track-latest: it has no health source (H3): give the intent health: {protocol, port, "
                      "requestPath}"),
    ]
    plan, _ = plan_file(world, spec)
    assert [(s.group, s.wave, s.summary) for s in plan.steps] == [
        (1, 1, "create capacity reservation group crg-eastus (zones 1)"),
        (1, 1, "create capacity reservation Standard_D2s_v5-z1 with capacity 0 (C3: associate first, then reserve)"),
        (1, 1, "PATCH vm-00001: capacityReservationGroup.id=crg-eastus"),
        (1, 1, "raise Standard_D2s_v5-z1 to capacity 1"),
        (2, 2, "PATCH vmss-gen1: automaticOSUpgradePolicy.enableAutomaticOSUpgrade=True"),
        (2, 2, "PATCH vmss-gen1: storageProfile.imageReference=Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"
               ":latest, securityProfile.securityType=TrustedLaunch"),
        (2, 2, "update all instances of vmss-gen1 to the latest model"),
    ]


def test_bad_intent_flags_are_one_line_exit_2(server, session, capsys, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 1}})
    for args, err in (
            (["--intent", "nope"], "error: --intent 'nope' is not one refit knows (trusted-launch, reserve-capacity, "
                                   "track-latest, gen2, vnet-flow-logs)\n"),
            (["--intent", "gen2", "--where", "tier"], "error: --where takes KEY=VALUE (a tag; KEY=* for any value), "
                                                      "not 'tier'\n"),
            (["--intent", "gen2", "--type", "disk"], "error: --type: 'disk' is not a type an intent applies to (vm, "
                                                     "vmss)\n"),
            (["-g", "rg-fleet-01"], "error: --where, --resource-group, --type, --in-subscription and --region select "
                                    "the resources of an --intent\n"),
            (["--intent", "trusted-launch", "-g", "rg-none"], "error: the intents select no VM or scale set: check "
                                                              "their selectors (resource groups, tags, types, regions, "
                                                              "subscriptions)\n")):
        code, out, got = _plan(capsys, server, *args)
        assert (code, out, got) == (2, "", err), args
    # Every VM selected is already Trusted Launch: nothing to do.
    code, out, got = _plan(capsys, server, "--intent", "trusted-launch")
    assert (code, got) == (0, "intents: 1 resource(s) selected, 0 goal(s), 1 skipped; trusted-launch: already "
                              "TrustedLaunch: 1\n")
    assert "nothing to do" in out


def test_track_latest_moves_a_set_off_its_managed_image_onto_a_definition(session, sub):
    """Seed 000's set runs a managed image: track-latest needs a gallery definition (H4). The plan makes one from the
    same bits (permanent: the end state uses it), moves the set onto it, then turns automatic OS upgrade on."""
    from plan_helpers import apply

    session.control("POST", "scenario", {"name": "deadlock"})
    world = load_world(session)
    exp = intents.expand(world, intents.parse({"intents": [{"intent": "track-latest", "where": {"types": ["vmss"]}}]}))
    gal = f"/subscriptions/{sub}/resourceGroups/rg-app/providers/Microsoft.Compute/galleries/galProd"
    assert [(g.resource.rsplit("/", 1)[-1], g.properties) for g in exp.goals.goals] == [("vmss-app", {
        "properties.virtualMachineProfile.storageProfile.imageReference.id": f"{gal}/images/img-app",
        "properties.upgradePolicy.rollingUpgradePolicy.maxSurge": False,
        "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade": True})]
    plan, _ = plan_file(world, intents.parse({"intents": [{"intent": "track-latest"}]}))
    assert plan.status == "ok"
    assert [(s.n, s.summary, s.temporary) for s in plan.steps] == [
        (1, "create image definition img-app (TrustedLaunchSupported, V2)", False),
        (2, "create image version img-app/1.0.0 from images img-app-2026-01", False),
        (3, "PATCH vmss-app: imageReference.id=img-app", False),
        (4, "rolling upgrade of vmss-app to the latest model", False),
        (5, "PATCH vmss-app: automaticOSUpgradePolicy.enableAutomaticOSUpgrade=True, rollingUpgradePolicy.maxSurge=False",
         False)]
    apply(session, plan)
    vmss = session.compute.virtual_machine_scale_sets.get("rg-app", "vmss-app")
    assert vmss.virtual_machine_profile.storage_profile.image_reference.id.lower() == f"{gal}/images/img-app".lower()
    assert vmss.upgrade_policy.automatic_os_upgrade_policy.enable_automatic_os_upgrade is True
    definition = session.compute.gallery_images.get("rg-app", "galProd", "img-app")
    assert [f.value for f in definition.features if f.name == "SecurityType"] == ["TrustedLaunchSupported"]
    (version,) = session.compute.gallery_image_versions.list_by_gallery_image("rg-app", "galProd", "img-app")
    assert (version.name, version.storage_profile.source.id.rsplit("/", 1)[-1]) == ("1.0.0", "img-app-2026-01")
