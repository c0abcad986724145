"""A module *call* keyed by list position, as in seed 002's example:
`terraform state mv 'module.managed_disk_windowsvm_app["0"]' 'module.managed_disk_windowsvm_app["vm1-0"]'`."""

from __future__ import annotations

import json
from pathlib import Path

import tf_fleet as F

ROOT = """variable "environment_file" {
  type    = string
  default = "env/app.json"
}

locals {
  environment = jsondecode(file(var.environment_file))
  managed_disks = flatten([
    for vm in local.environment.vms : [
      for data_disk in vm.data_disks : {
        vm        = vm.name
        data_disk = data_disk
      }
    ]
  ])
}

resource "azurerm_windows_virtual_machine" "app" {
  for_each            = { for vm in local.environment.vms : vm.name => vm }
  name                = each.key
  location            = "westeurope"
  resource_group_name = "rg-app-prod"
  size                = "Standard_D4s_v5"
}

module "managed_disk_windowsvm_app" {
  source   = "./modules/managed_disk"
  for_each = FOR_EACH

  name                = "${each.value.vm}-datadisk-${each.value.data_disk.lun}"
  location            = "westeurope"
  resource_group_name = "rg-app-prod"
  size_gb             = each.value.data_disk.size_gb
  lun                 = each.value.data_disk.lun
  virtual_machine_id  = azurerm_windows_virtual_machine.app[each.value.vm].id
}
"""

MODULE = """variable "name" { type = string }
variable "location" { type = string }
variable "resource_group_name" { type = string }
variable "size_gb" { type = number }
variable "lun" { type = number }
variable "virtual_machine_id" { type = string }

resource "azurerm_managed_disk" "this" {
  name                 = var.name
  location             = var.location
  resource_group_name  = var.resource_group_name
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
  disk_size_gb         = var.size_gb
}

resource "azurerm_virtual_machine_data_disk_attachment" "this" {
  managed_disk_id    = azurerm_managed_disk.this.id
  virtual_machine_id = var.virtual_machine_id
  lun                = var.lun
  caching            = "ReadWrite"
}
"""

INDEX = "{ for index, sp in local.managed_disks : index => sp }"
STABLE = '{ for sp in local.managed_disks : "${sp.vm}-${sp.data_disk.lun}" => sp }'
RG = f"/subscriptions/{F.SUB}/resourceGroups/rg-app-prod/providers/Microsoft.Compute"
CALL = "module.managed_disk_windowsvm_app"


def write(root: Path, vms: list[tuple[str, list[tuple[int, int]]]], for_each: str) -> Path:
    (root / "env").mkdir(parents=True)
    (root / "modules" / "managed_disk").mkdir(parents=True)
    (root / "main.tf").write_text(ROOT.replace("FOR_EACH", for_each))
    (root / "modules" / "managed_disk" / "main.tf").write_text(MODULE)
    doc = {"vms": [{"name": n, "data_disks": [{"lun": lun, "size_gb": size} for lun, size in disks]} for n, disks in vms]}
    (root / "env" / "app.json").write_text(json.dumps(doc, indent=2))
    return root


def state(vms: list[tuple[str, list[tuple[int, int]]]]) -> dict:
    resources = [{
        "mode": "managed", "type": "azurerm_windows_virtual_machine", "name": "app", "provider": F.PROVIDER,
        "instances": [{"index_key": n, "schema_version": 0,
                       "attributes": {"id": f"{RG}/virtualMachines/{n}", "name": n, "location": "westeurope",
                                      "resource_group_name": "rg-app-prod", "size": "Standard_D4s_v5"},
                       "sensitive_attributes": [], "dependencies": []} for n, _ in vms],
    }]
    flat = [(n, lun, size) for n, disks in vms for lun, size in disks]
    for i, (n, lun, size) in enumerate(flat):
        mod = f'{CALL}["{i}"]'
        name = f"{n}-datadisk-{lun}"
        disk = {"id": f"{RG}/disks/{name}", "name": name, "location": "westeurope", "resource_group_name": "rg-app-prod",
                "storage_account_type": "Premium_LRS", "create_option": "Empty", "disk_size_gb": size, "zone": "",
                "edge_zone": "", "tags": {}, "tier": "P10", "logical_sector_size": None, "source_uri": "",
                "hyper_v_generation": "", "security_type": "", "trusted_launch_enabled": False, "upload_size_bytes": 0}
        att = {"id": f"{RG}/virtualMachines/{n}/dataDisks/{name}", "managed_disk_id": disk["id"],
               "virtual_machine_id": f"{RG}/virtualMachines/{n}", "lun": lun, "caching": "ReadWrite",
               "create_option": "Attach", "write_accelerator_enabled": False, "timeouts": None}
        for rtype, attrs in (("azurerm_managed_disk", disk), ("azurerm_virtual_machine_data_disk_attachment", att)):
            resources.append({"module": mod, "mode": "managed", "type": rtype, "name": "this", "provider": F.PROVIDER,
                              "instances": [{"schema_version": 1 if rtype == "azurerm_managed_disk" else 0,
                                             "attributes": attrs, "sensitive_attributes": []}]})
    return {"version": 4, "terraform_version": "1.9.8", "serial": 12, "lineage": "0c8f3a52-5d1e-4b7a-9e26-3f4c1d2b7a90",
            "outputs": {}, "resources": resources, "check_results": None}


