"""The rule catalog as the pre-check of a swap: the VM document as it would be after the swap goes to
`validate_write`; no rule is re-encoded here."""

from __future__ import annotations

import copy
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.paths import set_path
from refit.arm.world import World
from refit.platform.rules import validate_write
from refit.run.campaign import (
    IN_SYNC,
    Tags,
    disk_name,
)
from refit.run.refresh.scope import DISK_NAME, Assessment, disk_id_for


# ---- the catalog as pre-check ---------------------------------------------------------------------------------
def _deallocated(doc: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(doc)
    d.setdefault("properties", {}).setdefault("extended", {})["instanceView"] = {
        "powerState": {"code": "PowerState/deallocated", "level": "Info", "displayStatus": "VM deallocated"}}
    return d


def swap_violations(world: World, vm: dict[str, Any], disk_id: str) -> list[tuple[str, ArmError]]:
    """What the rule catalog says about swapping this VM's OS disk to `disk_id`, with the VM deallocated as
    refit does it: the VM document after the swap goes to validate_write (rules that already fire without
    the swap are not the swap's)."""
    old = _deallocated(vm)
    new = copy.deepcopy(old)
    set_path(new, "properties.storageProfile.osDisk.managedDisk.id", disk_id)
    set_path(new, "properties.storageProfile.osDisk.name", disk_name(disk_id))
    base = {(x.rule.id, x.error.code, x.error.message) for x in validate_write(world, old, copy.deepcopy(old))}
    return [(x.rule.id, x.error) for x in validate_write(world, old, new)
            if (x.rule.id, x.error.code, x.error.message) not in base]


def check_swap(world: World, vm: v.Vm, tags: Tags) -> Assessment:
    f = Assessment(vm.id, vm.name, "swap", current=vm.os_disk_id, zone=vm.zone or "")
    want = vm.tag(tags.disk)
    if want is None or not want.strip():
        f.status, f.reason = "no-tag", f"{tags.disk} tag is not set or empty: no change"
        return f
    want = want.strip()
    if (vm.os_disk_name or "").lower() == want.lower() or disk_name(vm.os_disk_id).lower() == want.lower():
        f.status, f.reason = IN_SYNC, f"already runs {want}"
        return f
    if not DISK_NAME.match(want):
        f.status, f.reason = "invalid-name", (f"{tags.disk}='{want}' is not a managed disk name (1-80 letters, digits, "
                                              "'_', '.', '-'; starting with a letter or digit)")
        return f
    did = disk_id_for(vm, want)
    disk = world.get(did)
    if disk is None:
        f.status, f.reason = "missing-disk", (f"{tags.disk}='{want}' names no disk in resource group "
                                              f"{vm.rid.resource_group}")
        return f
    f.target = disk["id"]
    bad = swap_violations(world, vm.doc, disk["id"])
    if bad:
        f.status = "incompatible"
        f.rules = [r for r, _ in bad]
        f.reason = "; ".join(f"{r}: ({e.code}) {e.message}" for r, e in bad)
    return f
