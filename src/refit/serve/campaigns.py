"""Campaign page data: a run of the journal beside the live state, shaped for the page.

The journal is read afresh on every call (the campaign may run in another process); the live state of a refresh
run's VMs (OS disk, desired disk, power state) is `refit.run.refresh.status`, what `refit refresh status` prints.
"""

from __future__ import annotations

import re
import time
from typing import Any

from refit.arm.errors import UserError
from refit.run.control import run_summary, shown_status
from refit.run.journal import LIVE_RUN_STATUSES, Journal, Run

REFRESH_LIVE_KINDS = ("swap", "rollback", "disks", "tag")  # runs whose rows are VMs refresh status reads live
WAVED_KINDS = ("swap", "rollback")  # runs whose engine (refit.run.campaign) records each wave's status
CODE = re.compile(r"\(([A-Za-z][A-Za-z0-9]+)\)")  # Azure's error code as refit writes it: "(Code) message"
TIMELINE_MAX = 400  # the newest events shown; the journal keeps them all


def progress(journal: Journal, run: Run) -> tuple[int, int]:
    """(finished, total) items of a run, as `refit campaign list` counts them (refit.run.control)."""
    row = run_summary(journal, run)
    return row["done"], row["total"]


def wall(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) if t else ""


def runs(journal: Journal) -> list[dict[str, Any]]:
    """Every run of the journal, newest first: kind, state, started, progress."""
    out = []
    for r in reversed(journal.runs()):
        done, total = progress(journal, r)
        out.append({"id": r.id, "kind": r.kind, "status": shown_status(journal, r), "started": wall(r.created),
                    "message": r.message, "done": done, "total": total})
    return out


def fingerprint(journal: Journal, run_id: str) -> tuple:
    """What changes when the run moves: its row, its VMs and waves, its log. Cheap enough for every tick."""
    run = journal.run(run_id)
    if run is None:
        return ()
    steps = journal.steps(run_id)
    return (run.status, run.updated, run.message, len(steps), journal.control(run_id),
            tuple((r.vm, r.state, r.updated) for r in journal.vms(run_id)),
            tuple((w["n"], w["status"], w["failed"]) for w in journal.waves(run_id)),
            tuple((s.pos, s.state) for s in journal.apply_steps(run_id)) if run.kind == "apply" else ())


def campaign(journal: Journal, run_id: str, live: dict[str, Any] | None, world=None) -> dict[str, Any]:
    """One run: header, counts by state, waves with their VMs (or plan steps), timeline, errors.
    `live` is `refit.run.refresh.status(...)` for this run, or None (apply runs, or Azure unreachable); `world` the
    live state it was read from (for the image versions the disks were made from)."""
    run = journal.run(run_id)
    if run is None:
        raise UserError(f"no run '{run_id}' in the journal ({journal.path})")
    steps = journal.steps(run_id)
    names = {r.vm: r.name for r in journal.vms(run_id)}
    status = shown_status(journal, run)
    data: dict[str, Any] = {"id": run.id, "kind": run.kind, "status": status, "message": run.message,
                            "started": wall(run.created), "updated": wall(run.updated), "params": run.params,
                            # a request only matters while the run is not over (refit campaign list shows it so)
                            "control": journal.control(run_id) if run.status in LIVE_RUN_STATUSES else None,
                            "live": status in ("running", "paused"),
                            "policy": run.params.get("policy") or {}}
    if run.kind == "apply":
        data |= _apply(journal, run)
    else:
        data |= _vm_waves(journal, run, steps, live)
    data["change"] = _change(run, journal)
    data["image_change"] = _image_change(run, journal, world) if world is not None else ""
    data["timeline"] = [_event(s, names, run) for s in steps[-TIMELINE_MAX:]]
    data["errors"] = _errors(run, steps, names, data)
    return data


