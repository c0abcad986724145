"""Platform facts about image references: what an `imageReference` / `galleryImageReference` resolves to.

G13 "latest" resolution: the highest Major.Minor.Patch, excluding versions with
publishingProfile.excludeFromLatest, and per region those with targetRegions[i].excludeFromLatest or
not replicated there. G14: a version is usable only in regions where its replication has completed;
elsewhere 404 GalleryImageNotFound. (reference/azure-platform-rules.md section 3; acd
shared-image-galleries.md, troubleshooting-shared-images.md; confidential-containers/cloud-api-adaptor#1709.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.platform import vmimages
from refit.platform.rules.registry import ErrorTemplate

# What resolving an image reference answers (rules G13, G14/G23, G21 return these; see refit.platform.rules.gallery).
NOT_AVAILABLE = ErrorTemplate(404, "GalleryImageNotFound",
                              "The gallery image {image} is not available in {region} region. Please contact image owner "
                              "to replicate to this region, or change your requested region.", "imageReference")
NOT_FOUND = ErrorTemplate(404, "GalleryImageNotFound", "The gallery image {image} is not found.", "imageReference")
NO_LATEST = ErrorTemplate(404, "GalleryImageNotFound", 'There is no latest image version exists for "{definition}"',
                          "imageReference")
ID_AND_VERSION = ErrorTemplate(400, "InvalidParameter",
                               "The property 'imageReference.id' cannot be used together with property "
                               "'imageReference.version'", "imageReference")
MANAGED_IMAGE_NOT_FOUND = ErrorTemplate(404, "NotFound", "The Image '{image}' cannot be found in '{region}' region.",
                                        "imageReference")
INVALID_ID = ErrorTemplate(400, "InvalidParameter", "The value of parameter imageReference is invalid: '{image}'.",
                           "imageReference")
INVALID = ErrorTemplate(400, "InvalidParameter", "The value of parameter imageReference is invalid.", "imageReference")


@dataclass(frozen=True)
class ImageFacts:
    """What a disk or VM built from an image inherits."""

    source_id: str  # the resolved resource (a version, a managed image) or the platform image urn
    kind: str  # gallery-version | managed-image | platform
    os_type: str
    os_state: str
    hyper_v_generation: str
    security_type: str  # of the gallery definition (Standard for managed/platform images)
    size_gb: int
    architecture: str = "x64"  # x64 | Arm64 (a gallery definition's `architecture`; the platform image table's)


def ref_kind(image_id: str) -> str:
    """Classify an image id: version | definition | managed-image | platform | unknown."""
    try:
        rid = ResourceId.parse(image_id)
    except ArmError:
        return "unknown"
    t = rid.type.lower()
    if t == v.IMAGE_VERSION.lower():
        return "version"
    if t == v.IMAGE_DEFINITION.lower():
        return "definition"
    if t == v.IMAGE.lower():
        return "managed-image"
    if "/publishers/" in image_id.lower():
        return "platform"
    return "unknown"


def not_available(version_id: str, region: str) -> ArmError:
    return NOT_AVAILABLE(image=version_id, region=region)


def available_in(version: v.ImageVersion, region: str) -> bool:
    return version.regional_state(region) == "Completed"


def latest_version(world: World, definition_id: str, region: str) -> v.ImageVersion | None:
    candidates = [iv for iv in world.image_versions(definition_id)
                  if iv.version >= (0, 0, 0) and not iv.exclude_from_latest
                  and not iv.region_excluded_from_latest(region) and available_in(iv, region)]
    return max(candidates, key=lambda iv: iv.version, default=None)


def resolve_gallery(world: World, image_id: str, region: str) -> v.ImageVersion:
    """The version an image reference means in `region` (latest for a definition or .../versions/latest)."""
    rid = ResourceId.parse(image_id)
    if rid.type.lower() == v.IMAGE_VERSION.lower() and rid.name.lower() == "latest":
        rid = rid.parent  # type: ignore[assignment]
    if rid.type.lower() == v.IMAGE_DEFINITION.lower():
        if world.get(rid) is None:
            raise NOT_FOUND(image=rid)
        latest = latest_version(world, str(rid), region)
        if latest is None:
            raise NO_LATEST(definition=rid)
        return latest
    doc = world.get(rid)
    if doc is None:
        raise NOT_FOUND(image=rid)
    ver = v.ImageVersion(doc)
    if not available_in(ver, region):
        raise not_available(str(rid), region)
    return ver


def facts(world: World, image: dict[str, Any] | str, region: str) -> ImageFacts:
    """Facts of an imageReference dict ({id} or publisher/offer/sku/version) or an image id."""
    ref = {"id": image} if isinstance(image, str) else (image or {})
    image_id = ref.get("id") or ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId")
    if image_id and ref.get("version") and ref_kind(image_id) in ("version", "definition"):
        raise ID_AND_VERSION()  # G21: ad#68214
    if image_id:
        kind = ref_kind(image_id)
        if kind in ("version", "definition"):
            ver = resolve_gallery(world, image_id, region)
            definition = v.ImageDefinition(world.get(ver.rid.parent) or {})
            size = ver.get("properties.storageProfile.osDiskImage.sizeInGB") or 30
            return ImageFacts(ver.id, "gallery-version", definition.os_type or "Linux", definition.os_state or "Generalized",
                              definition.hyper_v_generation, definition.security_type, int(size),
                              definition.get("properties.architecture") or "x64")
        if kind == "managed-image":
            doc = world.get(image_id)
            if doc is None:
                raise MANAGED_IMAGE_NOT_FOUND(image=image_id, region=region)
            img = v.ManagedImage(doc)
            size = img.get("properties.storageProfile.osDisk.diskSizeGB") or 30
            return ImageFacts(img.id, "managed-image", img.os_type or "Linux", img.os_state or "Generalized",
                              img.hyper_v_generation, "Standard", int(size))
        if kind == "platform":
            parts = image_id.split("/")
            low = [p.lower() for p in parts]
            pub = parts[low.index("publishers") + 1]
            offer = parts[low.index("offers") + 1] if "offers" in low else ""
            sku = parts[low.index("skus") + 1] if "skus" in low else ""
            return _platform(image_id, pub, offer, sku)
        raise INVALID_ID(image=image_id)
    if ref.get("publisher") and ref.get("offer") and ref.get("sku"):
        urn = ":".join(str(ref.get(k, "")) for k in ("publisher", "offer", "sku", "version"))
        return _platform(urn, ref["publisher"], str(ref.get("offer")), ref["sku"])
    raise INVALID()


def _platform(urn: str, publisher: str, offer: str, sku: str) -> ImageFacts:
    known = vmimages.find(publisher, offer, sku)
    if known is not None:  # the platform image table (refit.platform.vmimages)
        return ImageFacts(urn, "platform", known.os_type, "Generalized", known.generation, known.security_type,
                          known.size_gb, known.architecture)
    # An image the table does not have: its facts from the publishers' SKU naming. Marketplace images publish
    # Gen2 as separate SKUs named '*gen2*' / '*-g2' and Arm64 as '*arm64*' (INFERRED naming convention, e.g.
    # Canonical 22_04-lts-gen2, 22_04-lts-arm64, MicrosoftWindowsServer 2022-datacenter-g2).
    s = sku.lower()
    cvm = "cvm" in s
    arm64 = "arm64" in s
    gen = "V2" if ("gen2" in s or s.endswith("-g2") or "-g2-" in s or cvm or arm64) else "V1"
    windows = publisher.lower().startswith("microsoftwindows")
    # Marketplace Gen2 images support Trusted Launch (they behave as TrustedLaunchSupported: acd
    # trusted-launch.md "supported operating systems"); '*cvm*' SKUs are the confidential-VM images
    # (e.g. Canonical 0001-com-ubuntu-confidential-vm-jammy 22_04-lts-cvm). Gen1 images are Standard. INFERRED mapping.
    sec = "TrustedLaunchAndConfidentialVmSupported" if cvm else ("TrustedLaunchSupported" if gen == "V2" else "Standard")
    return ImageFacts(urn, "platform", "Windows" if windows else "Linux", "Generalized", gen, sec,
                      127 if windows else 30, "Arm64" if arm64 else "x64")
