"""Capacity readings: which VMs a reservation covers (rules C6, C8, C9)."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.checks.model import Eval
from refit.platform.rules import doctor_facts as df


def matches(ev: Eval, vm: dict[str, Any], cr: dict[str, Any]) -> bool:
    size = (ev.of(vm, "properties.hardwareProfile.vmSize") or "").lower()
    if size != (ev.of(cr, "sku.name") or "").lower():
        return False
    cr_zones = ev.of(cr, "zones") or []
    vm_zones = ev.of(vm, "zones") or []
    return not cr_zones or bool(vm_zones and vm_zones[0] in cr_zones)


def allocated(vm: dict[str, Any]) -> bool:
    """Running (or stopped-allocated). A document without a power state (a template, a plan) is a VM that
    will be running once deployed."""
    state = v.Vm(vm).power_state
    return state is None or state in df.ALLOCATED_POWER_STATES


def group_vms(ev: Eval, group_id: str) -> list[dict[str, Any]]:
    return ev.ctx.vms_by_crg.get(id_key(group_id), [])
