"""The one ARM template evaluator (refit.arm.armexpr + refit.arm.template), as the doctor and the platform's
deployments use it; and ARM's lenient JSON (refit.arm.jsonc)."""

from __future__ import annotations

import pytest

from refit.arm import jsonc
from refit.arm.armexpr import Unresolvable, evaluate_string, unique_string
from refit.arm.template import Template, TemplateError

SUB = "11111111-1111-1111-1111-111111111111"


@pytest.mark.parametrize(("values", "expected"), [
    # Outputs Azure returned for these inputs (Kingsland.ArmLinter ArmFunctions_UniqueString.cs).
    (("aaa",), "zavj67f3en4hc"), (("bbb",), "w5eragfxe33cy"), (("zzz",), "cryksdzzzawae"),
    (("xxx", "yyy", "zzz"), "lghi7k5js7itq"),
])
def test_unique_string_is_azures(values, expected):
    assert unique_string(*values) == expected


def tpl(doc, values=None, runtime=None):
    return Template(doc, values or {}, SUB, "rg1", "eastus", runtime)


class Runtime:
    def reference(self, target, api_version, full):
        return {"target": target, "api": api_version, "full": full}

    def deployment(self):
        return {"name": "dep"}

    def resource_group(self):
        return {"id": f"/subscriptions/{SUB}/resourceGroups/rg1", "name": "rg1", "location": "eastus"}

    def subscription(self):
        return {"subscriptionId": SUB, "tenantId": "t"}

    def providers(self, namespace, resource_type):
        return {"resourceType": resource_type, "apiVersions": ["2026-04-01"]}


def test_the_runtime_answers_what_only_a_deployment_knows():
    t = tpl({}, runtime=Runtime())
    assert evaluate_string("[reference('nic1', '2023-04-01', 'Full')]", t.scope) == {
        "target": "nic1", "api": "2023-04-01", "full": True}
    assert evaluate_string("[uniqueString(resourceGroup().id)]", t.scope) == unique_string(f"/subscriptions/{SUB}/"
                                                                                         "resourceGroups/rg1")
    assert evaluate_string("[deployment().name]", t.scope) == "dep"
    assert evaluate_string("[providers('Microsoft.Compute', 'virtualMachines').apiVersions[0]]", t.scope) == "2026-04-01"
    offline = tpl({})
    with pytest.raises(Unresolvable, match="reference\\(\\) is only known at deployment"):
        evaluate_string("[reference('nic1')]", offline.scope)


def test_parameters_variables_and_their_checks():
    doc = {"parameters": {"n": {"type": "int", "defaultValue": 2},
                          "sku": {"type": "string", "allowedValues": ["A", "B"]},
                          "tags": {"type": "object", "defaultValue": {"team": "[concat('x', 'y')]"}}},
           "variables": {"name": "[concat('vm-', parameters('sku'))]",
                         "copy": [{"name": "disks", "count": "[parameters('n')]",
                                   "input": {"lun": "[copyIndex('disks')]"}}]}}
    t = tpl(doc, {"sku": {"value": "B"}})
    t.check_parameters()
    assert (t.parameter("n"), t.parameter("tags"), t.variable("name")) == (2, {"team": "xy"}, "vm-B")
    assert t.variable("disks") == [{"lun": 0}, {"lun": 1}]
    with pytest.raises(TemplateError) as e:
        tpl(doc, {"sku": {"value": "C"}}).check_parameters()
    assert (e.value.kind, e.value.fields) == ("parameter-not-allowed", {"name": "sku", "value": "C", "allowed": "A,B"})
    with pytest.raises(TemplateError) as e:
        tpl(doc).check_parameters()
    assert (e.value.kind, e.value.fields) == ("missing-parameter", {"name": "sku"})
    with pytest.raises(TemplateError) as e:
        tpl(doc, {"sku": {"value": "A"}, "n": {"value": "2"}}).check_parameters()
    assert (e.value.kind, e.value.fields) == ("parameter-type", {"name": "n", "expected": "Integer", "actual": "String"})
    with pytest.raises(TemplateError) as e:
        tpl(doc, {"sku": {"value": "A"}, "x": {"value": 1}}).check_parameters()
    assert (e.value.kind, e.value.fields) == ("unknown-parameter", {"names": "x", "declared": "n, sku, tags"})


def test_resources_are_expanded_with_copies_conditions_and_children():
    doc = {"parameters": {"on": {"type": "bool", "defaultValue": False}},
           "resources": [
               {"type": "Microsoft.Compute/virtualMachines", "name": "[concat('vm', copyIndex())]",
                "copy": {"name": "vms", "count": 2},
                "resources": [{"type": "extensions", "name": "health", "properties": {"n": "[copyIndex()]"}}]},
               {"type": "Microsoft.Compute/disks", "name": "maybe", "condition": "[parameters('on')]"},
               {"type": "Microsoft.Network/virtualNetworks/subnets", "name": "vnet/s1"}]}
    t = tpl(doc)
    got = [(d.rtype, d.name, d.loop, d.parent, d.skipped) for d in t.declared(include_skipped=True)]
    ext = ("Microsoft.Compute/virtualMachines/extensions", "health")
    assert got == [
        ("Microsoft.Compute/virtualMachines", "vm0", "vms", None, False),
        (ext[0], "vm0/health", None, ("Microsoft.Compute/virtualMachines", "vm0"), False),
        ("Microsoft.Compute/virtualMachines", "vm1", "vms", None, False),
        (ext[0], "vm1/health", None, ("Microsoft.Compute/virtualMachines", "vm1"), False),
        ("Microsoft.Compute/disks", "maybe", None, None, True),
        ("Microsoft.Network/virtualNetworks/subnets", "vnet/s1", None, None, False)]
    assert [d.name for d in t.declared()] == ["vm0", "vm0/health", "vm1", "vm1/health", "vnet/s1"]
    child = next(d for d in t.declared() if d.name == "vm1/health")
    assert t.value(child.decl["properties"], child.scope) == {"n": 1}  # the parent's copy index


def test_property_copy_builds_the_array():
    t = tpl({})
    value = {"copy": [{"name": "dataDisks", "count": 3, "input": {"lun": "[copyIndex('dataDisks')]",
                                                                  "name": "[concat('d', copyIndex('dataDisks', 1))]"}}],
             "other": 1}
    assert t.value(value) == {"other": 1, "dataDisks": [{"lun": 0, "name": "d1"}, {"lun": 1, "name": "d2"},
                                                        {"lun": 2, "name": "d3"}]}


def test_arms_json_takes_comments_and_bare_names():
    # What az deployment group create sends (azure-cli resource/custom.py JsonCTemplatePolicy).
    text = ('{"properties": {"mode": "Incremental"}, template:{\n  // a comment\n  "a": [1, /* two */ 2],'
            ' b: "x: // not a comment"}}')
    assert jsonc.loads(text) == {"properties": {"mode": "Incremental"},
                                 "template": {"a": [1, 2], "b": "x: // not a comment"}}
    assert jsonc.loads(b'{"a": "b"}') == {"a": "b"}
    with pytest.raises(ValueError):
        jsonc.loads("{a: }")
