"""Azure Compute Gallery: image definitions, versions, replication and image references (reference
section 3).

Definitions keep their identity (G1, G4); versions are named Major.Minor.Patch (G5), publish to regions
that include their own (G6) once each (G7), keep their source (G8), whose OS state (G9) and generation
(G10, asynchronous) must match the definition's. Nested resources go first on delete (G12). A VM, scale
set or disk can use a version only where it has replicated (G14/G23), `latest` skips excluded and
unreplicated versions (G13, refit.platform.rules.images), and an `imageReference.id` takes no `version` (G21).

The gallery RP's own answers continue the family after the reference's rows (G24-G29): a gallery's name
(G24); what a definition (G25, G26) and a version (G27, G28, G29) must say to be built.
"""

from __future__ import annotations

import re
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.platform import regions
from refit.platform.rules import facts, images
from refit.platform.rules.common import (
    DEFINITION,
    DISK,
    FAMILY,
    GALLERY,
    INVALID_ENUM,
    REF,
    REQUIRED,
    VERSION,
    VM,
    VMSS,
    boots_from_image,
    changed,
    get,
    image_reference,
    is_type,
    lower,
    norm,
    not_one_of,
    present,
    region,
    resolve,
    source_generation,
    source_os_state,
    version_source,
)
from refit.platform.rules.registry import ErrorTemplate, refusal, rule

Doc = dict[str, Any] | None

G1_CHANGE = ErrorTemplate(409, "PropertyChangeNotAllowed",
                          "Changing property 'galleryImage.properties.{prop}' is not allowed.",
                          "galleryImage.properties.{prop}")
G1_FEATURE = ErrorTemplate(409, "PropertyChangeNotAllowed", "Changing property '{feature}' is not allowed.", "{feature}")
G4_IDENTIFIER = ErrorTemplate(409, "Conflict",
                              "Gallery image: {name} identified by (publisher:{publisher}, offer:{offer}, sku:{sku}) "
                              "already exists. Choose a different publisher, offer, sku combination.")
G5_NAME = ErrorTemplate(400, "InvalidParameter",
                        "The image version name is invalid. The image version name should follow "
                        "Major(int).Minor(int).Patch(int) format, for e.g: 1.0.0, 2018.12.1 etc", "galleryImageVersionName")
G6_REGIONS = ErrorTemplate(400, "InvalidParameter",
                           "Gallery image version publishing profile regions {regions} must contain the location of image "
                           "version {location}")
G7_DUPLICATE = ErrorTemplate(400, "InvalidParameter", "Duplicate regions are not allowed in target publishing regions")
G8_SOURCE = ErrorTemplate(409, "PropertyChangeNotAllowed",
                          "Changing property 'galleryImageVersion.properties.{path}' is not allowed",
                          "galleryImageVersion.properties.{path}")
G9_OS_STATE = ErrorTemplate(400, "InvalidParameter",
                            "Cannot create Gallery Image Version from: {source} since the OS State in the parent gallery "
                            "image ({expected}) is not {actual}")
G10_GENERATION = ErrorTemplate(409, "Conflict",
                               "The resource with id '{source}' has a different Hypervisor generation ['{source_gen}'] than "
                               "the parent gallery image Hypervisor generation ['{gen}'].")
G11_DELETING = ErrorTemplate(409, "OperationNotAllowed",
                             "Operation 'Update Gallery Image Version' is not on allowed on {name}; since it is marked for "
                             "deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).")
