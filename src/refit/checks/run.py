"""Run the registry over a source: one result per (check, resource) it applies to; findings are the results
that did not pass (fail, unknown) and the suppressed ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refit.checks.context import Context, Options
from refit.checks.model import FAIL, PASS, SEVERITY_RANK, UNKNOWN, Check, Eval, Result, Unresolved
from refit.checks.registry import all_checks
from refit.checks.suppressions import Suppression, from_tags
from refit.sources.base import Source

SUPPRESSED = "suppressed"


@dataclass
class Finding:
    check: Check
    result: Result
    suppression: Suppression | None = None
    note: str = ""  # an expired or malformed suppression

    @property
    def status(self) -> str:
        return SUPPRESSED if self.suppression is not None else self.result.status

    @property
    def severity(self) -> str:
        return self.check.severity

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check.id, "title": self.check.title, "resource": self.result.resource,
            "status": self.status, "severity": self.check.severity, "message": self.result.message,
            "evaluated": self.result.evaluated, "recommendation": self.check.recommendation,
            "doc": self.check.doc_path,
        }
        if self.suppression is not None:
            out["suppression"] = self.suppression.as_json()
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Report:
    source: Source
    checks: list[Check]
    results: list[Result]
    findings: list[Finding]
    options: Options
    notes: list[str] = field(default_factory=list)

    def failing(self, at_least: str | None = None) -> list[Finding]:
        """Unsuppressed failures, at or above a severity."""
        limit = SEVERITY_RANK[at_least] if at_least else len(SEVERITY_RANK)
        return [f for f in self.findings if f.status == FAIL and SEVERITY_RANK[f.severity] <= limit]

    def summary(self) -> dict[str, Any]:
        by_status: dict[str, int] = {PASS: 0, FAIL: 0, UNKNOWN: 0, SUPPRESSED: 0}
        by_sev = {s: 0 for s in SEVERITY_RANK}
        by_status[PASS] = sum(1 for r in self.results if r.status == PASS)
        for f in self.findings:
            by_status[f.status] += 1
            if f.status == FAIL:
                by_sev[f.severity] += 1
        return {"checks": len(self.checks), "resources": len(self.source.world), "results": len(self.results),
                **by_status, "failing_by_severity": by_sev}


def applicable(kind: str, only: list[str] | None = None) -> list[Check]:
    out = [c for c in all_checks() if kind in c.inputs]
    if only:
        wanted = {o.upper() for o in only}
        out = [c for c in out if c.id in wanted]
    return out


def evaluate(check: Check, ctx: Context, doc: dict[str, Any]) -> Result | None:
    ev = Eval(ctx, doc)
    try:
        out = check.evaluate(ev)
    except Unresolved as u:
        where = "this resource" if u.resource.lower() == doc["id"].lower() else u.resource
        return Result(check.id, doc["id"], UNKNOWN,
                      f"cannot tell: {u.path or 'the resource'} of {where} is not known before deployment ({u.reason})",
                      ev.evaluated)
    if out is None:
        return None
    status, message = out
    return Result(check.id, doc["id"], status, message, ev.evaluated)


def run(source: Source, options: Options | None = None, suppressions: list[Suppression] | None = None,
        only: list[str] | None = None) -> Report:
    ctx = Context(source, options)
    checks = applicable(source.kind, only)
    results: list[Result] = []
    for c in checks:
        seen: set[str] = set()
        for t in c.resource_types:
            for doc in ctx.world.of_type(t):
                k = doc["id"].lower()
                if k in seen:
                    continue
                seen.add(k)
                unresolved_whole = source.unresolved.get(k, {}).get("")
                if unresolved_whole is not None:
                    results.append(Result(c.id, doc["id"], UNKNOWN,
                                          f"cannot tell: the resource itself is not known before deployment "
                                          f"({unresolved_whole})", []))
                    continue
                r = evaluate(c, ctx, doc)
                if r is not None:
                    results.append(r)
    findings = _findings(ctx, checks, results, suppressions or [])
    return Report(source, checks, results, findings, ctx.options, list(source.notes))


def _findings(ctx: Context, checks: list[Check], results: list[Result], file_sup: list[Suppression]) -> list[Finding]:
    by_id = {c.id: c for c in checks}
    today = ctx.options.date
    tag_cache: dict[str, tuple[list[Suppression], list[str]]] = {}
    out = []
    for r in results:
        if r.status == PASS:
            continue
        k = r.resource.lower()
        if k not in tag_cache:
            doc = ctx.world.get(r.resource) or {"id": r.resource}
            tag_cache[k] = from_tags(doc)
        tag_sup, problems = tag_cache[k]
        f = Finding(by_id[r.check], r)
        notes = [p for p in problems if p.split()[1].upper().endswith(r.check.upper())]
        for s in [*tag_sup, *file_sup]:
            if not s.matches(r.check, r.resource):
                continue
            if s.expired(today):
                notes.append(f"suppression from {s.origin} expired on {s.expires.isoformat()}")
                continue
            f.suppression = s
            break
        f.note = "; ".join(notes)
        out.append(f)
    out.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.status != FAIL, f.check.id, f.result.resource.lower()))
    return out
