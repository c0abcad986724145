"""Template deployments over HTTPS: ARM's LRO, dependency order, outputs, validate, operations, the template
errors, preflight refusals and deployment failures with the failing resources' own errors.

The emulator's clock is frozen (scale 1e-6) and moved with the control API, so each assertion sees one exact
moment of the deployment: nothing here depends on real time.
"""

from __future__ import annotations

import copy

import pytest

from conftest import put_rg
from refit.arm.armexpr import unique_string
from refit.platform import skus

API = "2025-04-01"
RG = "rg1"


@pytest.fixture
def dep(raw, sub):
    put_rg(raw, sub, RG, "eastus")
    assert raw.post("/_refit/clock", json={"scale": 0.000001}).status_code == 200
    return Deployer(raw, sub)


class Deployer:
    def __init__(self, raw, sub):
        self.raw, self.sub = raw, sub
        self.rg_id = f"/subscriptions/{sub}/resourceGroups/{RG}"

    def id(self, name, scope=None):
        return f"{scope or self.rg_id}/providers/Microsoft.Resources/deployments/{name}"

    def rid(self, rtype, *names):
        ns, *types = rtype.split("/")
        return f"{self.rg_id}/providers/{ns}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))

    def put(self, name, template, parameters=None, scope=None, **extra):
        body = {"properties": {"mode": "Incremental", "template": template,
                               "parameters": {k: {"value": v} for k, v in (parameters or {}).items()}}, **extra}
        return self.raw.put(self.id(name, scope), params={"api-version": API}, json=body)

    def validate(self, name, template, parameters=None):
        body = {"properties": {"mode": "Incremental", "template": template,
                               "parameters": {k: {"value": v} for k, v in (parameters or {}).items()}}}
        return self.raw.post(self.id(name) + "/validate", params={"api-version": API}, json=body)

    def get(self, path, api=API):
        return self.raw.get(path, params={"api-version": api})

    def advance(self, seconds):
        assert self.raw.post("/_refit/clock", json={"advance": seconds}).status_code == 200

    def settle(self, status_url, step=300):
        """Move the clock on until the deployment's operation ends: each of its steps starts the writes now ready,
        which take their own (simulated) time; a chain of N dependencies takes N moves."""
        for _ in range(20):
            body = self.raw.get(status_url).json()
            if body["status"] not in ("Accepted", "Running"):
                return body
            self.advance(step)
        raise AssertionError(f"the deployment did not end: {body}")


def disk(name, sku="Premium_LRS", size=8, **extra):
    return {"type": "Microsoft.Compute/disks", "apiVersion": "2023-04-02", "name": name,
            "location": "[resourceGroup().location]", "sku": {"name": sku},
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size}, **extra}


TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "prefix": {"type": "string", "defaultValue": "app"},
        "count": {"type": "int", "defaultValue": 2},
        "sku": {"type": "string", "allowedValues": ["Premium_LRS", "StandardSSD_LRS"]},
    },
    "variables": {"diskPrefix": "[concat(parameters('prefix'), '-data-')]"},
    "resources": [
        disk("[format('{0}{1}', variables('diskPrefix'), copyIndex(1))]", "[parameters('sku')]",
             copy={"name": "diskLoop", "count": "[parameters('count')]"}, tags={"index": "[string(copyIndex())]"}),
        {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01",
         "name": "[concat(parameters('prefix'), '-nsg')]", "location": "[resourceGroup().location]",
         "dependsOn": ["diskLoop"],
         "properties": {"copy": [{"name": "securityRules", "count": 2, "input": {
             "name": "[concat('rule', copyIndex('securityRules'))]",
             "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "access": "Allow",
                            "direction": "Inbound", "protocol": "Tcp", "sourcePortRange": "*",
                            "destinationPortRange": "22", "sourceAddressPrefix": "*",
                            "destinationAddressPrefix": "*"}}}]}},
        disk("only-on-ssd", "StandardSSD_LRS", condition="[equals(parameters('sku'), 'StandardSSD_LRS')]"),
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner",
         "dependsOn": ["[resourceId('Microsoft.Network/networkSecurityGroups', concat(parameters('prefix'), '-nsg'))]"],
         "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                        "parameters": {"name": {"value": "[concat(parameters('prefix'), '-ip')]"}},
                        "template": {"parameters": {"name": {"type": "string"}}, "resources": [
                            {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-04-01",
                             "name": "[parameters('name')]", "location": "[resourceGroup().location]",
                             "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}],
                            "outputs": {"ipName": {"type": "string", "value": "[parameters('name')]"}}}}},
    ],
    "outputs": {
        "diskIds": {"type": "array", "copy": {"count": "[parameters('count')]", "input":
                    "[resourceId('Microsoft.Compute/disks', format('{0}{1}', variables('diskPrefix'), copyIndex(1)))]"}},
        "ruleCount": {"type": "int", "value": "[length(reference(concat(parameters('prefix'), '-nsg')).securityRules)]"},
        "ipName": {"type": "string", "value": "[reference('inner').outputs.ipName.value]"},
        "suffix": {"type": "string", "value": "[uniqueString(resourceGroup().id)]"},
    },
}