# ---- refresh and other VM campaigns ------------------------------------------------------------------------------
def _health(steps: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Per VM, what its last health gate said: (healthy | unhealthy | checking, detail)."""
    out: dict[str, tuple[str, str]] = {}
    for s in steps:
        if s["step"].endswith("health"):
            word = {"done": "healthy", "failed": "unhealthy", "started": "checking"}.get(s["status"], s["status"])
            out[s["vm"]] = (word, s["detail"])
    return out


def _vm_waves(journal: Journal, run: Run, steps: list[dict[str, Any]], live: dict[str, Any] | None) -> dict[str, Any]:
    rows = journal.vms(run.id)
    waves = journal.waves(run.id)
    health = _health(steps)
    by_live = {e["id"].lower(): e for e in (live or {}).get("vms", [])}
    counts: dict[str, int] = {}
    out_waves = []
    for w in waves:
        members = []
        for r in rows:
            if r.wave != w["n"]:
                continue
            counts[r.state] = counts.get(r.state, 0) + 1
            lv = by_live.get(r.vm, {})
            h = health.get(r.vm)
            members.append({"name": r.name, "zone": r.zone, "state": r.state, "detail": r.detail,
                            "previous": _disk(r.previous), "target": _disk(r.target),
                            "os_disk": lv.get("os_disk", ""), "desired": lv.get("desired", ""),
                            "in_sync": lv.get("in_sync"), "power": lv.get("power") or "",
                            "health": h[0] if h else ("" if r.health else "no extension"),
                            "health_detail": h[1] if h else ""})
        label = "canary" if w["n"] == 0 and run.kind == "swap" else f"wave {w['n']}"
        wstatus = w["status"]
        if run.kind not in WAVED_KINDS:  # one batch of every VM; its status is the run's
            label, wstatus = "all VMs", {"completed": "done"}.get(run.status, run.status)
        out_waves.append({"n": w["n"], "label": label, "zone": w["zone"], "size": w["size"], "status": wstatus,
                          "failed": w["failed"], "members": members})
    outside = [r for r in rows if r.wave < 0]  # in scope but not changed (in sync, refused by a pre-check)
    for r in outside:
        counts[r.state] = counts.get(r.state, 0) + 1
    # the wave the run is at: the one in flight; else the one that halted it; else the last one done
    in_flight = next((w for w in out_waves if w["status"] in ("running", "halting")), None)
    halted = next((w for w in out_waves if w["status"] == "halted"), None) if run.status == "halted" else None
    done = next((w for w in reversed(out_waves) if w["status"] == "done"), None)
    current = in_flight or halted or done
    return {"waves": out_waves, "counts": dict(sorted(counts.items())),
            "outside": [{"name": r.name, "state": r.state, "detail": r.detail} for r in outside],
            "wave_k": (out_waves.index(current) + 1) if current else 0, "wave_n": len(out_waves),
            "wave_label": current["label"] if current else "", "items": "VMs",
            "summary": (live or {}).get("summary")}


def _disk(rid: str | None) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1] if rid else ""


def _change(run: Run, journal: Journal) -> str:
    """What the campaign changes, from -> to, in one line."""
    p = run.params
    if run.kind in ("swap", "rollback"):
        rows = [r for r in journal.vms(run.id) if r.wave >= 0]
        pairs = {(_pattern(r.name, _disk(r.previous)), _pattern(r.name, _disk(r.target))) for r in rows}
        if len(pairs) == 1:
            a, b = pairs.pop()
            return f"OS disk {a} \u2192 {b}"
        return f"OS disk of {len(rows)} VMs: each to the disk its tag names"
    if run.kind == "disks":
        return f"new OS disks <vm>-{p.get('suffix', '?')} from {_disk(p.get('image'))}"
    if run.kind == "tag":
        return f"OsDiskName \u2192 <vm>-{p.get('suffix', '?')}"
    if run.kind == "apply":
        return f"plan {p.get('plan_file', '')} ({p.get('steps', '?')} steps)"
    if run.kind == "prune":
        return f"delete refresh disks beyond the newest {p.get('keep', '?')} per VM"
    return ""


def _image_change(run: Run, journal: Journal, world) -> str:
    """The gallery image versions a swap moves from and to: those the previous and target disks were made from
    (creationData.galleryImageReference), when every VM of the run agrees."""
    if run.kind not in ("swap", "rollback"):
        return ""

    def source(disk_id: str | None) -> str:
        doc = world.get(disk_id) if disk_id else None
        ref = (((doc or {}).get("properties") or {}).get("creationData") or {}).get("galleryImageReference") or {}
        parts = str(ref.get("id") or "").rstrip("/").split("/")
        return f"{parts[-3]}/{parts[-1]}" if len(parts) > 3 and parts[-2].lower() == "versions" else ""

    pairs = {(source(r.previous), source(r.target)) for r in journal.vms(run.id) if r.wave >= 0}
    if len(pairs) != 1:
        return ""
    a, b = pairs.pop()
    return f"image {a} \u2192 {b}" if a and b and a != b else ""


def _pattern(vm: str, disk: str) -> str:
    """`vm-01-2026-10` of VM `vm-01` as `<vm>-2026-10`: the same suffix across a fleet reads as one change."""
    return "<vm>" + disk[len(vm):] if disk.lower().startswith(vm.lower()) else disk


# ---- apply runs --------------------------------------------------------------------------------------------------
def _apply(journal: Journal, run: Run) -> dict[str, Any]:
    """An apply run's steps by wave (a step's wave is one past the latest of those it waits for, as
    `refit.plan.markdown.waves` groups a plan)."""
    steps = journal.apply_steps(run.id)
    cleanup_from = run.params.get("cleanup_from", len(steps))
    label = {s.pos: (f"c{s.n}" if s.pos >= cleanup_from else str(s.n)) for s in steps}  # as the plan numbers them
    level: dict[int, int] = {}
    for s in steps:
        level[s.pos] = 1 + max((level.get(a, 0) for a in s.after), default=-1)
    counts: dict[str, int] = {}
    out: dict[int, list[dict[str, Any]]] = {}
    for s in steps:
        counts[s.state] = counts.get(s.state, 0) + 1
        out.setdefault(level[s.pos], []).append({"name": f"#{label[s.pos]} {s.step.get('summary', s.step.get('op', ''))}",
                                                 "resource": _disk(s.resource), "state": s.state, "detail": s.detail,
                                                 "after": [f"#{label[a]}" for a in s.after if a in label]})
    waves = []
    for lv in sorted(out):
        members = out[lv]
        st = ("done" if all(m["state"] in ("done", "skipped") for m in members) else
              "running" if any(m["state"] == "running" for m in members) else
              "failed" if any(m["state"] == "failed" for m in members) else "pending")
        waves.append({"n": lv, "label": f"wave {lv + 1}", "zone": "", "size": len(members), "status": st,
                      "failed": sum(m["state"] == "failed" for m in members), "members": members})
    current = next((w for w in waves if w["status"] == "running"), None) or next(
        (w for w in reversed(waves) if w["status"] != "pending"), None)
    return {"waves": waves, "counts": dict(sorted(counts.items())), "outside": [],
            "wave_k": (waves.index(current) + 1) if current else 0, "wave_n": len(waves),
            "wave_label": current["label"] if current else "", "items": "steps", "summary": None}


# ---- timeline and errors -----------------------------------------------------------------------------------------
def _event(s: dict[str, Any], names: dict[str, str], run: Run) -> dict[str, Any]:
    at = s["at"]
    rel = at - run.clock_started if at is not None and run.clock_started is not None else None
    return {"at": rel, "what": names.get(s["vm"]) or _disk(s["vm"]), "step": s["step"], "status": s["status"],
            "detail": s["detail"]}


def _errors(run: Run, steps: list[dict[str, Any]], names: dict[str, str], data: dict[str, Any]) -> list[dict[str, str]]:
    """Failures with Azure's code where the journal recorded one: failed steps, then the run's own message."""
    out = []
    for s in steps:
        if s["status"] == "failed":
            m = CODE.search(s["detail"] or "")
            out.append({"what": names.get(s["vm"]) or _disk(s["vm"]), "step": s["step"],
                        "code": m.group(1) if m else "", "message": s["detail"]})
    if run.status in ("halted", "failed") and run.message:
        m = CODE.search(run.message)
        out.append({"what": run.id, "step": run.status, "code": m.group(1) if m else "", "message": run.message})
    return out
