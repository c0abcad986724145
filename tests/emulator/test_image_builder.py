"""Issue 14, scope item 1: Azure Image Builder templates and the RBAC they need, over HTTPS (raw requests: neither
azure-mgmt-imagebuilder nor azure-mgmt-authorization is a test dependency).

The clock is frozen (scale 1e-9) and moved only by the control API, so every phase of a build happens at an exact
simulated time: Queued 60 s, Building 600 s, 300 s a customizer, 300 s capture (refit.platform.timing), then the
gallery's own version capture (300 s) and each further region's replication (1500 s)."""

from __future__ import annotations

import copy
import json
import re

import pytest

from refit.platform import authorization as rbac
from refit.platform.cloud import Cloud
from refit.platform.rules import RULES

RG = "rg-aib"
API = {"aib": "2024-02-01", "gallery": "2024-03-03", "msi": "2024-11-30", "auth": "2022-04-01",
       "roles": "2022-05-01-preview"}
CUSTOM_ROLE = "0d3e4f5a-2c3d-4e4f-8a5b-c3d4e5f6a7b8"
ASSIGNMENT = "1e4f5a6b-3d4e-4f5a-9b6c-d4e5f6a7b8c9"
READ_ONLY_ROLE = "2f5a6b7c-4e5f-4a6b-8c7d-e5f6a7b8c9d0"
UBUNTU = {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
          "sku": "22_04-lts-gen2", "version": "latest"}
GALLERY_ACTIONS = ["Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/images/read",
                   "Microsoft.Compute/galleries/images/versions/read", "Microsoft.Compute/galleries/images/versions/write"]


# ---- helpers -----------------------------------------------------------------------------------------------------
def _rg(sub: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}"


def _ids(sub: str) -> dict[str, str]:
    rg = _rg(sub)
    gal = f"{rg}/providers/Microsoft.Compute/galleries/gal"
    return {"rg": rg, "gallery": gal, "definition": f"{gal}/images/app",
            "identity": f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib",
            "role": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{CUSTOM_ROLE}",
            "assignment": f"{rg}/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}",
            "templates": f"{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates"}


def _freeze(raw) -> None:
    assert raw.post("/_refit/clock", json={"scale": 1e-9}).status_code == 200


def _advance(raw, seconds: float) -> None:
    assert raw.post("/_refit/clock", json={"advance": seconds}).status_code == 200


def _put(raw, path: str, api: str, body, status=(200, 201)):
    r = raw.put(path, params={"api-version": API[api]}, json=body)
    assert r.status_code in status, r.text
    return r


def _get(raw, path: str, api: str, **params):
    return raw.get(path, params={"api-version": API[api], **params})


def _world(raw, sub, actions=GALLERY_ACTIONS) -> dict[str, str]:
    """A resource group with a gallery definition, an identity and a custom role holding `actions` on the group."""
    _freeze(raw)
    ids = _ids(sub)
    r = raw.put(ids["rg"], params={"api-version": "2024-11-01"}, json={"location": "eastus"})
    assert r.status_code in (200, 201), r.text
    _put(raw, ids["gallery"], "gallery", {"location": "eastus"})
    _advance(raw, 20)
    _put(raw, ids["definition"], "gallery", {"location": "eastus", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "app", "sku": "v2"},
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}})
    _advance(raw, 20)
    ident = _put(raw, ids["identity"], "msi", {"location": "eastus"}).json()
    ids["principal"] = ident["properties"]["principalId"]
    _put(raw, ids["role"], "roles", {"properties": {
        "roleName": "aib-distribute", "permissions": [{"actions": actions}], "assignableScopes": [ids["rg"]]}})
    _put(raw, ids["assignment"], "auth", {"properties": {
        "roleDefinitionId": ids["role"], "principalId": ids["principal"], "principalType": "ServicePrincipal"}})
    return ids


def _template(ids: dict[str, str], inline=None, **props) -> dict:
    body = {"location": "eastus",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ids["identity"]: {}}},
            "properties": {"buildTimeoutInMinutes": 120, "source": copy.deepcopy(UBUNTU),
                           "customize": [{"type": "Shell", "name": "install",
                                          "inline": inline or ["set -euo pipefail", "sudo apt-get -y install nginx"]}],
                           "distribute": [{"type": "SharedImage", "galleryImageId": ids["definition"],
                                           "runOutputName": "app-out",
                                           "targetRegions": [{"name": "eastus", "replicaCount": 1},
                                                             {"name": "westus3", "replicaCount": 1}]}]}}
    body["properties"].update(props)
    return body


def _submit(raw, ids, name: str, body: dict) -> str:
    path = f"{ids['templates']}/{name}"
    r = _put(raw, path, "aib", body, status=(201,))
    assert "Azure-AsyncOperation" in r.headers
    assert r.json()["properties"]["provisioningState"] == "Creating"
    _advance(raw, 30)  # aib.submit
    assert _get(raw, path, "aib").json()["properties"]["provisioningState"] == "Succeeded"
    return path


