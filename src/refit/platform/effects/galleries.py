"""Microsoft.Compute/galleries, image definitions and image versions (GalleryRP).

Versions replicate region by region on the virtual clock: the source region first ("version.capture"),
then each further target region ("version.replicate_region", one after the other). The PUT's operation
stays Creating/Updating until every target region has completed (G16), and `replicationStatus` (returned
with $expand=ReplicationStatus, G15) reports each region's state and progress.
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.platform import regions
from refit.platform.cloud import Cloud
from refit.platform.effects import auto_os, register
from refit.platform.effects.base import ResourceType, required
from refit.platform.rules import RULES


class GalleryType(ResourceType):
    type = v.GALLERY
    create_timing = update_timing = "gallery.write"

    def server_properties(self):
        return ("provisioningState", "identifier")

    def build(self, cloud, rid, doc, old, call):
        # The name (G24) and the delete order (definitions first, G12) are the catalog's.
        doc["properties"].setdefault("identifier", {"uniqueName": f"{rid.subscription}-{rid.name.upper()}"})
        return doc


class ImageDefinitionType(ResourceType):
    type = v.IMAGE_DEFINITION
    create_timing = update_timing = "definition.write"

    def build(self, cloud, rid, doc, old, call):
        # The values of osType, osState, hyperVGeneration and the SecurityType feature (G26) and the delete
        # order (versions first, G12) are the catalog's.
        p = doc["properties"]
        if old is not None:
            return doc
        ident = p.get("identifier") or {}
        for k in ("publisher", "offer", "sku"):
            if not ident.get(k):
                raise required("G25", f"identifier.{k}")
        for k in ("osType", "osState"):
            if not p.get(k):
                raise required("G25", k)
        # Gallery API 2025-03-03+ defaults to V2 + TrustedLaunchSupported when unspecified (rules 1a).
        new_defaults = (call.api_version or "") >= "2025-03-03"
        if not p.get("hyperVGeneration"):
            p["hyperVGeneration"] = "V2" if new_defaults else "V1"
        features = p.get("features") or []
        sec = next((f for f in features if isinstance(f, dict) and (f.get("name") or "").lower() == "securitytype"),
                   None)
        if sec is None and new_defaults and p["hyperVGeneration"] == "V2":
            p["features"] = [*features, {"name": "SecurityType", "value": "TrustedLaunchSupported"}]
        p.setdefault("architecture", "x64")
        return doc


class ImageVersionType(ResourceType):
    type = v.IMAGE_VERSION
    create_timing = "version.capture"
    update_timing = "version.update"
    readonly_properties = ("provisioningState", "replicationStatus")

    def server_properties(self):
        return ("provisioningState", "replicationStatus", "storageProfile")

    def build(self, cloud, rid, doc, old, call):
        # The version name (rule G5) and the rest of the platform rules are the catalog's (refit.platform.rules.gallery).
        p = doc["properties"]
        pp = p["publishingProfile"] = p.get("publishingProfile") or {}  # null is not given
        if old is None:
            sp = p.get("storageProfile") or {}
            src = (sp.get("source") or {}).get("id") or ((sp.get("osDiskImage") or {}).get("source") or {}).get("id")
            uri = (sp.get("source") or {}).get("uri") or ((sp.get("osDiskImage") or {}).get("source") or {}).get("uri")
            if not src and not uri:
                raise required("G27", "storageProfile.source")
            size = 30
            if src:
                source = cloud.get(src)
                if source is None:
                    raise RULES["G28"].refuse(source=src)
                size = _source_size(cloud, source)
            # A VHD source keeps the storage account that holds its blob (GalleryImageVersion_Create_WithVHD.json:
            # osDiskImage.source {storageAccountId, uri}); whether the two match is the catalog's (CVM6).
            sent_src = (sp.get("source") or {}) if (sp.get("source") or {}).get("uri") else \
                ((sp.get("osDiskImage") or {}).get("source") or {})
            vhd = {"uri": uri, **({"storageAccountId": sent_src["storageAccountId"]}
                                  if sent_src.get("storageAccountId") else {})}
            p["storageProfile"] = {"source": {"id": src} if src else dict(vhd),
                                   "osDiskImage": {"sizeInGB": size, "hostCaching": "ReadWrite",
                                                   "source": {"id": src} if src else dict(vhd)}}
            pp["publishedDate"] = cloud.now_iso()
        else:
            sp = p.get("storageProfile") or {}
            via_source = bool(sp.get("source"))
            sent = (sp.get("source") or {}) if via_source else ((sp.get("osDiskImage") or {}).get("source") or {})
            kept = old["properties"]["storageProfile"]
            was = kept.get("source") or {}
            if (sent.get("id") or sent.get("uri")) and str(sent.get("id") or sent.get("uri")).lower() != str(
                    was.get("id") or was.get("uri")).lower():
                # A different source reaches the catalog as sent, which refuses it (rule G8).
                if via_source:
                    kept = {**kept, "source": sent}
                else:
                    kept = {k: x for k, x in kept.items() if k != "source"}
                    kept["osDiskImage"] = {**(kept.get("osDiskImage") or {}), "source": sent}
            p["storageProfile"] = kept
            pp.setdefault("publishedDate", old["properties"].get("publishingProfile", {}).get("publishedDate"))
        targets = pp.get("targetRegions") or [{"name": doc["location"]}]
        for t in targets:
            if not t.get("name"):
                raise required("G27", "targetRegions[].name", "publishingProfile.targetRegions")
            # A region that does not exist is the catalog's (G29). Azure says of each whether it is excluded from
            # latest (GalleryImageVersion_Get.json); GET names it by its display name (render).
            t.setdefault("regionalReplicaCount", pp.get("replicaCount") or 1)
            t.setdefault("storageAccountType", pp.get("storageAccountType") or "Standard_LRS")
            t.setdefault("excludeFromLatest", False)
        pp["targetRegions"] = targets
        pp.setdefault("replicaCount", 1)
        pp.setdefault("excludeFromLatest", False)
        pp.setdefault("storageAccountType", "Standard_LRS")
        # safetyProfile as GalleryImageVersion_Get.json shows it; only allowDeletionOfReplicatedLocations is the
        # client's, reportedForPolicyViolation is Azure's (no version is flagged here).
        sent = p.get("safetyProfile") if isinstance(p.get("safetyProfile"), dict) else {}
        kept = ((old or {}).get("properties") or {}).get("safetyProfile") or {}
        p["safetyProfile"] = {"allowDeletionOfReplicatedLocations": bool(sent.get(
            "allowDeletionOfReplicatedLocations", kept.get("allowDeletionOfReplicatedLocations", False))),
            "reportedForPolicyViolation": False}
        return doc

    # Replication schedule: [(region, start, end)], kept in private state.
    def _schedule(self, cloud: Cloud, old, new) -> list[dict[str, Any]]:
        now = cloud.now()
        wanted = [regions.normalize(t["name"]) for t in new["properties"]["publishingProfile"]["targetRegions"]]
        src_region = regions.normalize(new["location"])
        prev = {s["region"]: s for s in (cloud.priv(new["id"]).get("replication") or [])} if old is not None else {}
        sched: list[dict[str, Any]] = []
        t = now
        if old is None:
            # The source region first (capture), then the others, one after the other.
            order = [src_region] + [r for r in wanted if r != src_region] if src_region in wanted else wanted
            for i, r in enumerate(order):
                d = cloud.timing["version.capture"] if i == 0 else cloud.timing["version.replicate_region"]
                sched.append({"region": r, "start": t, "end": t + d})
                t += d
            return sched
        last_end = max([s["end"] for s in prev.values()] + [now])
        t = last_end
        for r in wanted:
            if r in prev:
                sched.append(prev[r])
            else:
                d = cloud.timing["version.replicate_region"]
                sched.append({"region": r, "start": t, "end": t + d})
                t += d
        return sched

    def duration(self, cloud, old, new):
        sched = self._schedule(cloud, old, new)
        cloud.priv(new["id"])["pending_schedule"] = sched
        end = max((s["end"] for s in sched), default=cloud.now())
        key = self.create_timing if old is None else self.update_timing
        return key, max(end - cloud.now(), cloud.timing["version.update"] if old is not None else 0.0)

    def accept(self, cloud, old, new, op):
        priv = cloud.priv(new["id"])
        priv["replication"] = priv.pop("pending_schedule", [])
        self._refresh_status(cloud, new)
        now = cloud.now()
        for s in priv["replication"]:
            if s["end"] > now:  # a timer per region, so the document says "Completed" the moment it is
                cloud.begin(new["id"], "action", "replicated", s["end"] - now, s["region"], op.api_version if op else "",
                          internal=True)

    def finish_replicated(self, cloud, op):
        doc = cloud.get(op.resource_id)
        if doc is not None:
            self._refresh_status(cloud, doc)
            cloud.save(doc)
            auto_os.version_changed(cloud, doc["id"])  # latest in that region now: sets tracking it look again

    def finish(self, cloud, doc, op):
        self._refresh_status(cloud, doc)
        if op.kind in ("put", "patch") and op.data.get("old") is not None:
            auto_os.version_changed(cloud, doc["id"])  # e.g. excludeFromLatest changed what latest is

    def _refresh_status(self, cloud: Cloud, doc: dict[str, Any]) -> None:
        """Materialise replicationStatus into the document so that rules and Resource Graph see it."""
        now = cloud.now()
        summary = []
        states = []
        for s in cloud.priv(doc["id"]).get("replication") or []:
            if now >= s["end"]:
                state, progress = "Completed", 100
            else:
                span = max(1e-9, s["end"] - s["start"])
                state, progress = "Replicating", int(max(0.0, min(99.0, 100 * (now - s["start"]) / span)))
            states.append(state)
            summary.append({"region": regions.display_name(s["region"]), "state": state,
                            "details": "", "progress": progress})
        agg = "Completed" if states and all(s == "Completed" for s in states) else "InProgress"
        doc["properties"]["replicationStatus"] = {"aggregatedState": agg, "summary": summary}

    def adopt(self, cloud, doc):
        # The replication a document shows: Completed regions are done; the others finish one
        # replication span from now (the timing model's version.replicate_region).
        cloud.world.add(doc)
        t = cloud.now()
        sched = []
        for s in ((doc.get("properties") or {}).get("replicationStatus") or {}).get("summary") or []:
            done = s.get("state") == "Completed"
            sched.append({"region": regions.normalize(s.get("region", "")), "start": t - 1,
                          "end": t - 1 if done else t + cloud.timing["version.replicate_region"]})
        cloud.priv(doc["id"])["replication"] = sched

    def render(self, cloud, doc, call):
        self._refresh_status(cloud, doc)
        expand = call is not None and "replicationstatus" in (call.expand or "").lower()
        out = dict(doc)
        out["properties"] = {k: val for k, val in doc["properties"].items() if k != "replicationStatus" or expand}
        pp = out["properties"].get("publishingProfile")
        if call is not None and isinstance(pp, dict) and isinstance(pp.get("targetRegions"), list):
            # Azure names a target region by its display name, whatever the request sent (GalleryImageVersion_Get.json).
            out["properties"]["publishingProfile"] = {**pp, "targetRegions": [
                {**t, "name": regions.display_name(t["name"])} if isinstance(t, dict) and isinstance(t.get("name"), str)
                else t for t in pp["targetRegions"]]}
        return out


def _source_size(cloud: Cloud, source: dict[str, Any]) -> int:
    t = source.get("type", "").lower()
    if t == v.DISK.lower() or t == "microsoft.compute/snapshots":
        return int(source["properties"].get("diskSizeGB") or 30)
    if t == v.IMAGE.lower():
        return int(((source["properties"].get("storageProfile") or {}).get("osDisk") or {}).get("diskSizeGB") or 30)
    if t == v.VM.lower():
        disk = cloud.get(((source["properties"]["storageProfile"]["osDisk"]).get("managedDisk") or {}).get("id") or "")
        return int((disk or {}).get("properties", {}).get("diskSizeGB") or 30)
    if t == v.IMAGE_VERSION.lower():
        return int(source["properties"]["storageProfile"]["osDiskImage"].get("sizeInGB") or 30)
    return 30


register(GalleryType())
register(ImageDefinitionType())
register(ImageVersionType())
