"""`refresh status`: a run and its VMs from the journal, beside the live state."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.world import World
from refit.run.campaign import (
    Tags,
    disk_name,
)
from refit.run.control import shown_status
from refit.run.journal import Journal
from refit.run.refresh.scope import Selection, select

# ---- status ------------------------------------------------------------------------------------------------------------
REFRESH_KINDS = ("disks", "tag", "swap", "rollback", "prune")  # the journal also holds `apply` runs


def status(world: World, journal: Journal, session, run_id: str | None, tags: Tags | None = None) -> dict[str, Any]:
    """A run (the latest of this subscription unless named), per wave and per VM, with each VM's live state:
    the OS disk it runs, the disk its tag asks for, in sync or not, its power state."""
    run = journal.run(run_id) if run_id else None
    if run_id and run is None:
        raise UserError(f"no run '{run_id}' in the journal ({journal.path})")
    if run is None:
        runs = journal.runs(session.subscription, REFRESH_KINDS)
        run = runs[-1] if runs else None
    tags = tags or (Tags(**run.params.get("tags", {})) if run else Tags())
    rows = journal.vms(run.id) if run else []
    if run is None or run.kind == "prune":
        vms = select(world, tags, Selection(), require=False)
        keys = [vm.key for vm in vms]
    else:
        keys = [r.vm for r in rows]
    by_row = {r.vm: r for r in rows}
    out_vms = []
    for k in keys:
        doc = world.get(k)
        r = by_row.get(k)
        entry: dict[str, Any] = {"vm": (doc or {}).get("name") or (r.name if r else k.rsplit("/", 1)[-1]), "id": k}
        if r is not None:
            entry |= {"wave": r.wave, "state": r.state, "detail": r.detail, "previous": disk_name(r.previous),
                      "target": disk_name(r.target)}
        if doc is None:
            entry |= {"exists": False}
        else:
            vm = v.Vm(doc)
            desired = (vm.tag(tags.disk) or "").strip()
            entry |= {"zone": vm.zone or "", "os_disk": vm.os_disk_name or disk_name(vm.os_disk_id),
                      "desired": desired, "in_sync": bool(desired) and desired.lower() == disk_name(vm.os_disk_id).lower(),
                      "power": vm.power_state, "recorded_previous": vm.tag(tags.previous) or ""}
        out_vms.append(entry)
    live = [e for e in out_vms if "in_sync" in e]
    summary = {"vms": len(out_vms), "in_sync": sum(1 for e in live if e["in_sync"]),
               "running": sum(1 for e in live if e["power"] == "running"),
               "deallocated": sum(1 for e in live if e["power"] == "deallocated")}
    if run is not None:
        states: dict[str, int] = {}
        for r in rows:
            states[r.state] = states.get(r.state, 0) + 1
        summary["states"] = states
    # A run left `running` by a process that is gone (its lock is free) is not running: it was interrupted,
    # and `refit refresh swap` (a plain re-run) or `--resume RUN` picks it up.
    shown = shown_status(journal, run) if run is not None else None
    return {"run": None if run is None else {"id": run.id, "kind": run.kind, "status": shown,
                                              "message": run.message, "params": run.params,
                                              "started": run.clock_started, "finished": run.clock_finished},
            "waves": journal.waves(run.id) if run else [], "vms": out_vms, "summary": summary}
