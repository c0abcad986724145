"""What every source produces: a World of ARM documents, and what it could not resolve.

`unresolved` maps a resource (id key) to {dotted path: reason}; the path "" means the whole resource (its
`condition` or its name could not be computed). `origins` says where a resource came from (file, line,
Terraform address) for reports and SARIF locations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.arm.world import World

# Types the checks read, in Azure's casing (Resource Graph and Terraform hand them over lowercased or mapped).
_CANONICAL = {t.lower(): t for t in (
    *(vt.arm_type for vt in v.VIEW_BY_TYPE.values()),
    "Microsoft.Compute/virtualMachines/extensions", "Microsoft.Compute/virtualMachineScaleSets/extensions",
    "Microsoft.Insights/autoscalesettings", "Microsoft.VirtualMachineImages/imageTemplates",
    "Microsoft.Resources/resourceGroups", "Microsoft.Network/networkInterfaces", "Microsoft.Network/loadBalancers",
    "Microsoft.Network/virtualNetworks", "Microsoft.Compute/snapshots", "Microsoft.Resources/deployments")}


def canonical_type(t: str) -> str:
    """Azure's casing of a resource type ('microsoft.compute/virtualmachines' -> 'Microsoft.Compute/virtualMachines')."""
    return _CANONICAL.get((t or "").lower(), t)


@dataclass
class Origin:
    file: str | None = None
    line: int | None = None
    address: str | None = None  # Terraform address, or the template's resource name/symbolic name
    index: Any = None  # Terraform instance key (count: int, for_each: str)


@dataclass
class Source:
    kind: str  # live | arm | terraform (the inputs checks declare)
    label: str  # what was read: a subscription list, a file
    world: World
    unresolved: dict[str, dict[str, str]] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def mark(self, rid: str, path: str, reason: str) -> None:
        self.unresolved.setdefault(id_key(rid), {}).setdefault(path, reason)

    def origin(self, rid: str) -> Origin | None:
        return self.origins.get(id_key(rid))

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "resources": len(self.world),
                "unresolved_resources": len(self.unresolved), "notes": list(self.notes)}
