"""Compute usage per region (`GET .../providers/Microsoft.Compute/locations/{l}/usages`, `az vm list-usage`).

Azure counts, per region, the vCPUs of the VMs that hold hardware, in total and per VM family (the quota families
of the SKU table), and the number of VMs and scale sets. That a deallocated VM's vCPUs leave the count is INFERRED
from https://learn.microsoft.com/azure/virtual-machines/states-billing (a deallocated VM releases its hardware). The limits are INFERRED defaults (a pay-as-you-go subscription's typical regional quota); refit
reports them and does not enforce them.
"""

from __future__ import annotations

from typing import Any

from refit.arm import location
from refit.arm import views as v
from refit.arm.paths import get_path
from refit.arm.world import World
from refit.platform import skus
from refit.platform.rules import facts

LIMITS = {"cores": 350, "family": 350, "virtualMachines": 25000, "virtualMachineScaleSets": 2500,
          "availabilitySets": 2500}


def usages(world: World, region: str) -> list[dict[str, Any]]:
    """The usage rows (Usage: unit, currentValue, limit, name {value, localizedValue}) of one region."""
    here = location.normalize(region)
    vms = [d for d in world.of_type(v.VM) if location.normalize(d.get("location") or "") == here]
    sets = [d for d in world.of_type(v.VMSS) if location.normalize(d.get("location") or "") == here]
    by_family: dict[str, int] = {}
    for d in vms:
        power = (get_path(d, "properties.extended.instanceView.powerState.code") or "PowerState/running").split("/")[-1]
        sz = skus.find(get_path(d, "properties.hardwareProfile.vmSize"))
        if sz is not None and power in facts.ALLOCATED_POWER_STATES:
            by_family[sz.family] = by_family.get(sz.family, 0) + sz.vcpus
    for d in sets:  # a Uniform scale set's instances are not documents: its capacity counts
        sz = skus.find(get_path(d, "sku.name"))
        if sz is not None and (get_path(d, "properties.orchestrationMode") or "Uniform") == "Uniform":
            n = int(get_path(d, "sku.capacity") or 0)
            by_family[sz.family] = by_family.get(sz.family, 0) + n * sz.vcpus
    rows = [_row("availabilitySets", "Availability Sets", 0, LIMITS["availabilitySets"]),
            _row("cores", "Total Regional vCPUs", sum(by_family.values()), LIMITS["cores"]),
            _row("virtualMachines", "Virtual Machines", len(vms), LIMITS["virtualMachines"]),
            _row("virtualMachineScaleSets", "Virtual Machine Scale Sets", len(sets), LIMITS["virtualMachineScaleSets"])]
    families = sorted({s.family for s in skus.all_sizes()})
    rows += [_row(f, skus.family_display(f), by_family.get(f, 0), LIMITS["family"]) for f in families]
    return rows


def _row(name: str, display: str, current: int, limit: int) -> dict[str, Any]:
    return {"unit": "Count", "currentValue": current, "limit": limit, "name": {"value": name, "localizedValue": display}}