def test_a_template_deploys_in_dependency_order_through_arms_lro(dep, raw, server):
    r = dep.put("d1", TEMPLATE, {"sku": "Premium_LRS", "count": 3})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["id"], body["name"], body["type"]) == (dep.id("d1"), "d1", "Microsoft.Resources/deployments")
    assert body["properties"]["provisioningState"] == "Accepted"
    assert body["properties"]["parameters"] == {"prefix": {"type": "String", "value": "app"},
                                                "count": {"type": "Int", "value": 3},
                                                "sku": {"type": "String", "value": "Premium_LRS"}}
    status_url = r.headers["Azure-AsyncOperation"]
    assert status_url.startswith(f"{server.url}{dep.id('d1')}/operationStatuses/")
    assert status_url.endswith(f"?api-version={API}") and "Location" not in r.headers
    assert raw.get(status_url).json() == {"status": "Accepted"}

    disks = [dep.rid("Microsoft.Compute/disks", f"app-data-{i}") for i in (1, 2, 3)]
    nsg = dep.rid("Microsoft.Network/networkSecurityGroups", "app-nsg")
    dep.advance(2)  # the engine's first step: the copy loop starts, the NSG waits for all of it (dependsOn)
    assert raw.get(status_url).json() == {"status": "Running"}
    assert [dep.get(d, "2025-01-02").json()["properties"]["provisioningState"] for d in disks] == ["Creating"] * 3
    assert dep.get(nsg, "2023-04-01").status_code == 404

    assert dep.settle(status_url) == {"status": "Succeeded"}
    got = dep.get(dep.id("d1")).json()["properties"]
    assert got["provisioningState"] == "Succeeded"
    assert got["outputs"] == {"diskIds": {"type": "Array", "value": disks},
                              "ruleCount": {"type": "Int", "value": 2},
                              "ipName": {"type": "String", "value": "app-ip"},
                              "suffix": {"type": "String", "value": unique_string(dep.rg_id)}}
    inner, ip = dep.id("inner"), dep.rid("Microsoft.Network/publicIPAddresses", "app-ip")
    assert sorted(o["id"] for o in got["outputResources"]) == sorted([*disks, nsg, inner])
    assert [(d["resourceName"], [x["resourceName"] for x in d["dependsOn"]]) for d in got["dependencies"]] == [
        ("app-nsg", ["app-data-1", "app-data-2", "app-data-3"]), ("inner", ["app-nsg"])]
    ops = dep.get(dep.id("d1") + "/operations").json()["value"]
    assert sorted((o["properties"]["targetResource"]["id"], o["properties"]["provisioningState"],
                   o["properties"]["statusCode"]) for o in ops) == sorted(
        [(d, "Succeeded", "Accepted") for d in disks] + [(nsg, "Succeeded", "Created"), (inner, "Succeeded", "Created")])
    one = ops[0]
    assert dep.get(f"{dep.id('d1')}/operations/{one['operationId']}").json() == one

    # What was deployed, read back.
    shown = [dep.get(d, "2025-01-02").json() for d in disks]
    assert [(s["sku"]["name"], s["properties"]["diskSizeGB"], s["tags"], s["properties"]["provisioningState"])
            for s in shown] == [("Premium_LRS", 8, {"index": str(i)}, "Succeeded") for i in range(3)]
    rules = dep.get(nsg, "2023-04-01").json()["properties"]["securityRules"]
    assert [(x["name"], x["id"], x["properties"]["priority"]) for x in rules] == [
        ("rule0", f"{nsg}/securityRules/rule0", 100), ("rule1", f"{nsg}/securityRules/rule1", 101)]
    assert dep.get(dep.rid("Microsoft.Compute/disks", "only-on-ssd"), "2025-01-02").status_code == 404
    nested = dep.get(inner).json()["properties"]
    assert (nested["provisioningState"], nested["outputs"]) == ("Succeeded", {"ipName": {"type": "String",
                                                                                           "value": "app-ip"}})
    assert dep.get(ip, "2023-04-01").json()["sku"] == {"name": "Standard"}
    # A deployment's record is not a resource of the group.
    listed = {x["type"] for x in dep.get(f"{dep.rg_id}/resources", "2024-11-01").json()["value"]}
    assert listed == {"Microsoft.Compute/disks", "Microsoft.Network/networkSecurityGroups",
                      "Microsoft.Network/publicIPAddresses"}
    assert [d["name"] for d in dep.get(f"{dep.rg_id}/providers/Microsoft.Resources/deployments").json()["value"]] == [
        "d1", "inner"]
    exported = raw.post(dep.id("d1") + "/exportTemplate", params={"api-version": API}).json()
    assert exported == {"template": TEMPLATE}

    # DELETE removes the record, not what it deployed.
    r = raw.delete(dep.id("d1"), params={"api-version": API})
    assert r.status_code == 202 and "Location" in r.headers
    dep.advance(60)
    assert dep.get(dep.id("d1")).json() == {"error": {"code": "DeploymentNotFound",
                                                      "message": "Deployment 'd1' could not be found."}}
    assert dep.get(nsg, "2023-04-01").status_code == 200


