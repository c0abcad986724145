"""Fleet refresh (seed 003's OS disk swap): refit against the seed's own loop, four figures measured in one run.

One emulator in its own process (`refit emulator start --time-scale S`), the `disk-swap` scenario (3 zones, no
Application Health extension, so a VM passes its health gate at PowerState/running), throttling on with Azure's
limits (ARM and Compute token buckets, refit.platform.throttling). Every measured run gets a fresh fleet: the
scenario seeded again, then `refresh disks` and `refresh tag` (not measured) so that every VM's OsDiskName names
its new disk; then the emulator's buckets are reset to full and only seed 003's step 06, the swap, is measured.

(a) schedule   refit's `refresh swap` (default policy: canary 1, batches of 20%, soak 60 s) under a SteppedClock:
               discrete-event time that moves only while refit waits, so its makespan holds the timing model,
               the throttles and refit's waiting decisions and none of this machine's speed. Compared with the
               bound of the same wave policy (`refit.run.waves.lower_bound`: an ideal client running refit's own
               waves and chain, no request latency, every completion seen at once). A schedule-efficiency
               figure under discrete-event time, not a real-time one.
(b) real clock the same swap on the emulator's real clock (EmulatorClock, time scale S <= 100): one real second is
               S simulated seconds, so refit's request latency, CPU and concurrency count, S-fold.
(c) seed loop  seed 003's bash loop (docs/examples/seed-003-swap-os-disks.sh) with the real az CLI on --az-vms VMs, and the same
               loop through azure-mgmt-compute (the SDK) on --sdk-vms VMs: disk GET, deallocate, GET + PUT with the
               new OS disk (what `az vm update --os-disk` sends), start, one VM after the other, each LRO waited
               out as the SDK does. Both on the same time scale as (b), so their client time counts the same way.
(d) platform   a lower bound that uses nothing of refit: the waves the policy defines (canary, then batches of
    bound      20% of the fleet, a soak between waves), each VM's minimal chain from the timing model
               (GET /_refit/timing: deallocate, the swap PATCH/PUT on a deallocated VM, start) and the write
               throttles in force (GET /_refit/throttling, parsed by refit.platform.throttling).

Simulated seconds are read from the emulator's clock (GET /_refit/clock) before and after each run; requests and
429s are the emulator's own count (ARM requests; Resource Graph is not ARM-throttled). The last line is one JSON
object with every figure (bench/README.md keeps the table).

    python bench/refresh.py --vms 500 [--az-vms 20] [--sdk-vms 500] [--time-scale 100]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
from refit.azure import Session, StaticCredential
from refit.azure.clock import EmulatorClock, SteppedClock
from refit.azure.pacing import PacedClient
from refit.platform.throttling import Limits
from refit.run import refresh as R
from refit.run.journal import Journal
from refit.run.waves import Policy, lower_bound

REPO = Path(__file__).resolve().parents[1]
RG = "rg-refresh"
NEXT = "2026-11"
SEED_LOOP = Path(__file__).resolve().parents[1] / "docs" / "examples" / "seed-003-swap-os-disks.sh"
# Seed 003's query (step 06), for the SDK loop.
SEED_QUERY = ('Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" | project '
              'id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, '
              'newOsDiskName=tags.OsDiskName')


# ---- the fleet -------------------------------------------------------------------------------------------------
def fresh_fleet(s: Session, vms: int) -> None:
    """The disk-swap scenario with `vms` VMs, their new disks created and their OsDiskName tags set (steps 04 and 05,
    done by refit under a SteppedClock: not measured), then every token bucket full and the counters at zero."""
    s.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": vms}})
    s.control("PUT", "throttling", {"enabled": True})
    clock = SteppedClock(s)
    client = PacedClient(s, clock)
    journal = Journal()
    try:
        version = (f"/subscriptions/{s.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/"
                   "galRefresh/images/ubuntu-refresh/versions/2026.11.0")
        tags, sel = R.Tags(), R.Selection()
        items = R.plan_disks(R.load(s, client), tags, sel, version, NEXT)
        R.run_disks(client, journal, s, items, {}, clock.now())
        findings = R.plan_tag(R.load(s, client), tags, sel, NEXT)
        R.run_tag(client, journal, s, tags, findings, {}, clock.now())
    finally:
        clock.close()
        client.close()
        journal.close()
    s.control("PUT", "throttling", {"enabled": True})  # a PUT starts every bucket full and the stats at zero


def check_fleet(s: Session, vms: int) -> None:
    rows = s.graph_query('Resources | where type =~ "microsoft.compute/virtualmachines" | project name, '
                         'disk=properties.storageProfile.osDisk.name, power=properties.extended.instanceView.powerState.code')
    bad = [r for r in rows if r["disk"] != f"{r['name']}-{NEXT}" or r["power"] != "PowerState/running"]
    if len(rows) != vms or bad:
        raise SystemExit(f"the fleet did not end on its new disks, running: {len(rows)} VMs, e.g. {bad[:3]}")


def sim_now(s: Session) -> float:
    return float(s.control("GET", "clock")["now"])


def server_counts(s: Session) -> dict[str, int]:
    st = s.control("GET", "throttling")["stats"]
    return {"requests": st["requests"], "throttled_429": st["throttled"], "early_retries": st["early_retries"]}


# ---- (a) and (b): refit --------------------------------------------------------------------------------------------
def refit_swap(s: Session, clock, policy: Policy, workers: int, emu_pid: int) -> dict[str, Any]:
    """`refresh swap` as the CLI runs it (load, pre-check, waves, execute); simulated time from the emulator's clock."""
    client = PacedClient(s, clock)
    journal = Journal()
    try:
        sim0, real0, cpu0, ecpu0 = sim_now(s), time.perf_counter(), time.process_time(), benchlib.cpu_seconds(emu_pid)
        tags, sel = R.Tags(), R.Selection()
        world = R.load(s, client)
        plan = R.plan_swap(world, tags, sel, policy)
        run = R.start_swap(journal, s, plan, world, tags, policy, sel, clock.now())
        run = R.execute(client, journal, run, workers=workers)
        out = {"makespan_s": round(sim_now(s) - sim0, 1), "real_s": round(time.perf_counter() - real0, 2),
               "refit_cpu_s": round(time.process_time() - cpu0, 2),
               "emulator_cpu_s": round(benchlib.cpu_seconds(emu_pid) - ecpu0, 2)}
        if run.status != "completed":
            raise SystemExit(f"refresh swap did not complete: {run.message}")
        out |= server_counts(s) | {"waves": [len(w.members) for w in plan.waves], "message": run.message}
        return out
    finally:
        client.close()
        journal.close()


