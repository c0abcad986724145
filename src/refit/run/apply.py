"""`refit apply`: execute a plan step by step through refit.azure, reconciling before each step
("reconcile, don't replay": a step whose effect is already live is skipped, so a re-run resumes where
a previous run stopped), and stopping at the first failure with what was done and how to roll it back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import id_key
from refit.arm.paths import get_path
from refit.azure import fleet
from refit.ops.op import Request
from refit.plan.goal import equal
from refit.plan.model import Plan, Step


@dataclass
class Outcome:
    done: list[Step] = field(default_factory=list)
    skipped: list[Step] = field(default_factory=list)
    failed: Step | None = None
    error: ArmError | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None

    def rollback(self) -> list[dict[str, Any]]:
        """What undoes the steps this run performed, newest first."""
        out = []
        for s in reversed(self.done):
            out.append({"step": s.n, "summary": s.summary, "request": s.rollback,
                        "note": s.rollback_note or ("" if s.rollback else "no automatic rollback")})
        return out


def _get(session, rid: str, api: str, expand: str | None = None) -> dict[str, Any] | None:
    status, _, body = fleet.send(session, "GET", rid, api, params={"$expand": expand} if expand else None)
    return body if status == 200 else None


def _power(session, vm_id: str, api: str) -> str | None:
    status, _, body = fleet.send(session, "GET", f"{vm_id}/instanceView", api)
    if status != 200:
        return None
    for st in (body or {}).get("statuses") or []:
        if (st.get("code") or "").startswith("PowerState/"):
            return st["code"].split("/", 1)[1]
    return None


def _props(body: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a request body into dotted paths (leaves only; lists compared whole)."""
    out: dict[str, Any] = {}
    if isinstance(body, dict) and body:
        for k, v in body.items():
            out.update(_props(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = body
    return out


def is_done(session, step: Step, later: list[Step]) -> bool:
    r = Request.from_json(step.request)
    if r.method == "PUT":
        doc = _get(session, r.path, r.api_version)
        return doc is not None and get_path(doc, "properties.provisioningState") in (None, "Succeeded")
    if r.method == "DELETE":
        return _get(session, r.path, r.api_version) is None
    if r.method == "PATCH":
        doc = _get(session, r.path, r.api_version)
        return doc is not None and all(equal(get_path(doc, p), v) for p, v in _props(r.body).items()
                                       if not p.endswith("uefiSettings"))
    verb = r.path.rsplit("/", 1)[-1].lower()
    target = r.path.rsplit("/", 1)[0]
    if verb in ("deallocate", "start"):
        # A deallocate is done if the VM is deallocated, or if the change it made room for is already live.
        nxt = next((s for s in later if id_key(s.resource) == id_key(target) and not s.request["path"].lower().endswith(
            ("/start", "/deallocate"))), None)
        if verb == "deallocate" and nxt is not None and is_done(session, nxt, []):
            return True
        return _power(session, target, r.api_version) == ("deallocated" if verb == "deallocate" else "running")
    if step.followup:  # the guest conversion: its bookkeeping tag says it ran
        f = Request.from_json(step.followup)
        disk = f.path.split("/providers/Microsoft.Resources/tags/")[0]
        doc = _get(session, disk, "2025-01-02")
        want = (f.body or {}).get("properties", {}).get("tags", {})
        tags = {k.lower(): v for k, v in ((doc or {}).get("tags") or {}).items()}
        return bool(doc) and all(tags.get(k.lower()) == v for k, v in want.items())
    return False


def run(session, plan: Plan, cleanup: bool = False, progress=None) -> Outcome:
    out = Outcome()
    steps = plan.steps + (plan.cleanup if cleanup else [])
    for i, step in enumerate(steps):
        if is_done(session, step, steps[i + 1:]):
            out.skipped.append(step)
            if progress:
                progress(step, "skipped (already true)")
            continue
        r = Request.from_json(step.request)
        try:
            if progress:
                progress(step, "running")
            fleet.execute(session, r.method, r.path, r.api_version, r.body)
            if step.followup:
                f = Request.from_json(step.followup)
                fleet.execute(session, f.method, f.path, f.api_version, f.body)
        except ArmError as e:
            out.failed, out.error = step, e
            if progress:
                progress(step, f"failed: ({e.code}) {e.message}")
            return out
        out.done.append(step)
        if progress:
            progress(step, "done")
    return out