G12_NESTED = ErrorTemplate(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.")
G17_NOT_ALLOWED = ErrorTemplate(400, "InvalidParameter", "Parameter 'osProfile' is not allowed.", "osProfile")
G20_LIMIT = ErrorTemplate(409, "OperationNotAllowed",
                          "The limit of {limit} {what} per subscription per region has been reached in region '{region}'.")
G20_REPLICAS = ErrorTemplate(400, "InvalidParameter",
                             "The replica count {count} for region '{region}' exceeds the limit of {limit} replicas per "
                             "image version per region.", "publishingProfile.targetRegions")
G22_LUN = ErrorTemplate(400, "InvalidParameter", "The value of parameter imageReference is invalid.")
G22_SECURITY = ErrorTemplate(400, "BadRequest",
                             "The provided gallery image only supports creation of disks with '{security_type}' security "
                             "type.")
G22_TL_UNSUPPORTED = ErrorTemplate(400, "BadRequest",
                                   "Security type 'TrustedLaunch' is not supported for the provided gallery image. Please "
                                   "select a Trusted Launch Supported Gen2 OS Image.")


# ---- image definitions ------------------------------------------------------------------------------------
def _features(doc: dict[str, Any]) -> dict[str, str]:
    return {str(f.get("name")).lower(): lower(f.get("value")) for f in get(doc, "properties.features") or []
            if isinstance(f, dict) and f.get("name")}


def _feature_name(doc: dict[str, Any], key: str) -> str:
    for f in get(doc, "properties.features") or []:
        if isinstance(f, dict) and str(f.get("name")).lower() == key:
            return str(f["name"])
    return next((n for n in facts.UPDATABLE_FEATURES if n.lower() == key), key)


@rule("G1", DEFINITION, "Image definition identity is immutable (features only through allowUpdateImage)",
      f"{REF} G1, G2, G3; acd troubleshooting-shared-images.md; Azure/bicep-types-az#2430; specs GalleryRP/stable/"
      "2024-03-03/examples/galleryExamples/GalleryImage_UpdateFeatures.json", errors=(G1_CHANGE, G1_FEATURE),
      operations=("update",), confidence="H")
def g1_definition_immutables(world: World, old: Doc, new: Doc) -> list:
    """osType, osState, hyperVGeneration and the identifier (publisher/offer/sku) never change; features
    change only with `allowUpdateImage: true` and only SecurityType, DiskControllerTypes,
    IsAcceleratedNetworkSupported and IsHibernateSupported (G3). Description, EOL date, release notes and
    recommendations are updatable (G2). A property the update leaves out is unchanged."""
    if old is None or new is None:
        return []
    for prop in ("osType", "osState", "hyperVGeneration"):
        path = f"properties.{prop}"
        if present(new, path) and lower(get(old, path)) != lower(get(new, path)):
            return [G1_CHANGE(prop=prop)]
    if present(new, "properties.identifier") and norm(get(old, "properties.identifier")) != norm(
            get(new, "properties.identifier")):
        return [G1_CHANGE(prop="identifier")]
    if not present(new, "properties.features"):
        return []
    a, b = _features(old), _features(new)
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if not diff:
        return []
    updatable = {n.lower() for n in facts.UPDATABLE_FEATURES}
    if get(new, "properties.allowUpdateImage") is True and all(k in updatable for k in diff):
        return []
    key = next((k for k in diff if k not in updatable), diff[0])
    return [G1_FEATURE(feature=_feature_name(new if key in b else old, key))]


@rule("G4", DEFINITION, "An identifier (publisher, offer, sku) is unique within a gallery",
      f"{REF} G4; acd troubleshooting-shared-images.md. Code Conflict / HTTP 409 INFERRED", errors=(G4_IDENTIFIER,),
      confidence="H")
def g4_identifier_unique(world: World, old: Doc, new: Doc) -> list:
    """Two definitions of one gallery cannot share publisher + offer + sku (compared case-insensitively)."""
    if new is None:
        return []
    ident = v.ImageDefinition(new).identifier
    if not all(ident):
        return []
    rid = v.ImageDefinition(new).rid
    for d in world.children(str(rid.parent), DEFINITION):
        other = v.ImageDefinition(d)
        if other.key != rid.key() and tuple(x.lower() for x in other.identifier) == tuple(x.lower() for x in ident):
            return [G4_IDENTIFIER(name=other.name, publisher=ident[0], offer=ident[1], sku=ident[2])]
    return []


# ---- image versions ----------------------------------------------------------------------------------------
@rule("G5", VERSION, "A version is named Major.Minor.Patch (32-bit integers)",
      f"{REF} G5; acd troubleshooting-shared-images.md. Code InvalidParameter / HTTP 400 INFERRED", errors=(G5_NAME,),
      confidence="H")
def g5_version_name(world: World, old: Doc, new: Doc) -> list:
    """Three dot-separated non-negative integers, each at most 2^31-1: 1.0.0, 2018.12.1."""
    if new is None:
        return []
    parts = (new.get("name") or "").split(".")
    if len(parts) == 3 and all(p.isdigit() and len(p) <= 10 and int(p) <= 2**31 - 1 for p in parts):
        return []
    return [G5_NAME()]


def _targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in v.ImageVersion(doc).target_regions if isinstance(t, dict)]


