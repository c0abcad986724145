"""Planning time, side by side with the time to load the fleet it plans (issue 13 scope 3).

Seed 000 (the `deadlock` scenario): the scale set to Trusted Launch with a goal of only the security type (the
planner fills in the image), and with the goal that also names the target definition `app-tl` (the bridge). Then
fleets of Standard Gen2 VMs (`fleet` scenario) to Trusted Launch: for each size, the world is loaded from the
emulator's live state (Resource Graph) and planned, in the same run, and planning is given as a ratio of loading.

    python bench/plan.py [--vms 1000 10000]

The last line is one JSON object with the figures (bench/README.md keeps the table).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from refit.azure import Session, StaticCredential
from refit.azure.fleet import load_world
from refit.emulator.server import EmulatorServer
from refit.plan.goal import parse
from refit.plan.planner import make_plan

SEC = "properties.virtualMachineProfile.securityProfile.securityType"
IMG = "properties.virtualMachineProfile.storageProfile.imageReference.id"


def _best(world, goals, runs: int = 5):
    """The fastest of `runs` plans of the same goal (the machine is shared: the minimum is the least disturbed)."""
    best, plan = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        plan = make_plan(world, goals)
        best = min(best, time.perf_counter() - t)
    return best, plan


def seed000(s: Session, sub: str) -> dict:
    s.control("POST", "scenario", {"name": "deadlock"})
    base = f"/subscriptions/{sub}/resourceGroups/rg-app/providers/Microsoft.Compute"
    vmss = f"{base}/virtualMachineScaleSets/vmss-app"
    world = load_world(s)
    out = {}
    for label, props in (("security_type_only", {SEC: "TrustedLaunch"}),
                         ("with_app_tl", {SEC: "TrustedLaunch", IMG: f"{base}/galleries/galProd/images/app-tl"})):
        secs, p = _best(world, parse({"goals": [{"resource": vmss, "properties": props}]}))
        print(f"seed 000, goal {label}: {len(p.steps)} steps, {p.expansions} states expanded, planned in {secs:.3f} s "
              "(best of 5)")
        out[label] = {"plan_s": round(secs, 4), "steps": len(p.steps), "expansions": p.expansions}
    return out


def fleet(s: Session, vms: int) -> dict:
    s.control("POST", "scenario", {"name": "fleet", "params": {"vms": vms, "security_type": "Standard"}})
    t = time.perf_counter()
    world = load_world(s)
    load_s = time.perf_counter() - t
    ids = [d["id"] for d in world.of_type("Microsoft.Compute/virtualMachines")]
    goals = parse({"goals": [{"resource": v, "properties": {
        "properties.securityProfile.securityType": "TrustedLaunch"}} for v in ids]})
    t = time.perf_counter()
    p = make_plan(world, goals)
    plan_s = time.perf_counter() - t
    assert p.status == "ok" and len(p.steps) == 3 * len(ids), p.status
    print(f"{len(ids)} VMs to TrustedLaunch: world loaded in {load_s:.2f} s, planned in {plan_s:.2f} s "
          f"(ratio {plan_s / load_s:.2f}); {len(p.steps)} steps, {p.situations} situations searched "
          f"({p.expansions} states), {p.renamed_refused} renamed groups refused")
    return {"vms": len(ids), "world_load_s": round(load_s, 2), "plan_s": round(plan_s, 2),
            "ratio": round(plan_s / load_s, 2), "steps": len(p.steps), "situations": p.situations,
            "expansions": p.expansions, "renamed_refused": p.renamed_refused}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, nargs="+", default=[1000, 10000])
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = EmulatorServer(Path(tmp) / "emu").start()
        e = srv.endpoint
        s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
        try:
            figures = {"seed000": seed000(s, e.subscription), "fleets": [fleet(s, n) for n in a.vms]}
        finally:
            s.close()
            srv.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