def _run(raw, path: str) -> str:
    r = raw.post(f"{path}/run", params={"api-version": API["aib"]})
    assert r.status_code == 202, r.text
    assert "Location" in r.headers and r.content == b""
    return r.headers["Azure-AsyncOperation"]


def _status(raw, path: str) -> dict:
    return _get(raw, path, "aib").json()["properties"]["lastRunStatus"]


def _versions(raw, ids) -> list[str]:
    r = _get(raw, f"{ids['definition']}/versions", "gallery")
    return sorted(x["name"] for x in r.json()["value"])


# ---- submission -------------------------------------------------------------------------------------------------
def _bad(section, field, value):
    return RULES["AIB2"].errors[1].message.format(section=section, field=field, value=value)


def _missing(section, field):
    return RULES["AIB2"].errors[0].message.format(section=section, field=field)


def _edit(path: str, value):
    def apply(body):
        node = body
        *head, last = path.split(".")
        for k in head:
            node = node[int(k)] if isinstance(node, list) else node[k]
        if value is _DROP:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return apply


_DROP = object()
S = "ImageTemplate.properties"
MISSING_IMAGE = "/subscriptions/{sub}/resourceGroups/rg-aib/providers/Microsoft.Compute/images/nope"


@pytest.mark.parametrize(("edit", "message"), [
    (_edit("properties.source.type", "ISO"), _bad(f"{S}.source", "type", "ISO")),
    (_edit("properties.source", {"type": "ManagedImage", "imageId": MISSING_IMAGE}),
     _bad(f"{S}.source", "imageId", MISSING_IMAGE)),
    (_edit("properties.source.sku", "18.04-LTS"), _bad(f"{S}.source", "sku", "18.04-LTS")),
    (_edit("properties.source.version", "22.04.0"), _bad(f"{S}.source", "version", "22.04.0")),
    (_edit("properties.customize.0.scriptUri", "https://example.com/x.sh"),
     _bad(f"{S}.customize[0]", "scriptUri", "https://example.com/x.sh")),
    (_edit("properties.customize.0", {"type": "Shell", "name": "empty"}), _missing(f"{S}.customize[0]",
                                                                                   "scriptUri or inline")),
    (_edit("properties.customize.0", {"type": "Ansible"}), _bad(f"{S}.customize[0]", "type", "Ansible")),
    (_edit("properties.customize.0", {"type": "File", "sourceUri": "https://example.com/a"}),
     _missing(f"{S}.customize[0]", "destination")),
    (_edit("properties.distribute.0.galleryImageId", _DROP), _missing(f"{S}.distribute[0]", "galleryImageId")),
    (_edit("properties.distribute.0.replicationRegions", ["eastus"]),
     _bad(f"{S}.distribute[0]", "replicationRegions", '["eastus"]')),
    (_edit("properties.distribute.0.targetRegions.0.replicaCount", 0),
     _bad(f"{S}.distribute[0].targetRegions[0]", "replicaCount", "0")),
    (_edit("properties.distribute", []), _bad(S, "distribute", "[]")),
    (_edit("properties.buildTimeoutInMinutes", 961), _bad(S, "buildTimeoutInMinutes", "961")),
    (_edit("properties.vmProfile", {"osDiskSizeGB": -1}), _bad(f"{S}.vmProfile", "osDiskSizeGB", "-1")),
    (_edit("identity.type", "SystemAssigned"), _bad("ImageTemplate.identity", "type", "SystemAssigned")),
])
def test_a_template_azure_cannot_accept_is_refused_with_validation_failed(raw, sub, edit, message):
    ids = _world(raw, sub)
    body = _template(ids)
    edit(body)
    body = json.loads(json.dumps(body).replace("{sub}", sub))
    r = raw.put(f"{ids['templates']}/bad", params={"api-version": API["aib"]}, json=body)
    assert (r.status_code, r.json()) == (400, {"error": {"code": "ValidationFailed",
                                                         "message": message.replace("{sub}", sub)}})
    assert _get(raw, f"{ids['templates']}/bad", "aib").status_code == 404


def test_the_identity_must_exist_and_be_the_only_one(raw, sub):
    ids = _world(raw, sub)
    ghost = ids["identity"].replace("id-aib", "ghost")
    body = _template(ids)
    body["identity"]["userAssignedIdentities"] = {ghost: {}}
    r = raw.put(f"{ids['templates']}/t", params={"api-version": API["aib"]}, json=body)
    assert (r.status_code, r.json()["error"]) == (400, {
        "code": "ValidationFailed", "message": "The assigned managed identity cannot be used. Please remove the "
        "existing one and re-assign a new identity. For more troubleshooting steps go to "
        "https://aka.ms/azvmimagebuilderts."})
    body["identity"]["userAssignedIdentities"] = {ids["identity"]: {}, ghost: {}}
    r = raw.put(f"{ids['templates']}/t", params={"api-version": API["aib"]}, json=body)
    assert r.json()["error"]["message"] == _bad("ImageTemplate.identity", "userAssignedIdentities",
                                                f"{ids['identity']},{ghost}")