@rule("G6", VERSION, "A version publishes to its own region",
      f"{REF} G6; acd troubleshooting-shared-images.md. Code InvalidParameter / HTTP 400 INFERRED", errors=(G6_REGIONS,),
      confidence="H")
def g6_source_region_targeted(world: World, old: Doc, new: Doc) -> list:
    """publishingProfile.targetRegions must contain the version's location (the source's region)."""
    if new is None:
        return []
    targets = _targets(new)
    if not targets or any(region(t.get("name")) == region(new.get("location")) for t in targets):
        return []
    return [G6_REGIONS(regions=", ".join(str(t.get("name")) for t in targets), location=new.get("location"))]


@rule("G7", VERSION, "No duplicate target regions",
      f"{REF} G7; acd troubleshooting-shared-images.md. Code InvalidParameter / HTTP 400 INFERRED",
      errors=(G7_DUPLICATE,), confidence="H")
def g7_duplicate_regions(world: World, old: Doc, new: Doc) -> list:
    """A region appears once in publishingProfile.targetRegions ('East US' and 'eastus' are the same)."""
    if new is None:
        return []
    names = [region(t.get("name")) for t in _targets(new)]
    return [G7_DUPLICATE()] if len(names) != len(set(names)) else []


@rule("G8", VERSION, "A version's source is immutable",
      f"{REF} G8; acd troubleshooting-shared-images.md", errors=(G8_SOURCE,), operations=("update",), confidence="H")
def g8_source_immutable(world: World, old: Doc, new: Doc) -> list:
    """An update may not point a version at another source (publish a new version instead)."""
    if old is None or new is None:
        return []
    a_id, a_uri, _ = version_source(old)
    b_id, b_uri, path = version_source(new)
    if (b_id is None and b_uri is None) or norm(a_id or a_uri) == norm(b_id or b_uri):
        return []
    return [G8_SOURCE(path=path.removeprefix("properties.") + (".id" if b_id else ".uri"))]


def _definition(world: World, version: dict[str, Any]) -> dict[str, Any] | None:
    return world.get(str(v.ImageVersion(version).rid.parent))


@rule("G9", VERSION, "The source's OS state must be the definition's",
      f"{REF} G9; acd troubleshooting-shared-images.md. Code InvalidParameter / HTTP 400 INFERRED", errors=(G9_OS_STATE,),
      operations=("create",), confidence="H")
def g9_os_state(world: World, old: Doc, new: Doc) -> list:
    """A Generalized definition takes generalized sources, a Specialized one specialized sources. Known for
    managed images (osDisk.osState) and gallery versions (their definition); VM and disk documents do not
    state it, so they are not checked."""
    if new is None:
        return []
    definition = _definition(world, new)
    src, _, _ = version_source(new)
    actual = source_os_state(world, src)
    expected = v.ImageDefinition(definition).os_state if definition else None
    if not actual or not expected or lower(actual) == lower(expected):
        return []
    return [G9_OS_STATE(source=src, expected=expected, actual=actual)]


@rule("G10", VERSION, "The source's Hyper-V generation must be the definition's (the operation fails)",
      f"{REF} G10; ad#118774; acd troubleshooting-shared-images.md (an LRO failure)", errors=(G10_GENERATION,),
      asynchronous=True, operations=("create",), confidence="H")
def g10_generation(world: World, old: Doc, new: Doc) -> list:
    """A Gen2 source cannot publish into a V1 definition and vice versa. Azure accepts the PUT and the
    version's long-running operation fails with Conflict."""
    if new is None:
        return []
    definition = _definition(world, new)
    src, _, _ = version_source(new)
    gen = source_generation(world, src)
    if definition is None or gen is None:
        return []
    want = v.ImageDefinition(definition).hyper_v_generation
    return [] if gen == want else [G10_GENERATION(source=src, source_gen=gen, gen=want)]


