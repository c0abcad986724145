"""Microsoft.VirtualMachineImages/imageTemplates (Azure VM Image Builder) and their runOutputs.

The template (specs imagebuilder ImageBuilder/ImageTemplate.tsp and models.tsp, 2025-10-01;
https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json):
- PUT (201 + Azure-AsyncOperation, provisioningState Creating -> Succeeded after `aib.submit`) reads `source`,
  `customize`, `distribute`, `buildTimeoutInMinutes`, `vmProfile` and `identity` and refuses what Azure refuses (rules
  AIB2-AIB6, ValidationFailed); a template cannot be changed once submitted (AIB1). Azure creates the staging
  resource group `IT_<group>_<template>_<guid>` and names it in `exactStagingResourceGroup` (image-builder-json
  "Template creation scenarios"); the emulator names it and creates nothing in it (INFERRED simplification).
- DELETE (202 + Location) is refused while a build runs (AIB7); it removes the run outputs.
- POST run (202, Azure-AsyncOperation and Location: ImageTemplate.tsp `run is ArmResourceActionAsync`, LRO headers
  ArmCombinedLroHeaders) builds on the virtual clock. `lastRunStatus` = {startTime, endTime, runState, runSubState,
  message} (models.tsp ImageTemplateLastRunStatus) goes Running (Queued `aib.queue`, Building `aib.build`,
  Customizing `aib.customizer` per customizer, Distributing: `aib.capture`, then the gallery's own version capture
  and replication, which the run waits for: "the build doesn't complete until the replication has completed",
  image-builder-json 'Distribute properties for galleries') -> Succeeded / Failed / PartiallySucceeded / Canceled.
  The run's operation fails as the build does (rule AIB8) and lastRunStatus.message says the same.
- POST cancel (202): runState Canceling, then Canceled after `aib.cancel` (INFERRED durations: timing.py).

Distribution (SharedImage) writes the gallery image version through refit.platform.writes, so every gallery rule and
the replication schedule apply; the version is named by `galleryImageId` when it ends in `/versions/x.y.z`, else by
the `Latest` scheme ("generates version number that will be latest based on existing version numbers", models.tsp
DistributeVersionerLatest; image-builder-json 'versioning': with 2.1.0 the highest, 2.1.1; with major 1 and 1.2.0 the
highest under it, 1.2.1); with no version at all, `<major or 0>.0.1` (INFERRED). Its source is the captured OS disk
as a VHD in the staging storage account (INFERRED: Azure publishes a managed image, "MDI", from the staging group).
The identity must be allowed `Microsoft.Compute/galleries/images/read` on the definition and
`Microsoft.Compute/galleries/images/versions/write` on the version (image-builder-permissions-cli 'Allow VM Image
Builder to distribute images'); refit.platform.authorization decides. A run output
`imageTemplates/{t}/runOutputs/{runOutputName}` reports each target (`artifactId`, or `artifactUri` for a VHD;
`provisioningState`: specs GetRunOutput example).

Customizers run in a small model of the guest, so that a template's own content decides its build (INFERRED, the
emulator runs nothing): a Shell script fails when a command exits non-zero and `set -e` (errexit) is on, or when its
last command fails ("VM Image Builder fails the build if the scripts or inline commands fail with errors (nonzero exit
codes)", image-builder-troubleshoot Prerequisites); a failure in the middle of a script without `set -e` is ignored
and the build ships an image the health model marks unhealthy (seed 001 row 12: "Build ships a broken image but
reports Succeeded ... missing set -euo pipefail"). A command fails when it is `false`, `exit N` (N != 0; `exit`
also ends the script), or is one of the template's `failing_commands` (a scenario's `refit:` block); a customizer
named in `failing_customizers` fails whatever it runs. PowerShell: `exit N` outside validExitCodes (default [0]) or
`throw` fails it. The build keeps Packer-style log lines (`(telemetry) Starting provisioner shell` ...) in the
template's private state (`run.log`), naming each customizer: Azure puts them in customization.log in the staging
storage account, and lastRunStatus.message only points there.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.platform import apis, vmimages, writes
from refit.platform import authorization as rbac
from refit.platform.cloud import Answer, Call, Cloud, Operation
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType
from refit.platform.effects.imagebuilder_guest import run_customizer
from refit.platform.effects.imagebuilder_template import (
    ACTION,
    ACTIVE,
    DEFAULT_TIMEOUT_MINUTES,
    GALLERY_READ,
    IMAGE_READ,
    IMAGE_TEMPLATE,
    IMAGE_WRITE,
    JWT_MINUTES,
    RUN_OUTPUT,
    VERSION_READ,
    VERSION_WRITE,
    as_int,
    check_customizers,
    check_distributors,
    check_identity,
    check_source,
    check_timeout_and_vm_profile,
    identity_of,
    parse_id,
)
from refit.platform.rules import RULES


# ---- versions --------------------------------------------------------------------------------------------------------
def _triple(name: str) -> tuple[int, int, int] | None:
    parts = name.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def next_version(cloud: Cloud, definition_id: str, versioning: dict[str, Any] | None,
                 source_version: str | None = None) -> str:
    """The version a SharedImage distribution without an explicit version writes (module docstring)."""
    versioning = versioning if isinstance(versioning, dict) else None
    scheme = (versioning or {}).get("scheme") or "Latest"
    if scheme == "Source" and source_version:
        parts = str(source_version).split(".")[:3]
        if len(parts) == 3 and all(x.isdigit() and int(x) < 2**31 for x in parts):
            return ".".join(str(int(x)) for x in parts)  # INFERRED: the source's own version, when it is x.y.z
    major = as_int((versioning or {}).get("major"))
    names = [_triple(str(d.get("name", ""))) for d in cloud.world.children(definition_id, v.IMAGE_VERSION)]
    known = [t for t in names if t is not None and (major is None or major < 0 or t[0] == major)]
    if not known:
        return f"{major if major is not None and major >= 0 else 0}.0.1"
    a, b, c = max(known)
    return f"{a}.{b}.{c + 1}"


def _auth_error(principal: str, action: str, scope: str, client: str) -> str:
    """ARM's AuthorizationFailed as Image Builder's Go SDK client quotes it (troubleshoot page; the principal's
    object id stands for the client as well: INFERRED)."""
    msg = rbac.denied_message(principal, principal, action, scope)
    return (f"{client}: Failure responding to request: StatusCode=403 -- Original Error: autorest/azure: Service "
            f"returned an error. Status=403 Code=\"AuthorizationFailed\" Message=\"{msg}\"")


def _gallery_error(i: int, k: int, gid: str, loc: str, inner: str) -> str:
    """One failed gallery target, as 'Failed in distributing ...' lists it (troubleshoot page, 'Error occurs with
    waiting for Azure Compute Gallery')."""
    grid = parse_id(gid)
    names = dict(grid.types) if grid is not None else {}
    return (f"[Error {k}] [Distribute {i}] Error publishing MDI to Azure Compute Gallery:{gid}, Location:{loc}. "
            f"Error: Error returned from SIG client while publishing MDI to Azure Compute Gallery for dstImageLocation: "
            f"{loc}, dstSubscription: {grid.subscription if grid else ''}, dstResourceGroupName: "
            f"{grid.resource_group if grid else ''}, dstGalleryName: {names.get('galleries', '')}, dstGalleryImageName: "
            f"{names.get('images', '')}. Error: {inner}")


def _join(details: list[str]) -> str:
    """Several failed targets inside the one pair of braces the message has (INFERRED: the page shows one)."""
    return "}{".join(details)


# ---- the template ----------------------------------------------------------------------------------------------------
class ImageTemplateType(ResourceType):
    type = IMAGE_TEMPLATE
    create_timing = update_timing = "aib.submit"
    delete_timing = "aib.delete"
    actions = ("run", "cancel")
    readonly_properties = ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")

    def server_properties(self):
        return ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")

    def build(self, cloud, rid, doc, old, call):
        p = doc["properties"]
        if old is not None:
            if "identity" not in doc and "identity" in old:
                doc["identity"] = copy.deepcopy(old["identity"])
            # A resolved source version is the service's, not part of what was submitted (AIB1 compares the rest).
            was = (old.get("properties") or {}).get("source")
            if isinstance(p.get("source"), dict) and isinstance(was, dict) and "exactVersion" in was:
                p["source"].setdefault("exactVersion", was["exactVersion"])
            if (doc.get("identity") or {}) != (old.get("identity") or {}):
                check_identity(cloud, doc, updating=True)
            return doc
        check_source(cloud, rid, doc.get("location") or "", p.get("source"))
        check_customizers(p.get("customize"))
        check_distributors(cloud, p.get("distribute"))
        check_timeout_and_vm_profile(cloud, p)
        check_identity(cloud, doc)
        staging = p.get("stagingResourceGroup")
        p["exactStagingResourceGroup"] = staging if isinstance(staging, str) and staging else (
            f"/subscriptions/{rid.subscription}/resourceGroups/IT_{rid.resource_group}_{rid.name}_{uuid.uuid4()}")
        return doc

    def finish(self, cloud, doc, op):
        auto = (doc["properties"].get("autoRun") or {}) if isinstance(doc["properties"].get("autoRun"), dict) else {}
        if op.data.get("old") is None and str(auto.get("state", "")).lower() == "enabled":
            # "Enabling this field will trigger an automatic build on image template creation" (models.tsp AutoRunState)
            self._start(cloud, doc, op.api_version)

    def own_delete(self, cloud, rid, call):
        doc = cloud.get(rid)
        state = ((doc or {}).get("properties") or {}).get("lastRunStatus") or {}
        if doc is not None and state.get("runState") in ACTIVE:
            raise RULES["AIB7"].refuse(operation=ACTION.format("delete"), provisioning="provisioned",
                                       run_state=str(state["runState"]).lower())
        return None

    def finish_delete(self, cloud, doc, op):
        for out in cloud.world.children(doc["id"], RUN_OUTPUT):
            cloud.remove(out["id"])

    # ---- actions ------------------------------------------------------------------------------------------------------
    def action(self, cloud, doc, name, call):
        state = (doc["properties"].get("lastRunStatus") or {}).get("runState")
        ps = str(doc["properties"].get("provisioningState") or "Succeeded")
        if name == "cancel":
            if state != "Running":
                raise RULES["AIB7"].refuse(operation=ACTION.format("cancel"), provisioning="provisioned",
                                           run_state=str(state or "none").lower())
            run = cloud.ops.get(cloud.priv(doc["id"]).get("run", {}).get("op", ""))
            doc["properties"]["lastRunStatus"]["runState"] = "Canceling"
            cloud.save(doc)
            op = cloud.begin(doc["id"], "action", "cancel", cloud.timing["aib.cancel"], doc["location"],
                             call.api_version, {"run": run.id if run is not None else None})
            return Answer(202, None, op, location=True)
        if state in ACTIVE or ps != "Succeeded":
            raise RULES["AIB7"].refuse(operation=ACTION.format("run"),
                                       provisioning="provisioned" if ps == "Succeeded" else ps.lower(),
                                       run_state=str(state or "none").lower())
        if identity_of(cloud, doc) is None:
            raise RULES["AIB5"].refuse(2)
        op = self._start(cloud, doc, call.api_version)
        return Answer(202, None, op, location=True)

    def _start(self, cloud: Cloud, doc: dict[str, Any], api: str) -> Operation:
        now = cloud.now()
        p = doc["properties"]
        for out in cloud.world.children(doc["id"], RUN_OUTPUT):
            cloud.remove(out["id"])
        minutes = as_int(p.get("buildTimeoutInMinutes")) or DEFAULT_TIMEOUT_MINUTES
        p["lastRunStatus"] = {"startTime": cloud.now_iso(), "runState": "Running", "runSubState": "Queued",
                              "message": ""}
        priv = cloud.priv(doc["id"])
        staging = str(p.get("exactStagingResourceGroup") or "")
        run = {"start": now, "deadline": now + minutes * 60.0, "subs": [["Queued", now]], "log": [],
               "folder": str(uuid.uuid4()), "operation": str(uuid.uuid4()), "broken": False,
               "storage": uuid.uuid5(uuid.NAMESPACE_URL, id_key(staging or doc["id"])).hex[:24],
               "minutes": as_int(p.get("buildTimeoutInMinutes")) or 0}
        op = cloud.begin(doc["id"], "action", "run", cloud.timing["aib.queue"], doc["location"], api,
                         {"phase": "queued"}, internal=True)
        run["op"] = op.id
        priv["run"] = run
        cloud.save(doc)
        return op

    # ---- the build on the clock ---------------------------------------------------------------------------------------
    # Phases, each ending at the run operation's end: queued (aib.queue) -> built (aib.build) -> customize (aib.customizer
    # per customizer) -> capture (aib.capture) -> distribute (the gallery writes) -> settle (their operations done).
    def finish_run(self, cloud: Cloud, op: Operation) -> None:
        doc = cloud.get(op.resource_id)
        run = cloud.priv(doc["id"]).get("run") if doc is not None else None
        if doc is None or not isinstance(run, dict) or run.get("op") != op.id:
            return
        if op.data.get("canceled"):
            self._end(cloud, doc, "Canceled", "")
            op.status = "Canceled"  # the run's operation ends Canceled, with no error (INFERRED)
            return
        now = cloud.now()
        while True:
            phase = str(op.data.get("phase"))
            nxt = self._step(cloud, doc, op, run, phase)
            if nxt is None:
                return  # the build is over (a failure raised AIB8's answer)
            end, name = nxt
            if end > float(run["deadline"]):
                end, name = float(run["deadline"]), "timeout"
                op.data["timed_out_in"] = phase
            op.data["phase"] = name
            if end > now:
                op.end = end
                cloud.save(doc)
                return

    def _step(self, cloud: Cloud, doc: dict[str, Any], op: Operation, run: dict[str, Any],
              phase: str) -> tuple[float, str] | None:
        """What happens when `phase` ends; the next phase's end and name, or None when the build is over."""
        now = cloud.now()
        customizers = [c for c in doc["properties"].get("customize") or [] if isinstance(c, dict)]
        if phase == "timeout":
            if op.data.get("timed_out_in") == "distribute":
                self._fail(cloud, doc, run, 1, self._distribution_timeout(cloud, doc))
            self._fail(cloud, doc, run, 2)
        if phase == "queued":
            if 0 < int(run.get("minutes") or 0) <= JWT_MINUTES:
                run["log"].append("PACKER ERR * client_jwt will expire within 5 minutes, please use a JWT that is "
                                  "valid for at least 5 minutes")
                self._fail(cloud, doc, run, 0)
            self._sub(doc, run, "Building", now)
            self._read_source(cloud, doc, run)
            return now + cloud.timing["aib.build"], "built"
        if phase == "built":
            if not customizers:
                return now, "capture"
            self._sub(doc, run, "Customizing", now)
            op.data["customizer"] = 0
            return now + cloud.timing["aib.customizer"], "customize"
        if phase == "customize":
            i = int(op.data.get("customizer") or 0)
            outcome, log = run_customizer(customizers[i], cloud.priv(doc["id"])) if i < len(customizers) else ("ok", [])
            run["log"].extend(log)
            if outcome == "failed":
                self._fail(cloud, doc, run, 0)
            run["broken"] = bool(run.get("broken")) or outcome == "ignored"
            op.data["customizer"] = i + 1
            if i + 1 < len(customizers):
                return now + cloud.timing["aib.customizer"], "customize"
            return now, "capture"
        if phase == "capture":
            self._sub(doc, run, "Distributing", now)
            run["log"].append("(telemetry) Finalizing.")
            return now + cloud.timing["aib.capture"], "distribute"
        if phase == "distribute":
            waits = self._distribute(cloud, doc, run)
            return max([cloud.ops[w].end for w in waits if w in cloud.ops] + [now]), "settle"
        if phase == "settle":
            self._settle(cloud, doc, run)
        return None

    def _sub(self, doc: dict[str, Any], run: dict[str, Any], name: str, at: float) -> None:
        run["subs"].append([name, at])
        doc["properties"]["lastRunStatus"]["runSubState"] = name

    # ---- source ------------------------------------------------------------------------------------------------------
    def _read_source(self, cloud: Cloud, doc: dict[str, Any], run: dict[str, Any]) -> None:
        """The Building step reads the source as the template's identity (it fails without the read permission or
        when the source is gone: troubleshoot 'Error occurs with getting a managed image', 'Build step failed for
        the image version'); `latest` resolves now (models.tsp exactVersion)."""
        src = doc["properties"].get("source") or {}
        ident = identity_of(cloud, doc) or {}
        principal = str((ident.get("properties") or {}).get("principalId") or "")
        if src.get("type") == "PlatformImage":
            image = vmimages.find(src.get("publisher", ""), src.get("offer", ""), src.get("sku", ""))
            if image is not None:
                src["exactVersion"] = (vmimages.latest(image) if str(src.get("version")).lower() == "latest"
                                       else src.get("version"))
            return
        if src.get("type") == "ManagedImage":
            iid = str(src.get("imageId"))
            irid = parse_id(iid)
            inner = self._denied_or_missing(cloud, principal, IMAGE_READ, iid, irid, "compute.ImagesClient#Get")
            if inner is not None:
                name = irid.name if irid is not None else iid
                self._fail(cloud, doc, run, 3, details=f": Error getting Managed Image '{iid}': Error getting managed "
                           f"image ({irid.resource_group if irid else ''}, {name}): {inner}", kind="Managed Image")
            return
        vid = str(src.get("imageVersionId"))
        vrid = parse_id(vid)
        target = vid
        if vrid is not None and vrid.name.lower() == "latest":
            versions = [d for d in cloud.world.children(str(vrid.parent), v.IMAGE_VERSION)
                        if not ((d.get("properties") or {}).get("publishingProfile") or {}).get("excludeFromLatest")]
            known = sorted((t, d["id"]) for d in versions if (t := _triple(d["name"])) is not None)
            target = known[-1][1] if known else vid
        trid = parse_id(target)
        inner = self._denied_or_missing(cloud, principal, VERSION_READ, target, trid,
                                        "compute.GalleryImageVersionsClient#Get")
        if inner is not None:
            ver = f"{trid.types[-2][1]}:{trid.name}" if trid is not None and len(trid.types) >= 2 else target
            self._fail(cloud, doc, run, 3, details=f" for Image Version '{target}': Error getting Image Version "
                       f"'{target}': Error getting image version '{ver}': {inner}", kind="Shared Image Version")
        src["exactVersion"] = target

    def _denied_or_missing(self, cloud: Cloud, principal: str, action: str, target: str, rid: ResourceId | None,
                           client: str) -> str | None:
        """The Go SDK error Image Builder quotes for a read it cannot do (troubleshoot page: 'compute.ImagesClient#Get:
        Failure responding to request: StatusCode=403 -- Original Error: autorest/azure: Service returned an error.
        Status=403 Code="AuthorizationFailed" Message="..."'; 'StatusCode=404 ... Code="ResourceNotFound"'), or None."""
        if rid is None:
            return f"{client}: invalid resource id '{target}'"
        if cloud.get(rid) is None:
            e = writes.not_found(rid)
            return (f"{client}: Failure responding to request: StatusCode={e.status} -- Original Error: autorest/azure: "
                    f"Service returned an error. Status={e.status} Code=\"{e.code}\" Message=\"{e.message}\"")
        if not rbac.allowed(cloud, principal, action, target):
            return _auth_error(principal, action, target, client)
        return None

    # ---- distribution -------------------------------------------------------------------------------------------------
    def _distribute(self, cloud: Cloud, doc: dict[str, Any], run: dict[str, Any]) -> list[str]:
        """Write every target (a run output each); the operations the run waits for. Failures go to run['failures']
        as [index, text]."""
        p = doc["properties"]
        ident = identity_of(cloud, doc) or {}
        principal = str((ident.get("properties") or {}).get("principalId") or "")
        run["failures"], run["outputs"], run["waits"] = [], [], {}
        vhd = f"https://{run['storage']}.blob.core.windows.net/vhds/{doc['name']}-{run['folder'][:8]}.vhd"
        for i, d in enumerate(p.get("distribute") or []):
            out = {"id": f"{doc['id']}/runOutputs/{d.get('runOutputName')}", "name": d.get("runOutputName"),
                   "type": RUN_OUTPUT, "properties": {"provisioningState": "Creating"}}
            if d.get("type") == "VHD":
                out["properties"].update({"artifactUri": d.get("uri") or vhd, "provisioningState": "Succeeded"})
            else:
                publish = self._publish if d.get("type") == "SharedImage" else self._managed_image
                artifact, failure, wait = publish(cloud, doc, run, i, d, principal, vhd)
                if artifact is not None:
                    out["properties"]["artifactId"] = artifact
                if failure is not None:
                    run["failures"].append([i, failure])
                    out["properties"]["provisioningState"] = "Failed"
                if wait is not None:
                    run["waits"][wait] = i
            cloud.save(out)
            run["outputs"].append(out["id"])
        return list(run["waits"])

    @staticmethod
    def _staging_account(doc: dict[str, Any], run: dict[str, Any]) -> str:
        """The staging group's storage account that holds the build's VHD (the version names it, rule CVM6)."""
        staging = str(doc["properties"].get("exactStagingResourceGroup") or "")
        return f"{staging}/providers/Microsoft.Storage/storageAccounts/{run['storage']}"

    def _publish(self, cloud: Cloud, doc: dict[str, Any], run: dict[str, Any], i: int, d: dict[str, Any],
                 principal: str, vhd: str) -> tuple[str | None, str | None, str | None]:
        """(version id, failure text, operation to wait for) of a SharedImage target."""
        gid = str(d.get("galleryImageId"))
        grid = parse_id(gid)
        k = len(run["failures"])
        if grid is None:
            return None, _gallery_error(i, k, gid, doc["location"], "invalid galleryImageId"), None
        drid = grid if grid.type.lower() == v.IMAGE_DEFINITION.lower() else grid.parent
        definition = cloud.get(drid)
        loc = str((definition or {}).get("location") or doc["location"])
        inner = self._denied_or_missing(cloud, principal, GALLERY_READ, str(drid), drid,
                                        "compute.GalleryImagesClient#Get")
        if inner is not None:
            return None, _gallery_error(i, k, gid, loc, inner), None
        src = doc["properties"].get("source") or {}
        name = grid.name if grid.type.lower() == v.IMAGE_VERSION.lower() else next_version(
            cloud, str(drid), d.get("versioning"), src.get("exactVersion") if src.get("type") == "PlatformImage" else None)
        vrid = drid.child("versions", name)
        if not rbac.allowed(cloud, principal, VERSION_WRITE, str(vrid)):
            # Seed 001 row 1: the identity may not write the version (AuthorizationFailed, named in the message).
            inner = _auth_error(principal, VERSION_WRITE, str(vrid), "compute.GalleryImageVersionsClient#CreateOrUpdate")
            return str(vrid), _gallery_error(i, k, gid, loc, inner), None
        targets = d.get("targetRegions")
        if targets is not None:
            regions_ = [{"name": t["name"], "regionalReplicaCount": t.get("replicaCount") or 1,
                         "storageAccountType": t.get("storageAccountType") or "Standard_LRS"} for t in targets]
        elif d.get("replicationRegions"):
            regions_ = [{"name": r, "regionalReplicaCount": 1,
                         "storageAccountType": d.get("storageAccountType") or "Standard_LRS"}
                        for r in d["replicationRegions"]]
        else:
            regions_ = [{"name": loc}]  # INFERRED: the definition's region
        # "Image Builder currently doesn't have a location parameter for the image version resource, we take it from
        # its parent image definition" (image-builder-json).
        body: dict[str, Any] = {"location": loc, "properties": {
            "publishingProfile": {"targetRegions": regions_, "excludeFromLatest": bool(d.get("excludeFromLatest"))},
            "storageProfile": {"source": {"uri": vhd, "storageAccountId": self._staging_account(doc, run)}}}}
        if isinstance(d.get("artifactTags"), dict):
            body["tags"] = dict(d["artifactTags"])
        try:
            answer = writes.write(cloud, vrid, Call("PUT", apis.GALLERY, body), render=False)
        except ArmError as e:
            inner = (f"compute.GalleryImageVersionsClient#CreateOrUpdate: Failure responding to request: StatusCode="
                     f"{e.status} -- Original Error: autorest/azure: Service returned an error. Status={e.status} "
                     f"Code=\"{e.code}\" Message=\"{e.message}\"")
            return str(vrid), _gallery_error(i, k, gid, loc, inner), None
        self._mark_broken(cloud, run, str(vrid))
        return str(vrid), None, answer.op.id if answer.op is not None else None

    def _managed_image(self, cloud: Cloud, doc: dict[str, Any], run: dict[str, Any], i: int, d: dict[str, Any],
                       principal: str, vhd: str) -> tuple[str | None, str | None, str | None]:
        """(image id, failure text, operation to wait for) of a ManagedImage target (failure wording INFERRED)."""
        iid = str(d.get("imageId"))
        irid = parse_id(iid)
        if irid is None:
            return None, f"[Distribute {i}] invalid imageId '{iid}'", None
        if not rbac.allowed(cloud, principal, IMAGE_WRITE, iid):
            inner = _auth_error(principal, IMAGE_WRITE, iid, "compute.ImagesClient#CreateOrUpdate")
            return iid, f"[Distribute {i}] Error creating Managed Image '{iid}': {inner}", None
        src = doc["properties"].get("source") or {}
        image = vmimages.find(src.get("publisher", ""), src.get("offer", ""), src.get("sku", ""))
        body: dict[str, Any] = {"location": d.get("location"), "properties": {
            "hyperVGeneration": image.generation if image is not None else "V2",
            "storageProfile": {"osDisk": {"osType": image.os_type if image is not None else "Linux",
                                          "osState": "Generalized", "blobUri": vhd}}}}
        if isinstance(d.get("artifactTags"), dict):
            body["tags"] = dict(d["artifactTags"])
        try:
            answer = writes.write(cloud, irid, Call("PUT", apis.api_version(v.IMAGE), body), render=False)
        except ArmError as e:
            return iid, f"[Distribute {i}] Error creating Managed Image '{iid}': ({e.code}) {e.message}", None
        self._mark_broken(cloud, run, iid)
        return iid, None, answer.op.id if answer.op is not None else None

    def _mark_broken(self, cloud: Cloud, run: dict[str, Any], artifact: str) -> None:
        """Seed 001 row 12: a failure the script ignored ships a broken image; the health model says so."""
        if run.get("broken"):
            images = cloud.settings.setdefault("health", {}).setdefault("images", {})
            images[artifact] = {**images.get(artifact, {}), "state": "unhealthy"}

    def _distribution_timeout(self, cloud: Cloud, doc: dict[str, Any]) -> dict[str, Any]:
        """The gallery wait that outlasted buildTimeoutInMinutes (troubleshoot 'Error occurs with waiting for Azure
        Compute Gallery'); the replication carries on."""
        run = cloud.priv(doc["id"]).get("run") or {}
        targets = doc["properties"].get("distribute") or []
        details = []
        for wait, i in (run.get("waits") or {}).items():
            w = cloud.ops.get(wait)
            if w is None or w.status != "InProgress" or targets[i].get("type") != "SharedImage":
                continue
            gid = str(targets[i].get("galleryImageId"))
            grid = parse_id(gid)
            names = dict(grid.types) if grid is not None else {}
            inner = (f"Error waiting on Azure Compute Gallery future for resource group: "
                     f"{grid.resource_group if grid else ''}, gallery name: {names.get('galleries', '')}, gallery image "
                     f"name: {names.get('images', '')}.Error: Future#WaitForCompletion: context has been cancelled: "
                     f"StatusCode=200 -- Original Error: context deadline exceeded")
            details.append(_gallery_error(i, len(details), gid, w.region, inner))
        return {"failed": max(1, len(details)), "total": len(targets), "details": _join(details)}

    def _settle(self, cloud: Cloud, doc: dict[str, Any], run: dict[str, Any]) -> None:
        targets = doc["properties"].get("distribute") or []
        for wait, i in (run.get("waits") or {}).items():
            w = cloud.ops.get(wait)
            out = cloud.get(run["outputs"][i])
            if w is not None and w.status == "Failed":
                err = w.error or {}
                inner = (f"Future#WaitForCompletion: the operation failed: Code=\"{err.get('code')}\" "
                         f"Message=\"{err.get('message')}\"")
                d = targets[i]
                text = (_gallery_error(i, len(run["failures"]), str(d.get("galleryImageId")), w.region, inner)
                        if d.get("type") == "SharedImage" else f"[Distribute {i}] {inner}")
                run["failures"].append([i, text])
                if out is not None:
                    out["properties"]["provisioningState"] = "Failed"
                    cloud.save(out)
        for out_id in run.get("outputs") or []:
            out = cloud.get(out_id)
            if out is not None and out["properties"].get("provisioningState") == "Creating":
                out["properties"]["provisioningState"] = "Succeeded"
                cloud.save(out)
        failures = sorted(run["failures"])
        if not failures:
            self._end(cloud, doc, "Succeeded", "")
            return
        self._fail(cloud, doc, run, 1, {"failed": len(failures), "total": len(targets),
                                        "details": _join([f for _, f in failures])},
                   state="PartiallySucceeded" if len(failures) < len(targets) else "Failed")

    # ---- ending ------------------------------------------------------------------------------------------------------
    def _end(self, cloud: Cloud, doc: dict[str, Any], state: str, message: str) -> None:
        st = doc["properties"].setdefault("lastRunStatus", {})
        st.update({"endTime": cloud.now_iso(), "runState": state, "message": message})
        cloud.save(doc)

    def _fail(self, cloud: Cloud, doc: dict[str, Any], run: dict[str, Any], which: int,
              fields: dict[str, Any] | None = None, state: str = "Failed", **kw: Any) -> None:
        """End the run (lastRunStatus) and fail its operation with rule AIB8's answer `which`."""
        fields = {**(fields or {}), **kw}
        if which == 0:
            staging = str(doc["properties"].get("exactStagingResourceGroup") or "")
            fields = {"logs": f"{staging}/providers/Microsoft.Storage/storageAccounts/{run.get('storage')}/"
                              f"blobServices/default/containers/packerlogs/{run.get('folder')}/customization.log",
                      "operation": run.get("operation")}
        err = RULES["AIB8"].refuse(which, **fields)
        if which != 1:  # a distribution that timed out carries on: its output stays Creating
            for out_id in run.get("outputs") or []:
                out = cloud.get(out_id)
                if out is not None and out["properties"].get("provisioningState") == "Creating":
                    out["properties"]["provisioningState"] = "Failed"
                    cloud.save(out)
        self._end(cloud, doc, state, err.message)
        raise err

    def finish_cancel(self, cloud: Cloud, op: Operation) -> None:
        run_op = cloud.ops.get(op.data.get("run") or "")
        if run_op is not None and run_op.status == "InProgress":
            run_op.data["canceled"] = True
            cloud.complete_now([run_op.id])


class RunOutputType(ResourceType):
    """`imageTemplates/{t}/runOutputs/{name}`: written by a run, read by clients (rule AIB9)."""

    type = RUN_OUTPUT
    needs_location = False
    listed = False

    def own_write(self, cloud, rid, call):
        raise RULES["AIB9"].refuse(method=call.method)

    def own_delete(self, cloud, rid, call):
        raise RULES["AIB9"].refuse(method=call.method)


register(ImageTemplateType())
register(RunOutputType())