def test_validate_answers_what_would_deploy_and_deploys_nothing(dep):
    r = dep.validate("v1", TEMPLATE, {"sku": "StandardSSD_LRS"})
    assert r.status_code == 200, r.text
    p = r.json()["properties"]
    assert p["provisioningState"] == "Succeeded"
    # The NSG and the nested deployment read nothing of the runtime; the outputs are not evaluated.
    assert [v["id"] for v in p["validatedResources"]] == [
        dep.rid("Microsoft.Compute/disks", "app-data-1"), dep.rid("Microsoft.Compute/disks", "app-data-2"),
        dep.rid("Microsoft.Network/networkSecurityGroups", "app-nsg"), dep.rid("Microsoft.Compute/disks", "only-on-ssd")]
    assert dep.get(dep.rid("Microsoft.Compute/disks", "app-data-1"), "2025-01-02").status_code == 404
    assert dep.get(dep.id("v1")).status_code == 404


ENVELOPE = "Deployment template validation failed: '{}'."


@pytest.mark.parametrize(("change", "params", "message"), [
    (None, {}, ENVELOPE.format("The value for the template parameter 'sku' is not provided. Please see "
                               "https://aka.ms/arm-deploy/#parameter-file for usage details.")),
    (None, {"sku": "Standard_LRS"}, ENVELOPE.format(
        "The provided value 'Standard_LRS' for the template parameter 'sku' is not valid. The parameter value is not "
        "part of the allowed value(s): 'Premium_LRS,StandardSSD_LRS'.")),
    (None, {"sku": "Premium_LRS", "count": "two"}, ENVELOPE.format(
        "Template parameter JToken type is not valid. Expected 'Integer'. Actual 'String'. Please see "
        "https://aka.ms/arm-syntax-parameters for usage details.")),
    (None, {"sku": "Premium_LRS", "colour": "red"}, ENVELOPE.format(
        "The template parameters 'colour' in the parameters file are not valid; they are not present in the original "
        "template and can therefore not be provided at deployment time. The only supported parameters for this "
        "template are 'prefix, count, sku'. Please see https://aka.ms/arm-deploy/#parameter-file for usage details.")),
    ({"dependsOn": ["Microsoft.Network/virtualNetworks/nowhere"]}, {"sku": "Premium_LRS"}, ENVELOPE.format(
        "The resource 'Microsoft.Network/virtualNetworks/nowhere' is not defined in the template. Please see "
        "https://aka.ms/arm-syntax for usage details.")),
    ({"dependsOn": ["[resourceId('Microsoft.Network/networkSecurityGroups', 'app-nsg')]"]}, {"sku": "Premium_LRS"},
     ENVELOPE.format("Circular dependency detected on resource: 'Microsoft.Compute/disks/app-data-1'. Please see "
                     "https://aka.ms/arm-syntax for usage details.")),
    ({"name": "[concat('d-', parameters('nope'))]"}, {"sku": "Premium_LRS"},
     "Deployment template language expression evaluation failed: 'name: parameter 'nope' is not declared'. Please see "
     "https://aka.ms/arm-template-expressions for usage details."),
])
def test_the_template_errors_arm_answers_before_deploying(dep, change, params, message):
    template = copy.deepcopy(TEMPLATE)
    if change:
        template["resources"][0].update(change)
    for call in (dep.put, dep.validate):
        r = call("bad", template, params)
        assert (r.status_code, r.json()) == (400, {"error": {"code": "InvalidTemplate", "message": message}})
    assert dep.get(dep.id("bad")).status_code == 404


