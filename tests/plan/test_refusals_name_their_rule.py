"""Issue 9: no "blocked by ?" anywhere. Every refusal the platform can give is planned against and names its
catalog rule.

Two tables drive the planner's own simulation (`Sim.run`, the very call `refit apply` sends, through the
effects and the rule catalog):
- every validator's violation of tests/rules/test_catalog.py, sent as the PUT (or DELETE) it describes on a
  world that holds its documents;
- every refusal the effects raise while they read a request or run an operation (the rules of stage
  "request" and "operation"), each with the smallest world and request that gets it.
Each outcome must be the exact answer and name exactly that rule. The wire's rules (api-version) never reach
the planner; tests/rules/test_catalog_mechanism.py checks them on the emulator. Last, `make_plan` on goals
the platform refuses reports blocked_by with the rule, its title and its source.
"""

from __future__ import annotations

import copy
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))
from rulekit import LOC, SUB, Case, cr, crg, definition, disk, gallery, platform, rid, vm, vmss
from test_catalog import IMG, VIOLATIONS

from refit.arm.world import World
from refit.ops import vocabulary as voc
from refit.ops.op import Op, Request
from refit.plan.goal import parse
from refit.plan.planner import make_plan
from refit.plan.sim import Sim, StepOutcome
from refit.platform import apis, writes
from refit.platform.effects import deployments
from refit.platform.rules import RULES
from refit.platform.rules.registry import OPERATION, REQUEST

Doc = dict[str, Any]
RG = {"id": f"/subscriptions/{SUB}/resourceGroups/rg", "name": "rg", "type": "Microsoft.Resources/resourceGroups",
      "location": LOC, "properties": {}}
VM_T = "Microsoft.Compute/virtualMachines"


def _nic(nic_id: str) -> Doc:
    return {"id": nic_id, "name": nic_id.rsplit("/", 1)[-1], "type": "Microsoft.Network/networkInterfaces",
            "location": LOC, "properties": {}}


def _complete(docs: list[Doc], new: Doc | None, rule: str) -> list[Doc]:
    """The documents a rulekit world leaves implicit: the NICs of its VMs and the OS disks they attach (rules
    VM5 and VM4 refuse a VM without them, before the rule a case is about). Not for VM5's own case."""
    have = {d["id"].lower() for d in docs}
    extra: list[Doc] = []
    for d in [*docs, *([new] if new else [])]:
        if d.get("type") != VM_T:
            continue
        if rule != "VM5":
            for n in d["properties"].get("networkProfile", {}).get("networkInterfaces", []):
                if n["id"].lower() not in have:
                    have.add(n["id"].lower())
                    extra.append(_nic(n["id"]))
        osd = d["properties"]["storageProfile"]["osDisk"]
        did = (osd.get("managedDisk") or {}).get("id")
        if osd.get("createOption") == "Attach" and did and did.lower() not in have:
            have.add(did.lower())
            extra.append(disk(did.rsplit("/", 1)[-1], zones=d.get("zones"), location=d.get("location", LOC)))
    return [*docs, *extra]


def _sim(docs: list[Doc], devices: list[Doc] | None = None) -> Sim:
    """A simulation of these documents, in resource group rg (which every request of the tables addresses), and of
    these Entra devices (as the live source reads them from Graph)."""
    if not any(d["id"] == RG["id"] for d in docs):
        docs = [RG, *docs]
    world = World(copy.deepcopy(docs))
    world.devices = copy.deepcopy(devices or [])
    return Sim.from_world(world)


def _answer(out: StepOutcome) -> tuple[int, str, str, str | None] | None:
    return None if out.ok or out.error is None else (out.error.status, out.error.code, out.error.message,
                                                      out.error.target)


# ---- every validator's violation, through the simulation ----------------------------------------------------
def _case_id(c: Case) -> str:
    return f"{c.rule}-{c.note or 'basic'}".replace(" ", "_")[:60]


@pytest.mark.parametrize("case", VIOLATIONS, ids=_case_id)
def test_a_validators_violation_is_planned_against_and_named(case: Case):
    docs = _complete([*case.world, *([case.old] if case.old else [])], case.new, case.rule)
    op = voc.delete(case.old["id"]) if case.new is None else voc.put(case.new["id"], copy.deepcopy(case.new), "write")
    out = _sim(docs).run(op)
    assert _answer(out) == case.error
    assert out.error.rule == case.rule
    assert out.rules == (case.rule,)


# ---- every refusal the effects raise ----------------------------------------------------------------------------
@dataclass
class Refusal:
    rule: str
    world: list[Doc]
    op: Op  # the step the planner would take
    error: tuple[int, str, str, str | None] | Any  # or, for an answer that quotes the time, made from the Sim
    note: str = ""
    busy: Op | None = None  # a step started (not finished) before `op`, leaving its operation in flight
    faults: dict[str, Any] = field(default_factory=dict)  # the emulator's faults (control API), e.g. no capacity
    health: dict[str, Any] = field(default_factory=dict)  # the health model (control API), e.g. an unhealthy image
    devices: list[Doc] = field(default_factory=list)  # the tenant's Entra devices (refit.platform.directory)


def _req(method: str, path: str, body: Any = None, api: str | None = None) -> Op:
    return Op("request", path, Request(method, path, api or apis.api_version_for(path), body))


VNET_TINY = {"id": rid("virtualNetworks", "vnet", ns="Microsoft.Network"), "name": "vnet",
             "type": "Microsoft.Network/virtualNetworks", "location": LOC, "properties": {"subnets": [
                 {"id": rid("virtualNetworks", "vnet", ns="Microsoft.Network") + "/subnets/tiny", "name": "tiny",
                  "properties": {"addressPrefix": "10.1.9.0/29"}}]}}
TINY = VNET_TINY["properties"]["subnets"][0]["id"]


