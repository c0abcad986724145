"""ARM templates: the expression subset, copy loops, conditions, nested deployments; unresolvable values make
the checks that read them `unknown`, never a false pass or fail."""

from __future__ import annotations

import json

import pytest

from refit.arm.armexpr import Scope, Unresolvable, evaluate_string
from refit.checks.run import run
from refit.sources import arm

SUB = "11111111-1111-1111-1111-111111111111"


def scope(**params):
    return Scope(lambda n: params[n], lambda n: {"prefix": "app"}[n], SUB, "rg1", None, {"vmLoop": 2})


@pytest.mark.parametrize("expr, value", [
    ("[parameters('n')]", 3),
    ("[concat(variables('prefix'), '-', string(parameters('n')))]", "app-3"),
    ("[format('{0}-{1:D3}', 'vm', copyIndex('vmLoop', 1))]", "vm-003"),
    ("[resourceId('Microsoft.Compute/galleries/images', 'g', 'd')]",
     f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/galleries/g/images/d"),
    ("[resourceId('rg2', 'Microsoft.Compute/disks', 'd')]",
     f"/subscriptions/{SUB}/resourceGroups/rg2/providers/Microsoft.Compute/disks/d"),
    ("[if(greater(parameters('n'), 2), createArray('1', '2', '3'), createArray('1'))]", ["1", "2", "3"]),
    ("[json('{\"a\": {\"b\": [5, 6]}}').a.b[1]]", 6),
    ("[union(createObject('a', 1), createObject('b', 2))]", {"a": 1, "b": 2}),
    ("[[not an expression]", "[not an expression]"),
    ("[resourceGroup().name]", "rg1"),
])
def test_expressions(expr, value):
    assert evaluate_string(expr, scope(n=3)) == value


@pytest.mark.parametrize("expr, reason", [
    ("[reference('x').outputs.id]", "reference() is only known at deployment"),
    ("[uniqueString(resourceGroup().id)]", "uniquestring() is only known at deployment"),
    ("[resourceGroup().location]", "resourceGroup().location"),
    ("[myns.fn(1)]", "myns.fn() is not supported"),
])
def test_unresolvable_expressions(expr, reason):
    with pytest.raises(Unresolvable) as e:
        evaluate_string(expr, scope())
    assert reason in str(e.value)


def vmss(name, props, **top):
    return {"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01", "name": name,
            "location": "[parameters('location')]", "zones": ["1", "2", "3"],
            "sku": {"name": "Standard_D2s_v5", "capacity": 3}, "properties": props, **top}


FLEX_TL = {"orchestrationMode": "Flexible", "platformFaultDomainCount": 1,
           "virtualMachineProfile": {"securityProfile": {"securityType": "TrustedLaunch"}}}


def write(tmp_path, template, params=None):
    (tmp_path / "t.json").write_text(json.dumps(template, indent=2))
    if params is not None:
        (tmp_path / "p.json").write_text(json.dumps({"parameters": {k: {"value": v} for k, v in params.items()}}))
        return tmp_path / "t.json", tmp_path / "p.json"
    return tmp_path / "t.json", None


def results(src, check):
    return {r.resource.rsplit("/", 1)[1]: (r.status, r.message) for r in run(src, only=[check]).results}


def test_unresolved_values_make_only_the_checks_reading_them_unknown(tmp_path):
    tpl = {"parameters": {"location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
                          "mode": {"type": "string"}},
           "resources": [
               vmss("known", {**FLEX_TL, "upgradePolicy": {"mode": "Rolling", "rollingUpgradePolicy": {
                   "maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20,
                   "maxUnhealthyUpgradedInstancePercent": 20, "pauseTimeBetweenBatches": "PT2M",
                   "rollbackFailedInstancesOnPolicyBreach": True}}}),
               vmss("runtime", {**FLEX_TL, "upgradePolicy": {"mode": "Rolling", "rollingUpgradePolicy": {
                   "maxBatchInstancePercent": "[reference('cfg').outputs.batch.value]",
                   "maxUnhealthyInstancePercent": 20, "maxUnhealthyUpgradedInstancePercent": 20,
                   "pauseTimeBetweenBatches": "PT2M", "rollbackFailedInstancesOnPolicyBreach": True}}}),
               vmss("noparam", {**FLEX_TL, "upgradePolicy": {"mode": "[parameters('mode')]"}}),
           ]}
    t, _ = write(tmp_path, tpl)
    src = arm.load(t)  # no parameters file, no --location
    batch = results(src, "RF-VMSS-005")
    assert batch["known"] == ("pass", "")
    assert batch["runtime"][0] == "unknown"
    assert "maxBatchInstancePercent" in batch["runtime"][1] and "reference() is only known at deployment" in batch["runtime"][1]
    assert batch["noparam"][0] == "unknown" and "parameter 'mode' has no value" in batch["noparam"][1]
    # RF-VMSS-009 also reads maxBatchInstancePercent; RF-VMSS-010 reads neither the mode nor the batch
    assert results(src, "RF-VMSS-009")["runtime"][0] == "unknown"
    assert {k: s for k, (s, _) in results(src, "RF-VMSS-010").items()} == {"known": "pass", "runtime": "pass", "noparam": "pass"}
    # the region is unknown without --location: the zone check cannot tell, and says why
    zone = results(src, "RF-VMSS-011")
    assert {s for s, _ in zone.values()} == {"unknown"} and "--location" in zone["known"][1]
    assert "resourceGroup().location is unknown (pass --location to resolve it)" in src.notes
    src2 = arm.load(t, location="East US")
    assert {s for s, _ in results(src2, "RF-VMSS-011").values()} == {"pass"}


def test_copy_condition_children_and_nested_deployments(tmp_path):
    tpl = {"parameters": {"location": {"type": "string", "defaultValue": "eastus"}, "count": {"type": "int"},
                          "withStd": {"type": "bool", "defaultValue": False}},
           "variables": {"gal": "galX"},
           "resources": [
               {"type": "Microsoft.Compute/galleries", "name": "[variables('gal')]", "location": "eastus",
                "resources": [{"type": "images", "name": "[format('def-{0}', copyIndex())]", "location": "eastus",
                               "copy": {"name": "defs", "count": "[parameters('count')]"},
                               "properties": {"hyperVGeneration": "V2"}}]},
               {"condition": "[parameters('withStd')]", "type": "Microsoft.Compute/galleries/images",
                "name": "galX/skipped", "location": "eastus", "properties": {}},
               {"condition": "[equals(reference('x').y, 1)]", "type": "Microsoft.Compute/galleries/images",
                "name": "galX/maybe", "location": "eastus", "properties": {}},
               {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner",
                "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental",
                               "parameters": {"defName": {"value": "[concat('in', 'ner')]"}},
                               "template": {"parameters": {"defName": {"type": "string"}},
                                            "resources": [{"type": "Microsoft.Compute/galleries/images",
                                                           "name": "[concat('galX/', parameters('defName'))]",
                                                           "location": "eastus",
                                                           "properties": {"features": [
                                                               {"name": "SecurityType",
                                                                "value": "TrustedLaunchSupported"}]}}]}}},
           ]}
    t, p = write(tmp_path, tpl, {"count": 2})
    src = arm.load(t, p, subscription=SUB, resource_group="rg-t")
    got = results(src, "RF-GAL-006")
    assert {k: s for k, (s, _) in got.items()} == {"def-0": "fail", "def-1": "fail", "maybe": "unknown", "inner": "pass"}
    assert "condition: reference() is only known at deployment" in got["maybe"][1]
    origin = src.origin(f"/subscriptions/{SUB}/resourceGroups/rg-t/providers/Microsoft.Compute/galleries/galX")
    assert origin.file == str(t) and origin.line is not None


def test_preflight_check_rolling_without_health_in_a_template(tmp_path):
    """RF-VMSS-003 only in templates and plans: Azure rejects it, live state cannot hold it."""
    tpl = {"parameters": {"location": {"type": "string", "defaultValue": "eastus"}},
           "resources": [vmss("nohealth", {**FLEX_TL, "upgradePolicy": {"mode": "Rolling"}}),
                         vmss("uniform-probe", {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Rolling"},
                                                "virtualMachineProfile": {"networkProfile": {"healthProbe": {
                                                    "id": "/subscriptions/s/resourceGroups/r/providers/"
                                                          "Microsoft.Network/loadBalancers/lb/probes/p"}}}})]}
    t, _ = write(tmp_path, tpl)
    got = results(arm.load(t), "RF-VMSS-003")
    assert got["nohealth"][0] == "fail" and "without the Application Health extension" in got["nohealth"][1]
    assert got["uniform-probe"] == ("pass", "")
