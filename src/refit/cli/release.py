"""`refit release publish|promote|kill|status`: golden images through a Compute Gallery, canary region first, with a
kill switch (refit.run.release)."""

from __future__ import annotations

import typer

from refit.cli.common import confirm, consent, console, emit_json, json_of, output_option
from refit.cli.session import open_session

app = typer.Typer(no_args_is_help=True, add_completion=False)

DEFINITION_HELP = "The gallery image definition's id (/subscriptions/.../galleries/G/images/D)."
VERSION_HELP = "The gallery image version's id (.../galleries/G/images/D/versions/X.Y.Z)."


def _short(rid: str) -> str:
    """definition/version (or the last name) of an id: what a line on a terminal can hold."""
    parts = rid.rstrip("/").split("/")
    return f"{parts[-3]}/{parts[-1]}" if len(parts) > 3 and parts[-2].lower() == "versions" else parts[-1]


def _regions(text: str | None) -> list[str]:
    return [r.strip() for r in (text or "").split(",") if r.strip()]


@app.command("build")
def build(
    ctx: typer.Context,
    template: str = typer.Argument(..., help="An Image Builder template: its id, or a JSON file of it (with its id)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what it would do; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """Submit (from a file) and run an Azure Image Builder template, follow the build to its end, and name the image
    versions it published. Exit 1 when the build does not succeed, with Image Builder's message."""
    from refit.azure.fleet import load_world
    from refit.run import release

    json_out = json_of(ctx, output)
    consent(yes, dry_run)
    with open_session(ctx) as s:
        world = load_world(s)
        if not dry_run:
            confirm(yes, f"Run the image build {template.rsplit('/', 1)[-1]}?")
        out = release.build(s, world, template, dry_run)
    if json_out:
        emit_json(out)
    elif dry_run:
        console.print(f"would {'submit and ' if out['submit'] else ''}run {_short(out['template'])}", highlight=False)
    elif out["ok"]:
        made = ", ".join(_short(o["artifactId"]) for o in out["outputs"] if o.get("artifactId"))
        console.print(f"[green]built[/] {_short(out['template'])}: {made}", highlight=False)
    else:
        console.print(f"[red]build {out['runState']}[/] ({out['runSubState']}): {out['message']}", highlight=False,
                      soft_wrap=True)
    if not dry_run and not out["ok"]:
        raise typer.Exit(1)


@app.command("publish")
def publish(
    ctx: typer.Context,
    definition: str = typer.Option(..., "--definition", help=DEFINITION_HELP),
    version: str = typer.Option(..., "--version", help="The new version's name, Major.Minor.Patch (e.g. 1.7.1)."),
    source: str = typer.Option(..., "--source", help="What to capture: a managed image, VM, disk, snapshot or version id, "
                               "or a VHD's blob uri (https://ACCOUNT.blob.core.windows.net/CONTAINER/NAME.vhd)."),
    storage_account: str = typer.Option(None, "--storage-account", help="With a VHD source: the id of the storage "
                                        "account that holds the blob."),
    regions: str = typer.Option(None, "--regions", help="Target regions, comma-separated (default: the definition's)."),
    canary: str = typer.Option(None, "--canary-region", help="Replicate to this region only (promote adds the rest)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check it against Azure's rules; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """Publish a gallery image version, checked first against the definition's contract (security type, generation,
    architecture, OS state), and wait until every target region has replicated it."""
    from refit.azure.fleet import load_world
    from refit.run import release

    json_out = json_of(ctx, output)
    consent(yes, dry_run)
    with open_session(ctx) as s:
        world = load_world(s)
        d = release.definition_of(world, definition)
        if not dry_run:
            confirm(yes, f"Publish {d['name']} {version} to {canary or regions or d['location']}?")
        out = release.publish(s, world, d, version, source, _regions(regions), canary, dry_run, storage_account)
    if json_out:
        emit_json(out)
    elif dry_run:
        console.print(f"would publish {_short(out['version'])}: accepted by Azure's rules", highlight=False)
    else:
        states = ", ".join(f"{r} {st}" for r, st in out["regions"].items())
        console.print(f"[green]published[/] {_short(out['version'])}: {states}", highlight=False)


@app.command("promote")
def promote(
    ctx: typer.Context,
    version: str = typer.Argument(..., help=VERSION_HELP),
    regions: str = typer.Option(None, "--regions", help="Regions to add, comma-separated (default: every region where "
                                                        "a scale set or VM runs the definition)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check it against Azure's rules; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """Add the remaining regions to a version and wait until each has replicated it."""
    from refit.azure.fleet import load_world
    from refit.run import release

    json_out = json_of(ctx, output)
    consent(yes, dry_run)
    with open_session(ctx) as s:
        world = load_world(s)
        doc = release.version_of(world, version)
        if not dry_run:
            confirm(yes, f"Promote {doc['name']} to {regions or 'the regions that run its definition'}?")
        out = release.promote(s, world, doc, _regions(regions), dry_run)
    if json_out:
        emit_json(out)
    elif not out["added"]:
        console.print(f"{_short(out['version'])} already targets every region asked", highlight=False)
    else:
        verb = "would add" if dry_run else "[green]promoted[/]: added"
        console.print(f"{verb} {', '.join(out['added'])} to {_short(out['version'])}", highlight=False)


@app.command("kill")
def kill(
    ctx: typer.Context,
    version: str = typer.Argument(..., help=VERSION_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what it would do; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """The kill switch: exclude the version from latest (never delete it), cancel the rolling upgrades taking it, and
    report who already runs it with the rollout that returns them to the previous version."""
    from refit.azure.fleet import load_world
    from refit.run import release

    json_out = json_of(ctx, output)
    consent(yes, dry_run)
    with open_session(ctx) as s:
        world = load_world(s)
        doc = release.version_of(world, version)
        if not dry_run:
            confirm(yes, f"Exclude {doc['name']} from latest and cancel the rolling upgrades taking it?")
        out = release.kill(s, world, doc, dry_run)
    if json_out:
        emit_json(out)
        return
    head = "would exclude" if dry_run else "[green]excluded from latest[/]:"
    console.print(f"{head} {_short(out['version'])}", highlight=False)
    for sid in out["to_cancel"]:
        console.print(f"  {'would cancel' if dry_run else 'cancelled'} the rolling upgrade of {sid.rsplit('/', 1)[-1]}",
                      highlight=False)
    for sid, names in out["scaleSets"].items():
        console.print(f"  {sid.rsplit('/', 1)[-1]}: {len(names)} instances run it ({', '.join(names)})", highlight=False)
    for vm in out["vms"]:
        console.print(f"  VM {vm.rsplit('/', 1)[-1]} runs it", highlight=False)
    for cmd in out["return"]:
        console.print(f"to return them: {cmd}", highlight=False, soft_wrap=True)


@app.command("status")
def status(
    ctx: typer.Context,
    definition: str = typer.Argument(..., help=DEFINITION_HELP),
    output: str = output_option(),
) -> None:
    """Per version and region: replication, excludeFromLatest, what `latest` resolves to; which sets, instances and
    VMs run which version."""
    from refit.azure.fleet import load_world
    from refit.run import release

    json_out = json_of(ctx, output)
    with open_session(ctx) as s:
        world = load_world(s)
        out = release.status(s, world, release.definition_of(world, definition))
    if json_out:
        emit_json(out)
        return
    console.print(f"[bold]{out['definition'].rsplit('/', 1)[-1]}[/]", highlight=False)
    for ver in out["versions"]:
        flag = " (excluded from latest)" if ver["excludeFromLatest"] else ""
        regions_ = ", ".join(f"{r} {st}" for r, st in ver["regions"].items())
        console.print(f"  {ver['name']}{flag}: {regions_}", highlight=False)
    for r, name in out["latest"].items():
        console.print(f"  latest in {r}: {name or 'none'}", highlight=False)
    for sid, per in out["scaleSets"].items():
        runs = "; ".join(f"{ver}: {len(names)}" for ver, names in sorted(per.items()))
        console.print(f"  scale set {sid.rsplit('/', 1)[-1]}: {runs}", highlight=False)
    for vm, ver in out["vms"].items():
        console.print(f"  VM {vm.rsplit('/', 1)[-1]}: {ver}", highlight=False)
