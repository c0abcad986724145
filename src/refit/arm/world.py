"""World: an indexed, read-only snapshot of ARM documents (from the emulator, Azure, a template...)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from refit.arm import views as v
from refit.arm.ids import ResourceId, id_key

T = TypeVar("T", bound=v.View)


class World:
    def __init__(self, docs: Iterable[dict[str, Any]] = ()):
        self._by_id: dict[str, dict[str, Any]] = {}
        self._by_type: dict[str, dict[str, None]] = defaultdict(dict)  # ordered sets
        # (ancestor key, type) -> the keys below that ancestor: children() without scanning every resource of the type
        self._below: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
        # The tenant's Microsoft Entra device objects as Microsoft Graph lists them (not ARM resources): what a live
        # source read from Graph (refit.azure.msgraph); templates and Terraform plans carry none. None: the source
        # could not read the directory (Graph refused its credential).
        self.devices: list[dict[str, Any]] | None = []
        for d in docs:
            self.add(d)

    @staticmethod
    def _ancestors(key: str) -> Iterator[str]:
        parts = key.split("/")
        for n in range(len(parts) - 2, 2, -2):
            yield "/".join(parts[:n])

    def add(self, doc: dict[str, Any]) -> None:
        k = id_key(doc["id"])
        if k not in self._by_id:
            t = (doc.get("type") or ResourceId.parse(doc["id"]).type).lower()
            self._by_type[t][k] = None
            for a in self._ancestors(k):
                self._below[(a, t)][k] = None
        self._by_id[k] = doc

    def remove(self, rid: str | ResourceId) -> None:
        k = id_key(rid)
        doc = self._by_id.pop(k, None)
        if doc is not None:
            t = (doc.get("type") or ResourceId.parse(doc["id"]).type).lower()
            self._by_type.get(t, {}).pop(k, None)
            for a in self._ancestors(k):
                self._below.get((a, t), {}).pop(k, None)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._by_id.values())

    def __contains__(self, rid: object) -> bool:
        return isinstance(rid, str | ResourceId) and id_key(rid) in self._by_id

    def get(self, rid: str | ResourceId | None) -> dict[str, Any] | None:
        if rid is None:
            return None
        return self._by_id.get(id_key(rid))

    def view(self, rid: str | ResourceId | None) -> v.View | None:
        doc = self.get(rid)
        return v.view(doc) if doc is not None else None

    def of_type(self, arm_type: str) -> list[dict[str, Any]]:
        return [self._by_id[k] for k in self._by_type.get(arm_type.lower(), {})]

    def views(self, cls: type[T]) -> list[T]:
        return [cls(d) for d in self.of_type(cls.arm_type)]

    def children(self, parent: str | ResourceId, arm_type: str) -> list[dict[str, Any]]:
        """The resources of `arm_type` anywhere below `parent` (in the order they were added)."""
        below = self._below.get((id_key(parent).rstrip("/"), arm_type.lower()))
        return [self._by_id[k] for k in below] if below else []

    # Convenience accessors in Azure's vocabulary.
    def vms(self) -> list[v.Vm]:
        return self.views(v.Vm)

    def disks(self) -> list[v.Disk]:
        return self.views(v.Disk)

    def vmss(self) -> list[v.Vmss]:
        return self.views(v.Vmss)

    def image_versions(self, definition: str | ResourceId) -> list[v.ImageVersion]:
        return [v.ImageVersion(d) for d in self.children(definition, v.IMAGE_VERSION)]
