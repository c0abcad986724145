"""Emulator throughput against a bare starlette/uvicorn endpoint, and its time model, through the official SDK.

In one run, on one machine, with one client (azure-mgmt-compute over HTTPS, one thread, one keep-alive
connection, a certificate of the same kind):
1. the baseline, measured first: a bare starlette + uvicorn JSON endpoint (bench/bare_endpoint.py) in its own
   process, answering every GET with the emulator's own JSON for the VM; `virtual_machines.get` per second;
2. the emulator (`refit emulator start`, its own process): the same GET per second. 1 and 2 alternate for
   --rounds rounds, the bare endpoint first in each; each figure is the median of its rounds;
3. PUT disk + LRO to Succeeded per second (PUT through the rule catalog, operation-status poll(s) after the
   retry-after-ms the emulator sends, the final GET), with the emulator's clock at 10^7x so that the timing model
   does not wait: the protocol is measured, not the model;
4. a deallocate-then-start burst of --burst VMs from --workers client threads at --time-scale: its simulated
   duration, its real duration and their ratio.
The emulator's GET and PUT+LRO rates are also given as ratios of the bare endpoint's GET rate. The last line
is one JSON object with those figures (bench/README.md keeps the table).

    python bench/emulator.py [--gets 1000] [--rounds 3] [--puts 200] [--burst 100] [--time-scale 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azure.mgmt.compute import models as cm

import benchlib
from refit.azure import Session, StaticCredential


def get_rate(s: Session, rg: str, name: str, n: int) -> float:
    s.compute.virtual_machines.get(rg, name)  # warm the connection (TLS handshake) and the client
    t = time.perf_counter()
    for _ in range(n):
        s.compute.virtual_machines.get(rg, name)
    return n / (time.perf_counter() - t)


@contextlib.contextmanager
def bare_endpoint(tmp: Path, body: str, sub: str) -> Iterator[Session]:
    """The bare endpoint in its own process and a session to it (the same SDK client); stopped on the way out."""
    d = tmp / "bare"
    d.mkdir()
    (d / "body.json").write_text(body)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("bare_endpoint.py")), "--dir", str(d),
                             "--body", str(d / "body.json")])
    try:
        deadline = time.monotonic() + 60
        while not (d / "port").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the bare endpoint did not start")
            time.sleep(0.05)
        s = Session(f"https://127.0.0.1:{(d / 'port').read_text()}", sub, StaticCredential(), str(d / "cert.pem"))
        try:
            yield s
        finally:
            s.close()
    finally:
        benchlib.stop(proc)


def wait_serving(s: Session, rg: str, name: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            s.compute.virtual_machines.get(rg, name)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gets", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="GET rounds (bare endpoint, then emulator, each round)")
    ap.add_argument("--puts", type=int, default=200)
    ap.add_argument("--burst", type=int, default=100)
    ap.add_argument("--time-scale", type=float, default=1000.0)
    ap.add_argument("--workers", type=int, default=32, help="client threads for the burst")
    a = ap.parse_args()
    started = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp, benchlib.emulator(Path(tmp) / "emu", a.time_scale) as (e, _pid):
        s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
        try:
            s.control("POST", "scenario", {"name": "fleet", "params": {"vms": a.burst, "resource_groups": 4}})
            vms = [(v.id.split("/")[4], v.name) for v in s.compute.virtual_machines.list_all()]
            rg, name = vms[0]
            body = s.compute.virtual_machines.get(rg, name, cls=lambda resp, _model, _h: resp.http_response.text())

            # Rounds, the bare endpoint first in each: this machine is shared, so a figure is the median of its rounds.
            bares, gets = [], []
            with bare_endpoint(Path(tmp), body, e.subscription) as b:
                wait_serving(b, rg, name)
                for r in range(a.rounds):
                    bares.append(get_rate(b, rg, name, a.gets))
                    gets.append(get_rate(s, rg, name, a.gets))
                    print(f"round {r + 1}: GET bare endpoint {bares[-1]:7.1f} req/s, emulator {gets[-1]:7.1f} req/s")
            bare, get_rps = statistics.median(bares), statistics.median(gets)
            print(f"GET, bare starlette/uvicorn endpoint (SDK, 1 client): {bare:8.1f} req/s (median of {a.rounds})")
            print(f"GET virtualMachines, emulator (SDK, 1 client):      {get_rps:8.1f} req/s  "
                  f"({get_rps / bare:.2f} of the bare endpoint)")

            # PUT + LRO with the clock effectively instant, so this measures the protocol, not the timing model.
            s.control("POST", "clock", {"scale": 1e7})
            t = time.perf_counter()
            for i in range(a.puts):
                s.compute.disks.begin_create_or_update("rg-fleet-01", f"bench-{i}", cm.Disk(
                    location="eastus", disk_size_gb=4, creation_data=cm.CreationData(create_option="Empty"))).result()
            put_rps = a.puts / (time.perf_counter() - t)
            print(f"PUT disk + LRO to Succeeded, emulator (SDK, 1 client): {put_rps:8.1f} ops/s  "
                  f"({put_rps / bare:.2f} of the bare endpoint's GET rate)")

            s.control("POST", "clock", {"scale": a.time_scale})

            def burst(action: str) -> None:
                def one(v):
                    getattr(s.compute.virtual_machines, f"begin_{action}")(*v).result()

                with ThreadPoolExecutor(a.workers) as pool:
                    list(pool.map(one, vms))

            sim0, t = s.control("GET", "clock")["now"], time.perf_counter()
            burst("deallocate")
            burst("start")
            real = time.perf_counter() - t
            sim = s.control("GET", "clock")["now"] - sim0
            states = {st.code for rg_, n in vms for st in s.compute.virtual_machines.instance_view(rg_, n).statuses
                      if st.code.startswith("PowerState/")}
            if states != {"PowerState/running"}:
                raise SystemExit(f"the burst did not end with every VM running: {states}")
            print(f"{a.burst}-VM deallocate+start burst:                 {sim:8.1f} s simulated in {real:.2f} s real "
                  f"({sim / real:.0f}x, time scale {a.time_scale:g})")
            print(json.dumps({"bare_get_rps": round(bare, 1), "get_rps": round(get_rps, 1), "rounds": a.rounds,
                              "bare_get_rps_rounds": [round(x, 1) for x in bares],
                              "get_rps_rounds": [round(x, 1) for x in gets],
                              "get_ratio": round(get_rps / bare, 3), "put_lro_rps": round(put_rps, 1),
                              "put_lro_ratio": round(put_rps / bare, 3), "burst_vms": a.burst,
                              "burst_sim_s": round(sim, 1), "burst_real_s": round(real, 3),
                              "sim_per_real": round(sim / real, 1), "time_scale": a.time_scale,
                              "wall_s": round(time.perf_counter() - started, 1), "machine": benchlib.machine()}))
        finally:
            s.close()


if __name__ == "__main__":
    main()