def test_a_submitted_template_shows_its_identity_and_cannot_be_changed(raw, sub):
    ids = _world(raw, sub)
    body = _template(ids)
    path = _submit(raw, ids, "t1", body)
    got = _get(raw, path, "aib").json()
    principal = got["identity"]["userAssignedIdentities"][ids["identity"]]["principalId"]
    assert principal == ids["principal"]
    assert re.fullmatch(rf"/subscriptions/{sub}/resourceGroups/IT_{RG}_t1_[0-9a-f-]{{36}}",
                        got["properties"]["exactStagingResourceGroup"])
    assert "lastRunStatus" not in got["properties"]
    # The same template again is accepted; a change is Azure's 409 (rule AIB1); tags change through PATCH.
    assert raw.put(path, params={"api-version": API["aib"]}, json=body).status_code == 200
    _advance(raw, 30)
    changed = copy.deepcopy(body)
    changed["properties"]["buildTimeoutInMinutes"] = 90
    r = raw.put(path, params={"api-version": API["aib"]}, json=changed)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "Conflict")
    assert r.json()["error"]["message"].startswith("Update/Upgrade of image templates is currently not supported.")
    r = raw.patch(path, params={"api-version": API["aib"]}, json={"tags": {"owner": "platform"}})
    assert r.status_code == 200, r.text


# ---- builds ------------------------------------------------------------------------------------------------------
def test_a_build_runs_on_the_clock_and_publishes_a_replicating_version(raw, sub):
    ids = _world(raw, sub)
    path = _submit(raw, ids, "good", _template(ids))
    status_url = _run(raw, path)
    st = _status(raw, path)
    assert (st["runState"], st["runSubState"], st["message"]) == ("Running", "Queued", "")
    assert "endTime" not in st
    assert raw.get(status_url).json()["status"] == "InProgress"
    _advance(raw, 60)
    assert _status(raw, path)["runSubState"] == "Building"
    _advance(raw, 600)
    assert _status(raw, path)["runSubState"] == "Customizing"
    _advance(raw, 300)
    assert _status(raw, path)["runSubState"] == "Distributing"
    assert _versions(raw, ids) == []
    _advance(raw, 300)  # captured: the version is written, named by the Latest scheme
    assert _versions(raw, ids) == ["0.0.1"]
    version = f"{ids['definition']}/versions/0.0.1"
    rs = _get(raw, version, "gallery", **{"$expand": "ReplicationStatus"}).json()["properties"]["replicationStatus"]
    assert rs["aggregatedState"] == "InProgress"
    assert _status(raw, path)["runState"] == "Running"
    _advance(raw, 300)  # captured in eastus; westus3 replicates (1500 s) and the build waits for it
    rs = _get(raw, version, "gallery", **{"$expand": "ReplicationStatus"}).json()["properties"]["replicationStatus"]
    assert [(s["region"], s["state"]) for s in rs["summary"]] == [("East US", "Completed"),
                                                                  ("West US 3", "Replicating")]
    assert _status(raw, path)["runState"] == "Running"
    _advance(raw, 1500)
    st = _status(raw, path)
    assert (st["runState"], st["runSubState"], st["message"]) == ("Succeeded", "Distributing", "")
    assert st["endTime"] > st["startTime"]
    assert raw.get(status_url).json()["status"] == "Succeeded"
    out = _get(raw, f"{path}/runOutputs/app-out", "aib").json()
    assert out == {"id": f"{path}/runOutputs/app-out", "name": "app-out",
                   "type": "Microsoft.VirtualMachineImages/imageTemplates/runOutputs",
                   "properties": {"provisioningState": "Succeeded", "artifactId": version}}
    assert [x["name"] for x in _get(raw, f"{path}/runOutputs", "aib").json()["value"]] == ["app-out"]
    assert _get(raw, path, "aib").json()["properties"]["source"]["exactVersion"] == "22.04.202611180"
    # A second run writes the next patch version.
    _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300 + 300 + 1500)
    assert _status(raw, path)["runState"] == "Succeeded"
    assert _versions(raw, ids) == ["0.0.1", "0.0.2"]


