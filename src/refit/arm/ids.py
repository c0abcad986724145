"""ARM resource ids: parse, format, compare case-insensitively, keep the casing Azure returned.

Grammar (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules):
  /subscriptions/{sub}
  /subscriptions/{sub}/resourceGroups/{rg}
  /subscriptions/{sub}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}[/{childType}/{childName}]...
An extension resource repeats `/providers/...` after a full scope; `scope` keeps the part before it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from refit.arm.errors import ArmError


@dataclass(frozen=True, eq=False)
class ResourceId:
    subscription: str
    resource_group: str | None = None
    namespace: str | None = None
    # [(type, name), ...] under the namespace, e.g. [("galleries", "g"), ("images", "d")]
    types: tuple[tuple[str, str], ...] = ()
    scope: str | None = None  # for extension resources: the id they hang off

    # ---- parsing -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> ResourceId:
        if isinstance(text, str):
            return _parse(cls, text)  # ids repeat (the planner parses the same few thousand over and over)
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> ResourceId:
        if not isinstance(text, str) or not text.startswith("/"):
            raise ArmError(400, "InvalidResourceId", f"The resource id '{text}' is not valid: it must start with '/subscriptions/'.")
        parts = [p for p in text.strip().split("/") if p != ""]
        low = [p.lower() for p in parts]
        # Extension resource: the last '/providers/' that is not at the subscription level of a scope.
        prov_positions = [i for i, p in enumerate(low) if p == "providers"]
        if len(prov_positions) > 1:
            cut = prov_positions[-1]
            scope = "/" + "/".join(parts[:cut])
            inner = cls.parse(scope)
            tail = parts[cut + 1 :]
            if len(tail) < 3 or len(tail) % 2 == 0:
                raise ArmError(400, "InvalidResourceId", f"The resource id '{text}' is not valid.")
            types = tuple((tail[i], tail[i + 1]) for i in range(1, len(tail) - 1, 2))
            return cls(inner.subscription, inner.resource_group, tail[0], types, scope=str(inner))
        if len(parts) < 2 or low[0] != "subscriptions":
            raise ArmError(400, "InvalidResourceId", f"The resource id '{text}' is not valid: it must start with '/subscriptions/'.")
        sub = parts[1]
        rest = parts[2:]
        rg = None
        if rest and rest[0].lower() == "resourcegroups":
            if len(rest) < 2:
                raise ArmError(400, "InvalidResourceId", f"The resource id '{text}' is not valid: resource group name is missing.")
            rg = rest[1]
            rest = rest[2:]
        if not rest:
            return cls(sub, rg)
        if rest[0].lower() != "providers" or len(rest) < 4 or (len(rest) - 2) % 2 != 0:
            raise ArmError(400, "InvalidResourceId", f"The resource id '{text}' is not valid.")
        ns = rest[1]
        tail = rest[2:]
        types = tuple((tail[i], tail[i + 1]) for i in range(0, len(tail), 2))
        return cls(sub, rg, ns, types)

    @classmethod
    def build(cls, subscription: str, resource_group: str | None, rtype: str, *names: str) -> ResourceId:
        """build(sub, rg, "Microsoft.Compute/galleries/images", "g", "d")"""
        ns, *segs = rtype.split("/")
        if len(segs) != len(names):
            raise ValueError(f"type {rtype} needs {len(segs)} names, got {len(names)}")
        return cls(subscription, resource_group, ns, tuple(zip(segs, names, strict=True)))

    # ---- properties ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self.types:
            return self.types[-1][1]
        return self.resource_group if self.resource_group else self.subscription

    @property
    def type(self) -> str:
        """Full type, e.g. 'Microsoft.Compute/galleries/images'."""
        if self.namespace:
            return "/".join([self.namespace, *(t for t, _ in self.types)])
        if self.resource_group:
            return "Microsoft.Resources/resourceGroups"
        return "Microsoft.Resources/subscriptions"

    @property
    def parent(self) -> ResourceId | None:
        if len(self.types) > 1:
            return ResourceId(self.subscription, self.resource_group, self.namespace, self.types[:-1], self.scope)
        if self.scope:
            return ResourceId.parse(self.scope)
        if self.types:
            return ResourceId(self.subscription, self.resource_group)
        if self.resource_group:
            return ResourceId(self.subscription)
        return None

    def child(self, rtype: str, name: str) -> ResourceId:
        return ResourceId(self.subscription, self.resource_group, self.namespace, (*self.types, (rtype, name)), self.scope)

    # ---- formatting & comparison -----------------------------------------------------------
    def __str__(self) -> str:
        if self.scope:
            tail = "/".join(f"{t}/{n}" for t, n in self.types)
            return f"{self.scope}/providers/{self.namespace}/{tail}"
        s = f"/subscriptions/{self.subscription}"
        if self.resource_group is not None:
            s += f"/resourceGroups/{self.resource_group}"
        if self.namespace:
            s += f"/providers/{self.namespace}/" + "/".join(f"{t}/{n}" for t, n in self.types)
        return s

    def key(self) -> str:
        return str(self).lower()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResourceId):
            return self.key() == other.key()
        if isinstance(other, str):
            return self.key() == other.lower().rstrip("/")
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return f"ResourceId({str(self)!r})"


@functools.lru_cache(maxsize=65536)
def _parse(cls: type[ResourceId], text: str) -> ResourceId:
    return cls._parse(text)  # frozen: one parsed id can be shared


def id_key(rid: str | ResourceId) -> str:
    """The case-insensitive key of an id (what Azure compares)."""
    return str(rid).lower().rstrip("/")


def same_id(a: str | ResourceId | None, b: str | ResourceId | None) -> bool:
    if a is None or b is None:
        return a is b
    return id_key(a) == id_key(b)
