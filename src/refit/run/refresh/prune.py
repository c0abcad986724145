"""`refresh prune`: delete the OS disks no VM runs, names and no journal keeps as a rollback target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.run.campaign import (
    PENDING,
    SKIPPED,
    Tags,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.refresh.scope import DISK_API, Selection, _simple_run, disk_id_for, select


# ---- prune -------------------------------------------------------------------------------------------------------------
def plan_prune(world: World, journal: Journal, tags: Tags, sel: Selection, keep: int) -> list[dict[str, Any]]:
    """Per VM, its refresh disks (refit-vm tag, or named `<vm>-<suffix>` with the VM the longest matching name
    in its resource group), newest first; those beyond the newest `keep` that are unattached and neither the
    current, the desired (OsDiskName) nor the recorded previous disk are deleted."""
    if keep < 1:
        raise UserError("--keep must be >= 1 (the current disk is always kept)")
    vms = select(world, tags, sel)
    by_rg: dict[str, list[v.Vm]] = {}
    for vm in world.vms():
        by_rg.setdefault((vm.rid.resource_group or "").lower(), []).append(vm)
    out = []
    for vm in vms:
        rg = (vm.rid.resource_group or "").lower()
        protected = {id_key(x) for x in (vm.os_disk_id, *vm.data_disk_ids) if x}
        for name in (vm.tag(tags.disk), vm.tag(tags.previous)):
            if name:
                protected.add(id_key(disk_id_for(vm, name.strip())))
        row = journal.latest_vm(vm.id)
        if row is not None:
            protected |= {id_key(x) for x in (row.previous, row.target) if x}
        mine = []
        for d in world.disks():
            if (d.rid.resource_group or "").lower() != rg:
                continue
            owner = d.tag("refit-vm")
            if owner is None:
                rivals = [o for o in by_rg.get(rg, []) if d.name.lower().startswith(o.name.lower() + "-")]
                owner = max(rivals, key=lambda o: len(o.name)).name if rivals else None
            if owner is not None and owner.lower() == vm.name.lower():
                mine.append(d)
        mine.sort(key=lambda d: d.time_created or "", reverse=True)
        for i, d in enumerate(mine):
            keep_it = i < keep
            why = "among the newest kept" if keep_it else ""
            if d.key in protected:
                keep_it, why = True, "current, desired or recorded previous disk"
            elif d.managed_by:
                keep_it, why = True, f"attached to {ResourceId.parse(d.managed_by).name}"
            out.append({"vm": vm.name, "disk": d.id, "name": d.name, "created": d.time_created,
                        "action": "keep" if keep_it else "delete", "why": why or "beyond the newest kept"})
    return out


def run_prune(client, journal: Journal, session, items: list[dict[str, Any]], params: dict[str, Any], clock_now: float,
              on_event: Callable[..., None] | None = None) -> Run:
    """Delete the disks `plan_prune` marked, each re-read first: a disk attached since the plan is kept."""
    from refit.azure.pacing import operation, request

    emit = on_event or (lambda *a, **k: None)
    doomed = [i for i in items if i["action"] == "delete"]
    rows = [VmRow("", i["disk"], i["name"], "", 0, None, None, PENDING, i["vm"], 0.0) for i in doomed]
    run = journal.new_run("prune", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])

    def delete(i: dict[str, Any]):
        r = yield from request(client, "GET", i["disk"], DISK_API)
        if r.status == 404:
            journal.set_vm(run.id, i["disk"], state="deleted", detail="already gone")
            return
        if r.status >= 400:
            raise r.error()
        if (r.body or {}).get("managedBy"):
            journal.set_vm(run.id, i["disk"], state=SKIPPED, detail="attached since the plan: kept")
            return
        journal.step(run.id, i["disk"], "delete-disk", "started", "", client.clock.now())
        yield from operation(client, "DELETE", i["disk"], DISK_API)
        journal.step(run.id, i["disk"], "delete-disk", "done", "", client.clock.now())
        journal.set_vm(run.id, i["disk"], state="deleted", detail="")
        emit("prune", disk=i["name"], vm=i["vm"])

    res = _simple_run(client, {i["disk"]: (lambda i=i: delete(i)) for i in doomed})
    for k, r in res.items():
        if not r.ok:
            journal.set_vm(run.id, k, state="failed", detail=str(r.error))
    bad = [r for r in journal.vms(run.id) if r.state == "failed"]
    n = sum(1 for r in journal.vms(run.id) if r.state == "deleted")
    journal.finish_run(run.id, "failed" if bad else "completed", f"{n} disks deleted" + (f", {len(bad)} failed" if bad else ""),
                       client.clock.now())
    return journal.run(run.id)  # type: ignore[return-value]
