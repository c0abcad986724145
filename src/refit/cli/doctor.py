"""`refit doctor`: configurations Azure accepts and that fail later, in live state, ARM templates and
Terraform plans (docs/doctor.md; one page per check in docs/checks/)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from refit.arm.errors import UserError
from refit.checks.model import SEVERITIES
from refit.cli.common import console, emit_json, globals_of, output_of, output_option, tag_pair, writable

OUTPUTS = ("text", "json", "sarif")


def parse_duration(text: str) -> float:
    """'10m', '90s', '1h', '1h30m' or ISO-8601 'PT10M' -> minutes."""
    from refit.platform.rules.facts import iso_minutes

    t = text.strip()
    if t.upper().startswith("P"):
        m = iso_minutes(t.upper())
        if m is not None:
            return m
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?", t.lower())
    if not t or not parts or not any(parts.groups()):
        raise UserError(f"--boot-budget must be a duration like 10m, 90s, 1h30m or PT10M, not '{text}'")
    h, m, s = (float(x) if x else 0.0 for x in parts.groups())
    return h * 60 + m + s / 60


def doctor(
    ctx: typer.Context,
    template: Path = typer.Option(None, "--template", help="An ARM template (JSON; for Bicep: az bicep build)."),
    parameters: Path = typer.Option(None, "--parameters", help="The template's parameters file."),
    terraform_plan: Path = typer.Option(None, "--terraform-plan", help="`terraform show -json PLAN` output."),
    snapshot: Path = typer.Option(None, "--snapshot", help="A snapshot of ARM documents (checked as live state)."),
    output: str = output_option(OUTPUTS),
    fail_on: str = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above this severity fails: "
                                                       "high, medium, low or info."),
    suppressions: Path = typer.Option(None, "--suppressions", help="YAML/JSON file of suppressions "
                                                                  "(check, resource, justification, expires)."),
    boot_budget: str = typer.Option("10m", "--boot-budget", help="Boot + warm-up of one instance (grace periods "
                                                                 "and cooldowns shorter than this fail)."),
    critical_tag: str = typer.Option("tier=critical", "--critical-tag", help="NAME=VALUE marking critical VMs."),
    role_tag: str = typer.Option("role", "--role-tag", help="Tag NAME whose value groups standalone VMs into a "
                                                           "tier (RF-RES-003)."),
    location: str = typer.Option(None, "--location", help="Template: the target resource group's region "
                                                           "(resourceGroup().location)."),
    resource_group: str = typer.Option(None, "--resource-group", help="Template: the target resource group's name."),
    check: list[str] = typer.Option([], "--check", help="Only these check ids (repeatable)."),
    save_snapshot: Path = typer.Option(None, "--save-snapshot", help="Also write what was read, for --snapshot."),
) -> None:
    """Find configurations Azure accepts that break rollouts later (live by default)."""
    from refit.checks import suppressions as sup
    from refit.checks.context import Options
    from refit.checks.registry import get
    from refit.checks.run import run

    g = globals_of(ctx)
    out = output_of(ctx, output, OUTPUTS)
    if fail_on is not None and fail_on.lower() not in SEVERITIES:
        raise UserError(f"--fail-on must be one of {', '.join(SEVERITIES)}, not '{fail_on}'")
    given = [n for n, v in (("--template", template), ("--terraform-plan", terraform_plan), ("--snapshot", snapshot))
             if v is not None]
    if len(given) > 1:
        raise UserError(f"{' and '.join(given)} exclude each other: check one input at a time")
    if parameters is not None and template is None:
        raise UserError("--parameters needs --template (the template whose parameters they are)")
    critical = tag_pair(critical_tag, "--critical-tag")
    unknown = [c for c in check if get(c) is None]
    if unknown:
        raise UserError(f"unknown check id(s) {', '.join(unknown)} (see docs/checks/index.md)")
    if not role_tag.strip() or "=" in role_tag:
        raise UserError(f"--role-tag is a tag NAME (like role), not '{role_tag}'")
    options = Options(boot_budget_minutes=parse_duration(boot_budget), critical_tag=critical, role_tag=role_tag.strip())
    sups = sup.load(suppressions) if suppressions is not None else []
    if save_snapshot is not None:
        writable(save_snapshot, "--save-snapshot")

    if template is not None:
        from refit.sources import arm

        source = arm.load(template, parameters, g.subscription, resource_group, location)
    elif terraform_plan is not None:
        from refit.sources import terraform

        source = terraform.load(terraform_plan, g.subscription)
    elif snapshot is not None:
        from refit.sources import snapshot as snap

        source = snap.load(snapshot)
    else:
        from refit.cli.session import open_session
        from refit.sources import live

        with open_session(ctx) as s:
            source = live.load(s)
    if save_snapshot is not None:
        from refit.sources import snapshot as snap

        snap.save(source, save_snapshot)
    report = run(source, options, sups, only=check or None)

    if out == "json":
        from refit.checks.reporters import json_report

        emit_json(json_report.render(report))
    elif out == "sarif":
        from refit.checks.reporters import sarif

        emit_json(sarif.render(report))
    else:
        from refit.checks.reporters import text

        text.render(report, console)
    if fail_on is not None and report.failing(fail_on.lower()):
        raise typer.Exit(1)