@rule("G11", VERSION, "A version marked for deletion cannot be updated",
      f"{REF} G11; acd troubleshooting-shared-images.md. Code OperationNotAllowed / HTTP 409 INFERRED",
      errors=(G11_DELETING,), operations=("update",), confidence="H")
def g11_update_while_deleting(world: World, old: Doc, new: Doc) -> list:
    """While a version's provisioningState is Deleting only the delete may be retried."""
    if old is None or lower(get(old, "properties.provisioningState")) != "deleting":
        return []
    return [G11_DELETING(name=old.get("name", ""))]


@rule("G12", (GALLERY, DEFINITION), "Delete order: versions, then definitions, then the gallery",
      f"{REF} G12; acd troubleshooting-shared-images.md. Code CannotDeleteResource / HTTP 409 (ARM's nested-resource "
      "answer)", errors=(G12_NESTED,), operations=("delete",), confidence="H")
def g12_delete_order(world: World, old: Doc, new: Doc) -> list:
    """A gallery with definitions, or a definition with versions, cannot be deleted."""
    if old is None:
        return []
    child = DEFINITION if is_type(old, GALLERY) else VERSION
    return [G12_NESTED()] if world.children(old["id"], child) else []


# ---- image references: latest, replication, id + version ------------------------------------------------------
def _reference(new: dict[str, Any], old: Doc) -> dict[str, Any] | None:
    """The image reference this write asks Azure to resolve, or None when it does not."""
    if is_type(new, DISK):
        if old is not None or lower(get(new, "properties.creationData.createOption")) != "fromimage":
            return None
        return get(new, "properties.creationData.galleryImageReference") or get(new, "properties.creationData.imageReference")
    if not boots_from_image(new):
        return None
    if old is None or (is_type(new, VMSS) and changed(old, new, "properties.virtualMachineProfile.storageProfile."
                                                                  "imageReference")):
        return image_reference(new)
    return None


def _resolution_error(world: World, old: Doc, new: Doc) -> ArmError | None:
    if new is None:
        return None
    ref = _reference(new, old)
    if not ref:
        return None
    _, err = resolve(world, ref, new.get("location", ""))
    return err


def _is_g21(e: ArmError) -> bool:
    return e.message == images.ID_AND_VERSION.message


def _is_g13(e: ArmError) -> bool:
    return e.code == images.NO_LATEST.code and e.message.startswith(images.NO_LATEST.message.split("{")[0])


# Everything else resolving a reference can answer belongs to G14 (VM, scale set) / G23 (disk).
_NOT_USABLE = (images.NOT_AVAILABLE, images.NOT_FOUND, images.MANAGED_IMAGE_NOT_FOUND, images.INVALID_ID,
               images.INVALID)


@rule("G13", (VM, VMSS, DISK), "'latest' needs an eligible version in the region",
      f"{REF} G13; acd shared-image-galleries.md; acd troubleshooting-shared-images.md; specs "
      "GalleryImageVersion_Get_WithReplicationStatus.json. HTTP 404 / GalleryImageNotFound as G14 (INFERRED)",
      errors=(images.NO_LATEST,), operations=("create", "update"), confidence="H")
def g13_latest(world: World, old: Doc, new: Doc) -> list:
    """A definition (or .../versions/latest) resolves to the highest Major.Minor.Patch that is not
    excludeFromLatest (globally or for the region) and has replicated to the region (refit.platform.rules.images).
    None eligible: refused."""
    err = _resolution_error(world, old, new)
    return [err] if err is not None and _is_g13(err) else []


@rule("G14", (VM, VMSS), "A gallery image is usable only where it has replicated",
      f"{REF} G14; confidential-containers/cloud-api-adaptor#1709 (404 GalleryImageNotFound); acd "
      "troubleshooting-shared-images.md", errors=_NOT_USABLE, confidence="H")
