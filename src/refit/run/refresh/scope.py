"""What a refresh is about: the fleet as ARM documents, the VMs in scope of the tag contract and of
the selection, and what the pre-checks say about each (an `Assessment`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import ResourceId, id_key, same_id
from refit.arm.world import World
from refit.platform import apis
from refit.platform.rules import facts
from refit.run.campaign import (
    Tags,
    disk_name,
)

DISK_API = apis.DISKS
VERSION_API = apis.GALLERY
VM_EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
# Managed disk names: 1-80 characters, alphanumerics, underscores, periods and hyphens; start with an
# alphanumeric, end with an alphanumeric or an underscore
# (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftcompute).
DISK_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")


@dataclass
class Selection:
    resource_groups: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # tag filters KEY=VALUE
    vms: list[str] = field(default_factory=list)  # ids or names

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Assessment:
    """What the pre-checks say about one VM."""

    vm: str
    name: str
    status: str  # swap | in-sync | no-tag | invalid-name | missing-disk | incompatible | not-in-scope | ...
    reason: str = ""
    current: str | None = None
    target: str | None = None
    zone: str = ""
    rules: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"vm": self.vm, "name": self.name, "status": self.status, "reason": self.reason,
                "current_disk": disk_name(self.current), "target_disk": disk_name(self.target), "zone": self.zone,
                "rules": self.rules}


# ---- the fleet -------------------------------------------------------------------------------------------------
def load(session, client) -> World:
    """The fleet as ARM documents (`refit.azure.fleet.load_world`), image versions read through refit's paced
    client so that a campaign's own reads never push it into throttling."""
    from refit.azure.fleet import load_world
    from refit.run.sched import drive

    return load_world(session, get_version=lambda vid: drive(client, _get(client, vid, VERSION_API,
                                                                          {"$expand": "ReplicationStatus"})))


# ---- selection ------------------------------------------------------------------------------------------------
def tag_filter(text: str) -> tuple[str, str]:
    k, eq, val = text.partition("=")
    if not eq or not k.strip():
        raise UserError(f"a tag filter is KEY=VALUE, e.g. --where env=prod; not '{text}'")
    return k.strip(), val.strip()


def resolve(world: World, sel: Selection) -> list[v.Vm]:
    """The VMs a selection names (resource groups, tag filters, names or ids; all of them when it names none).
    Refused, before anything is done, when a part of it matches nothing: an empty selection is a mistake to
    name, not a silent success."""
    filters = [tag_filter(w) for w in sel.where]
    rgs = {rg.lower() for rg in sel.resource_groups}
    vms = world.vms()
    for rg in sel.resource_groups:
        if not any((vm.rid.resource_group or "").lower() == rg.lower() for vm in vms):
            raise UserError(f"--resource-group {rg}: no VM in a resource group of that name; `refit inventory --type "
                            "microsoft.compute/virtualmachines` lists the VMs and their groups")
    for k, val in filters:
        if not any((vm.tag(k) or "").lower() == val.lower() for vm in vms):
            raise UserError(f"--where {k}={val}: no VM has that tag value")
    matched = [vm for vm in vms if (not rgs or (vm.rid.resource_group or "").lower() in rgs)
               and all((vm.tag(k) or "").lower() == val.lower() for k, val in filters)]
    if not sel.vms:
        return matched
    named: list[v.Vm] = []
    for name in sel.vms:
        hits = [vm for vm in vms if same_id(vm.id, name) or vm.name.lower() == name.lower()]
        if not hits:
            raise UserError(f"no VM '{name}' in the subscription; `refit inventory --type "
                            "microsoft.compute/virtualmachines` lists them")
        inside = [vm for vm in hits if any(m.key == vm.key for m in matched)]
        if not inside:
            raise UserError(f"VM '{name}' is outside the --resource-group / --where filters")
        named += [vm for vm in inside if not any(n.key == vm.key for n in named)]
    return named


def select(world: World, tags: Tags, sel: Selection, require: bool = True) -> list[v.Vm]:
    """The in-scope VMs of the selection (tagged <scope tag>=<value>). A VM named with --vm that is not in
    scope is refused; so is (`require`) a selection with nothing in scope."""
    chosen = resolve(world, sel)
    scoped = [vm for vm in chosen if (vm.tag(tags.scope) or "").lower() == tags.scope_value.lower()]
    in_scope = {vm.key for vm in scoped}
    outside = [vm.name for vm in chosen if vm.key not in in_scope]
    if sel.vms and outside:
        raise UserError(f"VM {', '.join(outside)} not in scope: not tagged {tags.scope}={tags.scope_value} "
                        "(docs/refresh.md, the tag contract)")
    if require and not scoped:
        within = " of the selection" if sel.resource_groups or sel.where else ""
        raise UserError(f"nothing selected: no VM{within} is tagged {tags.scope}={tags.scope_value}; tag the VMs to "
                        "refresh, or name your own scope tag with --scope-tag/--scope-value")
    return scoped


# What may follow `<vm>-` in a disk name (DISK_NAME): letters, digits, '_', '.', '-', ending in a letter, digit or '_'.
SUFFIX = re.compile(r"^[A-Za-z0-9_.-]*[A-Za-z0-9_]$")


def check_suffix(suffix: str) -> str:
    """Refuse, before anything is read, a --suffix that cannot end a managed disk name."""
    if not SUFFIX.match(suffix):
        raise UserError(f"--suffix must end a managed disk name <vm>-<suffix>: letters, digits, '_', '.', '-', ending "
                        f"in a letter, digit or '_' (e.g. 2026-11); not '{suffix}'")
    return suffix


def health_extension_vms(world: World) -> set[str]:
    """Keys of the VMs that carry the Application Health extension (their health gate includes HealthState)."""
    out = set()
    for ext in world.of_type(VM_EXTENSION):
        if facts.is_health_extension((ext.get("properties") or {}).get("type")):
            out.add(id_key(ResourceId.parse(ext["id"]).parent))  # type: ignore[arg-type]
    return out


def disk_id_for(vm: v.Vm, name: str) -> str:
    r = vm.rid
    return str(ResourceId.build(r.subscription, r.resource_group, v.DISK, name))


def critical_without_reservation(vms: list[v.Vm], tags: Tags) -> list[v.Vm]:
    key, _, val = tags.critical.partition("=")
    if not key:
        return []
    return [vm for vm in vms if (vm.tag(key) or "").lower() == val.lower() and not vm.capacity_reservation_group_id]


def _get(client, rid: str, api: str, params: dict[str, str] | None = None):
    from refit.azure.pacing import request

    r = yield from request(client, "GET", rid, api, params=params)
    if r.status >= 400:
        raise r.error()
    return r.body


def _simple_run(client, tasks: dict[str, Callable[[], Any]], workers: int = 16) -> dict:
    from refit.run.sched import Scheduler

    sched = Scheduler(client, workers=workers)
    try:
        return sched.run(tasks)
    finally:
        sched.close()


def execute_simple(client, journal, run, decisions: Callable[[Any], Any], workers: int = 16):
    """A run without waves or gates (`refresh disks`, `refresh tag`) on the local engine: its decisions here,
    their tasks on a Scheduler. The Temporal engine drives the same decisions from a workflow."""
    from refit.run.campaign import drive_local
    from refit.run.sched import Scheduler

    sched = Scheduler(client, workers=workers)
    try:
        drive_local(decisions(run), sched, None)
    finally:
        sched.close()
    return journal.run(run.id)
