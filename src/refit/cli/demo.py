"""`refit demo`: a guided tour on a throwaway emulator (nothing outside a temp dir is touched).

Each capability adds its step here: the fleet and its Resource Graph view; then (as they land) the
seed 000 plan, a refresh wave, doctor findings.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.panel import Panel
from rich.table import Table

from refit.cli.common import console, emit_json, globals_of
from refit.cli.embedded import connect

SEED_003_QUERY = ('Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" '
                  "| project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, "
                  "newOsDiskName=tags.OsDiskName")


def demo(ctx: typer.Context, vms: int = typer.Option(6, help="VMs in the disk-swap part of the demo.")) -> None:
    """Walk through refit on a throwaway local Azure emulator."""
    g = globals_of(ctx)
    if vms < 1 or vms > 500:
        from refit.arm.errors import UserError

        raise UserError("--vms must be between 1 and 500")
    with tempfile.TemporaryDirectory(prefix="refit-demo-") as tmp, connect(data_dir=Path(tmp)) as s:
        report = _tour(s, vms, quiet=g.json)
    if g.json:
        emit_json(report)


def _tour(s, vms: int, quiet: bool) -> dict:
    say = (lambda *a, **k: None) if quiet else console.print
    say(Panel.fit("[bold]refit[/] changes Azure VM fleets safely.\nThis demo runs against a local Azure emulator "
                  f"(HTTPS on {s.endpoint}) in a throwaway directory:\nthe real Azure SDK talks to it; nothing "
                  "leaves this machine.", title="refit demo"))
    s.control("POST", "scenario", {"name": "deadlock", "reset": True})
    s.control("POST", "scenario", {"name": "disk-swap", "reset": False, "params": {"vms": vms}})
    compute = s.compute

    say("\n[bold]1. The fleet[/] (read through azure-mgmt-compute)")
    vm_table = Table("VM", "resource group", "zone", "power", "security type", "OS disk", "tags")
    vm_rows = []
    for vm in compute.virtual_machines.list_all():
        rg = vm.id.split("/")[4]
        view = compute.virtual_machines.instance_view(rg, vm.name)
        power = next((st.code.split("/", 1)[1] for st in view.statuses if st.code.startswith("PowerState/")), "?")
        sec = _val(vm.security_profile.security_type if vm.security_profile else None) or "Standard"
        row = {"name": vm.name, "resourceGroup": rg, "zone": ",".join(vm.zones or []), "power": power,
               "securityType": sec, "osDisk": vm.storage_profile.os_disk.name, "tags": vm.tags or {}}
        vm_rows.append(row)
        vm_table.add_row(vm.name, rg, row["zone"], power, sec, row["osDisk"],
                         ", ".join(f"{k}={v}" for k, v in (vm.tags or {}).items()))
    say(vm_table)
    ss_rows = []
    for ss in compute.virtual_machine_scale_sets.list_all():
        prof = ss.virtual_machine_profile
        sec = _val(prof.security_profile.security_type if prof.security_profile else None) or "Standard"
        img = prof.storage_profile.image_reference.id.rsplit("/", 2)
        ss_rows.append({"name": ss.name, "securityType": sec, "image": "/".join(img[-2:])})
        say(f"Scale set [bold]{ss.name}[/]: {ss.sku.capacity} x {ss.sku.name}, security type [yellow]{sec}[/], "
            f"image {'/'.join(img[-2:])}")

    say("\n[bold]2. The Resource Graph view[/] (seed 003's query, real KQL, paged)")
    rows = s.graph_query(SEED_003_QUERY)
    g_table = Table("name", "location", "resourceGroup", "currentOsDiskName", "newOsDiskName")
    for r in rows:
        g_table.add_row(r["name"], r["location"], r["resourceGroup"], r["currentOsDiskName"], r["newOsDiskName"] or "")
    say(g_table)

    say("\n[bold]3. Plan seed 000's upgrade[/]: vmss-app to Trusted Launch on the gallery image app-tl")
    from refit.azure.fleet import load_world
    from refit.plan.goal import parse
    from refit.plan.planner import make_plan
    from refit.run import apply as runner

    base = ss_id = None
    for ss in compute.virtual_machine_scale_sets.list_all():
        ss_id = ss.id
        base = ss.id.split("/providers/")[0]
    goal = parse({"goals": [{"resource": ss_id, "properties": {
        "properties.virtualMachineProfile.securityProfile.securityType": "TrustedLaunch",
        "properties.virtualMachineProfile.storageProfile.imageReference.id":
            f"{base}/providers/Microsoft.Compute/galleries/galProd/images/app-tl"}}]})
    plan = make_plan(load_world(s), goal)
    p_table = Table("#", "step", "why", "downtime")
    for st in plan.steps:
        p_table.add_row(str(st.n), st.summary + (" (temporary)" if st.temporary else ""), st.why,
                        f"{st.downtime_seconds:.0f} s")
    say(p_table)
    applied = runner.run(s, plan, cleanup=True)
    after = compute.virtual_machine_scale_sets.get(ss_id.split("/")[4], ss_id.rsplit("/", 1)[-1])
    sec_after = _val(after.virtual_machine_profile.security_profile.security_type)
    say(f"applied {len(plan.steps)} steps and {len(plan.cleanup)} clean-up steps: vmss-app is now "
        f"[green]{sec_after}[/], never deleted.")

    refresh, findings = _refresh_and_doctor(s, say)

    say(Panel.fit(
        f"{len(vm_rows)} VMs, {len(ss_rows)} scale set(s) on the emulator; {len(rows)} VMs in scope for OS disk refresh.\n"
        f"Seed 000's deadlocked scale set reached Trusted Launch in {len(plan.steps)} steps with "
        f"{plan.totals()['downtime_seconds']:.0f} s of downtime.\n"
        f"The refresh wave moved {refresh['swapped']} VMs to next month's disk, canary first; "
        f"doctor found {findings}.\n\n"
        "[bold]Go further[/]\n"
        "  refit emulator start --scenario deadlock        # a long-lived emulator\n"
        '  eval "$(refit emulator env)"                    # point the SDK, az and refit at it\n'
        "  refit emulator az-login                         # the real az CLI against it\n"
        "  refit inventory                                 # what is there\n"
        "  refit plan goal.yaml -o plan.json && refit apply plan.json   # any goal, the safe path\n"
        "  refit tf migrate-keys --help                    # Terraform index keys -> stable keys",
        title="summary"))
    return {"endpoint": s.endpoint, "vms": vm_rows, "scaleSets": ss_rows, "graph": rows,
            "plan": [st.summary for st in plan.steps], "applied": applied.ok, "scaleSetSecurityTypeAfter": sec_after,
            "refresh": refresh, "doctor": findings}


def _cli(s, *args: str) -> dict:
    """Run a refit command against this demo's emulator, as a user would (its own process, JSON out)."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(s.verify), "REFIT_STATE_DIR": str(Path(str(s.verify)).parent / "state")}
    r = subprocess.run([sys.executable, "-m", "refit", "--endpoint", s.endpoint, "--subscription", s.subscription,
                        "-o", "json", *args], env=env, capture_output=True, text=True, check=False)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        raise RuntimeError(f"refit {' '.join(args)} failed: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def _refresh_and_doctor(s, say) -> tuple[dict, str]:
    say("\n[bold]4. A monthly OS disk refresh[/] (seed 003's tags): build next month's disks, retag, swap in waves")
    version = next(v.id for v in s.compute.gallery_image_versions.list_by_gallery_image("rg-refresh", "galRefresh",
                                                                                         "ubuntu-refresh")
                   if v.name == "2026.11.0")
    _cli(s, "refresh", "disks", "--image", version, "--suffix", "2026-11", "--yes")
    _cli(s, "refresh", "tag", "--suffix", "2026-11", "--yes")
    _cli(s, "refresh", "swap", "--yes")
    status = _cli(s, "refresh", "status")
    t = Table("VM", "zone", "wave", "previous disk", "OS disk now", "state", "power")
    swapped = 0
    for vm in status.get("vms", []):
        wave = vm.get("wave")
        t.add_row(vm["vm"], vm.get("zone", ""), "canary" if wave == 0 else str(wave), vm.get("previous", ""),
                  vm.get("os_disk", ""), vm.get("state", ""), vm.get("power") or "")
    for vm in s.compute.virtual_machines.list("rg-refresh"):
        swapped += vm.storage_profile.os_disk.name.endswith("2026-11")
    say(t)
    say("\n[bold]5. refit doctor[/] on the same fleet")
    report = _cli(s, "doctor")
    by_sev: dict[str, int] = {}
    for f in report.get("findings", []):
        if f.get("status") == "fail":
            by_sev[f["severity"]] = by_sev.get(f["severity"], 0) + 1
    findings = ", ".join(f"{n} {sev}" for sev, n in sorted(by_sev.items())) or "nothing"
    for f in report.get("findings", [])[:8]:
        say(f"  {f['severity']:<6} {f['check']}  {f['resource'].rsplit('/', 1)[-1]}: {f['message']}", highlight=False)
    return {"swapped": swapped, "status": status}, findings


def _val(x):
    """SDK enums print as 'SecurityTypes.TRUSTED_LAUNCH'; Azure's own value is what users know."""
    return getattr(x, "value", x)
