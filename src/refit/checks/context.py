"""The context checks run in: the source's World, its unresolved paths, the options, and the indexes that
keep a 20,000-resource fleet linear (extensions by parent, scale-set members, image consumers, VMs by
capacity reservation group)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from refit.arm import location
from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.arm.world import World
from refit.checks.model import Unresolved
from refit.sources.base import Source

VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
VMSS_EXTENSION = "Microsoft.Compute/virtualMachineScaleSets/extensions"
AUTOSCALE = "Microsoft.Insights/autoscalesettings"
IMAGE_TEMPLATE = "Microsoft.VirtualMachineImages/imageTemplates"
DISK_IMAGE_PATHS = ("properties.creationData.galleryImageReference.id", "properties.creationData.imageReference.id")


@dataclass
class Options:
    boot_budget_minutes: float = 10.0  # boot + warm-up of one instance (--boot-budget)
    critical_tag: tuple[str, str] = ("tier", "critical")  # --critical-tag NAME=VALUE
    role_tag: str = "role"  # --role-tag NAME: standalone VMs with the same value form a tier (RF-RES-003)
    today: dt.date | None = None  # for end-of-life dates; None = today (UTC)

    @property
    def date(self) -> dt.date:
        return self.today or dt.datetime.now(dt.UTC).date()


def _overlaps(a: str, b: str) -> bool:
    """Does path a lie on, above or below path b? ('' is the whole resource.)"""
    if not a or not b:
        return True
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return long_.startswith(short) and long_[len(short)] in ".["


class Context:
    def __init__(self, source: Source, options: Options | None = None):
        self.source = source
        self.world: World = source.world
        self.options = options or Options()
        self._unresolved = source.unresolved

    # ---- reading through unresolved values ----------------------------------------------------------
    def require(self, doc: dict[str, Any], *paths: str) -> None:
        if not self._unresolved:
            return
        bad = self._unresolved.get(id_key(doc["id"]))
        if not bad:
            return
        for p in paths:
            for u, reason in bad.items():
                if _overlaps(u, p):
                    raise Unresolved(doc["id"], u or p, reason)

    def value(self, doc: dict[str, Any], path: str, default: Any = None) -> Any:
        if self._unresolved:
            self.require(doc, path)
        return get_path(doc, path, default)

    # ---- indexes ------------------------------------------------------------------------------------------
    @cached_property
    def extensions_by_parent(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for t in (VM_EXTENSION, VMSS_EXTENSION):
            for d in self.world.of_type(t):
                parent = ResourceId.parse(d["id"]).parent
                if parent is not None:
                    out[parent.key()].append(d)
        return out

    def extensions(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        return self.extensions_by_parent.get(id_key(doc["id"]), [])

    @cached_property
    def members_by_vmss(self) -> dict[str, list[dict[str, Any]]]:
        """Flexible scale sets: their instances are VMs with properties.virtualMachineScaleSet.id."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in self.world.of_type(v.VM):
            sid = get_path(d, "properties.virtualMachineScaleSet.id")
            if isinstance(sid, str) and sid:
                out[id_key(sid)].append(d)
        return out

    @cached_property
    def vms_by_crg(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in self.world.of_type(v.VM):
            g = get_path(d, "properties.capacityReservation.capacityReservationGroup.id")
            if isinstance(g, str) and g:
                out[id_key(g)].append(d)
        return out

    @cached_property
    def vmss_by_crg(self) -> dict[str, list[dict[str, Any]]]:
        """Scale sets by the capacity reservation group of their model (a group serves their instances, rule C9)."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in self.world.of_type(v.VMSS):
            g = get_path(d, "properties.virtualMachineProfile.capacityReservation.capacityReservationGroup.id")
            if isinstance(g, str) and g:
                out[id_key(g)].append(d)
        return out

    @cached_property
    def image_consumers(self) -> list[tuple[dict[str, Any], str, str]]:
        """(consumer document, the path of its image id, its region) for VMs, scale sets and disks that name
        an image by id (gallery definition/version, managed image). A VM whose OS disk is in the input counts
        through that disk; an unattached disk counts for nothing."""
        out = []
        for t, path in ((v.VM, "properties.storageProfile.imageReference.id"),
                        (v.VMSS, "properties.virtualMachineProfile.storageProfile.imageReference.id"),
                        (v.DISK, DISK_IMAGE_PATHS[0]),
                        (v.DISK, DISK_IMAGE_PATHS[1])):
            for d in self.world.of_type(t):
                if not isinstance(get_path(d, path), str):
                    continue
                if t == v.VM and self._runs_disk_from_image(d):
                    continue  # its OS disk is the consumer
                if t == v.DISK and get_path(d, "properties.diskState") == "Unattached":
                    continue  # boots nothing (a swapped-out OS disk kept for rollback)
                out.append((d, path, location.normalize(d.get("location"))))
        return out

    def _runs_disk_from_image(self, vm: dict[str, Any]) -> bool:
        """A VM whose OS disk is in the input, made from an image: the VM runs that disk. After an OS disk swap the
        VM keeps the imageReference it was created with (only the managed disk id and name change, rule D2), so
        its imageReference no longer says what it boots."""
        disk_id = get_path(vm, "properties.storageProfile.osDisk.managedDisk.id")
        disk = self.world.get(disk_id) if isinstance(disk_id, str) and disk_id else None
        return disk is not None and any(isinstance(get_path(disk, p), str) for p in DISK_IMAGE_PATHS)

    @cached_property
    def unknown_image_refs(self) -> list[tuple[dict[str, Any], str]]:
        """(document, path) of VMs, scale sets and disks whose image reference could not be resolved."""
        if not self._unresolved:
            return []
        out = []
        for t, path in ((v.VM, "properties.storageProfile.imageReference"),
                        (v.VMSS, "properties.virtualMachineProfile.storageProfile.imageReference"),
                        (v.DISK, "properties.creationData")):
            for d in self.world.of_type(t):
                bad = self._unresolved.get(id_key(d["id"]))
                if bad and any(_overlaps(u, path) for u in bad):
                    out.append((d, path))
        return out

    @cached_property
    def consumers_by_image(self) -> dict[str, list[tuple[dict[str, Any], str, str]]]:
        """Image id key (a definition when the consumer tracks latest, else the version/managed image) ->
        consumers. `/versions/latest` is filed under its definition."""
        out: dict[str, list[tuple[dict[str, Any], str, str]]] = defaultdict(list)
        for d, path, region in self.image_consumers:
            ref = get_path(d, path)
            if not isinstance(ref, str):
                continue
            key = id_key(ref)
            if key.endswith("/versions/latest"):
                key = key[: -len("/versions/latest")]
            out[key].append((d, path, region))
        return out

    def is_critical(self, doc: dict[str, Any]) -> bool:
        name, value = self.options.critical_tag
        return (v.View(doc).tag(name) or "").lower() == value.lower()
