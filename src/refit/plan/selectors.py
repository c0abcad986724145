"""Which VMs and scale sets a fleet intent is about: subscriptions, resource groups, tags, types and regions.

Every key narrows the selection (AND); the values of one key widen it (OR). Names compare without regard to case,
as Azure compares them; regions by their normalized name (`East US` is `eastus`); a tag is `KEY=VALUE` (`KEY=*`:
any value; tag names compare without regard to case, values exactly, as Azure's tag filters do).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from refit.arm import views as v
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.platform import regions

# What `types` accepts for each type an intent applies to.
TYPES = {"vm": v.VM, "virtualmachines": v.VM, v.VM.lower(): v.VM,
         "vmss": v.VMSS, "virtualmachinescalesets": v.VMSS, v.VMSS.lower(): v.VMSS}


class Selector(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscriptions: list[str] = Field(default_factory=list)
    resource_groups: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    types: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)

    @field_validator("types")
    @classmethod
    def _types(cls, val: list[str]) -> list[str]:
        for t in val:
            if t.lower() not in TYPES:
                raise ValueError(f"'{t}' is not a type an intent applies to (vm, vmss)")
        return [TYPES[t.lower()] for t in val]

    @classmethod
    def from_flags(cls, subscriptions: list[str], resource_groups: list[str], where: list[str], types: list[str],
                   region: list[str]) -> Selector:
        tags: dict[str, str] = {}
        for w in where:
            key, eq, value = w.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"--where takes KEY=VALUE (a tag; KEY=* for any value), not '{w}'")
            tags[key.strip()] = value.strip()
        return cls(subscriptions=subscriptions, resource_groups=resource_groups, tags=tags, types=types,
                   regions=region)

    def select(self, world: World) -> list[dict[str, Any]]:
        """The VMs and scale sets of the world the selector matches, in id order."""
        types = self.types or [v.VM, v.VMSS]
        out = [d for t in types for d in world.of_type(t) if self.matches(d)]
        return sorted(out, key=lambda d: d["id"].lower())

    def matches(self, doc: dict[str, Any]) -> bool:
        rid = ResourceId.parse(doc["id"])
        if self.subscriptions and rid.subscription.lower() not in {s.lower() for s in self.subscriptions}:
            return False
        if self.resource_groups and (rid.resource_group or "").lower() not in {g.lower() for g in self.resource_groups}:
            return False
        if self.regions and regions.normalize(doc.get("location") or "") not in {
                regions.normalize(r) for r in self.regions}:
            return False
        tags = {k.lower(): val for k, val in (doc.get("tags") or {}).items()}
        return all(k.lower() in tags and (want == "*" or tags[k.lower()] == want) for k, want in self.tags.items())
