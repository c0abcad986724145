"""SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/): one rule per check with its metadata and
doc page, one result per (check, resource) that did not pass, with a stable fingerprint (check id + the
resource id, case-insensitive) so code scanning tracks a finding across runs."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from refit.checks.model import FAIL, UNKNOWN
from refit.checks.run import SUPPRESSED, Report

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "3.0", "info": "1.0"}  # GitHub code scanning scale


def fingerprint(check_id: str, resource: str) -> str:
    return hashlib.sha256(f"{check_id.upper()}|{resource.lower()}".encode()).hexdigest()


def _doc_uri(check_id: str) -> str:
    base = os.environ.get("REFIT_DOCS_URL", "").rstrip("/")
    return f"{base}/{check_id}.md" if base else f"docs/checks/{check_id}.md"


def render(report: Report, version: str = "0.1.0") -> dict[str, Any]:
    rules = []
    index: dict[str, int] = {}
    for c in report.checks:
        index[c.id] = len(rules)
        rules.append({
            "id": c.id, "name": "".join(w.capitalize() for w in c.title.replace("-", " ").split() if w.isalnum())[:100],
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": c.rationale},
            "helpUri": _doc_uri(c.id),
            "help": {"text": c.recommendation,
                     "markdown": f"**{c.title}**\n\n{c.recommendation}\n\n[{c.id}]({_doc_uri(c.id)})"},
            "defaultConfiguration": {"level": LEVEL[c.severity]},
            "properties": {"tags": ["azure", "refit", c.id.split("-")[1].lower()], "severity": c.severity,
                           "security-severity": SECURITY_SEVERITY[c.severity], "inputs": list(c.inputs),
                           "source": c.source},
        })
    artifacts: list[dict[str, Any]] = []
    art_index: dict[str, int] = {}
    results = []
    for f in report.findings:
        r = f.result
        loc: dict[str, Any] = {"logicalLocations": [{"fullyQualifiedName": r.resource, "kind": "resource"}]}
        origin = report.source.origin(r.resource)
        if origin is not None and origin.file:
            uri = origin.file
            if uri not in art_index:
                art_index[uri] = len(artifacts)
                artifacts.append({"location": {"uri": uri}})
            phys: dict[str, Any] = {"artifactLocation": {"uri": uri, "index": art_index[uri]}}
            if origin.line:
                phys["region"] = {"startLine": origin.line}
            loc["physicalLocation"] = phys
            if origin.address:
                loc["logicalLocations"].append({"fullyQualifiedName": origin.address, "kind": "declaration"})
        res: dict[str, Any] = {
            "ruleId": f.check.id, "ruleIndex": index[f.check.id],
            "message": {"text": f"{r.resource}: {r.message}"},
            "locations": [loc],
            "partialFingerprints": {"refitFinding/v1": fingerprint(f.check.id, r.resource)},
            "properties": {"status": f.status, "severity": f.severity, "evaluated": r.evaluated},
        }
        if r.status == FAIL:
            res["level"] = LEVEL[f.severity]
            res["kind"] = "fail"
        elif r.status == UNKNOWN:
            res["level"] = "none"
            res["kind"] = "review"
        if f.status == SUPPRESSED and f.suppression is not None:
            res["suppressions"] = [{"kind": "external", "status": "accepted",
                                    "justification": f"{f.suppression.justification} (until "
                                                     f"{f.suppression.expires.isoformat()}, {f.suppression.origin})"}]
        if f.note:
            res["properties"]["note"] = f.note
        results.append(res)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "refit", "semanticVersion": version, "version": version, "rules": rules}},
        "results": results,
        "properties": {"source": report.source.describe()},
    }
    if artifacts:
        run["artifacts"] = artifacts
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
