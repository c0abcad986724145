"""`refresh tag`: point each in-scope VM's disk tag at `<vm>-<suffix>` where it differs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refit.arm.world import World
from refit.run.campaign import (
    IN_SYNC,
    PENDING,
    SKIPPED,
    TAGS_API,
    Tags,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.refresh.scope import (
    DISK_NAME,
    Assessment,
    Selection,
    _simple_run,
    check_suffix,
    disk_id_for,
    select,
)

TAGS_PATH = "/providers/Microsoft.Resources/tags/default"


# ---- tag -------------------------------------------------------------------------------------------------------------
def plan_tag(world: World, tags: Tags, sel: Selection, suffix: str, force: bool = False) -> list[Assessment]:
    check_suffix(suffix)
    vms = select(world, tags, sel)
    out = []
    for vm in vms:
        want = f"{vm.name}-{suffix}"
        f = Assessment(vm.id, vm.name, "tag", current=vm.tag(tags.disk), target=want, zone=vm.zone or "")
        if (vm.tag(tags.disk) or "") == want:
            f.status, f.reason = IN_SYNC, f"{tags.disk} is already {want}"
        elif not DISK_NAME.match(want):
            f.status, f.reason = "invalid-name", f"'{want}' is not a valid managed disk name (check --suffix)"
        elif world.get(disk_id_for(vm, want)) is None and not force:
            f.status, f.reason = "missing-disk", (f"no disk {want} in {vm.rid.resource_group}: create it first "
                                                  "(`refit refresh disks`) or pass --force")
        out.append(f)
    return out


def tag_body(tags: Tags, value: str) -> dict[str, Any]:
    return {"operation": "Merge", "properties": {"tags": {tags.disk: value}}}


def run_tag(client, journal: Journal, session, tags: Tags, findings: list[Assessment], params: dict[str, Any],
            clock_now: float, on_event: Callable[..., None] | None = None) -> Run:
    from refit.azure.pacing import request

    emit = on_event or (lambda *a, **k: None)
    rows = [VmRow("", f.vm, f.name, f.zone, 0 if f.status == "tag" else -1, None, f.target,
                  PENDING if f.status == "tag" else (IN_SYNC if f.status == IN_SYNC else SKIPPED), f.reason, 0.0)
            for f in findings]
    run = journal.new_run("tag", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])

    def tag(f: Assessment):
        journal.step(run.id, f.vm, "tag", "started", f"{tags.disk}={f.target}", client.clock.now())
        r = yield from request(client, "PATCH", f"{f.vm}{TAGS_PATH}", TAGS_API, tag_body(tags, f.target or ""),
                               resource=f.vm)
        if r.status >= 400:
            e = r.error()
            journal.step(run.id, f.vm, "tag", "failed", f"({e.code}) {e.message}", client.clock.now())
            journal.set_vm(run.id, f.vm, state="failed", detail=f"({e.code}) {e.message}")
            return
        journal.step(run.id, f.vm, "tag", "done", "", client.clock.now())
        journal.set_vm(run.id, f.vm, state="tagged", detail=f"{tags.disk}={f.target}")
        emit("tag", vm=f.name, value=f.target)

    _simple_run(client, {f.vm: (lambda f=f: tag(f)) for f in findings if f.status == "tag"})
    bad = [r for r in journal.vms(run.id) if r.state == "failed"]
    n = sum(1 for r in journal.vms(run.id) if r.state == "tagged")
    journal.finish_run(run.id, "failed" if bad else "completed", f"{n} VMs tagged" + (f", {len(bad)} failed" if bad else ""),
                       client.clock.now())
    return journal.run(run.id)  # type: ignore[return-value]