# ---- (c): seed 003's loop -------------------------------------------------------------------------------------------
def az_login(data: Path, tmp: Path, sub: str) -> dict[str, str]:
    """The real az CLI from its own venv (tests/e2e/az_venv.py), logged in to the emulator by `refit emulator az-login`."""
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from az_venv import ensure_az

    az, wheel = ensure_az()
    cfg = tmp / "az-config"
    r = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(data), "--az", str(az),
                        "--config-dir", str(cfg)], capture_output=True, text=True, timeout=300, check=False)
    if r.returncode != 0:
        raise SystemExit(f"refit emulator az-login failed: {r.stderr.strip()}")
    env = dict(os.environ)
    for line in r.stdout.splitlines():  # `export K=V` lines, meant for eval
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = shlex.split(v)[0] if v else ""
    env["PATH"] = f"{az.parent}:{env['PATH']}"
    env["SUBSCRIPTION_ID"] = sub
    subprocess.run([str(az), "extension", "add", "--source", str(wheel), "--yes"], env=env, capture_output=True,
                   timeout=300, check=True)
    return env


def az_loop(s: Session, env: dict[str, str], vms: int, emu_pid: int) -> dict[str, Any]:
    if shutil.which("jq", path=env["PATH"]) is None:
        raise SystemExit("the seed's loop needs jq on PATH")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim0, real0, ecpu0 = sim_now(s), time.perf_counter(), benchlib.cpu_seconds(emu_pid)
    r = subprocess.run(["bash", str(SEED_LOOP)], env=env, capture_output=True, text=True, timeout=6 * 3600, check=False)
    sim, real = sim_now(s) - sim0, time.perf_counter() - real0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"the seed's loop failed ({r.returncode}): {r.stderr[-2000:]}")
    changed = sum(1 for x in r.stdout.splitlines() if x.endswith(": OS disk needs to be changed."))
    if changed != vms:
        raise SystemExit(f"the seed's loop swapped {changed} of {vms} VMs")
    return {"vms": vms, "makespan_s": round(sim, 1), "real_s": round(real, 1),
            "az_cpu_s": round(ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime, 1),
            "emulator_cpu_s": round(benchlib.cpu_seconds(emu_pid) - ecpu0, 2),
            "per_vm_s": round(sim / vms, 1), "per_vm_real_s": round(real / vms, 2)} | server_counts(s)


