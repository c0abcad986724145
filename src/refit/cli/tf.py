"""`refit tf`: Terraform index keys -> stable keys, with an offline proof that no disk is destroyed.

Exit codes: 0 the proof holds (nothing existing destroyed or replaced); 1 something would be destroyed,
replaced, is blocked or could not be verified; 2 a user error (bad flag, unparsable HCL, a state of another
format, an address that does not exist).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from refit.arm.errors import UserError
from refit.cli.common import confirm, consent, console, emit_json, json_of, output_option, writable

app = typer.Typer(no_args_is_help=True, help="Terraform: index keys -> stable keys, with proof.")

_STATUS_STYLE = {
    "keep": "green", "update": "cyan", "create": "blue", "destroy": "bold red", "replace": "bold red",
    "blocked": "bold red", "unverified": "yellow", "deposed": "magenta",
}


def _exit(code: int) -> None:
    """Exit with `code` (refit.cli.main passes a typer.Exit's code on)."""
    raise typer.Exit(code)


# Usage problems are raised as UserError by the commands themselves (one line, exit 2): typer >= 0.2x vendors
# click as `typer._click`, whose usage exceptions `refit.cli.main` does not recognise, so a missing option or a
# stray argument left to click would end in a traceback.
_LENIENT = {"ignore_unknown_options": True, "allow_extra_args": True}


def _usage(ctx: typer.Context, command: str, **required: object) -> None:
    if ctx.args:
        raise UserError(f"unexpected argument(s) {' '.join(ctx.args)}; see `refit tf {command} --help`")
    for flag, value in required.items():
        if value is None:
            raise UserError(f"{flag} is required; see `refit tf {command} --help`")


@app.command("migrate-keys", context_settings=_LENIENT)
def migrate_keys(
    ctx: typer.Context,
    before: Path | None = typer.Option(None, "--before", help="Root module directory as last applied (index keys)."),
    after: Path | None = typer.Option(None, "--after", help="Root module directory with the stable keys."),
    state: Path | None = typer.Option(None, "--state", help="`terraform state pull` output (v4) or `terraform show -json`."),
    emit: str = typer.Option("moved", "--emit", help="moved | state-mv-sh | state-mv-pwsh | json"),
    strategy: str = typer.Option("auto", "--strategy", help="auto | value | state"),
    var_file: list[Path] = typer.Option([], "--var-file", help="Extra .tfvars(.json) for both configurations."),
    out: Path | None = typer.Option(None, "--out", help="Write the artifact here (only when the proof holds)."),
    output: str | None = output_option(),
) -> None:
    """Compute the moves from index keys to stable keys, prove nothing is destroyed, emit them."""
    from refit.terraform.migrate import Options, migrate

    _usage(ctx, "migrate-keys", **{"--before": before, "--after": after, "--state": state})
    assert before is not None and after is not None and state is not None
    as_json = json_of(ctx, output)
    if out is not None:
        writable(out)
    report = migrate(Options(before, after, state, strategy, emit, tuple(var_file)))
    if out is not None and report.artifact is not None:
        try:
            out.write_text(report.artifact, encoding="utf-8")
        except OSError as e:
            raise UserError(f"--out {out}: cannot write ({e.strerror})") from None
        report.written = str(out)
    if as_json:
        emit_json(report.as_json())
    else:
        _print_report(report, out)
    _exit(report.exit_code)


def _print_report(report, out: Path | None) -> None:  # type: ignore[no-untyped-def]
    st = report.state
    console.print(f"[bold]refit tf migrate-keys[/bold]  {report.before} -> {report.after}  "
                  f"state {st['path']} ({st['format']}, {st['objects']} objects)  strategy {report.strategy}",
                  highlight=False, soft_wrap=True)

    keyed = Table(title="Keys (index = list position, count = integer position)", show_lines=False)
    for col in ("address", "before", "after", "re-keyed"):
        keyed.add_column(col, overflow="fold")
    for b, a in report.detected:
        ref = b or a
        hazard = any(r is not None and r.kind in ("index", "count", "unknown") for r in (b, a))
        if not hazard and ref.address not in report.rekeyed:
            continue
        keyed.add_row(ref.address, _rep(b), _rep(a), "yes" if ref.address in report.rekeyed else "")
    if keyed.row_count:
        console.print(keyed)

    if report.declared_moves:
        console.print(f"{len(report.declared_moves)} moved block(s) already in the new configuration were applied "
                      "first.", soft_wrap=True)
    if report.moves:
        moves = Table(title=f"Moves ({len(report.moves)})")
        for col in ("from", "to", "basis"):
            moves.add_column(col, overflow="fold")
        for m in report.moves:
            moves.add_row(m.src_text, m.dst_text, m.basis)
        console.print(moves)

    proof = Table(title="Proof: the state after the moves vs the new configuration")
    for col in ("status", "address", "moved from", "detail"):
        proof.add_column(col, overflow="fold")
    for r in report.rows:
        proof.add_row(Text(r.status, style=_STATUS_STYLE.get(r.status, "")), r.address, r.moved_from or "", r.detail)
    console.print(proof)

    for p in report.problems:
        style = "red" if p.severity == "error" else "yellow"
        console.print(Text(f"{p.severity}: {p.message}", style=style), soft_wrap=True)

    summary = "  ".join(f"{k} {v}" for k, v in report.summary().items() if v)
    if report.ok:
        console.print(f"[green]PROOF HOLDS[/green]: no existing object is destroyed or replaced ({summary or 'nothing'})",
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"[bold red]PROOF FAILS[/bold red]: {summary}; fix the configuration or the mapping, "
                      "nothing was emitted", highlight=False, soft_wrap=True)
    if report.artifact is not None:
        if out is not None:
            console.print(f"wrote {out} ({report.emit})", highlight=False, soft_wrap=True)
        else:
            console.rule(report.emit)
            console.print(report.artifact, markup=False, highlight=False, soft_wrap=True, end="")


def _rep(r) -> str:  # type: ignore[no-untyped-def]
    if r is None:
        return "(absent)"
    if r.kind == "single":
        return "single"
    return f"{r.kind} ({r.meta} at {r.file}:{r.line})"


@app.command("rekey", context_settings=_LENIENT)
def rekey(
    ctx: typer.Context,
    directory: Path | None = typer.Argument(None, help="Root module directory."),
    address: str | None = typer.Option(None, "--address", help="e.g. module.disks.azurerm_managed_disk.data"),
    key: str | None = typer.Option(None, "--key", help="The stable key expression, e.g. '\"${sp.vm}-${sp.data_disk.lun}\"'."),
    as_name: str | None = typer.Option(None, "--as", help="Iteration variable for a count -> for_each rewrite."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the change, write nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Write without asking."),
    output: str | None = output_option(),
) -> None:
    """Rewrite one for_each (or count = length(LIST)) in place to a stable key, touching nothing else."""
    from refit.terraform.rekey import plan_rekey, write

    _usage(ctx, "rekey", DIR=directory, **{"--address": address, "--key": key})
    assert directory is not None and address is not None and key is not None
    as_json = json_of(ctx, output)
    change = plan_rekey(directory, address, key, as_name)
    if as_json and not (yes or dry_run):
        raise UserError("--output json needs --yes or --dry-run (refit asks before it writes a file)")
    consent(yes, dry_run)
    if not as_json:
        console.print(f"[bold]{change.address}[/bold]  {change.file}:{change.line}", highlight=False, soft_wrap=True)
        console.print(Text(change.diff()), soft_wrap=True)
        for n in change.notes:
            console.print(Text(f"note: {n}", style="yellow"), soft_wrap=True)
    written = False
    if not dry_run:
        confirm(yes, f"Write {change.file}?")
        write(change)
        written = True
    if as_json:
        emit_json(change.as_json(written))
    else:
        console.print(f"wrote {change.file}" if written else "dry run: nothing written", highlight=False,
                      soft_wrap=True)
    _exit(0)
