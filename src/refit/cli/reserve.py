"""`refit reserve`: protect running VMs with On-Demand Capacity Reservations, through the planner's path."""

from __future__ import annotations

import typer

from refit.arm.errors import UserError
from refit.cli.common import confirm, consent, console, emit_json, json_of, output_option
from refit.cli.session import open_session


def reserve(
    ctx: typer.Context,
    vm: list[str] = typer.Option([], "--vm", help="A VM to protect, by name or id (repeatable)."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help="Every running VM of this resource group."),
    where: list[str] = typer.Option([], "--where", help="Only VMs with this tag value, KEY=VALUE (repeatable)."),
    group: str = typer.Option(None, "--group", help="Capacity reservation group name (default crg-<region>)."),
    group_rg: str = typer.Option(None, "--group-resource-group", help="Its resource group (default: the VM's)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """Associate running VMs with a capacity reservation group that reserves them: the planner's path
    (a group, reservations of capacity 0, association, capacity raised), executed step by step."""
    from refit.azure.fleet import load_world
    from refit.cli.plan import render
    from refit.plan.planner import make_plan
    from refit.run import apply as runner
    from refit.run.refresh import Selection
    from refit.run.reserve import goals, select_running

    json_out = json_of(ctx, output)
    consent(yes, dry_run)
    with open_session(ctx) as s:
        world = load_world(s)
        vms, notes = select_running(world, Selection(list(rg), list(where), list(vm)))
        if group and len({x.location for x in vms}) > 1:
            raise UserError("the VMs are in several regions and a capacity reservation group is regional: "
                            "drop --group (one crg-<region> per region) or select one region's VMs")
        if not json_out:
            for n in notes:
                console.print(n, highlight=False)
        if not vms:
            if json_out:
                emit_json({"dry_run": dry_run, "notes": notes, "plan": None})
            else:
                console.print("nothing to protect")
            return
        plan = make_plan(world, goals(world, vms, group, group_rg))
        if json_out and dry_run:
            emit_json({"dry_run": True, "notes": notes, "plan": plan.to_json()})
        elif not json_out:
            render(plan, None)
        if not plan.solved:  # no path, or the search ran out of budget
            raise typer.Exit(1)
        if dry_run or not plan.steps:
            if json_out and not dry_run:
                emit_json({"dry_run": False, "notes": notes, "plan": plan.to_json(), "ok": True, "done": []})
            return
        confirm(yes, f"Apply {len(plan.steps)} steps to protect {len(vms)} VMs?")

        def progress(step, st):
            if not json_out:
                console.print(f"{step.n}. {step.summary}: {st}", highlight=False)

        out = runner.run(s, plan, progress=progress)
    report = {"dry_run": False, "notes": notes, "plan": plan.to_json(), "ok": out.ok, "done": [x.n for x in out.done],
              "skipped": [x.n for x in out.skipped],
              "error": {"code": out.error.code, "message": out.error.message} if out.error else None}
    if json_out:
        emit_json(report)
    elif out.ok:
        console.print(f"[green]reserved[/]: {len(vms)} VMs protected ({len(out.done)} steps run)")
    else:
        console.print(f"[red]stopped at step {out.failed.n}[/]: ({out.error.code}) {out.error.message}", highlight=False)
    if not out.ok:
        raise typer.Exit(1)