def g14_replicated(world: World, old: Doc, new: Doc) -> list:
    """A VM created from, or a scale set pointed at, a version that is not in its targetRegions or has not
    finished replicating to the VM's region is refused (also: an image that does not exist)."""
    err = _resolution_error(world, old, new)
    return [err] if err is not None and not _is_g13(err) and not _is_g21(err) else []


@rule("G23", DISK, "A disk is created from a gallery image only where it has replicated",
      f"{REF} G23, G14 (INFERRED: the same GalleryImageNotFound family)", errors=_NOT_USABLE,
      operations=("create",), confidence="M")
def g23_disk_replicated(world: World, old: Doc, new: Doc) -> list:
    """createOption FromImage with a galleryImageReference to a version not replicated to the disk's region."""
    err = _resolution_error(world, old, new)
    return [err] if err is not None and not _is_g13(err) and not _is_g21(err) else []


@rule("G21", (VM, VMSS, DISK), "imageReference.id takes no imageReference.version",
      f"{REF} G21; ad#68214. Code InvalidParameter / HTTP 400 INFERRED", errors=(images.ID_AND_VERSION,), confidence="H")
def g21_id_and_version(world: World, old: Doc, new: Doc) -> list:
    """A gallery image is referenced by its definition id (latest) or version id, never with a separate
    `version`."""
    err = _resolution_error(world, old, new)
    return [err] if err is not None and _is_g21(err) else []


@rule("G17", (VM, VMSS), "A specialized image refuses an osProfile",
      f"{REF} G17; acd troubleshooting-shared-images.md. Code InvalidParameter / HTTP 400 INFERRED. The other half of "
      "G17 (a generalized image without osProfile: 'Required parameter 'osProfile' is missing (null).') is not "
      "enforced: the emulator's clients (its own wire tests among them) create minimal VMs without one",
      errors=(G17_NOT_ALLOWED,), operations=("create",), confidence="H")
def g17_os_profile(world: World, old: Doc, new: Doc) -> list:
    """Creating a VM or scale set from a Specialized image with an osProfile is refused: the OS is already
    provisioned (computer name, admin account)."""
    if new is None or not boots_from_image(new):
        return []
    f, _ = resolve(world, image_reference(new), new.get("location", ""))
    if f is None or lower(f.os_state) != "specialized":
        return []
    path = "properties.virtualMachineProfile.osProfile" if is_type(new, VMSS) else "properties.osProfile"
    return [G17_NOT_ALLOWED()] if get(new, path) else []


@rule("G20", (GALLERY, DEFINITION, VERSION), "Gallery limits per subscription and region",
      f"{REF} G20; acd shared-image-galleries.md (limits). Errors INFERRED (no capture)", errors=(G20_LIMIT, G20_REPLICAS),
      confidence="H")
def g20_limits(world: World, old: Doc, new: Doc) -> list:
    """100 galleries, 1,000 image definitions and 10,000 image versions per subscription per region; at most
    100 replicas of a version per region."""
    if new is None:
        return []
    out = []
    if is_type(new, VERSION):
        for t in _targets(new):
            count = t.get("regionalReplicaCount") or 0
            if isinstance(count, int) and count > facts.GALLERY_LIMITS["replicas"]:
                out.append(G20_REPLICAS(count=count, region=t.get("name"), limit=facts.GALLERY_LIMITS["replicas"]))
    if old is not None:
        return out
    what, key, arm_type = {GALLERY.lower(): ("galleries", "galleries", GALLERY),
                           DEFINITION.lower(): ("image definitions", "images", DEFINITION),
                           VERSION.lower(): ("image versions", "versions", VERSION)}[new["type"].lower()]
    sub = ResourceId.parse(new["id"]).subscription.lower()
    loc = region(new.get("location"))
    n = sum(1 for d in world.of_type(arm_type)
            if region(d.get("location")) == loc and d["id"].split("/")[2].lower() == sub)
    if n >= facts.GALLERY_LIMITS[key]:
        out.append(G20_LIMIT(limit=facts.GALLERY_LIMITS[key], what=what, region=new.get("location")))
    return out


