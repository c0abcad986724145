"""The offline HCL evaluator: the semantics that decide instance keys, and refusing what it cannot do."""

from __future__ import annotations

from pathlib import Path

import pytest
import tf_fleet as F

from refit.terraform.config import Config, World
from refit.terraform.errors import InvalidExpression, Unsupported
from refit.terraform.state import State
from refit.terraform.values import HclSet, Unknown


def evaluate(tmp_path: Path, expr: str, extra: str = "", files: dict[str, str] | None = None):
    (tmp_path / "main.tf").write_text(f"{extra}\nlocals {{\n  x = {expr}\n}}\n")
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    cfg = Config(tmp_path)
    return World(cfg, State([], "v4")).root.local("x")


@pytest.mark.parametrize(("expr", "value"), [
    # a for over a list yields index keys, converted to strings
    ('{ for i, v in ["a", "b", "c"] : i => v }', {"0": "a", "1": "b", "2": "c"}),
    # maps iterate in lexical key order, whatever the written order
    ("[for k, v in { b = 1, a = 2, c = 3 } : k]", ["a", "b", "c"]),
    # sets of strings iterate lexically
    ('[for v in toset(["vm-b", "vm-a", "vm-c"]) : v]', ["vm-a", "vm-b", "vm-c"]),
    ("flatten([[1, [2, 3]], [], [4]])", [1, 2, 3, 4]),
    ('{ for v in ["a", "bb", "cc"] : length(v) => v... }', {"1": ["a"], "2": ["bb", "cc"]}),
    ('[for v in [1, 2, 3, 4] : v * 10 if v % 2 == 0]', [20, 40]),
    ('format("%s-data-%02d", "vm-app-01", 3)', "vm-app-01-data-03"),
    ('lookup({ a = 1 }, "b", "fallback")', "fallback"),
    ('merge({ a = 1, b = 2 }, null, { b = 3 })', {"a": 1, "b": 3}),
    ('1 + "2"', 3),
    ('"lun-${1 + 1}"', "lun-2"),
    ('"${[1, 2]}"', [1, 2]),  # a template that is one interpolation returns the value itself
    ('try({ a = 1 }.b, "default")', "default"),
    ("can({ a = 1 }.b)", False),
    ('jsondecode("{\\"n\\": 1.0, \\"l\\": [true, null]}")', {"n": 1, "l": [True, None]}),
    ('"%{ for n in ["a", "b"] }${n};%{ endfor }"', "a;b;"),
    ('"%{ if true ~} yes %{~ else } no %{ endif }"', "yes"),
    ('keys({ z = 1, a = 2 })', ["a", "z"]),
    ('[for s in setproduct(["vm1", "vm2"], [0, 1]) : "${s[0]}-${s[1]}"]', ["vm1-0", "vm1-1", "vm2-0", "vm2-1"]),
    ('distinct(concat(["a", "b"], ["b", "c"]))', ["a", "b", "c"]),
    ('coalesce("", null, "x")', "x"),
    ('upper(trimspace(" weu "))', "WEU"),
])
def test_values(tmp_path, expr, value):
    assert evaluate(tmp_path, expr) == value


def test_heredoc_with_interpolation(tmp_path):
    assert evaluate(tmp_path, '<<-EOT\n    disk ${var.n}\n      lun 0\n    EOT',
                    'variable "n" {\n  default = "vm1"\n}') == "disk vm1\n  lun 0\n"


def test_jsondecode_file_relative_to_the_root(tmp_path):
    got = evaluate(tmp_path, 'jsondecode(file("${path.module}/env.json")).vms[0].name',
                   files={"env.json": '{"vms": [{"name": "vm-app-01"}]}'})
    assert got == "vm-app-01"


def test_yamldecode_reads_yes_as_a_string_like_terraform(tmp_path):
    got = evaluate(tmp_path, 'yamldecode(file("env.yaml"))', files={"env.yaml": "a: yes\nb: true\nc: 1.0\n"})
    assert got == {"a": "yes", "b": True, "c": 1}


def test_set_typed_variable_converts_and_orders(tmp_path):
    got = evaluate(tmp_path, "[for v in var.vms : v]",
                   'variable "vms" {\n  type    = set(string)\n  default = ["b", "a", "b"]\n}')
    assert got == ["a", "b"]


