"""The text report: findings grouped by severity, each with its message and the fix."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from refit.checks.helpers import short
from refit.checks.model import FAIL, SEVERITIES, UNKNOWN
from refit.checks.run import SUPPRESSED, Report

COLOR = {"high": "red", "medium": "yellow", "low": "cyan", "info": "white"}


def render(report: Report, console: Console) -> None:
    s = report.summary()
    console.print(f"[bold]refit doctor[/]: {escape(report.source.label)} - {s['resources']} resources, "
                  f"{s['checks']} checks", highlight=False)
    for note in report.notes:
        console.print(f"  [dim]note: {escape(note)}[/]", highlight=False)
    for sev in SEVERITIES:
        group = [f for f in report.findings if f.severity == sev and f.status == FAIL]
        if not group:
            continue
        console.print(f"\n[bold {COLOR[sev]}]{sev.upper()}[/] ({len(group)})")
        for check_id in dict.fromkeys(f.check.id for f in group):
            fs = [f for f in group if f.check.id == check_id]
            c = fs[0].check
            console.print(f"  [bold]{c.id}[/] {escape(c.title)}  [dim]{c.doc_path}[/]", highlight=False)
            for f in fs:
                console.print(f"    [{COLOR[sev]}]x[/] {escape(short(f.result.resource))}: {escape(f.result.message)}",
                              highlight=False, soft_wrap=True)  # a message may hold a command to paste
                if f.note:
                    console.print(f"      [dim]{escape(f.note)}[/]", highlight=False)
            console.print(f"    [green]fix:[/] {escape(c.recommendation)}", highlight=False)
            if c.fix.az:
                for line in c.fix.az.splitlines():
                    prompt = "" if line.lstrip().startswith("#") else "$ "  # a comment says what to do between
                    # soft_wrap: a command stays on one line, to paste as printed
                    console.print(f"      [dim]{prompt}{escape(line)}[/]", highlight=False, soft_wrap=True)
    unknown = [f for f in report.findings if f.status == UNKNOWN]
    if unknown:
        console.print(f"\n[bold]UNKNOWN[/] ({len(unknown)}): not decidable from this input")
        for f in unknown:
            console.print(f"  ? {f.check.id} {escape(short(f.result.resource))}: {escape(f.result.message)}",
                          highlight=False)
    suppressed = [f for f in report.findings if f.status == SUPPRESSED]
    if suppressed:
        console.print(f"\n[bold]SUPPRESSED[/] ({len(suppressed)})")
        for f in suppressed:
            sup = f.suppression
            assert sup is not None
            console.print(f"  - {f.check.id} {escape(short(f.result.resource))}: {escape(sup.justification)} "
                          f"(until {sup.expires.isoformat()}, {escape(sup.origin)})", highlight=False)
    by = s["failing_by_severity"]
    console.print(f"\n{s['fail']} failing ({', '.join(f'{by[k]} {k}' for k in SEVERITIES)}), {s['unknown']} unknown, "
                  f"{s['suppressed']} suppressed, {s['pass']} passed")
