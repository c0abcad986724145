"""Fleet refresh at scale: `refit refresh swap` on the seed 003 fleet vs the seed's sequential loop.

The emulator runs in its own process (`refit emulator start`) with throttling on (ARM and Compute token
buckets, reference section 6). refit drives it with a SteppedClock: simulated time advances only when
refit waits, so the simulated makespan holds the platform's durations (the emulator's timing model),
throttling and refit's own waiting, and not this machine's CPU time, which is reported separately.

Prints: the simulated makespan of the swap campaign (default policy: canary 1, batches of 20%, soak 60 s);
the seed's sequential loop on the same timing model (deallocate + update + start per VM, one after the
other); the lower bound under the same wave policy and throttling model (an ideal client: no request
latency, every completion seen at once); refit's CPU seconds per VM. The last line is one JSON object
{"vms", "makespan_s", "sequential_s", "lower_bound_s", "speedup", "efficiency", "cpu_s_per_vm"}.

    python bench/refresh.py --vms 500
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refit.azure import Session, StaticCredential
from refit.azure.clock import SteppedClock
from refit.azure.pacing import PacedClient
from refit.emulator.server import Endpoint
from refit.run import refresh as R
from refit.run.journal import Journal
from refit.run.waves import Policy, lower_bound

RG = "rg-refresh"


def _wait_endpoint(data: Path) -> Endpoint:
    for _ in range(1200):
        ep = Endpoint.read(data)
        if ep is not None and ep.alive():
            return ep
        time.sleep(0.05)
    raise SystemExit("the emulator did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=500)
    ap.add_argument("--wave-by", default=None, choices=[None, "zone"])
    ap.add_argument("--workers", type=int, default=16, help="refit's HTTP threads")
    ap.add_argument("--no-throttling", action="store_true", help="turn the emulator's token buckets off")
    a = ap.parse_args()
    policy = Policy(wave_by=a.wave_by)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "emu"
        os.environ["REFIT_STATE_DIR"] = str(Path(tmp) / "state")
        proc = subprocess.Popen([sys.executable, "-m", "refit", "emulator", "start", "--port", "0", "--data", str(data)],
                                stdout=subprocess.DEVNULL)
        try:
            ep = _wait_endpoint(data)
            s = Session(ep.url, ep.subscription, StaticCredential(), ep.cert, emulator=True)
            t = time.perf_counter()
            s.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": a.vms}})
            print(f"seeded {a.vms} VMs across 3 zones in {time.perf_counter() - t:.1f} s")
            s.control("PUT", "throttling", {"enabled": not a.no_throttling})
            timing = s.control("GET", "timing")
            clock = SteppedClock(s)
            client = PacedClient(s, clock, workers=a.workers)
            journal = Journal()
            version = (f"/subscriptions/{ep.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
                       "galRefresh/images/ubuntu-refresh/versions/2026.11.0")
            tags, sel = R.Tags(), R.Selection()

            t0, c0 = clock.now(), time.perf_counter()
            items, _ = R.plan_disks(R.load(s, client), tags, sel, version, "2026-11")
            run = R.run_disks(client, journal, s, items, {}, clock.now())
            disks_s = clock.now() - t0
            print(f"refresh disks: {run.message}: {disks_s:,.0f} s simulated ({time.perf_counter() - c0:.1f} s real)")
            t0, c0 = clock.now(), time.perf_counter()
            findings, _ = R.plan_tag(R.load(s, client), tags, sel, "2026-11")
            run = R.run_tag(client, journal, s, tags, findings, {}, clock.now())
            print(f"refresh tag:   {run.message}: {clock.now() - t0:,.0f} s simulated ({time.perf_counter() - c0:.1f} s real)")

            world = R.load(s, client)
            plan = R.plan_swap(world, tags, sel, policy)
            req0, thr0, wait0 = client.requests, client.throttled, client.pacer.waited
            cpu0, real0, t0 = time.process_time(), time.perf_counter(), clock.now()
            run = R.start_swap(journal, s, plan, world, tags, policy, sel, clock.now())
            run = R.execute(client, journal, run, workers=a.workers)
            makespan = clock.now() - t0
            cpu = time.process_time() - cpu0
            real = time.perf_counter() - real0
            assert run.status == "completed", run.message
            clock.close()

            per_vm = timing["vm.deallocate"] + timing["vm.update"] + timing["vm.start"]
            sequential = a.vms * per_vm
            sizes = [len(w.members) for w in plan.waves]
            bound = lower_bound(sizes, timing, policy.soak_seconds, health=False, throttling=not a.no_throttling,
                                max_parallel=policy.max_parallel)
            print(f"refresh swap:  {run.message}; waves {sizes}")
            print(f"  makespan (simulated):           {makespan:10,.1f} s")
            print(f"  seed's sequential loop:          {sequential:10,.1f} s  ({a.vms} x {per_vm:.0f} s: deallocate "
                  f"{timing['vm.deallocate']:.0f} + update {timing['vm.update']:.0f} + start {timing['vm.start']:.0f})")
            print(f"  lower bound (same policy, throttling): {bound:4,.1f} s")
            print(f"  speedup {sequential / makespan:.1f}x, efficiency {bound / makespan:.3f}")
            print(f"  refit: {cpu:.1f} s CPU ({cpu / a.vms * 1000:.1f} ms per VM), {real:.1f} s real, "
                  f"{client.requests - req0} requests, {client.throttled - thr0} answered 429, "
                  f"{client.pacer.waited - wait0:,.0f} s of token waits booked")
            print(json.dumps({"vms": a.vms, "makespan_s": round(makespan, 1), "sequential_s": round(sequential, 1),
                              "lower_bound_s": round(bound, 1), "speedup": round(sequential / makespan, 1),
                              "efficiency": round(bound / makespan, 3), "cpu_s_per_vm": round(cpu / a.vms, 4)}))
            client.close()
            journal.close()
            s.close()
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
