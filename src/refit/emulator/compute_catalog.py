"""What Compute offers, on the wire: sizes, platform images, usage (the facts are refit.platform's).

  /subscriptions/{s}/providers/Microsoft.Compute/skus[?$filter=location eq '{l}']       ResourceSkus_List
  .../Microsoft.Compute/locations/{l}/vmSizes                                             VirtualMachineSizes_List
  .../Microsoft.Compute/locations/{l}/usages                                              Usage_List
  .../Microsoft.Compute/locations/{l}/publishers[/{p}/artifacttypes/vmimage/offers[/{o}/skus[/{s}/versions[/{v}]]]]
                                                                                          VirtualMachineImages_*

Shapes per the REST examples (specs ComputeRP Skus/stable/2021-07-01 ListAvailableResourceSkus.json,
virtualMachineImageExamples VirtualMachineImage_Get/List_MaximumSet_Gen.json: the image lists are bare arrays).
The image ids keep the casing Azure returns them in (`/Subscriptions/.../Providers/Microsoft.Compute/Locations/...`,
as `az vm image show` prints them). One deviation: Azure lists a size once per region; refit lists it once with
every region in `locations` and `locationInfo` (the same facts, without 28 copies of each size).
"""

from __future__ import annotations

import re
from typing import Any

from refit.arm import location
from refit.arm.errors import ArmError
from refit.emulator.core import Emulator, WireRequest, WireResponse
from refit.platform import regions, skus, usages, vmimages


def serves(low: list[str]) -> bool:
    """`low`: the path after `providers/Microsoft.Compute`, lowercased."""
    if low == ["skus"]:
        return True
    return len(low) >= 3 and low[0] == "locations" and low[2] in ("vmsizes", "usages", "publishers")


def route(emu: Emulator, req: WireRequest, sub: str, segs: list[str]) -> WireResponse:
    if req.method != "GET":
        raise ArmError(405, "MethodNotAllowed", f"The requested method '{req.method}' is not allowed.")
    low = [s.lower() for s in segs]
    if low == ["skus"]:
        emu.check_api_version(req, "Microsoft.Compute/skus")
        return WireResponse(200, {"value": _skus(req)})
    emu.check_api_version(req, "Microsoft.Compute/locations", segs[1])
    region = location.normalize(segs[1])
    if not regions.known(region):
        raise ArmError(404, "NoRegisteredProviderFound",
                       f"No registered resource provider found for location '{segs[1]}' and API version "
                       f"'{req.api_version}' for type '{segs[2]}'.")
    if low[2:] == ["vmsizes"]:
        return WireResponse(200, {"value": [skus.vm_size(s) for s in skus.sizes_in(region)]})
    if low[2:] == ["usages"]:
        return WireResponse(200, {"value": usages.usages(emu.world, region)})
    return _images(req, sub, region, segs[3:], low[3:])


def _skus(req: WireRequest) -> list[dict[str, Any]]:
    wanted = None
    m = re.search(r"location\s+eq\s+'([^']*)'", req.query.get("$filter") or "", re.I)
    if m:
        wanted = location.normalize(m.group(1))
    out = []
    for sz in skus.all_sizes():
        places = [r for r in regions.REGIONS if wanted is None or r == wanted]
        if not places:
            continue
        entries = [skus.resource_sku(sz, r) for r in places]
        merged = dict(entries[0])
        merged["locations"] = places
        merged["locationInfo"] = [e["locationInfo"][0] for e in entries]
        out.append(merged)
    return out


def _images(req: WireRequest, sub: str, region: str, segs: list[str], low: list[str]) -> WireResponse:
    base = f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{region}/Publishers"

    def entry(name: str, path: str) -> dict[str, Any]:
        return {"name": name, "location": region, "id": f"{base}/{path}"}

    if not segs:
        return WireResponse(200, [entry(p, p) for p in vmimages.publishers()])
    pub = segs[0]
    if len(segs) < 3 or low[1:3] != ["artifacttypes", "vmimage"] or low[3:4] not in ([], ["offers"]):
        raise _not_found()
    if len(segs) == 4:
        offers = vmimages.offers(pub)
        if not offers:
            raise _not_found()
        return WireResponse(200, [entry(o, f"{pub}/ArtifactTypes/VMImage/Offers/{o}") for o in offers])
    if len(segs) < 5:
        raise _not_found()
    offer = segs[4]
    images = vmimages.skus(pub, offer)
    if not images:
        raise _not_found()
    if len(segs) == 6 and low[5] == "skus":
        return WireResponse(200, [entry(i.sku, f"{i.publisher}/ArtifactTypes/VMImage/Offers/{i.offer}/Skus/{i.sku}")
                                  for i in images])
    if len(segs) < 8 or low[5] != "skus" or low[7] != "versions":
        raise _not_found()
    image = vmimages.find(pub, offer, segs[6])
    if image is None:
        raise _not_found()
    prefix = f"{image.publisher}/ArtifactTypes/VMImage/Offers/{image.offer}/Skus/{image.sku}/Versions"
    if len(segs) == 8:
        versions = list(image.versions)
        if "desc" in (req.query.get("$orderby") or "").lower():
            versions.reverse()
        top = req.query.get("$top")
        if top and top.isdigit():
            versions = versions[: int(top)]
        return WireResponse(200, [entry(v, f"{prefix}/{v}") for v in versions])
    version = segs[8]
    if len(segs) != 9 or version not in image.versions:
        raise _not_found()
    return WireResponse(200, {**entry(version, f"{prefix}/{version}"), "properties": {
        "hyperVGeneration": image.generation,
        "architecture": image.architecture,
        "replicaType": "Unmanaged",
        "disallowed": {"vmDiskType": "Unmanaged"},
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
        "imageDeprecationStatus": {"imageState": "Active"},
        "features": image.features(),
        "osDiskImage": {"operatingSystem": image.os_type, "sizeInGb": image.size_gb},
        "dataDiskImages": []}})


def _not_found() -> ArmError:
    # What Azure answers for a publisher, offer, SKU or version it has no image for (`az vm image show`).
    return ArmError(404, "NotFound", "Artifact: VMImage was not found.")
