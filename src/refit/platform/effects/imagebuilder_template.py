"""An Image Builder template as Azure reads it when it is submitted: its source, customizers, distribution targets,
build timeout, VM profile and identity, refused as Azure refuses them (rules AIB2-AIB6, ValidationFailed). The
behaviour of a submitted template (its runs) is imagebuilder.py's; sources in that module's docstring."""

from __future__ import annotations

import json
import re
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.platform import authorization as rbac
from refit.platform import vmimages
from refit.platform.cloud import Cloud
from refit.platform.effects import handler_for
from refit.platform.rules import RULES

IMAGE_TEMPLATE = "Microsoft.VirtualMachineImages/imageTemplates"
RUN_OUTPUT = IMAGE_TEMPLATE + "/runOutputs"
SOURCE_TYPES = ("PlatformImage", "ManagedImage", "SharedImageVersion")
CUSTOMIZER_TYPES = ("Shell", "PowerShell", "File", "WindowsRestart", "WindowsUpdate")
DISTRIBUTOR_TYPES = ("SharedImage", "ManagedImage", "VHD")
DEFAULT_TIMEOUT_MINUTES = 240  # "Omit or specify 0 to use the default (4 hours)" (models.tsp)
MAX_TIMEOUT_MINUTES = 960  # @maxValue(960)
JWT_MINUTES = 5  # "set to from 1 to 5 minutes": Packer refuses a token valid for less (troubleshoot, JWT errors)
RUN_OUTPUT_NAME = re.compile(r"^[A-Za-z0-9-_.]{1,64}$")  # models.tsp ImageTemplateDistributor.runOutputName
ACTION = "Microsoft.VirtualMachineImages/imageTemplates/{}"
GALLERY_READ = "Microsoft.Compute/galleries/images/read"
VERSION_WRITE = "Microsoft.Compute/galleries/images/versions/write"
VERSION_READ = "Microsoft.Compute/galleries/images/versions/read"
IMAGE_READ = "Microsoft.Compute/images/read"
IMAGE_WRITE = "Microsoft.Compute/images/write"
ACTIVE = ("Running", "Canceling")


# ---- reading the template (rules AIB2-AIB6) -------------------------------------------------------------------------
def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _missing(rule, section: str, field: str) -> ArmError:
    return rule.refuse(0, section=section, field=field)


def _bad(rule, section: str, field: str, value: Any) -> ArmError:
    return rule.refuse(1, section=section, field=field, value=_show(value))


def _canonical(value: Any, allowed: tuple[str, ...]) -> str | None:
    """Azure's casing of an enum value sent in any case (INFERRED: API 2024-02-01 and later enforce the case of
    field names, image-builder-api-update-release-notes 'Breaking Change: Case Sensitivity'; values are compared
    ignoring case here)."""
    if not isinstance(value, str):
        return None
    return next((a for a in allowed if a.lower() == value.lower()), None)


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_id(text: Any) -> ResourceId | None:
    if not isinstance(text, str):
        return None
    try:
        return ResourceId.parse(text)
    except ArmError:
        return None


def of_type(cloud: Cloud, text: Any, arm_type: str) -> dict[str, Any] | None:
    rid = parse_id(text)
    if rid is None or rid.type.lower() != arm_type.lower():
        return None
    try:
        return handler_for(arm_type).view(cloud, rid)
    except ArmError:
        return None