def sdk_loop(ep, vms: int, emu_pid: int, deadline_s: float) -> dict[str, Any]:
    """Seed 003's loop through azure-mgmt-compute: the same requests as its az commands, one VM after the other."""
    s = Session(ep.url, ep.subscription, StaticCredential(), ep.cert, emulator=True)
    try:
        sim0, real0, cpu0, ecpu0 = sim_now(s), time.perf_counter(), time.process_time(), benchlib.cpu_seconds(emu_pid)
        vm_ops = s.compute.virtual_machines
        done = 0
        for row in s.graph_query(SEED_QUERY):  # paged to the end (the seed's `az graph query` returns 100 rows)
            rg, name, new = row["resourceGroup"], row["name"], row.get("newOsDiskName")
            if not new or new == row["currentOsDiskName"]:
                continue
            disk_id = s.compute.disks.get(rg, new).id  # az disk show
            vm_ops.begin_deallocate(rg, name).result()  # az vm deallocate
            vm = vm_ops.get(rg, name)  # az vm update --os-disk: GET, set the OS disk, PUT
            vm.storage_profile.os_disk.managed_disk.id = disk_id
            vm.storage_profile.os_disk.name = new
            vm_ops.begin_create_or_update(rg, name, vm).result()
            vm_ops.begin_start(rg, name).result()  # az vm start
            done += 1
            if time.perf_counter() - real0 > deadline_s:
                raise SystemExit(f"the SDK loop ran past its {deadline_s:.0f} s budget after {done} VMs")
        sim, real = sim_now(s) - sim0, time.perf_counter() - real0
        if done != vms:
            raise SystemExit(f"the SDK loop swapped {done} of {vms} VMs")
        return {"vms": vms, "makespan_s": round(sim, 1), "real_s": round(real, 1),
                "client_cpu_s": round(time.process_time() - cpu0, 2),
                "emulator_cpu_s": round(benchlib.cpu_seconds(emu_pid) - ecpu0, 2),
                "per_vm_s": round(sim / vms, 1), "per_vm_real_s": round(real / vms, 3)} | server_counts(s)
    finally:
        s.close()


# ---- (d): the platform's lower bound ------------------------------------------------------------------------------
def platform_bound(vms: int, policy: Policy, timing: dict[str, float], limits: Limits) -> dict[str, Any]:
    """The shortest makespan any client could reach under the safety policy, from the platform's figures alone.

    Waves, as the policy defines them: the canary, then batches of batch_percent of the fleet; the next wave starts
    when every VM of the previous one has passed its gate (PowerState/running: no health extension) and the soak
    has passed. A VM's minimal chain is three writes: deallocate, the swap on the deallocated VM (the platform
    charges `vm.update` for it, `vm.swap_os_disk` only on an allocated VM), start. Inside a wave of n VMs:
    - every chain takes its durations: T >= deallocate + swap + start;
    - a bucket (capacity B, refill r) holds at most B at the wave's start, so the k-th request drawing on it goes
      out no earlier than (k - B) / r; after it, its VM's chain still needs at least what follows that request.
      ARM writes: 3n requests, then at least a start; Compute DeleteVM (deallocate): n, then the whole chain;
      Compute UpdateVM (start; the swap may be a PUT, PutVM): n, then a start. Per-VM buckets hold 12 of each
      group, more than one VM's chain needs. Reads are not counted: an ideal client needs none.
    """
    d_dealloc, d_swap, d_start = timing["vm.deallocate"], timing["vm.update"], timing["vm.start"]
    chain = d_dealloc + d_swap + d_start
    canary = min(policy.canary, vms)
    size = max(1, math.ceil(vms * policy.batch_percent / 100.0))
    waves = ([canary] if canary else []) + [min(size, vms - canary - i) for i in range(0, vms - canary, size)]

    def after(k: float, bucket: tuple[float, float]) -> float:
        cap, rate = bucket
        return max(0.0, (k - cap) / rate)

    def per_minute(group: str) -> tuple[float, float]:
        refill, cap = limits.compute[group][1]  # the subscription's bucket in the region
        return cap, refill / 60.0

    per_wave = [max(chain,
                    after(3 * n, limits.arm["write"]) + d_start,
                    after(n, per_minute("DeleteVM")) + chain,
                    after(n, per_minute("UpdateVM")) + d_start) for n in waves]
    total = sum(per_wave) + policy.soak_seconds * (len(waves) - 1)
    return {"bound_s": round(total, 1), "waves": waves, "wave_s": [round(x, 1) for x in per_wave],
            "chain_s": chain, "soak_s": policy.soak_seconds}