def _nic_in(name: str, address: str) -> Doc:
    return {**_nic(rid("networkInterfaces", name, ns="Microsoft.Network")), "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "id": rid("networkInterfaces", name, ns="Microsoft.Network") + "/ipConfigurations/ipconfig1",
         "properties": {"subnet": {"id": TINY}, "privateIPAddress": address, "privateIPAllocationMethod": "Dynamic"}}]}}


VM1_ID = rid("virtualMachines", "vm1")
STALE_DEVICE = {"id": "5d0c7e2a-1f3b-4c6d-8e9f-0a1b2c3d4e5f", "deviceId": "8e2f4a6c-3b5d-4e7f-9a1c-2b3d4e5f6a7b",
                "displayName": "vm1", "registrationDateTime": "2024-03-01T09:00:00Z"}  # an earlier vm1's
SS = rid("virtualMachineScaleSets", "ss")
VM1_OS = disk("vm1-os")
NIC1 = _nic(rid("networkInterfaces", "vm1-nic", ns="Microsoft.Network"))
RUNNING = [VM1_OS, NIC1, vm("vm1")]
STOPPED = [VM1_OS, NIC1, vm("vm1", power="deallocated")]
GAL = gallery()
DEF = definition("app")
DISK_D = rid("disks", "d")
MISSING_DISK = rid("disks", "nope")
NOT_FOUND = ("The Resource 'Microsoft.Compute/virtualMachines/ghost' under resource group 'rg' was not found. For more "
             "details please go to https://aka.ms/ARMResourceNotFoundFix")


DEP_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Resources/deployments/d"
DEP_DISK = {"type": "Microsoft.Compute/disks", "apiVersion": "2025-01-02", "name": "d1", "location": LOC,
            "sku": {"name": "Premium_LRS"}, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}
# The first GUID of a fresh simulation's seeded generator (refit.platform.effects.deployments.tracking_id).
TRACKING = str(uuid.UUID(int=random.Random(0).getrandbits(128), version=4))


# ---- Image Builder and RBAC (issue 14) ---------------------------------------------------------------------------
AIB_ID = rid("imageTemplates", "aib", ns="Microsoft.VirtualMachineImages")
AIB_IDENTITY_ID = rid("userAssignedIdentities", "id-aib", ns="Microsoft.ManagedIdentity")
AIB_PRINCIPAL = "5f1c2d3e-0a1b-4c2d-8e3f-a1b2c3d4e5f6"
AIB_IDENTITY = {"id": AIB_IDENTITY_ID, "name": "id-aib", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                "location": LOC, "properties": {"principalId": AIB_PRINCIPAL, "clientId": AIB_PRINCIPAL,
                                                "tenantId": "72f988bf-0000-4000-8000-00000000ref1"}}
AIB_UBUNTU = {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
              "sku": "22_04-lts-gen2", "version": "latest"}
ROLES = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"
CONTRIBUTOR = f"{ROLES}/b24988ac-6180-42a0-ab88-20f7382dd24c"
CUSTOM = f"{ROLES}/0d3e4f5a-2c3d-4e4f-8a5b-c3d4e5f6a7b8"
RA = f"{RG['id']}/providers/Microsoft.Authorization/roleAssignments/1e4f5a6b-3d4e-4f5a-9b6c-d4e5f6a7b8c9"
RA_DOC = {"id": RA, "name": RA.rsplit("/", 1)[-1], "type": "Microsoft.Authorization/roleAssignments", "properties": {
    "roleDefinitionId": CUSTOM, "principalId": AIB_PRINCIPAL, "principalType": "ServicePrincipal", "scope": RG["id"]}}
CUSTOM_DOC = {"id": CUSTOM, "name": CUSTOM.rsplit("/", 1)[-1], "type": "Microsoft.Authorization/roleDefinitions",
              "properties": {"roleName": "aib", "type": "CustomRole", "assignableScopes": [RG["id"]], "permissions": [
                  {"actions": ["Microsoft.Compute/galleries/*"], "notActions": []}]}}


def _aib_body(**props: Any) -> Doc:
    body = {"location": LOC, "identity": {"type": "UserAssigned", "userAssignedIdentities": {AIB_IDENTITY_ID: {}}},
            "properties": {"source": dict(AIB_UBUNTU), "customize": [{"type": "Shell", "name": "bake", "inline": [
                "set -euo pipefail", "echo ok"]}], "distribute": [{"type": "SharedImage", "galleryImageId": DEF["id"],
                                                                    "runOutputName": "out"}]}}
    body["properties"].update(props)
    return body


def _aib(**props: Any) -> Doc:
    doc = {"id": AIB_ID, "name": "aib", "type": "Microsoft.VirtualMachineImages/imageTemplates", **_aib_body(**props)}
    doc["properties"].update({"provisioningState": "Succeeded",
                              "exactStagingResourceGroup": f"/subscriptions/{SUB}/resourceGroups/IT_rg_aib_x"})
    return doc


def _aib_failed(sim: Sim) -> tuple[int, str, str, None]:
    """The PackerBuildFailed answer, naming the run's log folder and operation id (random per run)."""
    run = sim.cloud.priv(AIB_ID)["run"]
    logs = (f"/subscriptions/{SUB}/resourceGroups/IT_rg_aib_x/providers/Microsoft.Storage/storageAccounts/"
            f"{run['storage']}/blobServices/default/containers/packerlogs/{run['folder']}/customization.log")
    return 409, "PackerBuildFailed", RULES["AIB8"].errors[0].message.format(logs=logs, operation=run["operation"]), None


def _validation(which: int, section: str, field: str, value: str | None = None) -> tuple[int, str, str, None]:
    fields = {"section": section, "field": field, **({"value": value} if value is not None else {})}
    return 400, "ValidationFailed", RULES["AIB2"].errors[which].message.format(**fields), None


