"""docs/checks/: one page per check (PSRule's shape: synopsis, description, recommendation, examples, notes,
links) and the index, generated from the registry. `python -m refit.checks.docs [DIR]` rewrites them; a
test keeps the committed pages equal to what this generates."""

from __future__ import annotations

import sys
from pathlib import Path

from refit.checks.model import SEVERITIES, Check
from refit.checks.registry import all_checks

INPUT_NAMES = {"live": "live state (Resource Graph)", "arm": "ARM template", "terraform": "Terraform plan"}


def _types(c: Check) -> str:
    return ", ".join(f"`{t}`" for t in c.resource_types)


def page(c: Check) -> str:
    out = [f"---\nid: {c.id}\nseverity: {c.severity}\nresource: {', '.join(c.resource_types)}\n"
           f"inputs: {', '.join(c.inputs)}\n---\n",
           f"# {c.id}: {c.title}\n",
           f"**Severity:** {c.severity} · **Resources:** {_types(c)} · "
           f"**Inputs:** {', '.join(INPUT_NAMES[i] for i in c.inputs)}\n",
           "## SYNOPSIS\n", f"{c.title}.\n",
           "## DESCRIPTION\n", f"{c.rationale}\n",
           "## RECOMMENDATION\n", f"{c.recommendation}\n",
           "## EXAMPLES\n"]
    for label, lang, body in (("Azure CLI", "sh", c.fix.az), ("ARM template", "jsonc", c.fix.arm),
                              ("Terraform", "hcl", c.fix.terraform)):
        if body:
            out.append(f"### {label}\n\n```{lang}\n{body}\n```\n")
    if c.notes:
        out += ["## NOTES\n", f"{c.notes}\n"]
    out += ["## SOURCE\n", f"{c.source}\n",
            "## LINKS\n", "- [All checks](index.md)\n- [refit doctor](../doctor.md)\n"]
    return "\n".join(out)


def index(checks: list[Check]) -> str:
    lines = ["# refit doctor checks\n",
             "Generated from the registry (`python -m refit.checks.docs`); do not edit by hand.\n",
             "| id | title | severity | resources | inputs |", "|---|---|---|---|---|"]
    for c in sorted(checks, key=lambda c: (c.id.split("-")[1], c.id)):
        lines.append(f"| [{c.id}]({c.id}.md) | {c.title} | {c.severity} | "
                     f"{', '.join(t.split('/')[-1] for t in c.resource_types)} | {', '.join(c.inputs)} |")
    counts = ", ".join(f"{sum(1 for c in checks if c.severity == s)} {s}" for s in SEVERITIES)
    lines += ["", f"{len(checks)} checks: {counts}.", ""]
    return "\n".join(lines)


def generate() -> dict[str, str]:
    checks = all_checks()
    files = {f"{c.id}.md": page(c) for c in checks}
    files["index.md"] = index(checks)
    return files


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (directory / name).write_text(text)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/checks"))