def test_a_customizer_that_exits_non_zero_fails_the_build(raw, sub, server):
    ids = _world(raw, sub)
    path = _submit(raw, ids, "broken", _template(ids, inline=["sudo apt-get -y install nginx", "exit 1"]))
    status_url = _run(raw, path)
    _advance(raw, 60 + 600 + 300)
    st = _status(raw, path)
    staging = _get(raw, path, "aib").json()["properties"]["exactStagingResourceGroup"]
    run = server.emulator.priv(path)["run"]
    message = RULES["AIB8"].errors[0].message.format(
        logs=f"{staging}/providers/Microsoft.Storage/storageAccounts/{run['storage']}/blobServices/default/containers/"
             f"packerlogs/{run['folder']}/customization.log", operation=run["operation"])
    assert (st["runState"], st["runSubState"], st["message"]) == ("Failed", "Customizing", message)
    assert message.startswith("During the image build a failure has occurred. Packer build logs are at location ")
    op = raw.get(status_url).json()
    assert (op["status"], op["error"]) == ("Failed", {"code": "PackerBuildFailed", "message": message})
    # The customization log names the customizer that failed.
    assert run["log"] == ["(telemetry) Starting provisioner shell (install)",
                          "==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]"]
    assert _versions(raw, ids) == []
    assert _get(raw, f"{path}/runOutputs", "aib").json()["value"] == []


def test_seed_001_row_1_a_missing_permission_fails_the_build_at_distribution(raw, sub):
    ids = _world(raw, sub, actions=GALLERY_ACTIONS[:3])  # no Microsoft.Compute/galleries/images/versions/write
    path = _submit(raw, ids, "denied", _template(ids))
    status_url = _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300)
    st = _status(raw, path)
    version = f"{ids['definition']}/versions/0.0.1"
    auth = (f"The client '{ids['principal']}' with object id '{ids['principal']}' does not have authorization to "
            f"perform action 'Microsoft.Compute/galleries/images/versions/write' over scope '{version}' or the scope "
            "is invalid. If access was recently granted, please refresh your credentials.")
    message = (f"Failed in distributing 1 images out of total 1: {{[Error 0] [Distribute 0] Error publishing MDI to "
               f"Azure Compute Gallery:{ids['definition']}, Location:eastus. Error: Error returned from SIG client while "
               f"publishing MDI to Azure Compute Gallery for dstImageLocation: eastus, dstSubscription: {sub}, "
               f"dstResourceGroupName: {RG}, dstGalleryName: gal, dstGalleryImageName: app. Error: "
               "compute.GalleryImageVersionsClient#CreateOrUpdate: Failure responding to request: StatusCode=403 -- "
               "Original Error: autorest/azure: Service returned an error. Status=403 Code=\"AuthorizationFailed\" "
               f"Message=\"{auth}\"}}")
    assert (st["runState"], st["runSubState"], st["message"]) == ("Failed", "Distributing", message)
    assert raw.get(status_url).json()["error"] == {"code": "InternalOperationError", "message": message}
    assert _versions(raw, ids) == []
    out = _get(raw, f"{path}/runOutputs/app-out", "aib").json()["properties"]
    assert out == {"provisioningState": "Failed", "artifactId": version}
    # Granting the action fixes the next run.
    _put(raw, ids["role"], "roles", {"properties": {"roleName": "aib-distribute", "permissions": [
        {"actions": GALLERY_ACTIONS}], "assignableScopes": [ids["rg"]]}})
    _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300 + 300 + 1500)
    assert _status(raw, path)["runState"] == "Succeeded"


def test_seed_001_row_12_a_script_without_set_e_ships_a_broken_image(raw, sub):
    ids = _world(raw, sub)
    inline = ["sudo apt-get update", "false", "echo 'baked' | sudo tee /etc/image-build-stamp"]
    path = _submit(raw, ids, "lenient", _template(ids, inline=inline))
    _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300 + 300 + 1500)
    assert _status(raw, path)["runState"] == "Succeeded"
    version = f"{ids['definition']}/versions/0.0.1"
    assert raw.get("/_refit/health-model").json()["images"] == {version: {"state": "unhealthy"}}
    # With set -e, the same failing command fails the build instead.
    strict = _submit(raw, ids, "strict", _template(ids, inline=["set -e", *inline]))
    _run(raw, strict)
    _advance(raw, 60 + 600 + 300)
    assert _status(raw, strict)["runState"] == "Failed"
    # A failing last command fails the script even without set -e.
    last = _submit(raw, ids, "last", _template(ids, inline=["echo start", "false"]))
    _run(raw, last)
    _advance(raw, 60 + 600 + 300)
    assert _status(raw, last)["runState"] == "Failed"


def test_a_scenario_can_mark_a_command_as_failing(raw, sub):
    ids = _world(raw, sub)
    yaml = f"""
name: aib-marked
resources:
  - id: {ids['templates']}/marked
    location: eastus
    identity: {{type: UserAssigned, userAssignedIdentities: {{"{ids['identity']}": {{}}}}}}
    properties:
      source: {{type: PlatformImage, publisher: Canonical, offer: 0001-com-ubuntu-server-jammy,
               sku: 22_04-lts-gen2, version: latest}}
      customize: [{{type: Shell, name: cis, inline: ["set -euo pipefail", "sudo ./cis-baseline.sh"]}}]
      distribute: [{{type: SharedImage, galleryImageId: "{ids['definition']}", runOutputName: out}}]
    refit: {{failing_commands: ["sudo ./cis-baseline.sh"]}}
"""
    r = raw.post("/_refit/scenario", json={"yaml": yaml, "reset": False})
    assert r.status_code == 200, r.text
    path = f"{ids['templates']}/marked"
    _run(raw, path)
    _advance(raw, 60 + 600 + 300)
    assert _status(raw, path)["runState"] == "Failed"


