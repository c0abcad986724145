"""`refit demo`: a guided tour on a throwaway emulator (nothing outside a temp dir is touched).

Each capability adds its step here: the fleet and its Resource Graph view; then (as they land) the
seed 000 plan, a refresh wave, doctor findings.

Layout rules (issue 10): on a terminal the demo fits its width; piped, it is laid out as wide as its content, so no
name or id is ever cut; a shortened list says so; suggested commands are printed one per line, never wrapped;
a line says what each long step is doing before it starts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from refit.cli.common import console, emit_json, output_of, output_option
from refit.cli.embedded import connect

SEED_003_QUERY = ('Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" '
                  "| project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, "
                  "newOsDiskName=tags.OsDiskName")
SHOWN_FINDINGS = 8  # the doctor section shows the most severe few; `refit doctor` lists them all
PROSE_WIDTH = 60  # a table's prose column wraps at this width even piped: wrapped text loses nothing
SEVERITIES = ("high", "medium", "low", "info")  # most severe first
# (what it is for, the command): each a real command of today's CLI (tests/cli/test_demo.py parses them).
GO_FURTHER = (
    ("a long-lived emulator, seeded with seed 000", "refit emulator start --scenario deadlock"),
    ("in another shell: point the SDK, az and refit at it", 'eval "$(refit emulator env)"'),
    ("the real az CLI against it", "refit emulator az-login"),
    ("what is there", "refit inventory"),
    ("any goal (README: Plan a change), the safe path: a plan file, then apply it", "refit plan goal.yaml --out plan.json"),
    ("", "refit apply plan.json"),
    ("what will break a rollout, every finding", "refit doctor"),
    ("Terraform index keys -> stable keys", "refit tf migrate-keys --help"),
)


def demo(ctx: typer.Context, vms: int = typer.Option(6, help="VMs in the disk-swap part of the demo."),
         output: str = output_option()) -> None:
    """Walk through refit on a throwaway local Azure emulator."""
    as_json = output_of(ctx, output) == "json"  # refused here, before any emulator starts, if not text or json
    if vms < 1 or vms > 500:
        from refit.arm.errors import UserError

        raise UserError("--vms must be between 1 and 500")
    out = _console()
    # JSON mode: stdout carries the one JSON document and nothing else.
    say: Callable[..., None] = (lambda *a, **k: None) if as_json else out.print
    with tempfile.TemporaryDirectory(prefix="refit-demo-") as tmp, connect(data_dir=Path(tmp)) as s:
        report = _tour(s, vms, say, out)
    if as_json:
        emit_json(report)


def _console() -> Console:
    """The terminal's own width on a TTY. Piped, rich would assume 80 columns (or $COLUMNS) and cut table cells
    to fit (`rg-refre…`); a log or a pager wants every name whole, so there the layout is as wide as the content
    (tables take their natural width, with prose columns wrapped at PROSE_WIDTH; lines are not wrapped)."""
    if console.is_terminal:
        return console
    return Console(width=100_000)


def _step(say, what: str) -> None:
    """One line before a step that takes a while, so that a section is never silent until it finishes."""
    say(f"[dim]  {what}[/]", highlight=False)


def _table(*columns: tuple[str, bool]) -> Table:
    """A table whose id/name columns (prose=False) are never wrapped and whose prose columns wrap at spaces (at
    most PROSE_WIDTH wide, to stay readable piped) and fold a word longer than the column, instead of the default
    ellipsis."""
    t = Table()
    for header, prose in columns:
        t.add_column(header, overflow="fold", no_wrap=not prose, max_width=PROSE_WIDTH if prose else None)
    return t


def _min_width(out: Console, table: Table) -> int:
    """Columns the table needs with its names whole. Measured with unlimited room: measured within the console's
    width, rich clamps the answer to what it would cut the table to."""
    return out.measure(table, options=out.options.update_width(100_000)).minimum


def _fitted(out: Console, table: Table) -> Table:
    """On a terminal too narrow for the whole names, fold them rather than let rich cut them with an ellipsis."""
    if _min_width(out, table) > out.width:
        for col in table.columns:
            col.no_wrap = False
    return table


def _tour(s, vms: int, say: Callable[..., None], out: Console) -> dict:
    say(Panel.fit("[bold]refit[/] changes Azure VM fleets safely.\nThis demo runs against a local Azure emulator "
                  f"(HTTPS on {s.endpoint}) in a throwaway directory:\nthe real Azure SDK talks to it; nothing "
                  "leaves this machine.", title="refit demo"))
    _step(say, f"seeding seed 000 (a scale set stuck between Standard and Trusted Launch) and {vms} VMs to refresh")
    s.control("POST", "scenario", {"name": "deadlock", "reset": True})
    s.control("POST", "scenario", {"name": "disk-swap", "reset": False, "params": {"vms": vms}})
    compute = s.compute

    say("\n[bold]1. The fleet[/] (read through azure-mgmt-compute)")
    _step(say, "reading every VM and its instance view (power state)")
    vm_rows = []
    for vm in compute.virtual_machines.list_all():
        rg = vm.id.split("/")[4]
        view = compute.virtual_machines.instance_view(rg, vm.name)
        power = next((st.code.split("/", 1)[1] for st in view.statuses if st.code.startswith("PowerState/")), "?")
        sec = _val(vm.security_profile.security_type if vm.security_profile else None) or "Standard"
        vm_rows.append({"name": vm.name, "resourceGroup": rg, "zone": ",".join(vm.zones or []), "power": power,
                        "securityType": sec, "osDisk": vm.storage_profile.os_disk.name, "tags": vm.tags or {}})
    say(_vm_table(out, vm_rows))
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
    g_table = _table(("name", False), ("location", False), ("resourceGroup", False), ("currentOsDiskName", False),
                     ("newOsDiskName", False))
    for r in rows:
        g_table.add_row(r["name"], r["location"], r["resourceGroup"], r["currentOsDiskName"], r["newOsDiskName"] or "")
    say(_fitted(out, g_table))

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
    _step(say, "planning: the cheapest order of operations Azure accepts, simulated on refit's model of Azure")
    plan = make_plan(load_world(s), goal)
    p_table = _table(("#", False), ("step", True), ("why", True), ("downtime", False))
    for st in plan.steps:
        p_table.add_row(str(st.n), st.summary + (" (temporary)" if st.temporary else ""), st.why,
                        f"{st.downtime_seconds:.0f} s")
    say(_fitted(out, p_table))
    _step(say, f"applying the {len(plan.steps)} steps against the emulator, then the {len(plan.cleanup)} clean-up steps")
    applied = runner.run(s, plan, cleanup=True)
    after = compute.virtual_machine_scale_sets.get(ss_id.split("/")[4], ss_id.rsplit("/", 1)[-1])
    sec_after = _val(after.virtual_machine_profile.security_profile.security_type)
    say(f"applied {len(plan.steps)} steps and {len(plan.cleanup)} clean-up steps: vmss-app is now "
        f"[green]{sec_after}[/], never deleted.")

    refresh, findings = _refresh_and_doctor(s, say, out, len(rows))
    by_sev = _by_severity(findings)

    say(Panel.fit(
        f"{len(vm_rows)} VMs, {len(ss_rows)} scale set(s) on the emulator; {len(rows)} VMs in scope for OS disk refresh.\n"
        f"Seed 000's deadlocked scale set reached Trusted Launch in {len(plan.steps)} steps with "
        f"{plan.totals()['downtime_seconds']:.0f} s of downtime.\n"
        f"The refresh wave moved {refresh['swapped']} VMs to next month's disk, canary first; doctor found {by_sev}.",
        title="summary"))
    # Outside the panel and soft-wrapped: a command is copied whole, whatever the terminal's width.
    say("\n[bold]Go further[/]")
    for why, cmd in GO_FURTHER:
        if why:
            say(f"  [dim]# {why}[/]", soft_wrap=True, highlight=False)
        say(f"  {cmd}", soft_wrap=True, highlight=False, markup=False)
    return {"endpoint": s.endpoint, "vms": vm_rows, "scaleSets": ss_rows, "graph": rows,
            "plan": [st.summary for st in plan.steps], "applied": applied.ok, "scaleSetSecurityTypeAfter": sec_after,
            "refresh": refresh, "doctor": by_sev, "doctorFindings": findings}


def _vm_table(out: Console, vm_rows: list[dict]) -> Table:
    """The fleet, with its tags when the terminal has room for them (they are also in section 2's graph view)."""
    for with_tags in (True, False):
        cols = [("VM", False), ("resource group", False), ("zone", False), ("power", False),
                ("security type", False), ("OS disk", False)] + ([("tags", True)] if with_tags else [])
        t = _table(*cols)
        for r in vm_rows:
            cells = [r["name"], r["resourceGroup"], r["zone"], r["power"], r["securityType"], r["osDisk"]]
            t.add_row(*cells, *([", ".join(f"{k}={v}" for k, v in r["tags"].items())] if with_tags else []))
        if _min_width(out, t) <= out.width:
            return t
    return _fitted(out, t)


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


def _refresh_and_doctor(s, say, out: Console, in_scope: int) -> tuple[dict, list[dict]]:
    say("\n[bold]4. A monthly OS disk refresh[/] (seed 003's tags): build next month's disks, retag, swap in waves")
    version = next(v.id for v in s.compute.gallery_image_versions.list_by_gallery_image("rg-refresh", "galRefresh",
                                                                                         "ubuntu-refresh")
                   if v.name == "2026.11.0")
    _step(say, f"building {in_scope} disks from galRefresh/ubuntu-refresh 2026.11.0 (refit refresh disks)")
    _cli(s, "refresh", "disks", "--image", version, "--suffix", "2026-11", "--yes")
    _step(say, f"retagging {in_scope} VMs: OsDiskName=<vm>-2026-11 (refit refresh tag)")
    _cli(s, "refresh", "tag", "--suffix", "2026-11", "--yes")
    _step(say, f"swapping {in_scope} OS disks in waves, canary first, each health-checked (refit refresh swap)")
    _cli(s, "refresh", "swap", "--yes")
    status = _cli(s, "refresh", "status")
    t = _table(("VM", False), ("zone", False), ("wave", False), ("previous disk", False), ("OS disk now", False),
               ("state", False), ("power", False))
    for vm in status.get("vms", []):
        wave = vm.get("wave")
        t.add_row(vm["vm"], vm.get("zone", ""), "canary" if wave == 0 else str(wave), vm.get("previous", ""),
                  vm.get("os_disk", ""), vm.get("state", ""), vm.get("power") or "")
    swapped = sum(vm.storage_profile.os_disk.name.endswith("2026-11") for vm in s.compute.virtual_machines.list("rg-refresh"))
    say(_fitted(out, t))

    say("\n[bold]5. refit doctor[/] on the same fleet")
    _step(say, "running every doctor check on the live fleet (refit doctor)")
    findings = _cli(s, "doctor").get("findings", [])
    # Most severe first (a stable sort keeps the doctor's own order within a severity).
    findings.sort(key=lambda f: SEVERITIES.index(f["severity"]) if f["severity"] in SEVERITIES else len(SEVERITIES))
    # Lines, not a table, soft-wrapped: a message may hold a command (`refit plan --resource ID ...`), which
    # must stay whole to be copied, on any terminal.
    shown = findings[:SHOWN_FINDINGS]
    width = max((len(f["check"]) for f in shown), default=0)
    for f in shown:
        sev = f["severity"] + ("" if f.get("status") == "fail" else f" ({f.get('status')})")
        say(f"  {sev:<6} {f['check']:<{width}}  {f['resource'].rsplit('/', 1)[-1]}: {f['message']}",
            highlight=False, markup=False, soft_wrap=True)
    if len(findings) > SHOWN_FINDINGS:
        say(f"(showing {SHOWN_FINDINGS} of {len(findings)} findings; `refit doctor` lists them all)", highlight=False,
            markup=False, soft_wrap=True)
    return {"swapped": swapped, "status": status}, findings


def _by_severity(findings: list[dict]) -> str:
    """'1 high, 10 medium, 1 low': the failing findings per severity, most severe first."""
    counts: dict[str, int] = {}
    for f in findings:
        if f.get("status") == "fail":
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    order = sorted(counts, key=lambda sev: SEVERITIES.index(sev) if sev in SEVERITIES else len(SEVERITIES))
    return ", ".join(f"{counts[sev]} {sev}" for sev in order) or "nothing"


def _val(x):
    """SDK enums print as 'SecurityTypes.TRUSTED_LAUNCH'; Azure's own value is what users know."""
    return getattr(x, "value", x)