def test_the_request_must_be_a_deployment(dep, raw):
    def put(body):
        return raw.put(dep.id("x"), params={"api-version": API}, json=body).json()["error"]

    assert put({}) == {"code": "InvalidRequestContent", "message": "The request content was invalid and could not be "
                       "deserialized: 'Required property 'properties' not found in JSON. Path ''.'."}
    assert put({"properties": {"template": TEMPLATE}})["message"].endswith("'mode' not found in JSON. Path 'properties'.'.")
    assert put({"properties": {"mode": "Complete", "template": TEMPLATE}})["message"] == (
        "The request content was invalid and could not be deserialized: 'Error converting value \"Complete\" to type "
        "'DeploymentMode'. Path 'properties.mode'.'.")
    link = put({"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}}})
    assert link["code"] == "InvalidContentLink"
    assert link["message"].startswith("Unable to download deployment content from 'https://example.com/t.json'.")
    # The template may come as a JSON string, comments and all (models.tsp: "JObject or well-formed JSON string").
    r = raw.put(dep.id("s"), params={"api-version": API}, json={"properties": {
        "mode": "Incremental", "template": '{"resources": [ // none\n ], "outputs": {"x": {"type": "int", "value": 3}}}'}})
    assert r.status_code == 201
    assert dep.settle(r.headers["Azure-AsyncOperation"]) == {"status": "Succeeded"}
    assert dep.get(dep.id("s")).json()["properties"]["outputs"] == {"x": {"type": "Int", "value": 3}}


def _vm(name, size, nic, os_disk_name=None):
    osd = {"createOption": "FromImage"}
    if os_disk_name:
        osd["name"] = os_disk_name
    return {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-07-01", "name": name,
            "location": "[resourceGroup().location]", "dependsOn": [f"Microsoft.Network/networkInterfaces/{nic}"],
            "properties": {
                "hardwareProfile": {"vmSize": size},
                "storageProfile": {"osDisk": osd, "imageReference": {
                    "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
                    "version": "latest"}},
                "osProfile": {"computerName": name, "adminUsername": "azureuser",
                              "linuxConfiguration": {"disablePasswordAuthentication": True}},
                "networkProfile": {"networkInterfaces": [
                    {"id": f"[resourceId('Microsoft.Network/networkInterfaces', '{nic}')]"}]}}}


def _nic(name):
    return {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-04-01", "name": name,
            "location": "[resourceGroup().location]", "properties": {"ipConfigurations": []}}


def test_preflight_refuses_a_resource_its_provider_refuses(dep):
    template = {"resources": [_nic("nic1"), _vm("vm1", "Banana", "nic1")]}
    valid = ",".join(s.name for s in skus.sizes_in("eastus"))
    inner = {"code": "InvalidParameter", "target": "vmSize",
             "message": f"The value Banana provided for the VM size is not valid. The valid sizes in the current region "
                        f"are: {valid}. Find out more on the valid VM sizes in each region at https://aka.ms/azure-regions."}
    for call in (dep.put, dep.validate):
        r = call("pre", template)
        err = r.json()["error"]
        assert (r.status_code, err["code"]) == (400, "InvalidTemplateDeployment")
        assert err["message"].startswith("The template deployment 'pre' is not valid according to the validation "
                                         "procedure. The tracking id is '")
        assert err["details"] == [{"code": "PreflightValidationCheckFailed", "message": "Preflight validation failed. "
                                   "Please refer to the details for the specific errors.", "details": [inner]}]
    assert dep.get(dep.id("pre")).status_code == 404
    assert dep.get(dep.rid("Microsoft.Network/networkInterfaces", "nic1"), "2023-04-01").status_code == 404


def test_a_resource_failing_while_deploying_fails_the_deployment_with_its_own_error(dep, raw):
    # vm1 is refused only once deployed: its size comes from a resource of the template (reference(), which
    # preflight does not evaluate); vm2's OS disk name is taken, which fails its operation (rule VM7); vm2's
    # extension depends on it and is never deployed; the NSG depends on nothing and is deployed.
    taken = dep.rid("Microsoft.Compute/disks", "taken-os")
    assert raw.put(taken, params={"api-version": "2025-01-02"}, json={
        "location": "eastus", "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 30}}).status_code in (200, 201, 202)
    dep.advance(30)
    sized = _vm("vm1", "[reference('nic1', '2023-04-01', 'Full').tags.size]", "nic1")
    template = {"resources": [
        {**_nic("nic1"), "tags": {"size": "Banana"}}, _nic("nic2"), sized, _vm("vm2", "Standard_D2s_v5", "nic2", "taken-os"),
        {"type": "Microsoft.Compute/virtualMachines/extensions", "apiVersion": "2024-07-01", "name": "vm2/health",
         "location": "eastus", "dependsOn": ["vm2"], "properties": {
             "publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "typeHandlerVersion": "2.0"}},
        {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01", "name": "free",
         "location": "eastus", "properties": {}}]}
    r = dep.put("f1", template)
    assert r.status_code == 201, r.text
    status_url = r.headers["Azure-AsyncOperation"]
    dep.settle(status_url)
    vm1, vm2 = dep.rid("Microsoft.Compute/virtualMachines", "vm1"), dep.rid("Microsoft.Compute/virtualMachines", "vm2")
    refused = {"code": "InvalidParameter", "target": "vmSize", "message": (
        "The value Banana provided for the VM size is not valid. The valid sizes in the current region are: "
        f"{','.join(s.name for s in skus.sizes_in('eastus'))}. Find out more on the valid VM sizes in each region at "
        "https://aka.ms/azure-regions.")}
    conflict = {"code": "ConflictingUserInput", "target": taken,
                "message": f"Disk taken-os already exists in resource group {RG.upper()}. Only CreateOption.Attach is "
                           "supported."}
    failed = {"code": "DeploymentFailed", "target": dep.id("f1"), "message": (
        "At least one resource deployment operation failed. Please list deployment operations for details. Please see "
        "https://aka.ms/arm-deployment-operations for usage details."), "details": [
        refused,
        {"code": "ResourceDeploymentFailure", "target": vm2, "message": "The resource write operation failed to "
         "complete successfully, because it reached terminal provisioning state 'Failed'.", "details": [conflict]}]}
    assert raw.get(status_url).json() == {"status": "Failed", "error": failed}
    got = dep.get(dep.id("f1")).json()["properties"]
    assert (got["provisioningState"], got["error"]) == ("Failed", failed)
    ops = {o["properties"]["targetResource"]["resourceName"]: o["properties"]
           for o in dep.get(dep.id("f1") + "/operations").json()["value"]}
    assert sorted(ops) == ["free", "nic1", "nic2", "vm1", "vm2"]  # the extension never started
    assert (ops["vm1"]["provisioningState"], ops["vm1"]["statusCode"], ops["vm1"]["statusMessage"]) == (
        "Failed", "BadRequest", {"status": "Failed", "error": refused})
    assert (ops["vm2"]["provisioningState"], ops["vm2"]["statusCode"]) == ("Failed", "Conflict")
    assert ops["free"]["provisioningState"] == "Succeeded"
    assert dep.get(vm1, "2026-04-01").status_code == 404
    assert dep.get(vm2, "2026-04-01").json()["properties"]["provisioningState"] == "Failed"
    assert dep.get(vm2 + "/extensions/health", "2026-04-01").status_code == 404


def test_a_running_deployment_is_not_replaced(dep):
    template = {"resources": [disk("d0")]}
    first = dep.put("busy", template)
    assert first.status_code == 201
    r = dep.put("busy", template)
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (409, "DeploymentActive")
    assert err["message"].startswith("Unable to edit or replace deployment 'busy': previous deployment from '")
    assert err["message"].endswith("'). Please see https://aka.ms/arm-deploy for usage details.")
    assert dep.settle(first.headers["Azure-AsyncOperation"]) == {"status": "Succeeded"}
    assert dep.put("busy", template).status_code == 200  # finished: a new run of the same name


def test_a_subscription_deployment_creates_a_group_and_deploys_into_it(dep, raw, sub):
    scope = f"/subscriptions/{sub}"
    template = {"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
                "resources": [
                    {"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2024-11-01", "name": "rg-new",
                     "location": "westus2", "tags": {"team": "platform"}},
                    {"type": "Microsoft.Resources/deployments", "apiVersion": "2024-11-01", "name": "into-rg",
                     "resourceGroup": "rg-new", "dependsOn": ["rg-new"],
                     "properties": {"mode": "Incremental", "template": {"resources": [disk("d-in-new", size=4)]}}}],
                "outputs": {"name": {"type": "string", "value": "[deployment().name]"},
                            "sub": {"type": "string", "value": "[subscription().subscriptionId]"}}}
    r = dep.put("sub1", template, scope=scope, location="westus2")
    assert r.status_code == 201, r.text
    assert dep.settle(r.headers["Azure-AsyncOperation"]) == {"status": "Succeeded"}
    got = dep.get(dep.id("sub1", scope)).json()
    assert (got["location"], got["properties"]["provisioningState"]) == ("westus2", "Succeeded")
    assert got["properties"]["outputs"] == {"name": {"type": "String", "value": "sub1"},
                                            "sub": {"type": "String", "value": sub}}
    rg = dep.get(f"{scope}/resourceGroups/rg-new", "2024-11-01").json()
    assert (rg["location"], rg["tags"]) == ("westus2", {"team": "platform"})
    d = dep.get(f"{scope}/resourceGroups/rg-new/providers/Microsoft.Compute/disks/d-in-new", "2025-01-02").json()
    assert (d["location"], d["properties"]["diskSizeGB"]) == ("westus2", 4)