@rule("G22", DISK, "A disk from a gallery image takes an existing LUN and the image's security type",
      f"{REF} G22; specs DiskRP/stable/2024-03-02/examples/Disk_Create_FromAnAzureComputeGalleryImage.json, "
      "Disk_Create_WithSecurityProfile.json; acd troubleshooting-shared-images.md (bad LUN). The security type "
      "messages are INFERRED", errors=(G22_LUN, G22_SECURITY, G22_TL_UNSUPPORTED), operations=("create",),
      confidence="H")
def g22_disk_from_gallery_image(world: World, old: Doc, new: Doc) -> list:
    """`galleryImageReference.lun` must name a data disk image of the version. A disk from a TrustedLaunch
    (ConfidentialVM) definition needs securityProfile.securityType TrustedLaunch (ConfidentialVM_*), and a
    TrustedLaunch disk needs a Trusted Launch capable Gen2 image (table 1b)."""
    if new is None or lower(get(new, "properties.creationData.createOption")) != "fromimage":
        return []
    ref = get(new, "properties.creationData.galleryImageReference")
    if not isinstance(ref, dict) or not ref.get("id"):
        return []
    f, _ = resolve(world, ref, new.get("location", ""))
    if f is None or f.kind != "gallery-version":
        return []
    if ref.get("lun") is not None:
        luns = [d.get("lun") for d in get(world.get(f.source_id), "properties.storageProfile.dataDiskImages") or []]
        if ref["lun"] not in luns:
            return [G22_LUN()]
    st = get(new, "properties.securityProfile.securityType") or "Standard"
    if f.security_type == "TrustedLaunch" and st != "TrustedLaunch":
        return [G22_SECURITY(security_type="TrustedLaunch")]
    if f.security_type == "ConfidentialVM" and not st.startswith("ConfidentialVM"):
        return [G22_SECURITY(security_type="ConfidentialVM")]
    if st == "TrustedLaunch" and not facts.image_allows(f.security_type, f.hyper_v_generation, "TrustedLaunch"):
        return [G22_TL_UNSUPPORTED()]
    return []


# ---- the gallery RP's own answers (G24-G29: the reference has no row for them) ----------------------------------
G24_NAME = ErrorTemplate(400, "InvalidParameter",
                         "The gallery name '{name}' is invalid. Gallery names may contain letters, numbers, dots and "
                         "underscores, and may not start or end with a dot or underscore.", "galleryName")
_GALLERY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9]|[A-Za-z0-9]")


@rule("G24", GALLERY, "A gallery's name is letters, digits, dots and underscores",
      "specs GalleryRP galleryName ('The allowed characters are alphabets and numbers with dots and periods allowed in "
      "the middle. The maximum length is 80 characters.', as the azure-arm-compute SDK reference quotes it); refit "
      "also allows underscores, as the portal does (INFERRED). The message is INFERRED", errors=(G24_NAME,),
      operations=("create",), confidence="M")
def g24_gallery_name(world: World, old: Doc, new: Doc) -> list:
    """Up to 80 letters, digits, dots and underscores, starting and ending with a letter or digit."""
    if new is None or _GALLERY_NAME.fullmatch(new.get("name") or ""):
        return []
    return [G24_NAME(name=new.get("name") or "")]


refusal("G25", DEFINITION, "An image definition names its identifier, OS type and OS state",
        f"specs GalleryRP GalleryImageProperties (identifier, osType and osState are required; identifier's publisher, "
        f"offer and sku too); the message is {FAMILY}",
        doc="""A new image definition gives `identifier.publisher`, `identifier.offer`, `identifier.sku`, `osType` and
        `osState`.""",
        errors=(REQUIRED,), operations=("create",), confidence="H")

G26_FEATURE = ErrorTemplate(400, "InvalidParameter", "The value '{value}' of feature 'SecurityType' is invalid.",
                            "features")


@rule("G26", DEFINITION, "An image definition's OS type, OS state, generation and security type are Azure's values",
      f"specs GalleryRP (OperatingSystemTypes, OperatingSystemStateTypes, HyperVGeneration); {REF} 1a (the SecurityType "
      f"feature values). The messages are {FAMILY}", errors=(INVALID_ENUM, G26_FEATURE), operations=("create",),
      confidence="H")