def check_source(cloud: Cloud, rid: ResourceId, location: str, src: Any) -> None:
    rule = RULES["AIB2"]
    top = "ImageTemplate.properties"
    if src is None:
        raise _missing(rule, top, "source")
    section = f"{top}.source"
    if not isinstance(src, dict):
        raise _bad(rule, top, "source", src)
    if src.get("type") is None:
        raise _missing(rule, section, "type")
    kind = _canonical(src.get("type"), SOURCE_TYPES)
    if kind is None:
        raise _bad(rule, section, "type", src.get("type"))
    src["type"] = kind
    if kind == "PlatformImage":
        for k in ("publisher", "offer", "sku", "version"):
            if not isinstance(src.get(k), str) or not src[k]:
                raise _missing(rule, section, k) if src.get(k) in (None, "") else _bad(rule, section, k, src[k])
        if src["publisher"].lower() not in {p.lower() for p in vmimages.publishers()}:
            raise _bad(rule, section, "publisher", src["publisher"])
        if src["offer"].lower() not in {o.lower() for o in vmimages.offers(src["publisher"])}:
            raise _bad(rule, section, "offer", src["offer"])
        image = vmimages.find(src["publisher"], src["offer"], src["sku"])
        if image is None:
            raise _bad(rule, section, "sku", src["sku"])
        if not vmimages.has_version(image, src["version"]):
            raise _bad(rule, section, "version", src["version"])
    elif kind == "ManagedImage":
        if not src.get("imageId"):
            raise _missing(rule, section, "imageId")
        image = of_type(cloud, src["imageId"], v.IMAGE)
        irid = parse_id(src["imageId"])
        # "the image must reside in the same subscription and region as your Azure Image Builder template"
        if (image is None or irid is None or irid.subscription.lower() != rid.subscription.lower()
                or str(image.get("location", "")).lower().replace(" ", "") != location.lower().replace(" ", "")):
            raise _bad(rule, section, "imageId", src["imageId"])
    else:
        if not src.get("imageVersionId"):
            raise _missing(rule, section, "imageVersionId")
        vrid = parse_id(src["imageVersionId"])
        ok = vrid is not None and vrid.type.lower() == v.IMAGE_VERSION.lower()
        if ok and vrid.name.lower() == "latest":
            ok = of_type(cloud, str(vrid.parent), v.IMAGE_DEFINITION) is not None
        elif ok:
            ok = of_type(cloud, src["imageVersionId"], v.IMAGE_VERSION) is not None
        if not ok:
            raise _bad(rule, section, "imageVersionId", src["imageVersionId"])


def check_customizers(customize: Any) -> None:
    rule = RULES["AIB3"]
    if customize is None:
        return
    if not isinstance(customize, list):
        raise _bad(rule, "ImageTemplate.properties", "customize", customize)
    for i, c in enumerate(customize):
        section = f"ImageTemplate.properties.customize[{i}]"
        if not isinstance(c, dict):
            raise _bad(rule, "ImageTemplate.properties", f"customize[{i}]", c)
        if c.get("type") is None:
            raise _missing(rule, section, "type")
        kind = _canonical(c.get("type"), CUSTOMIZER_TYPES)
        if kind is None:
            raise _bad(rule, section, "type", c.get("type"))
        c["type"] = kind
        if kind in ("Shell", "PowerShell"):
            uri, inline = c.get("scriptUri"), c.get("inline")
            if uri is None and inline is None:
                raise _missing(rule, section, "scriptUri or inline")
            if uri is not None and inline is not None:  # "Exactly one of 'scriptUri' or 'inline' can be specified."
                raise _bad(rule, section, "scriptUri", uri)
            if inline is not None and (not isinstance(inline, list) or not all(isinstance(x, str) for x in inline)):
                raise _bad(rule, section, "inline", inline)
            if uri is not None and (not isinstance(uri, str) or not uri):
                raise _bad(rule, section, "scriptUri", uri)
            codes = c.get("validExitCodes")
            if kind == "PowerShell" and codes is not None and (
                    not isinstance(codes, list) or any(as_int(x) is None for x in codes)):
                raise _bad(rule, section, "validExitCodes", codes)
        elif kind == "File":
            for k in ("sourceUri", "destination"):
                if not c.get(k):
                    raise _missing(rule, section, k)
                if not isinstance(c[k], str):
                    raise _bad(rule, section, k, c[k])
        elif kind == "WindowsUpdate" and c.get("updateLimit") is not None:
            n = as_int(c["updateLimit"])
            if n is None or n < 0:
                raise _bad(rule, section, "updateLimit", c["updateLimit"])