def test_a_build_can_be_canceled_and_is_not_deleted_while_it_runs(raw, sub):
    ids = _world(raw, sub)
    path = _submit(raw, ids, "long", _template(ids))
    status_url = _run(raw, path)
    _advance(raw, 100)
    r = raw.delete(path, params={"api-version": API["aib"]})
    assert (r.status_code, r.json()["error"]) == (409, {
        "code": "OperationNotAllowed", "message": "Operation Microsoft.VirtualMachineImages/imageTemplates/delete "
        "is not allowed in provisioning state: provisioned or run state: running."})
    r = raw.post(f"{path}/run", params={"api-version": API["aib"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "OperationNotAllowed")
    r = raw.post(f"{path}/cancel", params={"api-version": API["aib"]})
    assert r.status_code == 202
    cancel_url = r.headers["Azure-AsyncOperation"]
    assert _status(raw, path)["runState"] == "Canceling"
    _advance(raw, 60)
    st = _status(raw, path)
    assert (st["runState"], st["runSubState"]) == ("Canceled", "Building")
    assert raw.get(cancel_url).json()["status"] == "Succeeded"
    assert raw.get(status_url).json()["status"] == "Canceled"
    _advance(raw, 3600)
    assert _versions(raw, ids) == []
    r = raw.post(f"{path}/cancel", params={"api-version": API["aib"]})
    assert r.json()["error"]["message"].endswith("run state: canceled.")
    assert raw.delete(path, params={"api-version": API["aib"]}).status_code == 202
    _advance(raw, 120)
    assert _get(raw, path, "aib").status_code == 404


def test_a_build_that_outlasts_its_timeout_fails(raw, sub):
    ids = _world(raw, sub)
    path = _submit(raw, ids, "slow", _template(ids, buildTimeoutInMinutes=10))
    _run(raw, path)
    _advance(raw, 600)
    st = _status(raw, path)
    assert (st["runState"], st["message"]) == ("Failed", "Failed in building/customizing image: Failed while waiting "
                                               "for packerizer: Timeout waiting for microservice to complete: "
                                               "'context deadline exceeded'")


def test_the_rollout_scenario_bakes_the_next_payments_version(raw, sub):
    r = raw.post("/_refit/scenario", json={"name": "rollout"})
    assert r.status_code == 200, r.text
    _freeze(raw)
    rg = f"/subscriptions/{sub}/resourceGroups/rg-payments"
    path = f"{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates/aib-payments"
    ident = _get(raw, f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib", "msi").json()
    assert ident["properties"]["principalId"] == "5f1c2d3e-0a1b-4c2d-8e3f-a1b2c3d4e5f6"
    assignments = raw.get(f"{rg}/providers/Microsoft.Authorization/roleAssignments",
                          params={"api-version": API["auth"], "$filter": f"principalId eq '{ident['properties']['principalId']}'"})
    assert [a["properties"]["scope"] for a in assignments.json()["value"]] == [rg]
    _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300 + 300)
    assert _status(raw, path)["runState"] == "Succeeded"
    versions = _get(raw, f"{rg}/providers/Microsoft.Compute/galleries/galPayments/images/payments-auth/versions",
                    "gallery").json()["value"]
    assert sorted(v["name"] for v in versions) == ["1.6.0", "1.6.1"]
    new = next(v for v in versions if v["name"] == "1.6.1")
    assert new["tags"] == {"source": "aib"}
    assert new["properties"]["publishingProfile"]["targetRegions"] == [
        {"name": "East US", "regionalReplicaCount": 3, "storageAccountType": "Standard_ZRS", "excludeFromLatest": False}]


# ---- identities and RBAC -------------------------------------------------------------------------------------------
def test_a_user_assigned_identity_gets_its_principal(raw, sub):
    ids = _ids(sub)
    raw.put(ids["rg"], params={"api-version": "2024-11-01"}, json={"location": "eastus"})
    r = _put(raw, ids["identity"], "msi", {"location": "eastus"}, status=(201,))
    p = r.json()["properties"]
    guid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    assert guid.match(p["principalId"]) and guid.match(p["clientId"]) and p["principalId"] != p["clientId"]
    assert p["tenantId"] == raw.get(f"/subscriptions/{sub}", params={"api-version": "2024-11-01"}).json()["tenantId"]
    again = _put(raw, ids["identity"], "msi", {"location": "eastus", "tags": {"a": "b"}}, status=(200,)).json()
    assert again["properties"] == p


def test_role_assignments_at_every_scope(raw, sub):
    ids = _world(raw, sub)
    auth = {"api-version": API["auth"]}
    contributor = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{rbac.CONTRIBUTOR}"
    # Built-in roles, as az role definition list finds them.
    r = raw.get(f"{ids['rg']}/providers/Microsoft.Authorization/roleDefinitions",
                params={"api-version": API["roles"], "$filter": "roleName eq 'Contributor'"})
    (c,) = r.json()["value"]
    assert (c["id"], c["name"], c["properties"]["type"]) == (contributor, rbac.CONTRIBUTOR, "BuiltInRole")
    assert "Microsoft.Authorization/*/Write" in c["properties"]["permissions"][0]["notActions"]
    assert raw.get(f"/providers/Microsoft.Authorization/roleDefinitions/{rbac.READER}",
                   params={"api-version": API["roles"]}).json()["properties"]["permissions"][0]["actions"] == ["*/read"]
    # An assignment at the subscription, one at the gallery (a resource scope), and the group's from _world.
    at_sub = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/{READ_ONLY_ROLE}"
    r = raw.put(at_sub, params=auth, json={"properties": {"roleDefinitionId": contributor,
                                                          "principalId": ids["principal"]}})
    assert r.status_code == 201, r.text
    assert r.json() == {"id": at_sub, "name": READ_ONLY_ROLE, "type": "Microsoft.Authorization/roleAssignments",
                        "properties": {"roleDefinitionId": contributor, "principalId": ids["principal"],
                                       "principalType": "User", "scope": f"/subscriptions/{sub}",
                                       "createdOn": r.json()["properties"]["createdOn"],
                                       "updatedOn": r.json()["properties"]["updatedOn"]}}
    at_gallery = f"{ids['gallery']}/providers/Microsoft.Authorization/roleAssignments/3a6b7c8d-5f6a-4b7c-9d8e-f6a7b8c9d0e1"
    r = raw.put(at_gallery, params=auth, json={"properties": {
        "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{rbac.READER}",
        "principalId": ids["principal"], "principalType": "ServicePrincipal"}})
    assert r.status_code == 201 and r.json()["properties"]["scope"] == ids["gallery"], r.text
    assert raw.get(at_gallery, params=auth).json()["properties"]["roleDefinitionId"].endswith(rbac.READER)

    def names(scope, flt=None):
        q = {**auth, **({"$filter": flt} if flt else {})}
        return sorted(a["name"] for a in raw.get(f"{scope}/providers/Microsoft.Authorization/roleAssignments",
                                                 params=q).json()["value"])

    everything = sorted([READ_ONLY_ROLE, ASSIGNMENT, "3a6b7c8d-5f6a-4b7c-9d8e-f6a7b8c9d0e1"])
    assert names(f"/subscriptions/{sub}") == everything  # at, above and below
    assert names(ids["rg"], "atScope()") == sorted([READ_ONLY_ROLE, ASSIGNMENT])  # at or above
    assert names(ids["gallery"], f"principalId eq '{ids['principal']}'") == everything
    assert names(ids["rg"], "principalId eq '00000000-0000-0000-0000-000000000000'") == []
    # Azure's refusals.
    r = raw.put(at_sub.replace(READ_ONLY_ROLE, "4b7c8d9e-6a7b-4c8d-8e9f-a7b8c9d0e1f2"), params=auth, json={
        "properties": {"roleDefinitionId": contributor, "principalId": ids["principal"]}})
    assert (r.status_code, r.json()["error"]) == (409, {"code": "RoleAssignmentExists",
                                                        "message": "The role assignment already exists."})
    r = raw.put(at_sub, params=auth, json={"properties": {"roleDefinitionId": contributor,
                                                          "principalId": "5c8d9e0f-7b8c-4d9e-9f0a-b8c9d0e1f2a3"}})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "RoleAssignmentUpdateNotPermitted")
    r = raw.put(at_sub.replace(READ_ONLY_ROLE, "6d9e0f1a-8c9d-4e0f-8a1b-c9d0e1f2a3b4"), params=auth, json={
        "properties": {"roleDefinitionId": contributor.replace(rbac.CONTRIBUTOR, "deadbeef-0000-4000-8000-000000000000"),
                       "principalId": ids["principal"]}})
    assert (r.status_code, r.json()["error"]) == (400, {
        "code": "RoleDefinitionDoesNotExist",
        "message": "The specified role definition with ID 'deadbeef-0000-4000-8000-000000000000' does not exist."})
    r = raw.put(f"{ids['rg']}/providers/Microsoft.Authorization/roleAssignments/7e0f1a2b-9d0e-4f1a-9b2c-d0e1f2a3b4c5",
                params=auth, json={"properties": {"roleDefinitionId": contributor, "principalId": "me"}})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "PrincipalNotFound")
    r = raw.delete(ids["role"], params={"api-version": API["roles"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "RoleDefinitionHasAssignments")
    r = raw.put(f"/subscriptions/{sub}/resourceGroups/nope/providers/Microsoft.Authorization/roleAssignments/"
                f"{ASSIGNMENT}", params=auth, json={"properties": {}})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ResourceGroupNotFound")
    # DELETE answers the assignment, then there is none.
    r = raw.delete(at_gallery, params=auth)
    assert r.status_code == 200 and r.json()["name"] == "3a6b7c8d-5f6a-4b7c-9d8e-f6a7b8c9d0e1"
    r = raw.get(at_gallery, params=auth)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "RoleAssignmentNotFound")
    assert raw.delete(at_gallery, params=auth).status_code == 204
    r = raw.get(f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/"
                "deadbeef-0000-4000-8000-000000000000", params={"api-version": API["roles"]})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "RoleDefinitionDoesNotExist")
    assert raw.delete(ids["assignment"], params=auth).status_code == 200
    assert raw.delete(ids["role"], params={"api-version": API["roles"]}).status_code == 200