def test_optional_attribute_defaults_are_applied(tmp_path):
    extra = ('variable "disks" {\n  type = list(object({\n    lun     = number\n    caching = optional(string, '
             '"ReadWrite")\n  }))\n  default = [{ lun = "1" }]\n}')
    assert evaluate(tmp_path, "var.disks", extra) == [{"lun": 1, "caching": "ReadWrite"}]


def test_duplicate_for_key_is_the_terraform_error(tmp_path):
    with pytest.raises(InvalidExpression) as e:
        evaluate(tmp_path, '{ for v in ["vm1", "vm1"] : v => v }')
    assert e.value.summary == "Duplicate object key"
    assert e.value.detail.startswith('Two different items produced the key "vm1" in this \'for\' expression.')
    assert e.value.where == f"{tmp_path.name}/main.tf:3"


def test_unsupported_function_is_refused_by_name_and_location(tmp_path):
    with pytest.raises(Unsupported) as e:
        evaluate(tmp_path, 'cidrsubnet("10.0.0.0/16", 8, 1)')
    assert e.value.message() == (f"{tmp_path.name}/main.tf:3: Unsupported function: cidrsubnet() is not "
                                 'evaluated offline by refit in `cidrsubnet("10.0.0.0/16", 8, 1)`')


def test_try_does_not_swallow_what_refit_cannot_evaluate(tmp_path):
    with pytest.raises(Unsupported):
        evaluate(tmp_path, 'try(cidrsubnet("10.0.0.0/16", 8, 1), "fallback")')


def test_data_sources_and_missing_state_are_unknown_not_guessed(tmp_path):
    got = evaluate(tmp_path, "data.azurerm_resource_group.rg.location",
                   'data "azurerm_resource_group" "rg" {\n  name = "rg"\n}')
    assert isinstance(got, Unknown)
    assert got.why == "data.azurerm_resource_group.rg (data sources are read when Terraform plans)"
    got = evaluate(tmp_path, "azurerm_resource_group.rg.id", 'resource "azurerm_resource_group" "rg" {\n  name = "x"\n}')
    assert got == Unknown("azurerm_resource_group.rg is not in the state (known after apply)")


def test_set_value_is_a_set(tmp_path):
    assert evaluate(tmp_path, 'toset(["b", "a"])') == HclSet(["a", "b"])


def test_for_each_over_a_data_source_is_unverified_and_named(tmp_path, run_json):
    envs = F.fleet()
    b = F.write_config(tmp_path / "before", envs, "index")
    a = F.write_config(tmp_path / "after", envs, "stable")
    mod = a / "modules" / "vm_disks" / "main.tf"
    text = mod.read_text().replace(
        'resource "azurerm_linux_virtual_machine" "vm" {\n  for_each              = { for vm in local.environment.vms : '
        "vm.name => vm }",
        'data "azurerm_resources" "vms" {\n  type = "Microsoft.Compute/virtualMachines"\n}\n\n'
        'resource "azurerm_linux_virtual_machine" "vm" {\n  for_each              = { for r in '
        "data.azurerm_resources.vms.resources : r.name => r }")
    mod.write_text(text)
    s = F.write_state(tmp_path / "state.json", F.state_v4(envs, "index"))
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 1
    line = text.splitlines().index('resource "azurerm_linux_virtual_machine" "vm" {') + 2
    where = f"after/modules/vm_disks/main.tf:{line}"
    vms = [r for r in report["proof"] if r["type"] == "azurerm_linux_virtual_machine"]
    assert len(vms) == 4 and {r["status"] for r in vms} == {"unverified"}
    assert vms[0]["detail"] == (
        "the instances of azurerm_linux_virtual_machine.vm cannot be computed offline: "
        f'{where}: Cannot evaluate for_each offline: module.disks["neu"].data.azurerm_resources.vms (data sources are '
        "read when Terraform plans) in `{ for r in data.azurerm_resources.vms.resources : r.name => r }`")
    assert {p["kind"] for p in report["problems"] if p["severity"] == "error"} == {"unevaluable"}
    assert report["artifact"] is None
