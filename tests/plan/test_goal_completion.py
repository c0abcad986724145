"""Issue 13 scope 1: a goal of only the security type; the planner fills in the image, the upgrade policy and the
image resources the path needs. Exact plans, applied on the emulator over HTTPS, read back through the SDK.
(The Gen1 VM, whose path is the guest's MBR -> GPT conversion, is tests/plan/test_planner.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

from azure.mgmt.compute import models as cm

sys.path.insert(0, str(Path(__file__).parent))
import shapes
from plan_helpers import apply, plan_for, rid, steps

SEC = "properties.virtualMachineProfile.securityProfile.securityType"
VM_SEC = "properties.securityProfile.securityType"
TL_UEFI = {"secureBootEnabled": True, "vTpmEnabled": True}


def _tl(security_profile) -> tuple:
    return (security_profile.security_type, security_profile.uefi_settings.secure_boot_enabled,
            security_profile.uefi_settings.v_tpm_enabled)


def test_seed_000_with_only_the_security_type_is_planned_in_place(session, sub):
    session.control("POST", "scenario", {"name": "deadlock"})
    vmss = rid(sub, "rg-app", "virtualMachineScaleSets", "vmss-app")
    definition = rid(sub, "rg-app", "galleries", "galProd", "images", "img-app-2026-01-tls")
    image = rid(sub, "rg-app", "images", "img-app-2026-01")
    before = session.compute.virtual_machine_scale_sets.get("rg-app", "vmss-app")
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch"}}])
    assert plan.status == "ok"
    assert steps(plan) == [
        ("create_image_definition", "create image definition img-app-2026-01-tls (TrustedLaunchSupported, V2)"),
        ("create_image_version", "create image version img-app-2026-01-tls/1.0.0 from images img-app-2026-01"),
        ("patch", "PATCH vmss-app: imageReference.id=img-app-2026-01-tls/1.0.0, "
                  "securityProfile.securityType=TrustedLaunch"),
        ("await_rolling_upgrade", "rolling upgrade of vmss-app to the latest model"),
    ]
    # The end state runs the new image: nothing is temporary, nothing to clean up.
    assert [s.temporary for s in plan.steps] == [False, False, False, False] and plan.cleanup == []
    assert [s.rules for s in plan.steps] == [["ARM2"], ["G14"], ["S2"], []]
    assert [s.why for s in plan.steps] == [
        "without it, step 2 (create image version img-app-2026-01-tls/1.0.0 from images img-app-2026-01) is refused "
        "by ARM2 (A nested resource needs its parent)",
        "without it, step 3 (PATCH vmss-app: imageReference.id=img-app-2026-01-tls/1.0.0, "
        "securityProfile.securityType=TrustedLaunch) is refused by G14 (A gallery image is usable only where it has "
        "replicated)",
        "goal: securityProfile.securityType = TrustedLaunch; in one request, because alone "
        "securityProfile.securityType is refused by S2 (Trusted Launch needs a Trusted Launch capable Gen2 image)",
        "Rolling mode: Azure's rolling upgrade brings the instances to the new model, 3 batches of 1 (maxSurge: no "
        "downtime)",
    ]
    assert [s.downtime_seconds for s in plan.steps] == [0.0, 0.0, 0.0, 0.0]  # Rolling with maxSurge
    assert plan.steps[3].duration_seconds == 3 * (120 + 30 + 5)  # a new instance a batch: create, boot, one probe
    assert plan.steps[0].request["body"]["properties"]["features"] == [
        {"name": "SecurityType", "value": "TrustedLaunchSupported"}]
    assert plan.steps[1].request["body"]["properties"]["storageProfile"] == {"source": {"id": image}}
    assert plan.steps[2].request["body"] == {"properties": {"virtualMachineProfile": {
        "storageProfile": {"imageReference": {"id": f"{definition}/versions/1.0.0"}},
        "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": TL_UEFI}}}}

    apply(session, plan, cleanup=True)
    after = session.compute.virtual_machine_scale_sets.get("rg-app", "vmss-app")
    assert _tl(after.virtual_machine_profile.security_profile) == ("TrustedLaunch", True, True)
    assert after.virtual_machine_profile.storage_profile.image_reference.id.lower() == f"{definition}/versions/1.0.0".lower()
    assert (after.unique_id, after.time_created) == (before.unique_id, before.time_created)  # never recreated
    assert sorted(d.name for d in session.compute.gallery_images.list_by_gallery("rg-app", "galProd")) == [
        "app-tl", "img-app-2026-01-tls"]
    got = session.compute.gallery_image_versions.get("rg-app", "galProd", "img-app-2026-01-tls", "1.0.0")
    assert got.storage_profile.source.id.lower() == image.lower()


def test_a_vm_on_a_managed_image(session, sub):
    vm = shapes.vm_on_managed_image(session, sub)
    plan = plan_for(session, [{"resource": vm, "properties": {VM_SEC: "TrustedLaunch"}}])
    assert steps(plan) == [
        ("deallocate", "deallocate vm-legacy"),
        ("patch", "PATCH vm-legacy: securityProfile.securityType=TrustedLaunch"),
        ("start", "start vm-legacy"),
    ]
    assert [s.rules for s in plan.steps] == [["U1"], [], []]
    assert [s.downtime_seconds for s in plan.steps] == [45.0, 10.0, 40.0]
    apply(session, plan)
    got = session.compute.virtual_machines.get(shapes.RG, "vm-legacy")
    assert _tl(got.security_profile) == ("TrustedLaunch", True, True)
    assert got.storage_profile.image_reference.id.lower() == rid(sub, shapes.RG, "images", "img-legacy").lower()
    statuses = [s.code for s in session.compute.virtual_machines.instance_view(shapes.RG, "vm-legacy").statuses]
    assert statuses == ["ProvisioningState/succeeded", "PowerState/running"]


def _scale_set_upgraded(session, name: str, plan) -> cm.VirtualMachineScaleSet:
    apply(session, plan)
    got = session.compute.virtual_machine_scale_sets.get(shapes.RG, name)
    assert _tl(got.virtual_machine_profile.security_profile) == ("TrustedLaunch", True, True)
    return got


def test_a_uniform_scale_set_on_a_platform_image(session, sub):
    vmss = shapes.scale_set(session, sub, "vmss-uni")
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch"}}])
    assert steps(plan) == [
        ("patch", "PATCH vmss-uni: securityProfile.securityType=TrustedLaunch"),
        ("manualupgrade", "update all instances of vmss-uni to the latest model"),
    ]
    assert [s.why for s in plan.steps] == ["goal: securityProfile.securityType = TrustedLaunch",
                                           "Manual upgrade mode: instances keep the old model until updated (V2)"]
    assert [s.downtime_seconds for s in plan.steps] == [0.0, 300.0]
    got = _scale_set_upgraded(session, "vmss-uni", plan)
    assert got.virtual_machine_profile.storage_profile.image_reference.sku == "22_04-lts-gen2"


def test_a_flexible_scale_set_on_a_platform_image(session, sub):
    vmss = shapes.scale_set(session, sub, "vmss-flex", "Flexible", upgrade_mode=None)
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch"}}])
    # Flexible sets take the same update (acd trusted-launch-existing-vmss.md: "Applies to: Uniform scale set, Flex
    # scale set"); with no upgrade policy the model reaches the instances when they are updated.
    assert steps(plan) == [
        ("patch", "PATCH vmss-flex: securityProfile.securityType=TrustedLaunch"),
        ("manualupgrade", "update all instances of vmss-flex to the latest model"),
    ]
    got = _scale_set_upgraded(session, "vmss-flex", plan)
    assert got.orchestration_mode == "Flexible"


def test_a_gen1_scale_set_moves_to_the_gen2_sku_of_its_offer(session, sub):
    vmss = shapes.scale_set(session, sub, "vmss-gen1", sku="22_04-lts")
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch"}}])
    assert steps(plan) == [
        ("patch", "PATCH vmss-gen1: storageProfile.imageReference=Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"
                  ":latest, securityProfile.securityType=TrustedLaunch"),
        ("manualupgrade", "update all instances of vmss-gen1 to the latest model"),
    ]
    assert plan.steps[0].rules == ["V6", "S2"]  # alone, the image is a new generation and the type needs Gen2
    got = _scale_set_upgraded(session, "vmss-gen1", plan)
    ref = got.virtual_machine_profile.storage_profile.image_reference
    assert (ref.publisher, ref.offer, ref.sku, ref.version) == ("Canonical", shapes.JAMMY, "22_04-lts-gen2", "latest")


def test_a_scale_set_with_data_disks_upgrades_with_rolling_and_max_surge(session, sub):
    vmss = shapes.scale_set(session, sub, "vmss-data", data_disks=True)
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch"}}])
    assert steps(plan) == [
        ("set_upgrade_policy", "PATCH vmss-data: upgradePolicy Rolling with maxSurge"),
        ("patch", "PATCH vmss-data: securityProfile.securityType=TrustedLaunch"),
        ("await_rolling_upgrade", "rolling upgrade of vmss-data to the latest model"),
        ("restore_upgrade_policy", "PATCH vmss-data: upgradePolicy back to Manual"),
    ]
    assert [s.rules for s in plan.steps] == [["V3"], [], [], []]
    assert plan.steps[0].request["body"] == {"properties": {"upgradePolicy": {
        "mode": "Rolling", "rollingUpgradePolicy": {"maxSurge": True}}}}
    assert plan.steps[3].request["body"] == {"properties": {"upgradePolicy": {
        "mode": "Manual", "rollingUpgradePolicy": {"maxSurge": None}}}}
    assert [s.downtime_seconds for s in plan.steps] == [0.0, 0.0, 0.0, 0.0]  # maxSurge: new instances first
    # Two instances, a batch of one each (20 % of 2, at least one): a new instance created, booted, probed.
    assert plan.steps[2].duration_seconds == 2 * (120 + 30 + 5)
    got = _scale_set_upgraded(session, "vmss-data", plan)
    assert got.upgrade_policy.mode == "Manual"
    assert [d.lun for d in got.virtual_machine_profile.storage_profile.data_disks] == [0]
    instances = list(session.compute.virtual_machine_scale_set_vms.list(shapes.RG, "vmss-data"))
    assert [(i.security_profile.security_type, i.latest_model_applied, [d.lun for d in i.storage_profile.data_disks])
            for i in instances] == [("TrustedLaunch", True, [0])] * 2


def test_without_a_health_source_the_data_disk_path_names_both_rules(session, sub):
    vmss = shapes.scale_set(session, sub, "vmss-bare", data_disks=True, health=False)
    plan = plan_for(session, [{"resource": vmss, "properties": {SEC: "TrustedLaunch"}}])
    assert (plan.status, plan.steps) == ("impossible", [])
    (imp,) = plan.impossible
    assert [(b.rule, b.attempted) for b in imp.blocked_by] == [
        ("V3", "PATCH vmss-bare: securityProfile.securityType=TrustedLaunch"),
        ("H1", "PATCH vmss-bare: upgradePolicy Rolling with maxSurge"),
    ]
