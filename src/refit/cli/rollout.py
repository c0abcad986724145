"""`refit rollout`: scale sets to an image version, canary region first, health-gated, halted and killed at the first
breach (refit.run.rollout), journaled."""

from __future__ import annotations

import json

import typer

from refit.arm.errors import UserError
from refit.cli import engine as E
from refit.cli.common import confirm, consent, console, emit_json, err_console, json_of, output_option
from refit.cli.session import open_session


def rollout(
    ctx: typer.Context,
    image: str = typer.Option(..., "--image", help="A gallery image definition (its latest version in each region) "
                                                  "or version id."),
    scale_set: list[str] = typer.Option([], "--scale-set", help="A scale set by name or id (repeatable; default: "
                                                                "every set that uses the definition)."),
    rg: list[str] = typer.Option([], "--resource-group", "-g", help="Only scale sets of this resource group."),
    where: list[str] = typer.Option([], "--where", help="Only scale sets with this tag value, KEY=VALUE."),
    canary: str = typer.Option(None, "--canary-region", help="The region that goes first (default: the version's "
                                                             "first target region)."),
    no_kill: bool = typer.Option(False, "--no-kill", help="On a breach, leave the version in latest."),
    resume: str = typer.Option(None, "--resume", help="Resume this interrupted rollout run (its own image and sets)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the waves; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
    engine: str = E.engine_option(),
    temporal: str = E.temporal_option(),
    namespace: str = E.namespace_option(),
    task_queue: str = E.task_queue_option(),
    detach: bool = E.detach_option(),
) -> None:
    """Roll scale sets to an image version region by region, the canary region first: each set through Azure's own
    rolling upgrade (osRollingUpgrade for a set that tracks the definition, the model otherwise), watched to the end.
    The first Faulted or Cancelled upgrade halts the campaign and excludes the version from latest. Exit 0 completed,
    1 halted, 2 bad input."""
    from dataclasses import asdict

    from refit.azure.clock import clock_for
    from refit.azure.fleet import load_world
    from refit.azure.pacing import PacedClient
    from refit.run import rollout as ro
    from refit.run.journal import LIVE_RUN_STATUSES, Journal, VmRow

    json_out = json_of(ctx, output)
    engine = E.check_engine(engine, temporal, namespace)
    consent(yes, dry_run)
    journal = Journal()
    earlier = None
    if resume:
        earlier = journal.run(resume)
        if earlier is None or earlier.kind != "rollout":
            raise UserError(f"--resume {resume}: no rollout run of that id (a rollout prints its run id when it "
                            "starts, and in its -o json summary)")
        if journal.held_elsewhere(resume):
            raise UserError(f"--resume {resume}: another refit process is running it")
        if scale_set or rg or where or canary:
            raise UserError("--resume takes the run's own image and scale sets: drop --scale-set, -g, --where and "
                            "--canary-region")
        if image != earlier.params["image"]:
            raise UserError(f"--resume {resume}: that run rolls {earlier.params['image']}, not {image}")
        scale_set = list(earlier.params["sets"])
    with open_session(ctx) as s:
        world = load_world(s)
        target = ro.target_of(world, image)
        plans = ro.waves(world, target, ro.select(world, target, list(scale_set), list(rg), list(where)), canary)
        version_doc = ro.desired_version(world, target)
        version = version_doc["id"]
        ro.preflight(world, plans, version_doc)
        clock = clock_for(s)
        client = PacedClient(s, clock)
        try:
            sick = ro.unhealthy_before(client, plans)
        finally:
            client.close()
        if sick:
            raise UserError(sick[0])
        if dry_run:
            times = {e["set"]: e for e in ro.expected(world, plans, version_doc)}
            waves = [{"wave": p.wave, "region": p.region, "set": p.vmss["id"], "how": p.how, "version": version,
                      "expected_seconds": times[p.vmss["id"]]["seconds"],
                      **({"note": times[p.vmss["id"]]["note"]} if "note" in times[p.vmss["id"]] else {})}
                     for p in plans]
            if json_out:
                emit_json({"dry_run": True, "waves": waves,
                           "expected_seconds": round(sum(w["expected_seconds"] for w in waves), 3)})
            else:
                for w in waves:
                    console.print(f"wave {w['wave']} ({w['region']}): {w['set'].rsplit('/', 1)[-1]} by {w['how']}, "
                                  f"expected {w['expected_seconds'] / 60:.1f} min", highlight=False)
                total = sum(w["expected_seconds"] for w in waves)
                console.print(f"expected {total / 60:.1f} min in all (simulated on refit's model of Azure)",
                              highlight=False)
            return
        confirm(yes, f"Roll {len(plans)} scale sets to {version.rsplit('/', 1)[-1]}, region by region?")
        params = {"image": image, "sets": [p.vmss["id"] for p in plans]}
        if earlier is None:  # a plain re-run of an interrupted rollout of the same sets resumes it
            earlier = next((r for r in journal.interrupted(s.subscription, ("rollout",)) if r.params == params), None)
        if earlier is not None and journal.acquire(earlier.id):
            run = earlier
            journal.set_run_status(run.id, "running", "resumed")
        else:
            run = journal.new_run("rollout", s.subscription, s.endpoint, params, clock_now=clock.now(),
                                  vms=[VmRow("", p.vmss["id"], p.vmss["name"], "", p.wave, None, None, "pending", "",
                                             0.0, region=p.region) for p in plans])
            journal.acquire(run.id)
        shown: dict[str, tuple] = {}
        if not json_out:
            console.print(f"run {run.id}", highlight=False)

        def show(e: dict) -> None:
            name = e["set"].rsplit("/", 1)[-1]
            if json_out:
                print(json.dumps(e, default=str), flush=True)
            elif e["event"] in ("started", "done", "failed", "in-sync", "promote", "waiting-for-platform"):
                console.print(f"{name} ({e['region']}): {e['event']}"
                              + (f" {e['version'].rsplit('/', 1)[-1]}" if e.get("version") else ""), highlight=False)
            elif e["event"] in ("progress", "batch"):
                pr = e.get("progress") or {}
                now = (pr.get("successfulInstanceCount"), pr.get("inProgressInstanceCount"),
                       pr.get("failedInstanceCount"), pr.get("pendingInstanceCount"), tuple(e.get("instances") or ()))
                if now != shown.get(name):  # the set's batches as they move: done / upgrading / failed / waiting
                    shown[name] = now
                    line = (f"  {name}: batch {', '.join(e['instances'])}" if e["event"] == "batch" else
                            f"  {name}: {now[0] or 0} done, {now[1] or 0} upgrading, {now[2] or 0} failed, "
                            f"{now[3] or 0} waiting ({e.get('code')})")
                    console.print(line, highlight=False)

        def event(e: dict) -> None:
            ro.record_event(journal, run.id, e)
            show(e)

        def here(run):
            client = PacedClient(s, clock)
            try:
                out = ro.execute(client, ro.Rollout(client, version_doc, plans, event, ro.kill_here(s, not no_kill)))
            finally:
                client.close()
            ro.record_outcome(journal, run.id, version, out, clock.now())
            return out

        # the workflow's input beside the journal: the version, the waves, whether to kill (refit.run.temporal)
        extra = {"version": version_doc, "plans": [asdict(p) for p in plans], "kill": not no_kill}
        journal.release(run.id)  # the engine holds it from here (the local one: while it runs; Temporal: following)
        out = E.execute_on(engine, run, journal, clock, temporal, namespace, task_queue, detach,
                           lambda kind, **e: show(e) if kind == "rollout" else None,
                           lambda m: err_console.print(m, highlight=False), lambda run: _held(journal, run, here),
                           {run.id: extra})
        if not isinstance(out, ro.Outcome):  # followed from its workflow: the outcome as the journal has it
            if out.status in LIVE_RUN_STATUSES:  # detached: the workflow runs on
                emit_json({"run": out.id, "status": out.status, "engine": out.params.get("engine")}) if json_out \
                    else None
                return
            out = ro.outcome_of(journal, out, plans, version)
        message = "" if out.ok else f"({(out.breach or {}).get('code', '')}) {(out.breach or {}).get('message', '')}"
    summary = {"run": run.id, "ok": out.ok, "sets": {p.vmss["id"]: {"state": p.state, "region": p.region,
                                                                     "wave": p.wave, "version": p.version}
                                                      for p in plans},
               "error": out.breach, "killed": out.killed}
    if json_out:
        emit_json(summary)
    elif out.ok:
        console.print(f"[green]rolled out[/]: {len(plans)} scale sets", highlight=False)
    else:
        console.print(f"[red]halted[/]: {message}", highlight=False)
        if out.killed:
            console.print(f"{out.killed['version'].rsplit('/', 1)[-1]} excluded from latest", highlight=False)
    if not out.ok:
        raise typer.Exit(1)


def _held(journal, run, execute):
    """Execute the run here holding its lock (one process writes a run's rows)."""
    if not journal.acquire(run.id):
        raise UserError(f"run {run.id} is being executed by another refit process; wait for it or stop it first")
    try:
        return execute(run)
    finally:
        journal.release(run.id)
