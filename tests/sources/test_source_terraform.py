"""Terraform plans: values known only after apply are `unknown`, references to resources of the same plan are
resolved, provider defaults are applied."""

from __future__ import annotations

import json

from doctor_fixtures import Plan

from refit.checks.run import run
from refit.sources import terraform

SUB = "22222222-2222-2222-2222-222222222222"
C = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"


def test_unknown_after_apply_and_references(tmp_path):
    p = Plan(SUB)
    base = {"resource_group_name": "rg", "location": "eastus", "sku_name": "Standard_D2s_v5", "instances": 3,
            "platform_fault_domain_count": 1, "zones": ["1", "2", "3"], "secure_boot_enabled": True,
            "vtpm_enabled": True, "automatic_os_upgrade_policy": [{"automatic_os_upgrade_enabled": True,
                                                                   "disable_automatic_rollback": False}]}
    p.add("azurerm_shared_image", "app", {"name": "app", "gallery_name": "g", "resource_group_name": "rg",
                                          "location": "eastus", "os_type": "Linux", "trusted_launch_supported": True})
    # image id known only after apply, through a reference to the definition -> resolved
    p.add("azurerm_orchestrated_virtual_machine_scale_set", "ref", {**base, "name": "ref"},
          {"id": True, "source_image_id": True}, {"source_image_id": ["azurerm_shared_image.app.id", "azurerm_shared_image.app"]})
    # image id from a module output -> unknown
    p.add("azurerm_orchestrated_virtual_machine_scale_set", "mod", {**base, "name": "mod"},
          {"id": True, "source_image_id": True}, {"source_image_id": ["module.images.definition_id"]})
    text = json.dumps(p.json(), indent=1)
    (tmp_path / "plan.json").write_text(text)
    src = terraform.load(tmp_path / "plan.json")
    origin = src.origin(f"{C}/virtualMachineScaleSets/mod")
    assert origin.address == "azurerm_orchestrated_virtual_machine_scale_set.mod"
    assert text.splitlines()[origin.line - 1].strip() == '"address": "azurerm_orchestrated_virtual_machine_scale_set.mod",'
    vmss = src.world.get(f"{C}/virtualMachineScaleSets/ref")
    assert vmss["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] == {"id": f"{C}/galleries/g/images/app"}
    assert "mode" not in vmss["properties"]["upgradePolicy"]  # orchestrated: no upgrade_mode given
    got = {r.resource.rsplit("/", 1)[1]: (r.status, r.message) for r in run(src, only=["RF-VMSS-001"]).results}
    assert got["ref"][0] == "fail" and "no Application Health extension" in got["ref"][1]
    assert got["mod"][0] == "unknown"
    assert "azurerm_orchestrated_virtual_machine_scale_set.mod.source_image_id is known only after apply" in got["mod"][1]
