"""A 1,000-instance Flexible scale set through a full rolling OS upgrade on the emulator, through the official SDK.

Issue 12: "emulator CPU per instance and real seconds at time scale 1000". In one run:
1. the emulator (`refit emulator start`, its own process) at --time-scale;
2. the `rollout` scenario seeded through the control API (POST /_refit/scenario {"name": "rollout", "params":
   ...}) with capacity=--capacity in the canary region (eastus) and second_capacity=--second-capacity in the second;
   its real seconds and the emulator's CPU seconds are measured;
3. gallery version 1.7.1 of payments-auth published to the canary region (the SDK's LRO waited out), then
   `virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade` (POST osRollingUpgrade) on the canary set,
   under the scenario's policy (batches of 20%, within one zone, pauseTimeBetweenBatches PT2M unless
   --pause is given, which PATCHes the policy before the upgrade and is not measured);
4. `get_latest` polled every --poll seconds until runningStatus.code is Completed (Faulted or Cancelled: the bench
   fails loudly). Measured from the POST to the poll that saw Completed: real seconds, the emulator process's CPU
   seconds (/proc/<pid>/stat utime + stime), the emulator's clock (GET /_refit/clock) and the upgrade's own simulated
   duration (osUpgradeHistory startTime..endTime), polls, batches seen (the upgraded count rising between polls);
   afterwards, not measured: the canary VMs' OS disks from 1.7.1 and their distinct creation times (one per batch:
   a batch's new OS disks are made at its start).
The last line is one JSON object with the figures (bench/README.md keeps the table).

    python bench/rolling_upgrade.py [--capacity 1000] [--second-capacity 1] [--time-scale 1000] [--poll 0.05]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as cm

import benchlib
from refit.azure import Session, StaticCredential

RG = "rg-payments"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--capacity", type=int, default=1000, help="instances of the canary set")
    ap.add_argument("--second-capacity", type=int, default=1, help="instances of the second region's set")
    ap.add_argument("--time-scale", type=float, default=1000.0)
    ap.add_argument("--poll", type=float, default=0.05, help="real seconds between get_latest polls")
    ap.add_argument("--pause", default=None, help="pauseTimeBetweenBatches to set first (default: the scenario's PT2M)")
    ap.add_argument("--timeout", type=float, default=600.0, help="real seconds to wait for the upgrade")
    a = ap.parse_args()
    started = time.perf_counter()
    load_start = benchlib.machine()["loadavg"]

    with tempfile.TemporaryDirectory() as tmp, benchlib.emulator(Path(tmp) / "emu", a.time_scale) as (e, pid):
        s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
        try:
            cs = s.compute
            canary = "vmss-payments-eastus"

            # ---- seed -------------------------------------------------------------------------------------------
            cpu0, t0 = benchlib.cpu_seconds(pid), time.perf_counter()
            summary = s.control("POST", "scenario", {"name": "rollout", "params": {
                "capacity": a.capacity, "second_capacity": a.second_capacity}})
            seed_real, seed_cpu = time.perf_counter() - t0, benchlib.cpu_seconds(pid) - cpu0
            vmss = cs.virtual_machine_scale_sets.get(RG, canary)
            vms = [x for x in cs.virtual_machines.list(RG)
                   if x.virtual_machine_scale_set and x.virtual_machine_scale_set.id.lower() == vmss.id.lower()]
            if len(vms) != a.capacity:
                raise SystemExit(f"the canary set has {len(vms)} VMs after the seed, not {a.capacity}")
            zones = sorted({(x.zones or [""])[0] for x in vms})
            per_zone = {z: sum(1 for x in vms if (x.zones or [""])[0] == z) for z in zones}
            print(f"seed: rollout scenario, {summary['resources']} resources ({a.capacity} + {a.second_capacity} "
                  f"instances), {seed_real:.2f} s real, emulator {seed_cpu:.2f} s CPU; canary instances per zone "
                  f"{per_zone}")

            # ---- the policy and the new image version (not measured) ----------------------------------------------
            if a.pause is not None:
                pol = vmss.upgrade_policy.rolling_upgrade_policy
                pol.pause_time_between_batches = a.pause
                cs.virtual_machine_scale_sets.begin_update(RG, canary, cm.VirtualMachineScaleSetUpdate(
                    upgrade_policy=cm.UpgradePolicy(mode="Rolling", rolling_upgrade_policy=pol))).result()
                vmss = cs.virtual_machine_scale_sets.get(RG, canary)
            pol = vmss.upgrade_policy.rolling_upgrade_policy
            t = time.perf_counter()
            disk = f"/subscriptions/{e.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/payments-bake"
            ver = cs.gallery_image_versions.begin_create_or_update(RG, "galPayments", "payments-auth", "1.7.1",
                cm.GalleryImageVersion(location="eastus", publishing_profile=cm.GalleryImageVersionPublishingProfile(
                    target_regions=[cm.TargetRegion(name="eastus", regional_replica_count=3,
                                                    storage_account_type="Standard_ZRS")]),
                    storage_profile=cm.GalleryImageVersionStorageProfile(
                        source=cm.GalleryArtifactVersionFullSource(id=disk)))).result()
            print(f"gallery version payments-auth/1.7.1 published to eastus: {ver.provisioning_state} "
                  f"({time.perf_counter() - t:.2f} s real)")

            # ---- the upgrade (measured) -----------------------------------------------------------------------------
            batch = max(1, math.floor(a.capacity * pol.max_batch_instance_percent / 100))
            expected = sum(math.ceil(n / batch) for n in per_zone.values()) if not pol.enable_cross_zone_upgrade \
                else math.ceil(a.capacity / batch)
            sim0 = s.control("GET", "clock")["now"]
            cpu0, t0 = benchlib.cpu_seconds(pid), time.perf_counter()
            # polling=False: the POST's own operation is not waited on; the upgrade is followed as Azure documents it,
            # through rollingUpgrades/latest, so that the polls are counted and every 5xx is seen.
            cs.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade(RG, canary, polling=False)
            polls, errors, batches, done_before, last = 0, [], 0, 0, None
            while True:
                if time.perf_counter() - t0 > a.timeout:
                    raise SystemExit(f"the upgrade did not end within {a.timeout:.0f} s real: {last}")
                try:
                    # retry_total=0: a 5xx is counted here, not retried silently by azure-core
                    last = cs.virtual_machine_scale_set_rolling_upgrades.get_latest(RG, canary, retry_total=0)
                except HttpResponseError as err:
                    polls += 1
                    errors.append(f"{err.status_code} {getattr(err.error, 'code', '')}".strip())
                    continue
                polls += 1
                code = last.running_status.code
                pr = last.progress
                done = (pr.successful_instance_count or 0) + (pr.failed_instance_count or 0)
                if done > done_before:
                    batches += 1
                    done_before = done
                if code == "Completed":
                    break
                if code in ("Faulted", "Cancelled"):
                    raise SystemExit(f"FAILED: the rolling upgrade ended {code}: "
                                     f"{last.error.code if last.error else ''} {last.error.message if last.error else ''}"
                                     f"; progress {pr.as_dict()}")
                time.sleep(a.poll)
            real = time.perf_counter() - t0
            cpu = benchlib.cpu_seconds(pid) - cpu0
            sim = s.control("GET", "clock")["now"] - sim0
            hist = next(iter(cs.virtual_machine_scale_sets.get_os_upgrade_history(RG, canary)))
            engine = benchlib.ts(hist.properties.running_status.end_time) - benchlib.ts(hist.properties.running_status.start_time)
            pr = last.progress
            if pr.successful_instance_count != a.capacity or pr.failed_instance_count:
                raise SystemExit(f"FAILED: Completed with progress {pr.as_dict()}, expected {a.capacity} successful")
            # Not measured: the canary VMs' OS disks made from 1.7.1, and their creation times (one per batch).
            canary_vms = {x.id.lower() for x in vms}
            new_disks = [d for d in cs.disks.list_by_resource_group(RG)
                         if (d.managed_by or "").lower() in canary_vms and d.creation_data.gallery_image_reference
                         and d.creation_data.gallery_image_reference.id.lower().endswith("/versions/1.7.1")]
            disk_batches = len({d.time_created for d in new_disks})
            print(f"rolling OS upgrade of {a.capacity} instances: Completed, {pr.successful_instance_count} successful, "
                  f"{pr.failed_instance_count} failed; pauseTimeBetweenBatches {pol.pause_time_between_batches}, "
                  f"batch {batch} ({pol.max_batch_instance_percent}%): {batches} batches seen by the polls, "
                  f"{disk_batches} by the new OS disks' creation times ({expected} expected within zones; "
                  f"{a.capacity / batch:g} = instances / batch size)")
            print(f"  real {real:.2f} s, emulator CPU {cpu:.2f} s = {1000 * cpu / a.capacity:.2f} ms per instance, "
                  f"{polls} polls ({len(errors)} answered 5xx: {sorted(set(errors))})")
            print(f"  simulated: {engine:.0f} s by the upgrade's own start/end (osUpgradeHistory), {sim:.0f} s on the "
                  f"emulator clock from the POST to the Completed poll ({sim / real:.0f} per real second); "
                  f"{len(new_disks)} of {len(vms)} canary VMs on an OS disk from 1.7.1")
            out = {"instances": a.capacity, "second_instances": a.second_capacity, "time_scale": a.time_scale,
                   "seed_real_s": round(seed_real, 2), "seed_cpu_s": round(seed_cpu, 2),
                   "resources": summary["resources"], "per_zone": per_zone,
                   "pause_between_batches": pol.pause_time_between_batches,
                   "batch_size": batch, "batches_seen": batches, "batches_by_disk_time": disk_batches,
                   "batches_expected": expected, "vms_on_new_image": len(new_disks),
                   "instances_per_batch_size": round(a.capacity / batch, 2),
                   "successful": pr.successful_instance_count, "failed": pr.failed_instance_count,
                   "upgrade_real_s": round(real, 2), "upgrade_cpu_s": round(cpu, 2),
                   "cpu_ms_per_instance": round(1000 * cpu / a.capacity, 2),
                   "sim_upgrade_s": round(engine, 1), "sim_clock_s": round(sim, 1),
                   "polls": polls, "poll_interval_s": a.poll, "poll_5xx": errors,
                   "wall_s": round(time.perf_counter() - started, 1), "git": benchlib.git_state(),
                   "machine": {**benchlib.machine(), "loadavg_start": load_start}}
            print(json.dumps(out))
        finally:
            s.close()


if __name__ == "__main__":
    main()