# ---- the run ----------------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=500, help="fleet of (a), (b) and (d)")
    ap.add_argument("--az-vms", type=int, default=20, help="fleet of the seed's bash loop with the az CLI (0: skip)")
    ap.add_argument("--sdk-vms", type=int, default=500, help="fleet of the sequential SDK loop (0: skip)")
    ap.add_argument("--time-scale", type=float, default=100.0, help="simulated seconds per real second, at most 100")
    ap.add_argument("--workers", type=int, default=16, help="refit's HTTP threads (refresh swap's default)")
    a = ap.parse_args()
    if not 0 < a.time_scale <= 100:
        raise SystemExit("--time-scale must be in (0, 100]")
    policy = Policy()
    started, load0 = time.perf_counter(), os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["REFIT_STATE_DIR"] = str(Path(tmp) / "state")
        data = Path(tmp) / "emu"
        with benchlib.emulator(data, a.time_scale) as (ep, pid):
            s = Session(ep.url, ep.subscription, StaticCredential(), ep.cert, emulator=True)
            try:
                out: dict[str, Any] = {"vms": a.vms, "time_scale": a.time_scale, "policy": {
                    "canary": policy.canary, "batch_percent": policy.batch_percent, "soak_s": policy.soak_seconds}}

                # (d) first: it needs only the emulator's timing model and the throttles in force.
                fresh_fleet(s, a.vms)
                timing = s.control("GET", "timing")
                limits = Limits.from_json(s.control("GET", "throttling"))
                out["platform_bound"] = platform_bound(a.vms, policy, timing, limits)
                print(f"(d) platform lower bound, {a.vms} VMs: {out['platform_bound']['bound_s']:,.1f} s simulated "
                      f"(waves {out['platform_bound']['waves']}, per wave {out['platform_bound']['wave_s']} s)")

                # (a) the schedule, in discrete-event time
                clock = SteppedClock(s)
                try:
                    sched = refit_swap(s, clock, policy, a.workers, pid)
                finally:
                    clock.close()
                check_fleet(s, a.vms)
                bound = lower_bound(sched["waves"], timing, policy.soak_seconds, health=False, throttling=True,
                                    max_parallel=policy.max_parallel)
                sched |= {"clock": "SteppedClock (discrete-event)", "wave_policy_bound_s": round(bound, 1),
                          "schedule_efficiency": round(bound / sched["makespan_s"], 3)}
                out["schedule"] = sched
                print(f"(a) refresh swap, SteppedClock: {sched['makespan_s']:,.1f} s simulated; bound of the same wave "
                      f"policy {bound:,.1f} s; schedule efficiency {sched['schedule_efficiency']:.3f} "
                      f"({sched['real_s']} s real, {sched['requests']} requests, {sched['throttled_429']} x 429)")

                # (b) the same swap on the emulator's real clock
                fresh_fleet(s, a.vms)
                rt = refit_swap(s, EmulatorClock(s), policy, a.workers, pid)
                check_fleet(s, a.vms)
                rt["clock"] = f"EmulatorClock, time scale {a.time_scale:g}"
                out["realtime"] = rt
                print(f"(b) refresh swap, EmulatorClock x{a.time_scale:g}: {rt['makespan_s']:,.1f} s simulated in "
                      f"{rt['real_s']} s real (refit {rt['refit_cpu_s']} s CPU, emulator {rt['emulator_cpu_s']} s CPU), "
                      f"{rt['requests']} requests, {rt['throttled_429']} x 429")

                # (c) seed 003's loop: SDK on --sdk-vms, bash + az CLI on --az-vms
                if a.sdk_vms:
                    fresh_fleet(s, a.sdk_vms)
                    sdk = sdk_loop(ep, a.sdk_vms, pid, deadline_s=4 * 3600)
                    check_fleet(s, a.sdk_vms)
                    if a.sdk_vms != a.vms:
                        sdk[f"extrapolated_to_{a.vms}_vms_s"] = round(sdk["per_vm_s"] * a.vms, 0)
                    out["seed_loop_sdk"] = sdk
                    print(f"(c) seed's loop, SDK, {a.sdk_vms} VMs: {sdk['makespan_s']:,.1f} s simulated "
                          f"({sdk['per_vm_s']} s per VM) in {sdk['real_s']} s real, {sdk['requests']} requests, "
                          f"{sdk['throttled_429']} x 429")
                if a.az_vms:
                    env = az_login(data, Path(tmp), ep.subscription)
                    fresh_fleet(s, a.az_vms)
                    azr = az_loop(s, env, a.az_vms, pid)
                    check_fleet(s, a.az_vms)
                    azr[f"extrapolated_to_{a.vms}_vms_s"] = round(azr["per_vm_s"] * a.vms, 0)
                    out["seed_loop_az"] = azr
                    print(f"(c) seed's loop, bash + az CLI, {a.az_vms} VMs: {azr['makespan_s']:,.1f} s simulated "
                          f"({azr['per_vm_s']} s per VM; {azr['per_vm_real_s']} s real per VM, az {azr['az_cpu_s']} s "
                          f"CPU), {azr['requests']} requests, {azr['throttled_429']} x 429")
                b = out["platform_bound"]["bound_s"]
                out["refit_vs_platform_bound"] = {"schedule": round(b / sched["makespan_s"], 3),
                                                  "realtime": round(b / rt["makespan_s"], 3)}
            finally:
                s.close()
    out["wall_s"] = round(time.perf_counter() - started, 1)
    out["machine"] = benchlib.machine() | {"loadavg_before": [round(x, 2) for x in load0]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