AIB_WORLD = [RG, GAL, DEF, AIB_IDENTITY]


def _deployment(template: Doc) -> Doc:
    return {"properties": {"mode": "Incremental", "template": template}}


def _net(sim: Sim, days: int = 0) -> str:
    """The running deployment's start (plus `days`) as ARM writes it in DeploymentActive."""
    op = next(o for o in sim.cloud.ops.values() if o.resource_id == DEP_ID)
    return deployments._dotnet(datetime.fromtimestamp(op.start, UTC) + timedelta(days=days))


def _vm_body(**props: Any) -> Doc:
    body = copy.deepcopy(vm("vm1"))
    body["properties"].pop("extended")
    for path, value in props.items():
        parent = body["properties"]
        *head, last = path.split("__")
        for k in head:
            parent = parent[k]
        if value is None:
            parent.pop(last, None)
        else:
            parent[last] = value
    return body


def _required(path: str, target: str | None = None) -> tuple[int, str, str, str | None]:
    return (400, "InvalidParameter", f"Required parameter '{path}' is missing (null).", target or path)


def _invalid(value: str, path: str, target: str | None = None) -> tuple[int, str, str, str | None]:
    return (400, "InvalidParameter", f"The value '{value}' of parameter '{path}' is invalid.", target or path)


REFUSALS: list[Refusal] = [
    # ---- ARM ----------------------------------------------------------------------------------------------------
    Refusal("ARM1", [RG], voc.action(rid("virtualMachines", "ghost"), "start"), (404, "ResourceNotFound", NOT_FOUND, None),
            "an action on a VM that does not exist"),
    Refusal("ARM1", [RG], _req("PATCH", rid("virtualMachines", "ghost"), {"tags": {"a": "b"}}),
            (404, "ResourceNotFound", NOT_FOUND, None), "a PATCH of it"),
    Refusal("ARM2", [GAL], voc.put(rid("galleries/images/versions", "gal", "nope", "1.0.0"), {"location": LOC}, "v"),
            (404, "ParentResourceNotFound", "Can not perform requested operation on nested resource. Parent resource "
             "'nope' not found.", None)),
    Refusal("ARM3", RUNNING, voc.action(VM1_ID, "start"),
            (409, "Conflict", "The request failed due to conflict with a concurrent request.", None),
            busy=voc.deallocate(VM1_ID)),
    Refusal("ARM4", RUNNING, voc.action(VM1_ID, "teleport"),
            (400, "InvalidResourceType", "The resource type 'teleport' could not be found in the namespace "
             "'Microsoft.Compute'.", None), "an action the type does not have"),
    Refusal("ARM4", [RG], _req("PUT", rid("flyingCars", "c1"), {"location": LOC}, "2024-01-01"),
            (400, "InvalidResourceType", "The resource type 'flyingCars' could not be found in the namespace "
             "'Microsoft.Compute'.", None), "a type the namespace does not have"),
    Refusal("ARM5", [RG], _req("PUT", DISK_D, ["not", "an", "object"]),
            (400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.", None)),
    Refusal("ARM5", [RG], _req("PUT", DISK_D, {"location": LOC, "properties": "empty"}),
            (400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
             "'properties' must be an object.", None), "properties"),
    Refusal("ARM5", [RG], _req("PUT", DISK_D, {"location": LOC, "tags": ["a"], "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}),
            (400, "InvalidRequestContent", "The request content was invalid: 'tags' must be an object.", None), "tags"),
    Refusal("ARM5", [RG], _req("PUT", f"{RG['id']}/providers/Microsoft.Resources/tags/default", {"properties": {}}),
            (400, "InvalidRequestContent", "The request content was invalid: 'properties.tags' is required.", None),
            "a tags PUT without tags"),
    Refusal("ARM5", [RG], _req("PATCH", f"{RG['id']}/providers/Microsoft.Resources/tags/default",
                               {"operation": "Upsert", "properties": {"tags": {}}}),
            (400, "InvalidRequestContent", "The tag operation 'Upsert' is invalid. Allowed: Merge, Replace, Delete.",
             None), "a tags PATCH with an unknown operation"),
    Refusal("ARM5", [RG], _req("PUT", DISK_D, {"location": LOC, "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": "four"}}),
            (400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Error "
             "converting value \"four\" to type 'integer'. Path 'properties.diskSizeGB'.'.", None), "a value's type"),
    Refusal("ARM5", [RG], _req("PUT", DISK_D, {"location": LOC, "tags": {"n": 5}, "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}),
            (400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Error "
             "converting value 5 to type 'string'. Path 'tags.n'.'.", None), "a tag value that is not a string"),
    Refusal("ARM6", [RG], _req("PUT", DISK_D, {"sku": {"name": "Premium_LRS"}}),
            (400, "LocationRequired", "The location property is required for this definition.", None)),
    Refusal("ARM10", [], _req("DELETE", f"/subscriptions/{SUB}/resourceGroups/gone"),
            (404, "ResourceGroupNotFound", "Resource group 'gone' could not be found.", None)),
    Refusal("ARM10", [], _req("PUT", f"/subscriptions/{SUB}/resourceGroups/gone/providers/Microsoft.Resources/tags/"
                              "default", {"properties": {"tags": {}}}),
            (404, "ResourceGroupNotFound", "Resource group 'gone' could not be found.", None), "its tags"),
    Refusal("ARM11", [RG], _req("PATCH", f"{RG['id']}/providers/Microsoft.Resources/tags/default",
                                {"operation": "Merge", "properties": {"tags": {"a?b": "1"}}}),
            (400, "InvalidTagNameCharacters", "The tag names 'a?b' have reserved characters '<,>,%,&,\\,?,/' or control "
             "characters.", None), "a validator the tags resource asks (not raised by an effect: also in VIOLATIONS)"),
    Refusal("ARM12", [RG], _req("POST", f"{RG['id']}/providers/Microsoft.Resources/tags/default", {}),
            (405, "MethodNotAllowed", "The requested method 'POST' is not allowed.", None)),
    Refusal("ARM16", [], _req("PUT", "/not/an/id", {}, "2024-01-01"),
            (400, "InvalidResourceId", "The resource id '/not/an/id' is not valid: it must start with '/subscriptions/'.",
             None)),
    # ---- the REST specs' enums and ranges, and Azure's naming rules ------------------------------------------------
    Refusal("IN1", [RG], _req("PUT", DISK_D, {"location": LOC, "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": -5}}), _invalid("-5", "diskSizeGB"), "a range"),
    Refusal("IN1", [RG, NIC1, VM1_OS], voc.put(VM1_ID, _vm_body(storageProfile__osDisk__caching="Sometimes"), "vm"),
            _invalid("Sometimes", "storageProfile.osDisk.caching"), "an enum"),
    Refusal("IN2", [RG], _req("PUT", rid("disks", "bad;name"), {"location": LOC, "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}),
            (400, "InvalidParameter", "The value of parameter disk.name is invalid.", "disk.name")),
    Refusal("IN2", [RG], _req("PUT", rid("networkInterfaces", "-nic", ns="Microsoft.Network"), {"location": LOC}),
            (400, "InvalidResourceName", "Resource name -nic is invalid. The name can be up to 80 characters long. It "
             "must begin with a word character, and it must end with a word character or with '_'. The name may "
             "contain word characters or '.', '-', '_'.", None), "a network RP's name"),
    Refusal("IN2", [RG], _req("PUT", rid("disks", "d" * 261), {"location": LOC}),
            (400, "InvalidResourceName", f"The provided resource name '{'d' * 97}...' has a length of '261' which "
             "exceeds the maximum length of '260'.", None), "longer than ARM takes"),
    Refusal("IN3", [], _req("PUT", f"/subscriptions/{SUB}/resourceGroups/bad;rg!", {"location": LOC}),
            (400, "InvalidResourceGroup", "The provided resource group name 'bad;rg!' has these invalid characters: "
             "';!'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.", None)),
    Refusal("IN3", [], _req("PUT", f"/subscriptions/{SUB}/resourceGroups/{'g' * 91}", {"location": LOC}),
            (400, "InvalidResourceGroup", f"The provided resource group name '{'g' * 91}' has a length of '91' which "
             "exceeds the maximum length of '90'.", None), "too long"),
    # ---- virtual machines -----------------------------------------------------------------------------------------
    Refusal("VM1", [RG, NIC1, VM1_OS], voc.put(VM1_ID, _vm_body(hardwareProfile={}), "vm"),
            _required("hardwareProfile.vmSize")),
    Refusal("VM1", [RG, NIC1], voc.put(VM1_ID, _vm_body(storageProfile={"imageReference": None, "osDisk": {
        "createOption": "FromImage"}}), "vm"), _required("storageProfile.imageReference"), "FromImage without an image"),
    Refusal("VM1", [RG, VM1_OS], voc.put(VM1_ID, _vm_body(networkProfile=None), "vm"), _required("networkProfile"),
            "no network"),
    Refusal("VM1", RUNNING, voc.action(VM1_ID, "runCommand", {"script": ["uptime"]}), _required("commandId"),
            "runCommand without its commandId"),
    Refusal("VM2", [RG, NIC1], voc.put(VM1_ID, _vm_body(storageProfile__osDisk={"createOption": "Empty"}), "vm"),
            _invalid("Empty", "storageProfile.osDisk.createOption")),
    Refusal("VM2", [RG, NIC1, VM1_OS], voc.put(VM1_ID, _vm_body(storageProfile__dataDisks=[
        {"lun": 0, "createOption": "Copy"}]), "vm"),
            _invalid("Copy", "dataDisks[].createOption", "storageProfile.dataDisks[].createOption"), "a data disk"),
    Refusal("VM4", [RG, NIC1], voc.put(VM1_ID, _vm_body(storageProfile__osDisk__managedDisk={"id": MISSING_DISK}), "vm"),
            (404, "NotFound", f"Disk {MISSING_DISK} was not found.", MISSING_DISK)),
    Refusal("VM8", STOPPED, voc.action(VM1_ID, "restart"),
            (409, "OperationNotAllowed", "The operation requires the VM to be running (or set to run).", None)),
    Refusal("VM9", STOPPED, voc.action(VM1_ID, "runCommand", {"commandId": "RunShellScript"}),
            (409, "OperationNotAllowed", "The operation requires the VM to be running (or set to run).", None)),
    # ---- disks ------------------------------------------------------------------------------------------------------
    Refusal("D17", [RG], voc.put(DISK_D, {"location": LOC, "properties": {"diskSizeGB": 4}}, "disk"),
            _required("creationData.createOption")),
    Refusal("D17", [RG], voc.put(DISK_D, {"location": LOC, "properties": {"creationData": {"createOption": "Empty"}}},
                                 "disk"), _required("diskSizeGB"), "Empty without a size"),
    Refusal("D17", [RG], voc.put(DISK_D, {"location": LOC, "properties": {"creationData": {"createOption": "FromImage"}}},
                                 "disk"),
            (400, "InvalidParameter", "Required parameter 'creationData.imageReference' or "
             "'creationData.galleryImageReference' is missing (null).", "creationData.imageReference"),
            "FromImage without an image"),
    Refusal("D18", [RG], voc.put(DISK_D, {"location": LOC, "properties": {"creationData": {"createOption": "Teleport"}}},
                                 "disk"), _invalid("Teleport", "creationData.createOption")),
    Refusal("D20", [RG], voc.put(DISK_D, {"location": LOC, "properties": {"creationData": {
        "createOption": "Copy", "sourceResourceId": MISSING_DISK}}}, "disk"),
            (404, "NotFound", f"Resource '{MISSING_DISK}' was not found.", "creationData.sourceResourceId")),
    # ---- galleries --------------------------------------------------------------------------------------------------
    Refusal("G25", [RG, GAL], voc.put(DEF["id"], {"location": LOC, "properties": {
        "osType": "Linux", "osState": "Generalized", "identifier": {"offer": "o", "sku": "s"}}}, "definition"),
            _required("identifier.publisher")),
    Refusal("G27", [RG, GAL, DEF], voc.put(rid("galleries/images/versions", "gal", "app", "1.0.0"), {
        "location": LOC, "properties": {"storageProfile": {}}}, "version"), _required("storageProfile.source")),
    Refusal("G27", [RG, GAL, DEF, IMG], voc.put(rid("galleries/images/versions", "gal", "app", "1.0.0"), {
        "location": LOC, "properties": {"storageProfile": {"source": {"id": IMG["id"]}},
                                        "publishingProfile": {"targetRegions": [{"regionalReplicaCount": 1}]}}}, "v"),
            _required("targetRegions[].name", "publishingProfile.targetRegions"), "a target region without a name"),
    Refusal("G28", [RG, GAL, DEF], voc.put(rid("galleries/images/versions", "gal", "app", "1.0.0"), {
        "location": LOC, "properties": {"storageProfile": {"source": {"id": MISSING_DISK}}}}, "version"),
            (404, "NotFound", f"The source '{MISSING_DISK}' was not found.", "storageProfile.source.id")),
    # ---- managed images ---------------------------------------------------------------------------------------------
    Refusal("I2", [RG], voc.put(rid("images", "img2"), {"location": LOC, "properties": {
        "sourceVirtualMachine": {"id": rid("virtualMachines", "ghost")}}}, "image"),
            (404, "NotFound", f"The entity '{rid('virtualMachines', 'ghost')}' was not found.", "sourceVirtualMachine.id")),
    Refusal("I2", [RG], voc.put(rid("images", "img2"), {"location": LOC, "properties": {"storageProfile": {"osDisk": {
        "osType": "Linux", "osState": "Generalized", "managedDisk": {"id": MISSING_DISK}}}}}, "image"),
            (404, "NotFound", f"The entity '{MISSING_DISK}' was not found.", "storageProfile.osDisk"), "an OS disk"),
    Refusal("I3", [RG], voc.put(rid("images", "img2"), {"location": LOC, "properties": {"storageProfile": {"osDisk": {
        "osState": "Generalized", "blobUri": "https://sa.blob.core.windows.net/v/os.vhd"}}}}, "image"),
            _required("storageProfile.osDisk.osType")),
    Refusal("I3", [RG], voc.put(rid("images", "img2"), {"location": LOC, "properties": {"storageProfile": {"osDisk": {
        "osType": "Linux", "osState": "Generalized"}}}}, "image"),
            (400, "InvalidParameter", "One of managedDisk, snapshot or blobUri is required in storageProfile.osDisk.",
             "storageProfile.osDisk"), "an OS disk from nothing"),
    Refusal("I3", [RG], voc.put(rid("images", "img2"), {"location": LOC, "properties": {}}, "image"),
            (400, "InvalidParameter", "Either 'sourceVirtualMachine' or 'storageProfile.osDisk' is required.",
             "properties"), "no source at all"),
    # ---- capacity reservations and scale sets -------------------------------------------------------------------
    Refusal("C15", [RG, crg()], voc.put(cr("cr1")["id"], {"location": LOC, "sku": {"capacity": 1}}, "cr"),
            _required("sku.name")),
    Refusal("C15", [RG, crg()], voc.put(cr("cr1")["id"], {"location": LOC, "sku": {"name": "Standard_D2s_v5",
                                                                                  "capacity": -1}}, "cr"),
            (400, "InvalidParameter", "The value of parameter 'sku.capacity' is invalid.", "sku.capacity"),
            "a negative capacity"),
    Refusal("M15", [RG, IMG], voc.put(rid("virtualMachineScaleSets", "ss"), {
        "location": LOC, "properties": vmss("ss", image=IMG["id"])["properties"]}, "vmss"), _required("sku")),
    Refusal("M15", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(rid("virtualMachineScaleSets", "ss"),
                                                                      "manualupgrade", {}),
            _required("instanceIds"), "manualUpgrade without instances"),
    Refusal("M17", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(SS, "manualupgrade", {"instanceIds": ["7"]}),
            (400, "InvalidParameter", "The provided instanceId 7 is not an active Virtual Machine Scale Set VM "
             "instanceId.", "instanceIds")),
    Refusal("M18", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(SS, "extensionRollingUpgrade"),
            (409, "OperationNotAllowed", "Rolling Upgrade is already in progress for Virtual Machine Scale Set 'ss'. "
             "Cancel it or wait for it to finish before starting another one.", None),
            busy=voc.action(SS, "extensionRollingUpgrade")),
    Refusal("M19", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(SS, "rollingUpgrades/cancel"),
            (409, "OperationNotAllowed", "There is no Rolling Upgrade in progress for Virtual Machine Scale Set 'ss' "
             "to cancel.", None)),
    Refusal("M20", [RG, IMG, vmss("ss", image=IMG["id"])], _req("GET", f"{SS}/rollingUpgrades/latest"),
            (404, "NotFound", "The entity was not found in this Azure location.", None)),
    Refusal("M21", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(SS, "setOrchestrationServiceState", {
        "serviceName": "AutomaticUpgrades", "action": "Suspend"}),
            (400, "InvalidParameter", "The value 'AutomaticUpgrades' of parameter 'serviceName' is invalid.",
             "serviceName")),
    Refusal("M22", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(SS, "setOrchestrationServiceState", {
        "serviceName": "AutomaticRepairs", "action": "Suspend"}),
            (409, "OperationNotAllowed", "Automatic repairs are not enabled for Virtual Machine Scale Set 'ss': enable "
             "automaticRepairsPolicy before changing the state of its orchestration service.", None)),
    Refusal("M23", [RG, IMG, vmss("ss", image=IMG["id"])], _req("PUT", f"{SS}/rollingUpgrades/latest", {}),
            (405, "MethodNotAllowed", "The requested method 'PUT' is not allowed.", None)),
    Refusal("M25", [RG, IMG, vmss("ss", image=IMG["id"], orchestration="Flexible", health=())],
            voc.action(SS, "extensionRollingUpgrade"),
            (400, "BadRequest", "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a "
             "health probe or health extension was not provided.", None)),
    Refusal("M24", [RG, IMG, vmss("ss", image=IMG["id"])], voc.action(SS, "extensionRollingUpgrade"),
            (409, "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade", "Rolling Upgrade failed before it "
             "started: 100% of instances are in an unhealthy state - more than the threshold of 20% set by "
             "MaxUnhealthyInstancePercent.", None),
            "every instance is unhealthy before the first batch", health={"images": {IMG["id"]: {"state": "unhealthy"}}}),
    # ---- template deployments -----------------------------------------------------------------------------------------
    Refusal("DEP1", [RG], _req("PUT", DEP_ID, {"properties": {"template": {"resources": []}}}),
            (400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Required "
             "property 'mode' not found in JSON. Path 'properties'.'.", None)),
    Refusal("DEP2", [RG], _req("PUT", DEP_ID, _deployment({"parameters": {"p": {"type": "string"}}, "resources": []})),
            (400, "InvalidTemplate", "Deployment template validation failed: 'The value for the template parameter 'p' is "
             "not provided. Please see https://aka.ms/arm-deploy/#parameter-file for usage details.'.", None)),
    Refusal("DEP3", [RG], _req("PUT", DEP_ID, {"properties": {"mode": "Incremental", "templateLink": {
        "uri": "https://example.com/t.json"}}}),
            (400, "InvalidContentLink", "Unable to download deployment content from 'https://example.com/t.json'. The "
             f"tracking Id is '{TRACKING}'. Please see https://aka.ms/arm-deploy for usage details.", None)),
    Refusal("DEP4", [RG], _req("PUT", DEP_ID, _deployment({"resources": [DEP_DISK]})), lambda sim: (
        409, "DeploymentActive", f"Unable to edit or replace deployment 'd': previous deployment from '{_net(sim)}' is "
        f"still active (expiration time is '{_net(sim, 7)}'). Please see https://aka.ms/arm-deploy for usage details.",
        None), busy=_req("PUT", DEP_ID, _deployment({"resources": [DEP_DISK]}))),
    Refusal("DEP5", [RG], _req("PUT", DEP_ID, _deployment({"resources": [{**DEP_DISK, "sku": {"name": "Nope_LRS"}}]})),
            (400, "InvalidTemplateDeployment", f"The template deployment 'd' is not valid according to the validation "
             f"procedure. The tracking id is '{TRACKING}'. See inner errors for details.", None)),
    Refusal("DEP6", [RG], _req("PUT", DEP_ID, _deployment({"resources": [
        {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01", "name": "n", "location": LOC,
         "tags": {"sku": "Nope_LRS"}, "properties": {}},
        {**DEP_DISK, "sku": {"name": "[reference('n', '2023-04-01', 'Full').tags.sku]"}}]})),
            (409, "DeploymentFailed", "At least one resource deployment operation failed. Please list deployment operations "
             "for details. Please see https://aka.ms/arm-deployment-operations for usage details.", DEP_ID),
            "a resource its provider refuses once deployed"),
    Refusal("DEP7", [RG], _req("GET", DEP_ID), (404, "DeploymentNotFound", "Deployment 'd' could not be found.", None)),
    # ---- networking -----------------------------------------------------------------------------------------------------
    Refusal("NET1", [RG, VNET_TINY, *[_nic_in(f"t{i}", f"10.1.9.{4 + i}") for i in range(3)]],
            _req("PUT", rid("networkInterfaces", "t3", ns="Microsoft.Network"), {"location": LOC, "properties": {
                "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": TINY}}}]}}),
            (400, "SubnetIsFull", "Subnet tiny with address prefix 10.1.9.0/29 does not have enough capacity for 1 IP "
             "addresses.", None), "a /29 has three addresses that are not Azure's"),
    # ---- Image Builder and RBAC ----------------------------------------------------------------------------------
    Refusal("AIB2", AIB_WORLD, voc.put(AIB_ID, _aib_body(source={"type": "ISO"}), "aib"),
            _validation(1, "ImageTemplate.properties.source", "type", "ISO")),
    Refusal("AIB2", AIB_WORLD, voc.put(AIB_ID, _aib_body(source={"type": "ManagedImage"}), "aib"),
            _validation(0, "ImageTemplate.properties.source", "imageId"), "a managed image source without its id"),
    Refusal("AIB3", AIB_WORLD, voc.put(AIB_ID, _aib_body(customize=[{"type": "Shell", "name": "x"}]), "aib"),
            _validation(0, "ImageTemplate.properties.customize[0]", "scriptUri or inline")),
    Refusal("AIB4", AIB_WORLD, voc.put(AIB_ID, _aib_body(distribute=[{"type": "SharedImage", "runOutputName": "o"}]),
                                       "aib"), _validation(0, "ImageTemplate.properties.distribute[0]", "galleryImageId")),
    Refusal("AIB5", [RG, GAL, DEF], voc.put(AIB_ID, _aib_body(), "aib"),
            (400, "ValidationFailed", "The assigned managed identity cannot be used. Please remove the existing one and "
             "re-assign a new identity. For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts.", None),
            "an identity that does not exist"),
    Refusal("AIB5", [RG, GAL, DEF, _aib()], voc.action(AIB_ID, "run"),
            (400, "ValidationFailed", "The assigned managed identity cannot be used. Please remove the existing one and "
             "re-assign a new identity. For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts.", None),
            "a run after the identity was deleted"),
    Refusal("AIB6", AIB_WORLD, voc.put(AIB_ID, _aib_body(buildTimeoutInMinutes=961), "aib"),
            _validation(1, "ImageTemplate.properties", "buildTimeoutInMinutes", "961")),
    Refusal("AIB7", [*AIB_WORLD, _aib()], voc.delete(AIB_ID),
            (409, "OperationNotAllowed", "Operation Microsoft.VirtualMachineImages/imageTemplates/delete is not allowed in "
             "provisioning state: provisioned or run state: running.", None), busy=voc.action(AIB_ID, "run")),
    Refusal("AIB7", [*AIB_WORLD, _aib()], voc.action(AIB_ID, "cancel"),
            (409, "OperationNotAllowed", "Operation Microsoft.VirtualMachineImages/imageTemplates/cancel is not allowed in "
             "provisioning state: provisioned or run state: none.", None), "a cancel with no build"),
    Refusal("AIB8", [*AIB_WORLD, _aib(customize=[{"type": "Shell", "name": "bake", "inline": ["exit 1"]}])],
            voc.action(AIB_ID, "run"), _aib_failed, "a customizer that exits 1"),
    Refusal("AIB8", [*AIB_WORLD, _aib(buildTimeoutInMinutes=10)], voc.action(AIB_ID, "run"),
            (409, "InternalOperationError", "Failed in building/customizing image: Failed while waiting for packerizer: "
             "Timeout waiting for microservice to complete: 'context deadline exceeded'", None), "the build timeout"),
    Refusal("AIB9", [*AIB_WORLD, _aib()], _req("PUT", f"{AIB_ID}/runOutputs/out", {"properties": {}}),
            (405, "MethodNotAllowed", "The requested method 'PUT' is not allowed.", None)),
    Refusal("RBAC1", [RG], voc.put(RA, {"properties": {"roleDefinitionId": CUSTOM, "principalId": AIB_PRINCIPAL}}, "ra"),
            (400, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
             "'0d3e4f5a-2c3d-4e4f-8a5b-c3d4e5f6a7b8' does not exist.", None)),
    Refusal("RBAC1", [RG], _req("GET", CUSTOM), (404, "RoleDefinitionDoesNotExist", "The specified role definition with "
                                                 "ID '0d3e4f5a-2c3d-4e4f-8a5b-c3d4e5f6a7b8' does not exist.", None),
            "a GET of the definition"),
    Refusal("RBAC2", [RG, CUSTOM_DOC, RA_DOC], voc.put(RA, {"properties": {
        "roleDefinitionId": CONTRIBUTOR, "principalId": AIB_PRINCIPAL}}, "ra"),
            (400, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not "
             "allowed to be updated.", None)),
    Refusal("RBAC3", [RG, CUSTOM_DOC, RA_DOC], voc.put(RA.replace("1e4f5a6b", "2e4f5a6b"), {"properties": {
        "roleDefinitionId": CUSTOM, "principalId": AIB_PRINCIPAL}}, "ra"),
            (409, "RoleAssignmentExists", "The role assignment already exists.", None)),
    Refusal("RBAC4", [RG], voc.put(RA, {"properties": {"roleDefinitionId": CONTRIBUTOR, "principalId": "me"}}, "ra"),
            (400, "PrincipalNotFound", "Principal me does not exist in the directory 72f988bf-0000-4000-8000-00000000ref1. "
             "Check that you have the correct principal ID. If you are creating this principal and then immediately "
             "assigning a role, this error might be related to a replication delay. In this case, set the role "
             "assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See "
             "https://aka.ms/docs-principaltype", None)),
    Refusal("RBAC5", [RG, CUSTOM_DOC, RA_DOC], voc.delete(CUSTOM),
            (409, "RoleDefinitionHasAssignments", "There are existing role assignments referencing role.", None)),
    Refusal("RBAC6", [RG], _req("GET", RA),
            (404, "RoleAssignmentNotFound", "The role assignment '1e4f5a6b-3d4e-4f5a-9b6c-d4e5f6a7b8c9' is not found.",
             None)),
    # ---- allocation (the operation fails) -----------------------------------------------------------------------------
    Refusal("A1", [RG, disk("vm1-os", zones=["1"]), NIC1, vm("vm1", zones=["1"], power="deallocated")],
            voc.action(VM1_ID, "start"),
            (409, "ZonalAllocationFailed", "Allocation failed. We do not have sufficient capacity for the requested VM "
             "size in this zone. Read more about improving likelihood of allocation success at "
             "http://aka.ms/allocation-guidance", None), faults={"allocation_failed": {"remaining": 1}}),
    Refusal("A2", [RG, *STOPPED], voc.action(VM1_ID, "start"),
            (409, "AllocationFailed", "Allocation failed. We do not have sufficient capacity for the requested VM size "
             "in this region. Read more about improving likelihood of allocation success at "
             "http://aka.ms/allocation-guidance", None), faults={"allocation_failed": {"remaining": 1}}),
    # ---- the Entra join and the directory (refit.platform.directory) ---------------------------------------------------
    Refusal("EXT1", [RG, VM1_OS, NIC1, vm("vm1", os_type="Windows")],
            voc.put(f"{VM1_ID}/extensions/AADLoginForWindows", {"location": LOC, "properties": {
                "publisher": "Microsoft.Azure.ActiveDirectory", "type": "AADLoginForWindows",
                "typeHandlerVersion": "2.0"}}, "install AADLoginForWindows"),
            (409, "VMExtensionProvisioningError", "VM has reported a failure when processing extension "
             "'AADLoginForWindows' (publisher 'Microsoft.Azure.ActiveDirectory' and type 'AADLoginForWindows'). Error "
             "message: 'Microsoft Entra join failed: a device object named 'vm1' already exists in the tenant (object "
             f"id {STALE_DEVICE['id']}) and is not this VM's. Delete the stale device (Microsoft Graph DELETE "
             f"/devices/{STALE_DEVICE['id']}), then run the extension again.'. More information on troubleshooting is "
             "available at https://aka.ms/vmextensionwindowstroubleshoot.", None),
            "a device of the VM's hostname registered before it", devices=[STALE_DEVICE]),
    Refusal("GRAPH1", [RG, VM1_OS, NIC1, vm("vm1", os_type="Windows")],
            voc.delete_entra_device(vm("vm1"), {"id": "0b7e3c1d-2a4f-4e6b-8c9d-1e2f3a4b5c6d", "displayName": "vm1"}),
            (404, "Request_ResourceNotFound", "Resource '0b7e3c1d-2a4f-4e6b-8c9d-1e2f3a4b5c6d' does not exist or one of "
             "its queried reference-property objects are not present.", None), "a device already deleted"),
]


def _refusal_id(r: Refusal) -> str:
    return f"{r.rule}-{r.note or 'basic'}".replace(" ", "_")[:60]


@pytest.mark.parametrize("case", REFUSALS, ids=_refusal_id)
def test_a_refusal_the_effects_raise_is_planned_against_and_named(case: Refusal):
    sim = _sim(case.world, case.devices)
    sim.cloud.settings["faults"] = copy.deepcopy(case.faults)
    sim.cloud.settings["health"] = copy.deepcopy(case.health)
    if case.busy is not None:
        r = case.busy.request
        assert writes.perform(sim.cloud, r.method, r.path, r.api_version, r.body).op is not None
    out = sim.run(case.op)
    assert _answer(out) == (case.error(sim) if callable(case.error) else case.error)
    assert out.error.rule == case.rule
    assert out.rules == (case.rule,)


def test_every_refusal_of_the_catalog_is_planned_against():
    """The two tables cover the whole catalog but the wire's rules (no planner step can reach them)."""
    reachable = {r.id for r in RULES.values() if r.stage != "wire"}
    effects = {r.id for r in RULES.values() if r.stage in (REQUEST, OPERATION)}
    # ARM19 is the platform failing itself (a defect): no planned step reaches it.
    assert {c.rule for c in REFUSALS} - {"ARM11"} == effects - {"ARM19"}
    assert {c.rule for c in VIOLATIONS} | {c.rule for c in REFUSALS} == reachable - {"ARM19"}


# ---- the planner reports the rule, its title and its source ------------------------------------------------------
def _blockers(world: list[Doc], goals: list[dict]) -> list[dict[str, str]]:
    plan = make_plan(World(copy.deepcopy(world)), parse({"goals": goals}))
    assert plan.status == "impossible"
    return [b for imp in plan.to_json()["impossible"] for b in imp["blocked_by"]]


def _cited(rule_id: str, code: str, message: str, attempted: str) -> dict[str, str]:
    r = RULES[rule_id]
    return {"rule": rule_id, "title": r.title, "source": r.source, "code": code, "message": message,
            "attempted": attempted}


def test_a_disk_that_would_shrink_is_blocked_by_d16():
    d = disk("data", sku="Premium_LRS")
    got = _blockers([RG, d], [{"resource": d["id"], "properties": {"properties.diskSizeGB": 16}}])
    assert got == [_cited("D16", "BadRequest", RULES["D16"].errors[0].message.format(disk=d["id"]),
                          "PATCH data: properties.diskSizeGB=16")]


def test_a_disk_sku_azure_does_not_have_is_blocked_by_d14():
    d = disk("data")
    got = _blockers([RG, d], [{"resource": d["id"], "properties": {"sku.name": "Gold_LRS"}}])
    assert got == [_cited("D14", "InvalidParameter", "The value 'Gold_LRS' of parameter 'sku.name' is invalid.",
                          "PATCH data: sku.name=Gold_LRS")]


def test_a_reservation_of_negative_capacity_is_blocked_by_c15():
    """A refusal the effects raise while reading the request (stage request) is named like a validator's."""
    group, res = crg(), cr("cr1", capacity=2)
    got = _blockers([RG, group, res], [{"resource": res["id"], "properties": {"sku.capacity": -1}}])
    assert got == [_cited("C15", "InvalidParameter", "The value of parameter 'sku.capacity' is invalid.",
                          "PATCH cr1: sku.capacity=-1")]


def test_a_vm_moved_to_another_region_is_blocked_by_arm7():
    world = [RG, VM1_OS, NIC1, vm("vm1")]
    got = _blockers(world, [{"resource": VM1_ID, "properties": {"location": "westus2"}}])
    msg = ("The resource 'vm1' already exists in location 'eastus' in resource group 'rg'. A resource with the same "
           "name cannot be created in location 'westus2'. Please select a new resource name.")
    assert {b["rule"] for b in got} == {"ARM7"}
    assert got[0] == _cited("ARM7", "InvalidResourceLocation", msg, got[0]["attempted"])


def test_a_planned_vm_from_an_image_keeps_working():
    """The tables above must not be vacuous: the same world and ops succeed when nothing is wrong."""
    sim = _sim([RG, NIC1])
    body = copy.deepcopy(vm("vm1", image=platform()))
    body["properties"].pop("extended")
    assert sim.run(voc.put(VM1_ID, body, "vm")).ok
    assert sim.run(voc.action(VM1_ID, "restart")).ok
    assert sim.run(voc.action(VM1_ID, "runCommand", {"commandId": "RunShellScript"})).ok
    assert _sim(STOPPED).run(voc.action(VM1_ID, "start")).ok  # no allocation fault: the start succeeds