# ---- allowed() -----------------------------------------------------------------------------------------------------
def _cloud_with(assignments: list[tuple[str, str, str]], custom: dict[str, dict] | None = None) -> Cloud:
    c = Cloud()
    for name, perms in (custom or {}).items():
        c.world.add({"id": f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{name}", "name": name,
                     "type": rbac.ROLE_DEFINITION, "properties": {"roleName": name, "type": "CustomRole",
                                                                 "permissions": [perms], "assignableScopes": ["/"]}})
    for n, (principal, role, scope) in enumerate(assignments):
        c.world.add({"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{n}", "name": str(n),
                     "type": rbac.ROLE_ASSIGNMENT, "properties": {
                         "principalId": principal, "scope": scope,
                         "roleDefinitionId": f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{role}"}})
    return c


RGA = "/subscriptions/s/resourceGroups/a"
GAL_A = f"{RGA}/providers/Microsoft.Compute/galleries/g"


@pytest.mark.parametrize(("role", "scope", "action", "at", "expected"), [
    (rbac.OWNER, RGA, "Microsoft.Authorization/roleAssignments/write", GAL_A, True),
    (rbac.CONTRIBUTOR, RGA, "Microsoft.Compute/galleries/images/versions/write", f"{GAL_A}/images/d/versions/1.0.0", True),
    (rbac.CONTRIBUTOR, RGA, "Microsoft.Authorization/roleAssignments/write", GAL_A, False),  # */Write notAction
    (rbac.CONTRIBUTOR, RGA, "microsoft.authorization/roleassignments/WRITE", GAL_A, False),  # case-insensitive
    (rbac.CONTRIBUTOR, RGA, "Microsoft.Compute/galleries/share/action", GAL_A, False),
    (rbac.READER, RGA, "Microsoft.Compute/galleries/images/read", f"{GAL_A}/images/d", True),
    (rbac.READER, RGA, "Microsoft.Compute/galleries/images/write", f"{GAL_A}/images/d", False),
    (rbac.READER, "/subscriptions/s", "Microsoft.Compute/disks/read", f"{RGA}/providers/Microsoft.Compute/disks/x", True),
    (rbac.READER, RGA, "Microsoft.Compute/disks/read", "/subscriptions/s/resourceGroups/b", False),  # not inherited up
    (rbac.READER, "/subscriptions/s/resourceGroups/aa", "Microsoft.Compute/disks/read", f"{RGA}/x", False),  # prefix
    (rbac.MANAGED_IDENTITY_OPERATOR, RGA, "Microsoft.ManagedIdentity/userAssignedIdentities/x/assign/action", RGA, True),
    ("compute-no-delete", RGA, "Microsoft.Compute/virtualMachines/write", RGA, True),
    ("compute-no-delete", RGA, "Microsoft.Compute/virtualMachines/delete", RGA, False),
    ("compute-no-delete", RGA, "Microsoft.Network/virtualNetworks/write", RGA, False),
    ("nothing", RGA, "Microsoft.Compute/virtualMachines/read", RGA, False),
])
def test_allowed_evaluates_wildcards_not_actions_and_inheritance(role, scope, action, at, expected):
    c = _cloud_with([("p1", role, scope)], custom={
        "compute-no-delete": {"actions": ["Microsoft.Compute/*"], "notActions": ["*/delete"]},
        "nothing": {"actions": [], "notActions": []}})
    assert rbac.allowed(c, "p1", action, at) is expected
    assert rbac.allowed(c, "P1", action, at) is expected  # object ids compare ignoring case
    assert rbac.allowed(c, "someone-else", action, at) is False


def test_allowed_is_the_union_of_a_principals_roles():
    c = _cloud_with([("p1", rbac.READER, RGA), ("p1", "writer", GAL_A)],
                    custom={"writer": {"actions": ["Microsoft.Compute/galleries/images/versions/write"]}})
    assert rbac.allowed(c, "p1", "Microsoft.Compute/galleries/images/versions/write", f"{GAL_A}/images/d/versions/2.0.0")
    assert not rbac.allowed(c, "p1", "Microsoft.Compute/galleries/images/versions/write",
                            f"{RGA}/providers/Microsoft.Compute/galleries/other/images/d/versions/2.0.0")
    assert rbac.allowed(c, "p1", "Microsoft.Compute/galleries/read", GAL_A)
    assert rbac.matches("*/read", "Microsoft.Compute/galleries/read")
    assert not rbac.matches("*/read", "Microsoft.Compute/galleries/write")
    assert rbac.matches("Microsoft.Compute/*", "Microsoft.Compute/virtualMachines/start/action")
    assert not rbac.matches("Microsoft.Compute/*", "Microsoft.ComputeX/virtualMachines/read")


def test_a_source_the_identity_cannot_read_fails_the_building_step(raw, sub):
    ids = _world(raw, sub)  # the custom role has no Microsoft.Compute/images/read
    image = f"{ids['rg']}/providers/Microsoft.Compute/images/golden"
    r = raw.put(image, params={"api-version": "2026-04-01"}, json={"location": "eastus", "properties": {
        "hyperVGeneration": "V2", "storageProfile": {"osDisk": {
            "osType": "Linux", "osState": "Generalized", "blobUri": "https://sa.blob.core.windows.net/v/os.vhd"}}}})
    assert r.status_code in (200, 201), r.text
    _advance(raw, 90)
    path = _submit(raw, ids, "from-image", _template(ids, source={"type": "ManagedImage", "imageId": image}))
    _run(raw, path)
    _advance(raw, 60)
    st = _status(raw, path)
    auth = (f"The client '{ids['principal']}' with object id '{ids['principal']}' does not have authorization to "
            f"perform action 'Microsoft.Compute/images/read' over scope '{image}' or the scope is invalid. If access "
            "was recently granted, please refresh your credentials.")
    assert (st["runState"], st["runSubState"]) == ("Failed", "Building")
    assert st["message"] == (f"Build (Managed Image) step failed: Error getting Managed Image '{image}': Error getting "
                             f"managed image ({RG}, golden): compute.ImagesClient#Get: Failure responding to request: "
                             "StatusCode=403 -- Original Error: autorest/azure: Service returned an error. "
                             f"Status=403 Code=\"AuthorizationFailed\" Message=\"{auth}\"")


def test_targets_that_partly_fail_leave_the_run_partially_succeeded(raw, sub):
    ids = _world(raw, sub)  # gallery actions only: the managed image target cannot be written
    image = f"{ids['rg']}/providers/Microsoft.Compute/images/app-mi"
    distribute = [
        {"type": "SharedImage", "galleryImageId": f"{ids['definition']}/versions/2.0.0", "runOutputName": "sig",
         "replicationRegions": ["eastus"], "artifactTags": {"baseline": "cis"}},
        {"type": "ManagedImage", "imageId": image, "location": "eastus", "runOutputName": "mi"},
        {"type": "VHD", "runOutputName": "vhd"}]
    path = _submit(raw, ids, "multi", _template(ids, distribute=distribute))
    status_url = _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300 + 300)
    st = _status(raw, path)
    assert st["runState"] == "PartiallySucceeded"
    assert st["message"].startswith(f"Failed in distributing 1 images out of total 3: {{[Distribute 1] Error creating "
                                    f"Managed Image '{image}': compute.ImagesClient#CreateOrUpdate: ")
    assert "'Microsoft.Compute/images/write'" in st["message"]
    assert raw.get(status_url).json()["error"]["code"] == "InternalOperationError"
    outs = {o["name"]: o["properties"] for o in _get(raw, f"{path}/runOutputs", "aib").json()["value"]}
    assert outs["sig"] == {"provisioningState": "Succeeded", "artifactId": f"{ids['definition']}/versions/2.0.0"}
    assert outs["mi"] == {"provisioningState": "Failed", "artifactId": image}
    assert outs["vhd"]["provisioningState"] == "Succeeded"
    assert re.fullmatch(r"https://[0-9a-f]{24}\.blob\.core\.windows\.net/vhds/multi-[0-9a-f]{8}\.vhd",
                        outs["vhd"]["artifactUri"])
    assert _versions(raw, ids) == ["2.0.0"]
    assert _get(raw, f"{ids['definition']}/versions/2.0.0", "gallery").json()["tags"] == {"baseline": "cis"}
    # The same explicit version again: the gallery refuses a new source for it (rule G8), so the run fails.
    _put(raw, ids["role"], "roles", {"properties": {"roleName": "aib-distribute", "permissions": [
        {"actions": list(rbac.IMAGE_BUILDER_ACTIONS)}], "assignableScopes": [ids["rg"]]}})
    _run(raw, path)
    _advance(raw, 60 + 600 + 300 + 300 + 300)
    st = _status(raw, path)
    assert st["runState"] == "PartiallySucceeded" and "Code=\"PropertyChangeNotAllowed\"" in st["message"]
    mi = raw.get(image, params={"api-version": "2026-04-01"}).json()
    assert mi["properties"]["storageProfile"]["osDisk"]["osState"] == "Generalized"
