"""`refresh swap`: plan the waves, start a run in the journal, execute or resume it (refit.run.campaign)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from refit.arm import views as v
from refit.arm.errors import UserError
from refit.arm.ids import id_key
from refit.arm.world import World
from refit.run.campaign import (
    IN_SYNC,
    PENDING,
    SKIPPED,
    Campaign,
    Tags,
)
from refit.run.journal import Journal, Run, VmRow
from refit.run.refresh.precheck import check_swap
from refit.run.refresh.scope import (
    Assessment,
    Selection,
    critical_without_reservation,
    health_extension_vms,
    select,
)
from refit.run.waves import Member, Policy, plan_waves


# ---- swap: planning and starting ---------------------------------------------------------------------------------
@dataclass
class SwapPlan:
    findings: list[Assessment]
    waves: list[Any]  # refit.run.waves.Wave
    warnings: list[str]

    @property
    def to_swap(self) -> list[Assessment]:
        return [f for f in self.findings if f.status == "swap"]

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings],
                "waves": [{"n": w.n, "canary": w.canary, "zone": w.zone, "vms": [m.name for m in w.members]}
                          for w in self.waves],
                "warnings": self.warnings}


def plan_swap(world: World, tags: Tags, sel: Selection, policy: Policy) -> SwapPlan:
    vms = select(world, tags, sel)
    findings = [check_swap(world, vm, tags) for vm in vms]
    by_key = {vm.key: vm for vm in vms}
    members = [Member(id_key(f.vm), f.name, f.zone) for f in findings if f.status == "swap"]
    warnings = [f"{vm.name} is tagged {tags.critical} and has no capacity reservation: a deallocated VM may not get "
                f"its hardware back; protect it first with `refit reserve --vm {vm.name}`"
                for vm in critical_without_reservation([by_key[m.key] for m in members], tags)]
    return SwapPlan(findings, plan_waves(members, policy), warnings)


def shard_plan(plan: SwapPlan, world: World, policy: Policy) -> list[tuple[str, SwapPlan]]:
    """The plan split by region (Compute's throttles are per subscription per region): one plan per region, each
    with its own canary and waves, the findings that swap nothing kept with the first. For the Temporal engine,
    which runs each shard as its own workflow, within its own throttles."""
    def region(f: Assessment) -> str:
        return str((world.get(f.vm) or {}).get("location") or "").lower()

    regions = sorted({region(f) for f in plan.to_swap})
    if len(regions) <= 1:
        return [(regions[0] if regions else "", plan)]
    out = []
    for i, r in enumerate(regions):
        mine = [f for f in plan.findings if (f.status == "swap" and region(f) == r) or (f.status != "swap" and i == 0)]
        members = [Member(id_key(f.vm), f.name, f.zone) for f in mine if f.status == "swap"]
        out.append((r, SwapPlan(mine, plan_waves(members, policy), plan.warnings if i == 0 else [])))
    return out


def start_swap(journal: Journal, session, plan: SwapPlan, world: World, tags: Tags, policy: Policy, sel: Selection,
               clock_now: float) -> Run:
    health = health_extension_vms(world)
    rows: list[VmRow] = []
    for w in plan.waves:
        for m in w.members:
            f = next(x for x in plan.findings if id_key(x.vm) == m.key)
            vm = v.Vm(world.get(f.vm))  # type: ignore[arg-type]
            rows.append(VmRow("", f.vm, f.name, f.zone, w.n, f.current, f.target, PENDING, "", 0.0,
                              region=vm.location, health=vm.key in health))
    for f in plan.findings:
        if f.status != "swap":
            rows.append(VmRow("", f.vm, f.name, f.zone, -1, f.current, f.target,
                              IN_SYNC if f.status == IN_SYNC else SKIPPED, f"{f.status}: {f.reason}", 0.0))
    params = {"policy": policy.to_json(), "tags": tags.to_json(), "selection": sel.to_json(), "warnings": plan.warnings}
    waves = [(w.n, w.zone or "", len(w.members)) for w in plan.waves]
    return journal.new_run("swap", session.subscription, session.endpoint, params, clock_now, rows, waves)


def interrupted_swap(journal: Journal, session) -> Run | None:
    runs = journal.interrupted(session.subscription, ("swap", "rollback"))
    return runs[-1] if runs else None


def execute(client, journal: Journal, run: Run, on_event: Callable[..., None] | None = None, workers: int = 16) -> Run:
    """Run or resume a swap/rollback run (holding its lock)."""
    if ((run.params or {}).get("engine") or {}).get("name") == "temporal":
        e = run.params["engine"]
        raise UserError(f"run {run.id} is executed by Temporal (workflow {e.get('workflow_id')} on {e.get('address')}); "
                        f"follow it with `refit refresh swap --resume {run.id}`")
    if not journal.acquire(run.id):
        raise UserError(f"run {run.id} is being executed by another refit process; wait for it or stop it first")
    try:
        tags = Tags(**run.params.get("tags", {}))
        policy = Policy(**run.params.get("policy", {}))
        return Campaign(client, journal, run, tags, policy, on_event, workers).execute()
    finally:
        journal.release(run.id)
