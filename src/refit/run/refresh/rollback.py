"""`refresh rollback`: back to the previous OS disk the journal (else the previous-disk tag) recorded."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import same_id
from refit.arm.world import World
from refit.run.campaign import (
    IN_SYNC,
    PENDING,
    SKIPPED,
    Tags,
    disk_name,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.refresh.precheck import swap_violations
from refit.run.refresh.scope import Assessment, Selection, disk_id_for, health_extension_vms, select
from refit.run.waves import Policy


# ---- rollback ------------------------------------------------------------------------------------------------------
def plan_rollback(world: World, journal: Journal, tags: Tags, run_id: str | None, names: list[str],
                  sel: Selection) -> tuple[list[Assessment], list[VmRow]]:
    """VMs to roll back (to the previous disk the journal, else the VM's previous-disk tag, recorded)."""
    findings: list[Assessment] = []
    rows: list[VmRow] = []
    targets: list[tuple[v.Vm, str | None]] = []
    health = health_extension_vms(world)
    if run_id:
        r = journal.run(run_id)
        if r is None or r.kind != "swap":
            raise UserError(f"no swap run '{run_id}' in the journal: `refit refresh status` lists the runs")
        for row in journal.vms(run_id):
            doc = world.get(row.vm)
            if row.wave < 0 or doc is None or not row.previous:
                continue
            targets.append((v.Vm(doc), row.previous))
    else:
        if not names and not (sel.resource_groups or sel.where):
            raise UserError("name the VMs to roll back, or --run ID, or a --resource-group / --where selection")
        vms = select(world, tags, Selection(sel.resource_groups, sel.where, names))
        for vm in vms:
            row = journal.latest_vm(vm.id)
            prev = row.previous if row is not None and same_id(row.target, vm.os_disk_id) else None
            if prev is None and vm.tag(tags.previous):
                prev = disk_id_for(vm, vm.tag(tags.previous).strip())  # type: ignore[union-attr]
            targets.append((vm, prev))
    for vm, prev in targets:
        f = Assessment(vm.id, vm.name, "rollback", current=vm.os_disk_id, target=prev, zone=vm.zone or "")
        if not prev:
            f.status, f.reason = "no-previous", "no previous OS disk recorded (journal or tag): nothing to go back to"
        elif same_id(prev, vm.os_disk_id):
            f.status, f.reason = IN_SYNC, f"already runs {disk_name(prev)}"
        elif world.get(prev) is None:
            f.status, f.reason = "missing-disk", f"the recorded previous disk {disk_name(prev)} no longer exists"
        else:
            bad = swap_violations(world, vm.doc, prev)
            if bad:
                f.status, f.rules = "incompatible", [r for r, _ in bad]
                f.reason = "; ".join(f"{r}: ({e.code}) {e.message}" for r, e in bad)
        findings.append(f)
        if f.status == "rollback":
            # A rollback row: `previous` is where the VM goes back to, `target` the disk it leaves.
            rows.append(VmRow("", vm.id, vm.name, vm.zone or "", 0, prev, vm.os_disk_id, PENDING, "rollback requested",
                              0.0, region=vm.location, health=vm.key in health))
    return findings, rows


def start_rollback(journal: Journal, session, rows: list[VmRow], findings: list[Assessment], tags: Tags, policy: Policy,
                   clock_now: float, source_run: str | None) -> Run:
    extra = [VmRow("", f.vm, f.name, f.zone, -1, f.current, f.target, IN_SYNC if f.status == IN_SYNC else SKIPPED,
                   f"{f.status}: {f.reason}", 0.0) for f in findings if f.status != "rollback"]
    params = {"policy": policy.to_json(), "tags": tags.to_json(), "source_run": source_run}
    return journal.new_run("rollback", session.subscription, session.endpoint, params, clock_now, rows + extra,
                           [(0, "", len(rows))])
