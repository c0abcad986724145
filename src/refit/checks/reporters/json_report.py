"""JSON: {"source", "summary", "findings": [{check, resource, status, severity, message, ...}]}, one finding per
check and resource that did not pass (fail, unknown, suppressed)."""

from __future__ import annotations

from typing import Any

from refit.checks.run import Report


def render(report: Report) -> dict[str, Any]:
    return {"source": report.source.describe(), "summary": report.summary(),
            "findings": [f.as_json() for f in report.findings]}