VMS = [("vm1", [(0, 128), (1, 256)]), ("vm2", [(0, 128)])]


def test_module_call_instances_move_from_index_to_stable_keys(tmp_path, run_json):
    b = write(tmp_path / "before", VMS, INDEX)
    a = write(tmp_path / "after", VMS, STABLE)
    s = F.write_state(tmp_path / "state.json", state(VMS))
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s,
                            "--emit", "state-mv-sh")

    assert code == 0
    assert [(m["from"], m["to"], m["kind"], m["basis"]) for m in report["moves"]] == [
        (f'{CALL}["0"]', f'{CALL}["vm1-0"]', "module", "value+state"),
        (f'{CALL}["1"]', f'{CALL}["vm1-1"]', "module", "value+state"),
        (f'{CALL}["2"]', f'{CALL}["vm2-0"]', "module", "value+state"),
    ]
    assert {r["status"] for r in report["proof"]} == {"keep"}
    assert len(report["proof"]) == 8
    assert "terraform state mv 'module.managed_disk_windowsvm_app[\"0\"]' 'module.managed_disk_windowsvm_app[\"vm1-0\"]'" \
        in report["artifact"]
    detected = {d["address"]: d for d in report["detected"]}
    assert detected[CALL]["before"]["kind"] == "index" and detected[CALL]["after"]["kind"] == "stable"
    assert detected[CALL]["rekeyed"] is True


def test_module_call_drift_is_mapped_by_what_the_instances_contain(tmp_path, run_json):
    applied = VMS
    today = [("vm0", [(0, 64)]), *VMS]  # a VM inserted at the top of the JSON after the last apply
    b = write(tmp_path / "before", today, INDEX)
    a = write(tmp_path / "after", today, STABLE)
    s = F.write_state(tmp_path / "state.json", state(applied))
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 0
    assert [(m["from"], m["to"], m["basis"]) for m in report["moves"]] == [
        (f'{CALL}["0"]', f'{CALL}["vm1-0"]', "state"),
        (f'{CALL}["1"]', f'{CALL}["vm1-1"]', "state"),
        (f'{CALL}["2"]', f'{CALL}["vm2-0"]', "state"),
    ]
    creates = sorted(r["address"] for r in report["proof"] if r["status"] == "create")
    assert creates == [
        'azurerm_windows_virtual_machine.app["vm0"]',
        f'{CALL}["vm0-0"].azurerm_managed_disk.this',
        f'{CALL}["vm0-0"].azurerm_virtual_machine_data_disk_attachment.this',
    ]
    assert {r["status"] for r in report["proof"] if r["status"] != "create"} == {"keep"}
    assert [p["kind"] for p in report["problems"]] == ["disagreement"] * 3


def test_moved_blocks_for_module_instances_parse_back(tmp_path, run_json):
    import hcl2

    b = write(tmp_path / "before", VMS, INDEX)
    a = write(tmp_path / "after", VMS, STABLE)
    s = F.write_state(tmp_path / "state.json", state(VMS))
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 0
    blocks = hcl2.loads(report["artifact"])["moved"]
    assert [(x["from"], x["to"]) for x in blocks] == [
        ("${" + m["from"] + "}", "${" + m["to"] + "}") for m in report["moves"]]
