"""`refit rollout` of 20 Flexible sets x 50 instances over 3 regions on the emulator, against the bound of the same policy.

Issue 14: "20 sets x 50 instances over 3 regions: makespan against the bound of the same policy, refit CPU per
instance". In one run:
1. the emulator (`refit emulator start`, its own process) at --time-scale;
2. a scenario built here (YAML text in the shape of src/refit/emulator/scenarios/rollout.yaml) seeded through the
   control API (POST /_refit/scenario {"yaml": ..., "params": ...}): one gallery definition (payments-auth, version
   1.6.0 in every region) tracked by --sets Flexible sets of --instances instances each, dealt round-robin over
   --regions (each with a /16 vnet and one /21 subnet for all its sets), zones 1-3, the Application Health extension
   (50 s boot, 5 s probe window), Rolling 20/20/20 with --pause between batches, automatic OS upgrade OFF (refit
   starts every set's upgrade itself: POST osRollingUpgrade, in its own order; ON, the platform would start every
   set of a region by itself vmss.auto_os_upgrade_delay after the version is latest there and refit would only
   watch, so the makespan would be the platform's schedule, not refit's), automatic repairs on as in the seed;
   its real seconds and the emulator's CPU are measured;
3. not measured: version 1.7.1 published to the first region only (the SDK's LRO waited out), throttling switched
   on with Azure's limits (PUT /_refit/throttling: every bucket full, the request count at zero);
4. measured: `refit rollout --image <definition> --canary-region <first> --yes -o json` as its own process (REFIT_DATA_DIR
   pointing at the emulator's data dir, so the CLI talks to it with the emulator's clock): real seconds; refit's CPU
   (resource.getrusage(RUSAGE_CHILDREN) around it: the emulator, also a child, is not reaped meanwhile); the
   emulator's CPU (/proc/<pid>/stat); the emulator's clock (GET /_refit/clock) before the process starts and after it
   exits; the journal's event times (the JSON event lines on stdout carry "at", refit's reading of the clock) and
   its wall times (the run's creation, its first and last step: what refit's process spent before the first set, on
   the world, its pre-checks and the instances' health);
   ARM requests and 429s (the emulator's throttle stats; Resource Graph is not counted); afterwards, each set's
   upgrade as the platform timed it (osUpgradeHistory startTime..endTime);
5. the BOUND of the same policy, COMPUTED (not measured) from the sets' rolling policy, their instances per zone and
   the emulator's timing model (GET /_refit/timing, GET /_refit/health-model): per set, batches of
   floor(instances x maxBatchInstancePercent / 100) within one zone, each vmss.reimage_instance + boot_seconds + the
   probe window (intervalInSeconds x numberOfProbes), pauseTimeBetweenBatches between batches (none after the last);
   version.replicate_region for each further region, started only once the region before has finished (the campaign's
   order). Sets of a region run one after another (Rollout.run today): that order's bound; and what a
   parallel-per-region order would give (the longest set of each region). An ideal client: no request latency, every
   completion seen at once.
The last line is one JSON object with the figures (bench/README.md keeps the table).

    python bench/rollout.py [--sets 20] [--instances 50] [--regions eastus,westus3,northeurope] [--time-scale 300]
                            [--pause PT2M] [--profile /tmp/rollout.prof]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import pstats
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from azure.mgmt.compute import models as cm

import benchlib
from refit.azure import Session, StaticCredential
from refit.platform.rules import facts

RG = "rg-payments"
GALLERY, DEFINITION = "galPayments", "payments-auth"
NEW_VERSION = "1.7.1"

SCENARIO = """\
name: rollout-fleet
description: >
  bench/rollout.py: one gallery definition tracked by `sets` Flexible scale sets of `capacity` instances each, dealt
  round-robin over `regions` (zones 1-3), gated by the Application Health extension on /ready, Rolling 20/20/20 with
  `pause` between batches, automatic OS upgrade OFF (refit starts each set's upgrade), automatic repairs on.
  Version 1.6.0 runs everywhere.
parameters:
  regions: [eastus, westus3, northeurope]
  rg: rg-payments
  sets: 20
  capacity: 50
  pause: PT2M
  size: Standard_D2s_v5
health:
  boot_seconds: 50
resources:
  - id: /subscriptions/{sub}/resourceGroups/{rg}
    location: "{regions[0]}"
  - repeat: "{len(regions)}"
    id: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-{regions[i]}
    location: "{regions[i]}"
    properties:
      addressSpace: {addressPrefixes: ["10.{20 + i}.0.0/16"]}
      subnets: [{name: app, properties: {addressPrefix: "10.{20 + i}.0.0/21"}}]
  - id: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/payments-bake
    location: "{regions[0]}"
    sku: {name: Premium_LRS}
    properties: {osType: Linux, hyperVGeneration: V2, diskSizeGB: 30, creationData: {createOption: Empty}}
  - id: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/galPayments
    location: "{regions[0]}"
  - id: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/galPayments/images/payments-auth
    location: "{regions[0]}"
    properties:
      osType: Linux
      osState: Generalized
      hyperVGeneration: V2
      identifier: {publisher: contoso, offer: payments, sku: auth-cis}
      features: [{name: SecurityType, value: TrustedLaunchSupported}]
  - id: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/galPayments/images/payments-auth/versions/1.6.0
    location: "{regions[0]}"
    properties:
      publishingProfile:
        targetRegions: TARGET_REGIONS
      storageProfile:
        source: {id: "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/payments-bake"}
  - repeat: "{sets}"
    id: "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-{regions[i % len(regions)]}-{i:02d}"
    location: "{regions[i % len(regions)]}"
    zones: ["1", "2", "3"]
    sku: {name: "{size}", tier: Standard, capacity: "{capacity}"}
    properties:
      orchestrationMode: Flexible
      platformFaultDomainCount: 1
      singlePlacementGroup: false
      upgradePolicy:
        mode: Rolling
        rollingUpgradePolicy:
          maxBatchInstancePercent: 20
          maxUnhealthyInstancePercent: 20
          maxUnhealthyUpgradedInstancePercent: 20
          pauseTimeBetweenBatches: "{pause}"
          prioritizeUnhealthyInstances: true
        automaticOSUpgradePolicy: {enableAutomaticOSUpgrade: false, disableAutomaticRollback: false}
      automaticRepairsPolicy: {enabled: true, gracePeriod: PT30M, repairAction: Replace}
      virtualMachineProfile:
        securityProfile:
          securityType: TrustedLaunch
          uefiSettings: {secureBootEnabled: true, vTpmEnabled: true}
        storageProfile:
          imageReference: {id: "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/galPayments/images/payments-auth"}
          osDisk: {createOption: FromImage, caching: ReadWrite, managedDisk: {storageAccountType: Premium_LRS}}
        osProfile: {computerNamePrefix: "p{i:02d}", adminUsername: azureuser, linuxConfiguration: {disablePasswordAuthentication: true}}
        networkProfile:
          networkApiVersion: "2020-11-01"
          networkInterfaceConfigurations:
            - name: nic
              properties:
                primary: true
                ipConfigurations:
                  - name: ipconfig1
                    properties:
                      subnet: {id: "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-{regions[i % len(regions)]}/subnets/app"}
        extensionProfile:
          extensions:
            - name: HealthExtension
              properties:
                publisher: Microsoft.ManagedServices
                type: ApplicationHealthLinux
                typeHandlerVersion: "2.0"
                autoUpgradeMinorVersion: true
                settings: {protocol: https, port: 8443, requestPath: /ready, intervalInSeconds: 5, numberOfProbes: 1, gracePeriod: 900}
"""


def scenario_yaml(regions: list[str]) -> str:
    # 1.6.0 targets every region (a list whose length the scenario language cannot repeat inside a document).
    targets = "\n" + "".join(f"          - {{name: \"{{regions[{k}]}}\", regionalReplicaCount: 2, "
                              f"storageAccountType: Standard_ZRS}}\n" for k in range(len(regions)))
    return SCENARIO.replace(" TARGET_REGIONS\n", targets)


def split_output(out: str) -> tuple[list[dict], dict]:
    """The event lines (one JSON object each) and the summary (the last JSON document, indented)."""
    lines = out.rstrip().splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    return [json.loads(x) for x in lines[:start] if x.strip()], json.loads("\n".join(lines[start:]))


# ---- the bound (computed) ------------------------------------------------------------------------------------------
def set_bound(per_zone: dict[str, int], policy, timing: dict[str, float], boot: float, window: float) -> dict:
    """One set's upgrade under its policy, by the timing model alone: batches within one zone (unless cross-zone)."""
    total = sum(per_zone.values())
    size = max(1, math.floor(total * policy.max_batch_instance_percent / 100))
    if policy.enable_cross_zone_upgrade:
        batches = math.ceil(total / size)
    else:
        batches = sum(math.ceil(n / size) for n in per_zone.values() if n)
    per_batch = timing["vmss.reimage_instance"] + boot + window
    pause = facts.iso_seconds(policy.pause_time_between_batches)
    return {"batch_size": size, "batches": batches, "per_batch_s": per_batch, "pause_s": pause,
            "seconds": batches * per_batch + max(0, batches - 1) * pause}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=20)
    ap.add_argument("--instances", type=int, default=50, help="instances per set")
    ap.add_argument("--regions", default="eastus,westus3,northeurope", help="the first is the canary region")
    ap.add_argument("--time-scale", type=float, default=300.0)
    ap.add_argument("--pause", default="PT2M", help="pauseTimeBetweenBatches")
    ap.add_argument("--profile", default=None, help="run refit under bench/threadprof.py (cProfile of every thread "
                                                    "by its CPU time), writing this file; the profiler slows refit "
                                                    "(about 3.5x its CPU), so such a run's figures are not of record")
    ap.add_argument("--timeout", type=float, default=900.0, help="real seconds refit rollout may take")
    a = ap.parse_args()
    regions = [r.strip() for r in a.regions.split(",") if r.strip()]
    started = time.perf_counter()
    load_start = benchlib.machine()["loadavg"]

    with tempfile.TemporaryDirectory() as tmp, benchlib.emulator(Path(tmp) / "emu", a.time_scale) as (e, pid):
        s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
        try:
            cs = s.compute
            base = f"/subscriptions/{e.subscription}/resourceGroups/{RG}/providers/Microsoft.Compute"
            definition = f"{base}/galleries/{GALLERY}/images/{DEFINITION}"

            # ---- seed (measured apart) ------------------------------------------------------------------------------
            cpu0, t0 = benchlib.cpu_seconds(pid), time.perf_counter()
            summary = s.control("POST", "scenario", {"yaml": scenario_yaml(regions), "params": {
                "regions": regions, "sets": a.sets, "capacity": a.instances, "pause": a.pause}})
            seed_real, seed_cpu = time.perf_counter() - t0, benchlib.cpu_seconds(pid) - cpu0
            sets = sorted(cs.virtual_machine_scale_sets.list(RG), key=lambda x: x.name)
            vms = list(cs.virtual_machines.list(RG))
            per_set_zone: dict[str, Counter] = {x.id.lower(): Counter() for x in sets}
            for vm in vms:
                if vm.virtual_machine_scale_set:
                    per_set_zone[vm.virtual_machine_scale_set.id.lower()][(vm.zones or [""])[0]] += 1
            instances = sum(sum(c.values()) for c in per_set_zone.values())
            if len(sets) != a.sets or instances != a.sets * a.instances:
                raise SystemExit(f"the seed made {len(sets)} sets and {instances} instances, not {a.sets} x "
                                 f"{a.instances}")
            by_region = Counter(x.location for x in sets)
            print(f"seed: {summary['resources']} resources, {len(sets)} sets x {a.instances} instances over "
                  f"{dict(by_region)}; {seed_real:.2f} s real, emulator {seed_cpu:.2f} s CPU; instances per zone of "
                  f"the first set {dict(per_set_zone[sets[0].id.lower()])}")

            # ---- the new version in the canary region, throttling on (not measured) -------------------------------
            t = time.perf_counter()
            ver = cs.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, NEW_VERSION,
                cm.GalleryImageVersion(location=regions[0], publishing_profile=cm.GalleryImageVersionPublishingProfile(
                    target_regions=[cm.TargetRegion(name=regions[0], regional_replica_count=3,
                                                    storage_account_type="Standard_ZRS")]),
                    storage_profile=cm.GalleryImageVersionStorageProfile(
                        source=cm.GalleryArtifactVersionFullSource(id=f"{base}/disks/payments-bake")))).result()
            print(f"{DEFINITION}/{NEW_VERSION} published to {regions[0]} only: {ver.provisioning_state} "
                  f"({time.perf_counter() - t:.2f} s real)")
            s.control("PUT", "throttling", {"enabled": True})  # Azure's limits; every bucket full, stats at zero

            # ---- the bound (computed from the policy and the timing model) ----------------------------------------
            timing = s.control("GET", "timing")
            hm = s.control("GET", "health-model")
            boot = float(hm.get("boot_seconds", timing["vm.boot"]))
            ext = sets[0].virtual_machine_profile.extension_profile.extensions[0].settings
            window = float(ext.get("intervalInSeconds", 5)) * float(ext.get("numberOfProbes", 1))
            region_order = [regions[0], *sorted(r for r in {x.location for x in sets} if r != regions[0])]
            per_set_bound = {x.id.lower(): set_bound(dict(per_set_zone[x.id.lower()]),
                                                     x.upgrade_policy.rolling_upgrade_policy, timing, boot, window)
                             for x in sets}
            replication = timing["version.replicate_region"] * (len(region_order) - 1)
            seq_bound = sum(b["seconds"] for b in per_set_bound.values()) + replication
            par_bound = sum(max(per_set_bound[x.id.lower()]["seconds"] for x in sets if x.location == r)
                            for r in region_order) + replication
            b0 = per_set_bound[sets[0].id.lower()]
            print(f"BOUND (computed from the policy and the timing model, not measured): per set {b0['batches']} "
                  f"batches of {b0['batch_size']} within a zone x ({timing['vmss.reimage_instance']:.0f} s reimage + "
                  f"{boot:.0f} s boot + {window:.0f} s probe) + {b0['batches'] - 1} pauses of {b0['pause_s']:.0f} s = "
                  f"{b0['seconds']:.0f} s; {len(region_order) - 1} further regions x "
                  f"{timing['version.replicate_region']:.0f} s replication; sets of a region one after another: "
                  f"{seq_bound:,.0f} s; sets of a region in parallel: {par_bound:,.0f} s")

            # ---- refit rollout (measured) -------------------------------------------------------------------------
            env = {**os.environ, "REFIT_DATA_DIR": str(Path(tmp) / "emu"), "REFIT_STATE_DIR": str(Path(tmp) / "state")}
            cmd = [sys.executable, "-m", "refit", "rollout", "--image", definition, "--canary-region", regions[0],
                   "--yes", "-o", "json"]
            if a.profile:  # every thread's CPU (refit's requests run on worker threads; -m cProfile sees only main)
                cmd[1:3] = [str(Path(__file__).with_name("threadprof.py")), a.profile, "-m", "refit"]
            sim0 = s.control("GET", "clock")["now"]
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            ecpu0, t0, wall0 = benchlib.cpu_seconds(pid), time.perf_counter(), time.time()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=a.timeout, check=False)
            real = time.perf_counter() - t0
            ecpu = benchlib.cpu_seconds(pid) - ecpu0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            sim1 = s.control("GET", "clock")["now"]
            refit_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            refit_user, refit_sys = ru1.ru_utime - ru0.ru_utime, ru1.ru_stime - ru0.ru_stime
            stats = s.control("GET", "throttling")["stats"]
            if r.returncode != 0:
                raise SystemExit(f"FAILED: refit rollout exited {r.returncode}: {r.stderr[-2000:]}\n{r.stdout[-2000:]}")
            events, result = split_output(r.stdout)
            states = Counter(x["state"] for x in result["sets"].values())
            if not result["ok"] or states != Counter({"done": a.sets}):
                raise SystemExit(f"FAILED: {result}")

            # The journal's wall times (time.time() of refit's process): the run's creation, its first and last step.
            with contextlib.closing(sqlite3.connect(Path(tmp) / "state" / "journal.sqlite")) as db:
                created = db.execute("SELECT created FROM runs WHERE id = ?", (result["run"],)).fetchone()[0]
                first_wall, last_wall = db.execute("SELECT MIN(wall), MAX(wall) FROM steps WHERE run = ?",
                                                   (result["run"],)).fetchone()
            startup_real, first_real = created - wall0, first_wall - created
            tail_real = wall0 + real - last_wall

            # ---- afterwards (not measured): each set's upgrade as the platform timed it ---------------------------
            engine, upgraded = {}, 0
            for x in sets:
                h = next(iter(cs.virtual_machine_scale_sets.get_os_upgrade_history(RG, x.name)))
                rs = h.properties.running_status
                engine[x.id.lower()] = benchlib.ts(rs.end_time) - benchlib.ts(rs.start_time)
                upgraded += h.properties.progress.successful_instance_count or 0
            kinds = Counter(x["event"] for x in events)
            at = {(x["set"].lower(), x["event"]): x["at"] for x in events if x["event"] != "progress"}
            first_at, last_at = min(x["at"] for x in events), max(x["at"] for x in events)
            ordered = sorted(sets, key=lambda x: (region_order.index(x.location), x.name))
            watched = sum(at[(x.id.lower(), "done")] - at[(x.id.lower(), "started")] for x in sets)
            # between one set's done and the next one's start: within a region (refit's own time) and across regions
            # (the promote PATCH and the replication wait, refit's time around them)
            pairs = [(at[(b.id.lower(), "started")] - at[(p.id.lower(), "done")], p.location == b.location)
                     for p, b in itertools.pairwise(ordered)]
            gaps = sum(g for g, same in pairs if same)
            crossings = [g for g, same in pairs if not same]
            repl_waits = [at[(x.id.lower(), "started")] - at[(x.id.lower(), "promote")] for x in sets
                          if (x.id.lower(), "promote") in at]
            engine_sum = sum(engine.values())
            bound_sets = sum(b["seconds"] for b in per_set_bound.values())
            clock_span, event_span = sim1 - sim0, last_at - first_at

            print(f"refit rollout: exit 0, {states['done']} sets done, {upgraded} instances upgraded "
                  f"(osUpgradeHistory), run {result['run']}")
            print(f"  real {real:.1f} s; refit CPU {refit_cpu:.2f} s (user {refit_user:.2f}, sys {refit_sys:.2f}) = "
                  f"{1000 * refit_cpu / instances:.2f} ms per instance, peak RSS {ru1.ru_maxrss / 1024:.0f} MiB; "
                  f"emulator CPU {ecpu:.2f} s = {1000 * ecpu / instances:.2f} ms per instance")
            print(f"  ARM requests {stats['requests']:,} (429s {stats['throttled']}, early retries "
                  f"{stats['early_retries']}); events {len(events):,} ({dict(kinds)})")
            print(f"  simulated: emulator clock {clock_span:,.0f} s from the process start to its exit "
                  f"({clock_span / real:.0f} per real second); journal events {event_span:,.0f} s from the first "
                  f"({events[0]['event']}) to the last ({events[-1]['event']})")
            print(f"  of which: sets' upgrades {watched:,.0f} s from refit's start to its done (the platform's own "
                  f"{engine_sum:,.0f} s by osUpgradeHistory, the bound's {bound_sets:,.0f} s); replication waits "
                  f"{sum(repl_waits):,.0f} s ({', '.join(f'{w:,.0f}' for w in repl_waits)}; bound "
                  f"{replication:,.0f} s); from one set's done to the next one's start: {gaps:,.0f} s in all within "
                  f"regions ({gaps / max(1, sum(same for _, same in pairs)):,.0f} s each), "
                  f"{', '.join(f'{g:,.0f}' for g in crossings)} s across regions; before the first set's start "
                  f"{at[(ordered[0].id.lower(), 'started')] - sim0:,.0f} s and after the last one's done "
                  f"{sim1 - at[(ordered[-1].id.lower(), 'done')]:,.0f} s on the emulator clock")
            print(f"  real time outside the sets: {startup_real:.2f} s from the process start to the journal's run "
                  f"(interpreter, imports, the world through Resource Graph, selection, pre-checks), {first_real:.2f} s "
                  f"from there to the first event, {tail_real:.2f} s from the last event to the process exit")
            print(f"  measured / bound (sequential sets, {seq_bound:,.0f} s): {clock_span / seq_bound:.3f} by the "
                  f"emulator clock, {event_span / seq_bound:.3f} by the journal; against the parallel-per-region "
                  f"bound ({par_bound:,.0f} s, computed, another order): {clock_span / par_bound:.2f}")
            hot = []
            if a.profile:
                st = pstats.Stats(a.profile)
                rows = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:25]  # by own (tottime)
                print(f"  profile {a.profile} (CPU seconds of every thread, {st.total_tt:.1f} s in all), top by own "
                      "time:")
                for (file, line, fn), (_cc, nc, tt, ct, _) in rows:
                    print(f"    {tt:7.2f} s own {ct:7.2f} s cum {nc:9,} calls  {Path(file).name}:{line} {fn}")
                    hot.append({"fn": f"{Path(file).name}:{line} {fn}", "own_s": round(tt, 2), "cum_s": round(ct, 2),
                                "calls": nc})
            out = {"sets": a.sets, "instances_per_set": a.instances, "instances": instances,
                   "regions": region_order, "sets_per_region": {r: by_region[r] for r in region_order},
                   "time_scale": a.time_scale, "auto_os_upgrade": False, "throttling": "Azure's limits",
                   "pause_between_batches": a.pause, "seed_real_s": round(seed_real, 2), "seed_cpu_s": round(seed_cpu, 2),
                   "resources": summary["resources"], "profiled": bool(a.profile),
                   "real_s": round(real, 2), "refit_cpu_s": round(refit_cpu, 2),
                   "refit_cpu_ms_per_instance": round(1000 * refit_cpu / instances, 2),
                   "refit_peak_rss_mib": round(ru1.ru_maxrss / 1024), "emulator_cpu_s": round(ecpu, 2),
                   "emulator_cpu_ms_per_instance": round(1000 * ecpu / instances, 2),
                   "arm_requests": stats["requests"], "throttled_429": stats["throttled"],
                   "events": len(events), "events_by_kind": dict(kinds),
                   "sim_clock_s": round(clock_span, 1), "sim_events_s": round(event_span, 1),
                   "sim_sets_watched_s": round(watched, 1), "sim_engine_s": round(engine_sum, 1),
                   "sim_replication_waits_s": [round(w, 1) for w in repl_waits], "sim_gaps_within_regions_s": round(gaps, 1),
                   "sim_crossings_s": [round(g, 1) for g in crossings],
                   "real_startup_to_run_s": round(startup_real, 2),
                   "real_run_to_first_event_s": round(first_real, 2), "real_last_event_to_exit_s": round(tail_real, 2),
                   "sim_before_first_start_s": round(at[(ordered[0].id.lower(), "started")] - sim0, 1),
                   "sim_after_last_done_s": round(sim1 - at[(ordered[-1].id.lower(), "done")], 1),
                   "bound_computed": {"sequential_s": seq_bound, "parallel_per_region_s": par_bound,
                                      "per_set_s": b0["seconds"], "batches_per_set": b0["batches"],
                                      "batch_size": b0["batch_size"], "per_batch_s": b0["per_batch_s"],
                                      "pause_s": b0["pause_s"], "replication_s": replication},
                   "ratio_clock_to_bound": round(clock_span / seq_bound, 3),
                   "ratio_events_to_bound": round(event_span / seq_bound, 3),
                   "ratio_clock_to_parallel_bound": round(clock_span / par_bound, 3),
                   "hotspots": hot[:12], "wall_s": round(time.perf_counter() - started, 1), "git": benchlib.git_state(),
                   "machine": {**benchlib.machine(), "loadavg_start": load_start}}
            print(json.dumps(out))
        finally:
            s.close()


if __name__ == "__main__":
    main()