def g26_definition_values(world: World, old: Doc, new: Doc) -> list:
    """osType Linux or Windows, osState Generalized or Specialized, hyperVGeneration V1 or V2, and a
    SecurityType feature from table 1a."""
    if new is None:
        return []
    for prop, allowed in (("osType", facts.OS_TYPES), ("osState", facts.OS_STATES),
                          ("hyperVGeneration", facts.HYPER_V_GENERATIONS)):
        if errors := not_one_of(new, f"properties.{prop}", allowed):
            return errors
    sec = next((f for f in get(new, "properties.features") or []
                if isinstance(f, dict) and lower(f.get("name") or "") == "securitytype"), None)
    if sec is not None and sec.get("value") not in facts.DEFINITION_SECURITY_TYPES:
        return [G26_FEATURE(value=sec.get("value"))]
    return []


refusal("G27", VERSION, "An image version names its source and its target regions",
        f"specs GalleryRP GalleryImageVersionStorageProfile (a source) and TargetRegion.name (required); the message "
        f"is {FAMILY}",
        doc="""A new version gives `storageProfile.source` (an id or a VHD uri; or `osDiskImage.source`), and every
        `publishingProfile.targetRegions[]` entry its `name`.""",
        errors=(REQUIRED,), operations=("create", "update"), confidence="H")

refusal("G28", VERSION, "An image version's source must exist",
        "INFERRED: the NotFound family (reference section 9.1); no capture of the gallery RP's text",
        doc="""The resource a version is captured from (a VM, a disk, a snapshot, a managed image or another version)
        exists: the version takes its size from it.""",
        errors=(ErrorTemplate(404, "NotFound", "The source '{source}' was not found.", "storageProfile.source.id"),),
        operations=("create",), confidence="L")

G29_REGION = ErrorTemplate(400, "InvalidParameter", "The region '{name}' is not a valid Azure region.",
                           "publishingProfile.targetRegions")


@rule("G29", VERSION, "A version replicates only to regions that exist",
      "INFERRED: no capture of the gallery RP's text; the regions are refit.platform.regions "
      "(https://learn.microsoft.com/azure/reliability/regions-list)", errors=(G29_REGION,), confidence="L")
def g29_target_regions_exist(world: World, old: Doc, new: Doc) -> list:
    """Every `publishingProfile.targetRegions[].name` is a region refit knows."""
    for t in _targets(new or {}):
        name = t.get("name") if isinstance(t, dict) else None
        if name and not regions.known(name):
            return [G29_REGION(name=name)]
    return []


G30_STORAGE = ErrorTemplate(409, "PropertyChangeNotAllowed",
                            "Changing property 'storageAccountType' of target region '{name}' is not allowed.",
                            "publishingProfile.targetRegions")


def _storage_by_region(doc: dict[str, Any]) -> dict[str, str]:
    default = get(doc, "properties.publishingProfile.storageAccountType") or "Standard_LRS"
    return {region(t.get("name")): lower(t.get("storageAccountType") or default) for t in _targets(doc)}


@rule("G30", VERSION, "A target region's storage account type cannot change",
      "https://learn.microsoft.com/python/api/azure-mgmt-compute/azure.mgmt.compute.models.targetregion "
      "(storage_account_type: 'This property is not updatable'; regional_replica_count is). "
      "Code and message INFERRED (CRP's PropertyChangeNotAllowed family)", errors=(G30_STORAGE,),
      operations=("update",), confidence="M")
def g30_storage_type_immutable(world: World, old: Doc, new: Doc) -> list:
    """A region already in `publishingProfile.targetRegions` keeps its `storageAccountType` (compared without
    case; a region that does not give one has the version's, Standard_LRS by default): a version on
    locally-redundant replicas becomes zone-redundant only as a new version. Regions may be added or removed."""
    if old is None or new is None:
        return []
    before = _storage_by_region(old)
    for name, kind in _storage_by_region(new).items():
        if name in before and before[name] != kind:
            return [G30_STORAGE(name=name)]
    return []