def check_distributors(cloud: Cloud, distribute: Any) -> None:
    rule = RULES["AIB4"]
    top = "ImageTemplate.properties"
    if distribute is None:
        raise _missing(rule, top, "distribute")
    if not isinstance(distribute, list) or not distribute:
        raise _bad(rule, top, "distribute", distribute)
    names: set[str] = set()
    for i, d in enumerate(distribute):
        section = f"{top}.distribute[{i}]"
        if not isinstance(d, dict):
            raise _bad(rule, top, f"distribute[{i}]", d)
        if d.get("type") is None:
            raise _missing(rule, section, "type")
        kind = _canonical(d.get("type"), DISTRIBUTOR_TYPES)
        if kind is None:
            raise _bad(rule, section, "type", d.get("type"))
        d["type"] = kind
        name = d.get("runOutputName")
        if name is None or name == "":
            raise _missing(rule, section, "runOutputName")
        if not isinstance(name, str) or not RUN_OUTPUT_NAME.match(name) or name.lower() in names:
            raise _bad(rule, section, "runOutputName", name)
        names.add(name.lower())
        if kind == "SharedImage":
            _check_shared_image(cloud, rule, section, d)
        elif kind == "ManagedImage":
            for k in ("imageId", "location"):
                if not d.get(k):
                    raise _missing(rule, section, k)
            irid = parse_id(d["imageId"])
            if (irid is None or irid.type.lower() != v.IMAGE.lower() or irid.resource_group is None
                    or cloud.get(ResourceId(irid.subscription, irid.resource_group)) is None):
                raise _bad(rule, section, "imageId", d["imageId"])
            if not isinstance(d["location"], str):
                raise _bad(rule, section, "location", d["location"])
        elif d.get("uri") is not None and not isinstance(d["uri"], str):
            raise _bad(rule, section, "uri", d["uri"])
        tags = d.get("artifactTags")
        if tags is not None and (not isinstance(tags, dict) or not all(isinstance(x, str) for x in tags.values())):
            raise _bad(rule, section, "artifactTags", tags)


def _check_shared_image(cloud: Cloud, rule, section: str, d: dict[str, Any]) -> None:
    gid = d.get("galleryImageId")
    if not gid:
        raise _missing(rule, section, "galleryImageId")
    grid = parse_id(gid)
    definition = None
    if grid is not None and grid.type.lower() in (v.IMAGE_DEFINITION.lower(), v.IMAGE_VERSION.lower()):
        drid = grid if grid.type.lower() == v.IMAGE_DEFINITION.lower() else grid.parent
        definition = cloud.get(drid) if drid is not None else None
    if definition is None:
        raise _bad(rule, section, "galleryImageId", gid)
    targets, old = d.get("targetRegions"), d.get("replicationRegions")
    if targets is not None and old is not None:
        raise _bad(rule, section, "replicationRegions", old)
    if targets is not None:
        if not isinstance(targets, list):
            raise _bad(rule, section, "targetRegions", targets)
        for j, t in enumerate(targets):
            where = f"{section}.targetRegions[{j}]"
            if not isinstance(t, dict):
                raise _bad(rule, section, f"targetRegions[{j}]", t)
            if not t.get("name"):
                raise _missing(rule, where, "name")
            if not isinstance(t["name"], str):
                raise _bad(rule, where, "name", t["name"])
            if t.get("replicaCount") is not None and (as_int(t["replicaCount"]) is None or t["replicaCount"] < 1):
                raise _bad(rule, where, "replicaCount", t["replicaCount"])
        if d.get("storageAccountType") is not None:  # "can be specified only if replicationRegions is specified"
            raise _bad(rule, section, "storageAccountType", d["storageAccountType"])
    if old is not None and (not isinstance(old, list) or not all(isinstance(x, str) and x for x in old)):
        raise _bad(rule, section, "replicationRegions", old)
    versioning = d.get("versioning")
    if versioning is not None:
        scheme = _canonical((versioning or {}).get("scheme") if isinstance(versioning, dict) else None,
                            ("Latest", "Source"))
        if scheme is None:
            raise _bad(rule, section, "versioning", versioning)
        versioning["scheme"] = scheme
        major = versioning.get("major")
        if major is not None and (as_int(major) is None or major < -1):
            raise _bad(rule, f"{section}.versioning", "major", major)


