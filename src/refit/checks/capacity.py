"""Capacity readings: which VMs a reservation covers (rules C6, C8, C9)."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.checks.model import Eval
from refit.platform.rules import capacity as capacity_rules
from refit.platform.rules import facts


def matches(ev: Eval, vm: dict[str, Any], cr: dict[str, Any]) -> bool:
    """The catalog's reading (rules C6, C8), over the doctor's evaluated values."""
    return capacity_rules.matches(vm, cr, ev.of)


def allocated(vm: dict[str, Any]) -> bool:
    """Running (or stopped-allocated). A document without a power state (a template, a plan) is a VM that
    will be running once deployed."""
    state = v.Vm(vm).power_state
    return state is None or state in facts.ALLOCATED_POWER_STATES


def group_vms(ev: Eval, group_id: str) -> list[dict[str, Any]]:
    return ev.ctx.vms_by_crg.get(id_key(group_id), [])
