"""Emulator throughput and time model, through the official SDK over HTTPS.

Prints: GET requests per second; PUT+LRO (create a disk and wait for its poller) per second; and a
100-VM deallocate-then-start burst issued concurrently: its simulated duration, its real duration and
the ratio. The last line is one JSON object with those figures (bench/README.md keeps the table).

    python bench/emulator.py [--gets 500] [--puts 200] [--burst 100] [--time-scale 1000]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azure.mgmt.compute import models as cm

from refit.azure import Session, StaticCredential
from refit.emulator.server import Endpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gets", type=int, default=500)
    ap.add_argument("--puts", type=int, default=200)
    ap.add_argument("--burst", type=int, default=100)
    ap.add_argument("--time-scale", type=float, default=1000.0)
    ap.add_argument("--workers", type=int, default=32, help="client threads for the burst")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        # The emulator runs in its own process, as `refit emulator start` does for users.
        data = Path(tmp) / "emu"
        proc = subprocess.Popen([sys.executable, "-m", "refit", "emulator", "start", "--port", "0", "--data", str(data),
                                 "--time-scale", str(a.time_scale)], stdout=subprocess.DEVNULL)
        e = _wait_endpoint(data)
        s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
        try:
            s.control("POST", "scenario", {"name": "fleet", "params": {"vms": a.burst, "resource_groups": 4}})
            vms = [(v.id.split("/")[4], v.name) for v in s.compute.virtual_machines.list_all()]

            rg, name = vms[0]
            s.compute.virtual_machines.get(rg, name)  # warm the connection
            t = time.perf_counter()
            for _ in range(a.gets):
                s.compute.virtual_machines.get(rg, name)
            get_rps = a.gets / (time.perf_counter() - t)
            print(f"GET virtualMachines (SDK, 1 client):           {get_rps:8.1f} req/s")

            # PUT + LRO with the clock effectively instant, so this measures the protocol, not the timing model.
            s.control("POST", "clock", {"scale": 1e7})
            t = time.perf_counter()
            for i in range(a.puts):
                s.compute.disks.begin_create_or_update("rg-fleet-01", f"bench-{i}", cm.Disk(
                    location="eastus", disk_size_gb=4, creation_data=cm.CreationData(create_option="Empty"))).result()
            put_rps = a.puts / (time.perf_counter() - t)
            print(f"PUT disk + LRO to Succeeded (SDK, 1 client):   {put_rps:8.1f} ops/s")

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
            assert states == {"PowerState/running"}, states
            print(f"{a.burst}-VM deallocate+start burst:                 {sim:8.1f} s simulated in {real:.2f} s real "
                  f"({sim / real:.0f}x, time scale {a.time_scale:g})")
            print(json.dumps({"get_rps": round(get_rps, 1), "put_lro_rps": round(put_rps, 1), "burst_vms": a.burst,
                              "burst_sim_s": round(sim, 1), "burst_real_s": round(real, 3),
                              "sim_per_real": round(sim / real, 1), "time_scale": a.time_scale}))
        finally:
            s.close()
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def _wait_endpoint(data: Path) -> Endpoint:
    for _ in range(600):
        ep = Endpoint.read(data)
        if ep is not None:
            return ep
        time.sleep(0.05)
    raise SystemExit("the emulator did not start")


if __name__ == "__main__":
    main()