def check_timeout_and_vm_profile(cloud: Cloud, p: dict[str, Any]) -> None:
    rule = RULES["AIB6"]
    top = "ImageTemplate.properties"
    t = p.get("buildTimeoutInMinutes")
    if t is not None and (as_int(t) is None or not 0 <= t <= MAX_TIMEOUT_MINUTES):
        raise _bad(rule, top, "buildTimeoutInMinutes", t)
    vp = p.get("vmProfile")
    if vp is None:
        return
    if not isinstance(vp, dict):
        raise _bad(rule, top, "vmProfile", vp)
    section = f"{top}.vmProfile"
    size = vp.get("osDiskSizeGB")
    if size is not None and (as_int(size) is None or size < 0):
        raise _bad(rule, section, "osDiskSizeGB", size)
    if vp.get("vmSize") is not None and not isinstance(vp["vmSize"], str):
        raise _bad(rule, section, "vmSize", vp["vmSize"])
    ids = vp.get("userAssignedIdentities")
    if ids is not None:
        if not isinstance(ids, list):
            raise _bad(rule, section, "userAssignedIdentities", ids)
        for x in ids:
            if of_type(cloud, x, rbac.IDENTITY) is None:
                raise _bad(rule, section, "userAssignedIdentities", x)
    net = vp.get("vnetConfig")
    if net is not None:
        if not isinstance(net, dict):
            raise _bad(rule, section, "vnetConfig", net)
        for k in ("subnetId", "containerInstanceSubnetId"):
            if net.get(k) is not None and of_type(cloud, net[k], "Microsoft.Network/virtualNetworks/subnets") is None:
                raise _bad(rule, f"{section}.vnetConfig", k, net[k])


def check_identity(cloud: Cloud, doc: dict[str, Any], updating: bool = False) -> None:
    rule = RULES["AIB5"]
    ident = doc.get("identity")
    if ident is None:
        raise _missing(rule, "ImageTemplate", "identity")
    if not isinstance(ident, dict):
        raise _bad(rule, "ImageTemplate", "identity", ident)
    kind = _canonical(ident.get("type"), ("UserAssigned", "None"))
    if kind == "None" and updating:  # "The type 'None' will remove any identities from the image template."
        doc["identity"] = {"type": "None"}
        return
    if kind != "UserAssigned":
        if ident.get("type") is None:
            raise _missing(rule, "ImageTemplate.identity", "type")
        raise _bad(rule, "ImageTemplate.identity", "type", ident.get("type"))
    ident["type"] = kind
    uai = ident.get("userAssignedIdentities")
    if isinstance(uai, dict):  # a PATCH removes an identity by naming it with null (troubleshoot page, identity fix)
        uai = {k: x for k, x in uai.items() if x is not None}
    if not isinstance(uai, dict) or len(uai) != 1:  # "Supports a single identity only."
        raise _bad(rule, "ImageTemplate.identity", "userAssignedIdentities",
                   ",".join(uai) if isinstance(uai, dict) else uai)
    key = next(iter(uai))
    found = of_type(cloud, key, rbac.IDENTITY)
    if found is None:
        raise rule.refuse(2)
    p = found.get("properties") or {}
    ident["userAssignedIdentities"] = {key: {"principalId": p.get("principalId"), "clientId": p.get("clientId")}}


def identity_of(cloud: Cloud, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The user-assigned identity document a template runs as (None once it is gone)."""
    uai = (doc.get("identity") or {}).get("userAssignedIdentities") or {}
    return of_type(cloud, next(iter(uai), None), rbac.IDENTITY) if isinstance(uai, dict) else None

