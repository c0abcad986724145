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
    RunAll,
    Tags,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.refresh.scope import (
    DISK_NAME,
    Assessment,
    Selection,
    check_suffix,
    disk_id_for,
    execute_simple,
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


def start_tag(journal: Journal, session, findings: list[Assessment], params: dict[str, Any], clock_now: float) -> Run:
    """The run in the journal: a row per VM, pending where its tag is to be set."""
    rows = [VmRow("", f.vm, f.name, f.zone, 0 if f.status == "tag" else -1, None, f.target,
                  PENDING if f.status == "tag" else (IN_SYNC if f.status == IN_SYNC else SKIPPED), f.reason, 0.0)
            for f in findings]
    return journal.new_run("tag", session.subscription, session.endpoint, params, clock_now, rows, [(0, "", len(rows))])


def tag_decisions(client, journal: Journal, run: Run, tags: Tags, emit: Callable[..., None]):
    """The run's decisions (refit.run.campaign.RunAll), whichever engine drives them: every pending VM's tag
    PATCHed at once, through the paced client (the local Scheduler's, or a workflow's activities)."""
    from refit.azure.pacing import request

    def tag(row: VmRow):
        journal.step(run.id, row.vm, "tag", "started", f"{tags.disk}={row.target}", client.clock.now())
        r = yield from request(client, "PATCH", f"{row.vm}{TAGS_PATH}", TAGS_API, tag_body(tags, row.target or ""),
                               resource=row.vm)
        if r.status >= 400:
            e = r.error()
            journal.step(run.id, row.vm, "tag", "failed", f"({e.code}) {e.message}", client.clock.now())
            journal.set_vm(run.id, row.vm, state="failed", detail=f"({e.code}) {e.message}")
            return
        journal.step(run.id, row.vm, "tag", "done", "", client.clock.now())
        journal.set_vm(run.id, row.vm, state="tagged", detail=f"{tags.disk}={row.target}")
        emit("tag", vm=row.name, value=row.target)

    todo = [r for r in journal.vms(run.id) if r.state == PENDING]
    yield RunAll({r.vm: (lambda r=r: tag(r)) for r in todo}, gated=False)
    rows = journal.vms(run.id)
    bad = [r for r in rows if r.state == "failed"]
    n = sum(1 for r in rows if r.state == "tagged")
    journal.finish_run(run.id, "failed" if bad else "completed", f"{n} VMs tagged" + (f", {len(bad)} failed" if bad else ""),
                       client.clock.now())


def run_tag(client, journal: Journal, session, tags: Tags, findings: list[Assessment], params: dict[str, Any],
            clock_now: float, on_event: Callable[..., None] | None = None) -> Run:
    return execute_simple(client, journal, start_tag(journal, session, findings, params, clock_now),
                          lambda run: tag_decisions(client, journal, run, tags, on_event or (lambda *a, **k: None)))
