"""Fixtures for `refit tf`: a fleet module flattening VMs x data disks from per-environment JSON, two module
instances (weu, neu), and the state files Terraform would have written for it.

The state documents follow Terraform's formats exactly (hashicorp/terraform `internal/states/statefile/
version4.go` for v4 / `terraform state pull`; `internal/command/jsonstate/state.go` for `terraform show -json`)
with azurerm 4.x attributes (`azurerm_managed_disk` schema_version 1, attachments with the
`{vmId}/dataDisks/{diskName}` id). Terraform cannot run here, so these are what the tests feed refit.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

SUB = "6f1c5e2a-7d3b-4c1e-9a8f-2b4d6e8f0a1c"
PROVIDER = 'provider["registry.terraform.io/hashicorp/azurerm"]'
TIMEOUTS_PRIVATE = {"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0": {
    "create": 1800000000000, "delete": 1800000000000, "read": 300000000000, "update": 1800000000000}}


@dataclass
class Disk:
    lun: int
    size_gb: int
    sku: str = "Premium_LRS"
    caching: str = "ReadWrite"


@dataclass
class Vm:
    name: str
    disks: list[Disk]
    zone: str = "1"
    size: str = "Standard_D4s_v5"


@dataclass
class Env:
    name: str
    location: str
    rg: str
    vms: list[Vm] = field(default_factory=list)


def fleet() -> dict[str, Env]:
    """Two environments; weu has a database VM with three data disks."""
    return {
        "neu": Env("neu", "northeurope", "rg-fleet-neu", [
            Vm("vm-app-01", [Disk(0, 128, "StandardSSD_LRS")], zone="2"),
            Vm("vm-db-01", [Disk(0, 512), Disk(1, 512)], zone="2"),
        ]),
        "weu": Env("weu", "westeurope", "rg-fleet-weu", [
            Vm("vm-app-01", [Disk(0, 128, "StandardSSD_LRS"), Disk(1, 256, "StandardSSD_LRS")]),
            Vm("vm-db-01", [Disk(0, 1024, caching="None"), Disk(1, 1024, caching="None"), Disk(2, 256)]),
        ]),
    }


def flattened(env: Env) -> list[tuple[Vm, Disk]]:
    """The flatten order of `local.managed_disks`: VMs in file order, then their disks."""
    return [(vm, d) for vm in env.vms for d in vm.disks]


# --- configuration ---------------------------------------------------------------------------------------

ROOT_MAIN = """terraform {
  required_version = ">= 1.5"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

provider "azurerm" {
  features {}
}

variable "environments" {
  description = "One entry per environment; its VMs and data disks are in env/<name>.json."
  type = map(object({
    location            = string
    resource_group_name = string
    subnet_id           = string
    tags                = optional(map(string), {})
  }))
}

module "disks" {
  source   = "./modules/vm_disks"
  for_each = var.environments

  location            = each.value.location
  resource_group_name = each.value.resource_group_name
  subnet_id           = each.value.subnet_id
  environment_file    = "${path.root}/env/${each.key}.json"
  tags                = merge(each.value.tags, { environment = each.key })
}

output "data_disk_ids" {
  value = { for env, m in module.disks : env => m.data_disk_ids }
}
"""

MODULE_VARIABLES = """variable "environment_file" {
  description = "JSON file with the VMs and their data disks."
  type        = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "subnet_id" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}
"""

MODULE_LOCALS = """locals {
  environment = jsondecode(file(var.environment_file))

  # One element per (VM, data disk): the list the disks are created from.
  managed_disks = flatten([
    for vm in local.environment.vms : [
      for data_disk in vm.data_disks : {
        vm        = vm.name
        vm_id     = azurerm_linux_virtual_machine.vm[vm.name].id
        zone      = vm.zone
        data_disk = data_disk
      }
    ]
  ])
}

resource "azurerm_network_interface" "nic" {
  for_each            = { for vm in local.environment.vms : vm.name => vm }
  name                = "${each.key}-nic"
  location            = var.location
  resource_group_name = var.resource_group_name

  ip_configuration {
    name                          = "internal"
    subnet_id                     = var.subnet_id
    private_ip_address_allocation = "Dynamic"
  }

  tags = var.tags
}

resource "azurerm_linux_virtual_machine" "vm" {
  for_each              = { for vm in local.environment.vms : vm.name => vm }
  name                  = each.key
  location              = var.location
  resource_group_name   = var.resource_group_name
  size                  = each.value.size
  zone                  = each.value.zone
  admin_username        = "azureadmin"
  network_interface_ids = [azurerm_network_interface.nic[each.key].id]

  admin_ssh_key {
    username   = "azureadmin"
    public_key = file("${path.module}/id_rsa.pub")
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
  }

  source_image_reference {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }

  tags = var.tags
}
"""

DISK_BODY = """  name                 = {name}
  location             = var.location
  resource_group_name  = var.resource_group_name
  storage_account_type = lookup(each.value.data_disk, "storage_account_type", "Premium_LRS")
  create_option        = "Empty"
  disk_size_gb         = each.value.data_disk.size_gb
  zone                 = each.value.zone
  tags                 = merge(var.tags, {{ vm = each.value.vm, lun = tostring(each.value.data_disk.lun) }})
"""

ATTACH_BODY = """  managed_disk_id    = azurerm_managed_disk.data[each.key].id
  virtual_machine_id = each.value.vm_id
  lun                = each.value.data_disk.lun
  caching            = lookup(each.value.data_disk, "caching", "ReadWrite")
"""

INDEX_FOR_EACH = "{ for index, sp in local.managed_disks : index => sp }"
STABLE_FOR_EACH = '{ for sp in local.managed_disks : "${sp.vm}-${sp.data_disk.lun}" => sp }'
VM_ONLY_FOR_EACH = "{ for sp in local.managed_disks : sp.vm => sp }"
DEFAULT_NAME = '"${each.value.vm}-data-${each.value.data_disk.lun}"'


def module_main(style: str, name_expr: str = DEFAULT_NAME) -> str:
    """style: index (for_each by list position), count, stable (vm-lun key), vm-only (colliding key)."""
    if style == "count":
        disk = (
            'resource "azurerm_managed_disk" "data" {\n'
            "  count                = length(local.managed_disks)\n"
            + DISK_BODY.format(name=name_expr).replace("each.value", "local.managed_disks[count.index]")
            + "}\n"
        )
        attach = (
            'resource "azurerm_virtual_machine_data_disk_attachment" "data" {\n'
            "  count              = length(local.managed_disks)\n"
            + ATTACH_BODY.replace("azurerm_managed_disk.data[each.key]", "azurerm_managed_disk.data[count.index]")
            .replace("each.value", "local.managed_disks[count.index]")
            + "}\n"
        )
    else:
        fe = {"index": INDEX_FOR_EACH, "stable": STABLE_FOR_EACH, "vm-only": VM_ONLY_FOR_EACH}[style]
        disk = (f'resource "azurerm_managed_disk" "data" {{\n  for_each             = {fe}\n'
                + DISK_BODY.format(name=name_expr) + "}\n")
        attach = (f'resource "azurerm_virtual_machine_data_disk_attachment" "data" {{\n  for_each           = {fe}\n'
                  + ATTACH_BODY + "}\n")
    return MODULE_LOCALS + "\n" + disk + "\n" + attach


MODULE_OUTPUTS = """output "data_disk_ids" {
  value = [for d in azurerm_managed_disk.data : d.id]
}
"""


def env_json(env: Env) -> dict[str, Any]:
    return {"vms": [
        {"name": vm.name, "size": vm.size, "zone": vm.zone,
         "data_disks": [{"lun": d.lun, "size_gb": d.size_gb, "storage_account_type": d.sku, "caching": d.caching}
                        for d in vm.disks]}
        for vm in env.vms
    ]}


def write_config(root: Path, envs: dict[str, Env], style: str = "index", name_expr: str = DEFAULT_NAME) -> Path:
    mod = root / "modules" / "vm_disks"
    mod.mkdir(parents=True, exist_ok=True)
    (root / "env").mkdir(exist_ok=True)
    (root / "main.tf").write_text(ROOT_MAIN)
    lines = ["environments = {"]
    for e in envs.values():
        lines += [f"  {e.name} = {{",
                  f'    location            = "{e.location}"',
                  f'    resource_group_name = "{e.rg}"',
                  f'    subnet_id           = "{subnet_id(e)}"',
                      '    tags                = { owner = "platform", costcenter = "cc-4711" }',
                  "  }"]
    lines.append("}")
    (root / "terraform.tfvars").write_text("\n".join(lines) + "\n")
    for e in envs.values():
        (root / "env" / f"{e.name}.json").write_text(json.dumps(env_json(e), indent=2) + "\n")
    (mod / "variables.tf").write_text(MODULE_VARIABLES)
    (mod / "main.tf").write_text(module_main(style, name_expr))
    (mod / "outputs.tf").write_text(MODULE_OUTPUTS)
    (mod / "id_rsa.pub").write_text("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7refit azureadmin@fleet\n")
    return root


# --- state ----------------------------------------------------------------------------------------------


def subnet_id(e: Env) -> str:
    return (f"/subscriptions/{SUB}/resourceGroups/rg-network-{e.name}/providers/Microsoft.Network/virtualNetworks/"
            f"vnet-{e.name}/subnets/snet-vms")


def rg_id(e: Env) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{e.rg}"


def vm_id(e: Env, vm: str) -> str:
    return f"{rg_id(e)}/providers/Microsoft.Compute/virtualMachines/{vm}"


def disk_name(vm: str, lun: int) -> str:
    return f"{vm}-data-{lun}"


def disk_id(e: Env, name: str) -> str:
    return f"{rg_id(e)}/providers/Microsoft.Compute/disks/{name}"


def tags(e: Env, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"costcenter": "cc-4711", "environment": e.name, "owner": "platform", **(extra or {})}


def _tier(size_gb: int) -> str:
    for limit, tier in ((128, "P10"), (256, "P15"), (512, "P20"), (1024, "P30")):
        if size_gb <= limit:
            return tier
    return "P40"


def _private(schema_version: str | None = None) -> str:
    doc: dict[str, Any] = dict(TIMEOUTS_PRIVATE)
    if schema_version is not None:
        doc["schema_version"] = schema_version
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def disk_attributes(e: Env, vm: Vm, d: Disk, name: str | None = None) -> dict[str, Any]:
    name = name or disk_name(vm.name, d.lun)
    premium = d.sku.startswith("Premium")
    return {
        "create_option": "Empty", "disk_access_id": "", "disk_encryption_set_id": "",
        "disk_iops_read_only": 0, "disk_iops_read_write": 120 if premium else 500,
        "disk_mbps_read_only": 0, "disk_mbps_read_write": 100 if premium else 60,
        "disk_size_gb": d.size_gb, "edge_zone": "", "encryption_settings": [], "gallery_image_reference_id": "",
        "hyper_v_generation": "", "id": disk_id(e, name), "image_reference_id": "", "location": e.location,
        "logical_sector_size": None, "max_shares": 0, "name": name, "network_access_policy": "AllowAll",
        "on_demand_bursting_enabled": False, "optimized_frequent_attach_enabled": False, "os_type": "",
        "performance_plus_enabled": False, "public_network_access_enabled": True, "resource_group_name": e.rg,
        "secure_vm_disk_encryption_set_id": "", "security_type": "", "source_resource_id": "", "source_uri": "",
        "storage_account_id": "", "storage_account_type": d.sku, "tags": tags(e, {"lun": str(d.lun), "vm": vm.name}),
        "tier": _tier(d.size_gb) if premium else "", "timeouts": None, "trusted_launch_enabled": False,
        "upload_size_bytes": 0, "zone": vm.zone,
    }


def attachment_attributes(e: Env, vm: Vm, d: Disk, name: str | None = None) -> dict[str, Any]:
    name = name or disk_name(vm.name, d.lun)
    return {
        "caching": d.caching, "create_option": "Attach", "id": f"{vm_id(e, vm.name)}/dataDisks/{name}",
        "lun": d.lun, "managed_disk_id": disk_id(e, name), "timeouts": None,
        "virtual_machine_id": vm_id(e, vm.name), "write_accelerator_enabled": False,
    }


def nic_attributes(e: Env, vm: Vm) -> dict[str, Any]:
    nic = f"{vm.name}-nic"
    return {
        "accelerated_networking_enabled": False, "applied_dns_servers": [], "auxiliary_mode": "",
        "auxiliary_sku": "", "dns_servers": [], "edge_zone": "",
        "id": f"{rg_id(e)}/providers/Microsoft.Network/networkInterfaces/{nic}", "internal_dns_name_label": "",
        "internal_domain_name_suffix": "x0c1zq3tn5bu1kqgcb1bytbbzh.ax.internal.cloudapp.net",
        "ip_configuration": [{"gateway_load_balancer_frontend_ip_configuration_id": "", "name": "internal",
                              "primary": True, "private_ip_address": "10.20.1.4",
                              "private_ip_address_allocation": "Dynamic", "private_ip_address_version": "IPv4",
                              "public_ip_address_id": "", "subnet_id": subnet_id(e)}],
        "ip_forwarding_enabled": False, "location": e.location, "mac_address": "", "name": nic,
        "private_ip_address": "10.20.1.4", "private_ip_addresses": ["10.20.1.4"], "resource_group_name": e.rg,
        "tags": tags(e), "timeouts": None, "virtual_machine_id": vm_id(e, vm.name),
    }


def vm_attributes(e: Env, vm: Vm) -> dict[str, Any]:
    return {
        "admin_password": None, "admin_ssh_key": [{"public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7refit "
                                                                "azureadmin@fleet\n", "username": "azureadmin"}],
        "admin_username": "azureadmin", "computer_name": vm.name, "disable_password_authentication": True,
        "id": vm_id(e, vm.name), "location": e.location, "name": vm.name,
        "network_interface_ids": [nic_attributes(e, vm)["id"]],
        "os_disk": [{"caching": "ReadWrite", "disk_size_gb": 30, "name": f"{vm.name}_OsDisk_1_3c4f0e7b9a2d4c1e8f6a5b3d",
                     "storage_account_type": "Premium_LRS", "write_accelerator_enabled": False}],
        "priority": "Regular", "private_ip_address": "10.20.1.4", "resource_group_name": e.rg, "size": vm.size,
        "source_image_reference": [{"offer": "ubuntu-24_04-lts", "publisher": "Canonical", "sku": "server",
                                    "version": "latest"}],
        "tags": tags(e), "timeouts": None, "virtual_machine_id": "0f7a3c2e-5b1d-4e8a-9c6f-2d4b8e1a7c3f",
        "zone": vm.zone,
    }


def _sensitive(values: dict[str, Any]) -> dict[str, Any]:
    """`sensitive_values` of `terraform show -json`: the value's shape with only the sensitive leaves set."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, list):
            out[k] = [(_sensitive(x) if isinstance(x, dict) else False) for x in v]
        elif isinstance(v, dict):
            out[k] = {}
    if "admin_password" in values:
        out["admin_password"] = True
    return out


def _key_sort(k: Any) -> tuple[int, Any]:
    return (0, k) if isinstance(k, int) else (1, k)


def state_v4(envs: dict[str, Env], keying: str = "index", extra: list[dict[str, Any]] | None = None,
             serial: int = 57) -> dict[str, Any]:
    """The state Terraform writes after applying `write_config(style=keying)` with `envs`.

    keying: index -> disks keyed "0", "1", ... (for_each over the list index); count -> 0, 1, ...;
    stable -> "vm-lun". `extra` adds instances: {"env", "type", "key", "attributes"}."""
    resources: dict[tuple[str, str], dict[str, Any]] = {}

    def add(env: Env, rtype: str, name: str, key: Any, attrs: dict[str, Any], deps: list[str], schema: int,
            private: str) -> None:
        mod = f'module.disks["{env.name}"]'
        r = resources.setdefault((mod, f"{rtype}.{name}"), {
            "module": mod, "mode": "managed", "type": rtype, "name": name, "provider": PROVIDER, "instances": []})
        r["instances"].append({
            "index_key": key, "schema_version": schema, "attributes": attrs, "sensitive_attributes": [],
            "identity_schema_version": 0, "private": private, "dependencies": deps,
        })

    for e in envs.values():
        for vm in e.vms:
            add(e, "azurerm_network_interface", "nic", vm.name, nic_attributes(e, vm), [], 0, _private())
            add(e, "azurerm_linux_virtual_machine", "vm", vm.name, vm_attributes(e, vm),
                ["module.disks.azurerm_network_interface.nic"], 0, _private())
        for i, (vm, d) in enumerate(flattened(e)):
            key: Any = {"index": str(i), "count": i, "stable": f"{vm.name}-{d.lun}"}[keying]
            add(e, "azurerm_managed_disk", "data", key, disk_attributes(e, vm, d), [], 1, _private("1"))
            add(e, "azurerm_virtual_machine_data_disk_attachment", "data", key, attachment_attributes(e, vm, d),
                ["module.disks.azurerm_linux_virtual_machine.vm", "module.disks.azurerm_managed_disk.data",
                 "module.disks.azurerm_network_interface.nic"], 0, _private())
    for x in extra or []:
        e = envs[x["env"]]
        rtype = x["type"]
        add(e, rtype, "data", x["key"], x["attributes"], [], 1 if rtype == "azurerm_managed_disk" else 0,
            _private("1" if rtype == "azurerm_managed_disk" else None))
    # version4.go normalize(): resources sorted by module, mode, type, name; instances by key
    out = sorted(resources.values(), key=lambda r: (r["module"], r["mode"], r["type"], r["name"]))
    for r in out:
        r["instances"].sort(key=lambda i: _key_sort(i["index_key"]))
    return {"version": 4, "terraform_version": "1.12.2", "serial": serial,
            "lineage": "8a1f4c6e-2b3d-4e5f-9a7b-1c2d3e4f5a6b", "outputs": {}, "resources": out, "check_results": None}


def show_json(v4: dict[str, Any]) -> dict[str, Any]:
    """`terraform show -json` of the same state (format_version 1.0)."""
    modules: dict[str, list[dict[str, Any]]] = {}
    for r in v4["resources"]:
        for inst in r["instances"]:
            key = inst.get("index_key")
            k = "" if key is None else (f"[{key}]" if isinstance(key, int) else f'["{key}"]')
            res = {
                "address": f'{r["module"]}.{r["type"]}.{r["name"]}{k}', "mode": r["mode"], "type": r["type"],
                "name": r["name"], "provider_name": "registry.terraform.io/hashicorp/azurerm",
                "schema_version": inst["schema_version"], "values": copy.deepcopy(inst["attributes"]),
                "sensitive_values": _sensitive(inst["attributes"]),
            }
            if key is not None:
                res["index"] = key
            if inst.get("dependencies"):
                res["depends_on"] = inst["dependencies"]
            if inst.get("status") == "tainted":
                res["tainted"] = True
            if inst.get("deposed"):
                res["deposed_key"] = inst["deposed"]
            modules.setdefault(r["module"], []).append(res)
    children = [{"resources": sorted(rs, key=lambda x: x["address"]), "address": addr}
                for addr, rs in sorted(modules.items())]
    return {"format_version": "1.0", "terraform_version": v4["terraform_version"],
            "values": {"root_module": {"child_modules": children}}}


def write_state(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


# --- reading the emitted artifacts back ----------------------------------------------------------------


def _strip(expr: str) -> str:
    assert expr.startswith("${") and expr.endswith("}")
    return expr[2:-1]


def parse_moved(text: str) -> list[tuple[str, str]]:
    return [(_strip(b["from"]), _strip(b["to"])) for b in hcl2.loads(text)["moved"]]


def parse_sh(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if line.startswith("terraform state mv "):
            argv = shlex.split(line)
            assert argv[:3] == ["terraform", "state", "mv"] and len(argv) == 5
            out.append((argv[3], argv[4]))
    return out


_PS = re.compile(r"^Move-TerraformState '((?:[^']|'')*)' '((?:[^']|'')*)'$")


def parse_pwsh(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        m = _PS.match(line)
        if m:
            out.append((m.group(1).replace("''", "'"), m.group(2).replace("''", "'")))
    return out


def parse_json(text: str) -> list[tuple[str, str]]:
    return [(m["from"], m["to"]) for m in json.loads(text)]
