"""Detection: list positions vs stable keys, decided by evaluating the collection, not by the syntax."""

from __future__ import annotations

from pathlib import Path

import tf_fleet as F

from refit.terraform.detect import detect_index_keys

AVM_LIKE = """variable "os_type" {
  type    = string
  default = "linux"
}

variable "data_disk_managed_disks" {
  type = map(object({
    name                 = string
    lun                  = number
    storage_account_type = string
    disk_size_gb         = number
  }))
  default = {
    logs = { name = "vm1-logs", lun = 1, storage_account_type = "Premium_LRS", disk_size_gb = 64 }
    data = { name = "vm1-data", lun = 0, storage_account_type = "Premium_LRS", disk_size_gb = 256 }
  }
}

variable "data_disks" {
  type    = list(object({ lun = number, size = number }))
  default = [{ lun = 0, size = 32 }, { lun = 1, size = 64 }]
}

locals {
  by_position = { for idx, d in var.data_disks : idx => d }
}

# Map-keyed: looks like the index pattern, but the keys are the map's keys (stable).
resource "azurerm_virtual_machine_data_disk_attachment" "avm" {
  for_each           = { for disk, values in var.data_disk_managed_disks : disk => values if(lower(var.os_type) == "linux") }
  managed_disk_id    = "x"
  virtual_machine_id = "y"
  lun                = each.value.lun
  caching            = "ReadWrite"
}

# Keyed by LUN (a value): stable.
resource "azurerm_managed_disk" "by_lun" {
  for_each             = { for d in var.data_disks : d.lun => d }
  name                 = "disk-${each.key}"
  location             = "westeurope"
  resource_group_name  = "rg"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
}

# Keyed by list position through a local: the hazard.
resource "azurerm_managed_disk" "by_position" {
  for_each             = local.by_position
  name                 = "disk-${each.key}"
  location             = "westeurope"
  resource_group_name  = "rg"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
}

# count over a list: integer positions.
resource "azurerm_managed_disk" "counted" {
  count                = length(var.data_disks)
  name                 = "disk-${count.index}"
  location             = "westeurope"
  resource_group_name  = "rg"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
}

resource "azurerm_resource_group" "single" {
  name     = "rg"
  location = "westeurope"
}
"""


def test_fleet_module_index_keys_are_found_per_configuration_address(tmp_path):
    root = F.write_config(tmp_path / "fleet", F.fleet(), "index")
    found = detect_index_keys(str(root))
    assert [(r.address, r.kind, r.meta, r.normalized, r.file, r.line, r.collection, r.collection_type)
            for r in found] == [
        ("module.disks.azurerm_managed_disk.data", "index", "for_each", F.INDEX_FOR_EACH,
         "fleet/modules/vm_disks/main.tf", 63, "local.managed_disks", "list"),
        ("module.disks.azurerm_virtual_machine_data_disk_attachment.data", "index", "for_each", F.INDEX_FOR_EACH,
         "fleet/modules/vm_disks/main.tf", 75, "local.managed_disks", "list"),
    ]
    assert found[0].note == ('`index` is the list position: keys are "0", "1", ... and shift when an element is '
                             "inserted or removed")


def test_stable_fleet_has_no_index_keys(tmp_path):
    assert detect_index_keys(str(F.write_config(tmp_path / "fleet", F.fleet(), "stable"))) == []


def test_map_keyed_for_expression_is_stable_list_position_is_not(tmp_path: Path):
    (tmp_path / "main.tf").write_text(AVM_LIKE)
    from refit.terraform.config import Config, World
    from refit.terraform.detect import detect
    from refit.terraform.state import State

    cfg = Config(tmp_path)
    found = detect(cfg, World(cfg, State([], "v4")))
    kinds = {a: (r.kind, r.collection_type) for a, r in found.items()}
    assert kinds == {
        "azurerm_virtual_machine_data_disk_attachment.avm": ("stable", "map"),
        "azurerm_managed_disk.by_lun": ("stable", "list"),
        "azurerm_managed_disk.by_position": ("index", "list"),
        "azurerm_managed_disk.counted": ("count", "list"),
        "azurerm_resource_group.single": ("single", ""),
    }
    assert found["azurerm_virtual_machine_data_disk_attachment.avm"].note == "`disk` is a map key: stable"
    assert found["azurerm_managed_disk.by_lun"].note == "keys come from the element values"
    assert found["azurerm_managed_disk.by_position"].collection == "var.data_disks"
