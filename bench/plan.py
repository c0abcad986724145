"""Planning time: the seed 000 goal (the TrustedLaunchSupported bridge) and a 1,000-VM fleet goal
(every VM Standard -> TrustedLaunch), planned from the emulator's live state (Resource Graph).

    python bench/plan.py [--vms 1000]

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = EmulatorServer(Path(tmp) / "emu").start()
        e = srv.endpoint
        s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
        try:
            s.control("POST", "scenario", {"name": "deadlock"})
            base = f"/subscriptions/{e.subscription}/resourceGroups/rg-app/providers/Microsoft.Compute"
            goals = parse({"goals": [{"resource": f"{base}/virtualMachineScaleSets/vmss-app", "properties": {
                "properties.virtualMachineProfile.securityProfile.securityType": "TrustedLaunch",
                "properties.virtualMachineProfile.storageProfile.imageReference.id": f"{base}/galleries/galProd/images/app-tl"}}]})
            world = load_world(s)
            t = time.perf_counter()
            p = make_plan(world, goals)
            seed000 = time.perf_counter() - t
            print(f"seed 000 goal: {len(p.steps)} steps, {p.expansions} states expanded, planned in {seed000:.3f} s")

            s.control("POST", "scenario", {"name": "fleet", "params": {"vms": a.vms, "security_type": "Standard"}})
            t = time.perf_counter()
            world = load_world(s)
            load_s = time.perf_counter() - t
            vms = [d["id"] for d in world.of_type("Microsoft.Compute/virtualMachines")]
            goals = parse({"goals": [{"resource": v, "properties": {
                "properties.securityProfile.securityType": "TrustedLaunch"}} for v in vms]})
            t = time.perf_counter()
            p = make_plan(world, goals)
            fleet = time.perf_counter() - t
            print(f"{len(vms)}-VM fleet to TrustedLaunch: {len(p.steps)} steps, {p.expansions} states expanded, "
                  f"planned in {fleet:.2f} s ({fleet / len(vms) * 1000:.1f} ms per VM; world loaded in {load_s:.2f} s)")
            print(json.dumps({"seed000_plan_s": round(seed000, 3),
                              "fleet_vms": len(vms), "fleet_plan_s": round(fleet, 2), "fleet_steps": len(p.steps),
                              "fleet_ms_per_vm": round(fleet / len(vms) * 1000, 2), "world_load_s": round(load_s, 2)}))
        finally:
            s.close()
            srv.stop()


if __name__ == "__main__":
    main()
