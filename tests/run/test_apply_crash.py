"""Issue 9 acceptance: `refit apply` of a 500-VM Trusted Launch plan (1,500 steps: deallocate, PATCH
securityProfile, start per VM), as users run it (`refit plan`, `refit apply` in their own processes).

(a) It runs independent steps at once, within the throttles: the emulator is given limits unlike Azure's
    (refit is told nothing of them) and a slow clock, so they bind; the journal shows the steps' intervals
    overlapping and the run far shorter than the sum of its steps; few requests meet a 429, none is sent
    again before its Retry-After; re-applying the finished plan sends no write.
(b) It survives its own crash: SIGKILLed at random moments (seeded: while it starts, or once a random share
    of its steps is complete, hundreds of VMs between their deallocate and their start), sometimes killed
    again while resuming, then re-run (plainly, or with `--resume RUN`), which exits 0. Every trial ends with
    every VM on the plan's security type and running (none left deallocated), no disk lost, and the
    journal's interrupted run resumed and completed. The trials alternate Standard -> TrustedLaunch and back.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from refit.run.journal import Journal

VMS = 500
STEPS = 3 * VMS
TRIALS = 12
VM_TYPE = "microsoft.compute/virtualmachines"
# Nothing like Azure's (ARM writes 200 / 10 per s; Compute UpdateVM and DeleteVM 1,500 / 500 per minute).
LIMITS = {
    "arm": {"write": {"capacity": 60, "refill_per_second": 4}, "read": {"capacity": 400, "refill_per_second": 40}},
    "compute": {"UpdateVM": {"subscription": {"refill_per_minute": 300, "capacity": 90}},
                "DeleteVM": {"subscription": {"refill_per_minute": 240, "capacity": 70}}},
}


def _cmd(server, state, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "REFIT_STATE_DIR": str(state), "REQUESTS_CA_BUNDLE": str(server.cert)}
    return [sys.executable, "-m", "refit", "--endpoint", server.url, "--subscription",
            server.endpoint.subscription, *args], env


def _refit(server, state, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    cmd, env = _cmd(server, state, *args)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _kill_when(ready: Callable[[float], bool], cmd: list[str], env: dict[str, str]) -> bool:
    """Start refit and SIGKILL it once `ready(seconds since the start)`, unless it is done by then; whether it
    was killed."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while proc.poll() is None and not ready(time.monotonic() - t0):
        time.sleep(0.02)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _complete(db: Path) -> int | None:
    """Steps complete in the apply run being executed (None before it is recorded)."""
    with sqlite3.connect(db, timeout=30) as c:
        run = c.execute("SELECT id FROM runs WHERE kind = 'apply' AND status = 'running' ORDER BY created DESC "
                        "LIMIT 1").fetchone()
        if run is None:
            return None
        return c.execute("SELECT COUNT(*) FROM apply_steps WHERE run = ? AND state IN ('done', 'skipped')",
                         run).fetchone()[0]


def _events(stderr: str) -> list[dict]:
    out = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def _fleet(session) -> dict[str, tuple[str, str]]:
    """name -> (securityType, power state), from Resource Graph."""
    out = {}
    for d in session.graph_query(f"Resources | where type =~ '{VM_TYPE}'"):
        props = d["properties"]
        sec = ((props.get("securityProfile") or {}).get("securityType")) or "Standard"
        power = props["extended"]["instanceView"]["powerState"]["code"].split("/", 1)[1]
        out[d["name"]] = (sec, power)
    return out


def _disks(session) -> set[str]:
    return {d["id"].lower() for d in session.graph_query("Resources | where type =~ 'microsoft.compute/disks'")}


def _plan(server, state, tmp_path, session, security_type: str) -> str:
    vms = sorted(d["id"] for d in session.graph_query(f"Resources | where type =~ '{VM_TYPE}'"))
    goal = tmp_path / f"goal-{security_type}.json"  # YAML is a superset of JSON
    goal.write_text(json.dumps({"goals": [{"resource": vm, "properties": {
        "properties.securityProfile.securityType": security_type}} for vm in vms]}))
    out = tmp_path / f"plan-{security_type}.json"
    r = _refit(server, state, "plan", str(goal), "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    plan = json.loads(out.read_text())
    assert [s["op"] for s in plan["steps"][:3]] == ["deallocate", "patch", "start"]
    assert len(plan["steps"]) == STEPS and len({s["group"] for s in plan["steps"]}) == VMS
    return str(out)


def _mid_chain(rows) -> int:
    """VMs whose deallocate a run began or did, and whose start it did not finish."""
    by_vm: dict[str, dict[str, str]] = {}
    for r in rows:
        by_vm.setdefault(r.resource.lower(), {})[r.step["op"]] = r.state
    return sum(1 for ops in by_vm.values() if ops.get("deallocate") in ("running", "done", "skipped")
               and ops.get("start") not in ("done", "skipped"))


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    best = now = 0
    for _, d in edges:
        now += d
        best = max(best, now)
    return best


@pytest.fixture
def fleet(session, tmp_path):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": VMS, "security_type": "Standard"}})
    return tmp_path / "state"


@pytest.mark.timeout(900)
def test_500_vm_apply_runs_steps_at_once_within_the_throttles(server, session, fleet, tmp_path):
    state = fleet
    plan = _plan(server, state, tmp_path, session, "TrustedLaunch")
    configured = session.control("PUT", "throttling", {"enabled": True, "limits": LIMITS})
    assert configured["stats"] == {"requests": 0, "throttled": 0, "early_retries": 0}
    # Slow enough that the limits bind: at 20 simulated seconds per real one, a write token comes back every
    # 12.5 real ms, far less often than refit can send.
    session.control("POST", "clock", {"scale": 20})
    t0 = time.monotonic()
    r = _refit(server, state, "apply", plan, "--yes", "-o", "json")
    wall = time.monotonic() - t0
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    report = json.loads(r.stdout)
    assert report["ok"] and len(report["done"]) == STEPS and report["skipped"] == []
    stats = session.control("GET", "throttling")["stats"]
    assert stats["requests"] > 2 * STEPS  # each step's read and write, and the polls of its operation
    assert stats["early_retries"] == 0
    assert stats["throttled"] <= stats["requests"] // 100, stats

    journal = Journal(state / "journal.sqlite")
    (run,) = journal.runs(kinds=("apply",))
    rows = journal.apply_steps(run.id)
    journal.close()
    assert run.status == "completed" and {r.state for r in rows} == {"done"}
    spans = [(r.started, r.finished) for r in rows]
    makespan = max(b for _, b in spans) - min(a for a, _ in spans)
    busy = sum(b - a for a, b in spans)
    overlap = _max_overlap(spans)
    print(f"apply of {STEPS} steps: {makespan:.0f} simulated s ({wall:.1f} real s), the steps' durations sum to "
          f"{busy:.0f} s, at most {overlap} at once; {stats}")
    assert overlap >= 50  # hundreds of VMs changing at once, not one step after the other
    assert makespan * 10 < busy
    # The sum of the chain durations of one VM is about 95 s; 500 VMs one by one would take 47,500 s.
    assert makespan < 0.05 * VMS * 95

    session.control("POST", "clock", {"scale": 10000})
    assert _fleet(session) == {f"vm-{n:05d}": ("TrustedLaunch", "running") for n in range(1, VMS + 1)}
    again = _refit(server, state, "apply", plan, "--yes", "-o", "json")  # a finished plan: nothing to send
    assert again.returncode == 0 and json.loads(again.stdout) == {
        "ok": True, "aborted": False, "done": [], "skipped": list(range(1, STEPS + 1)), "failed": None, "error": None, "rollback": []}


@pytest.mark.timeout(1200)
def test_sigkill_at_random_moments_then_rerun_converges(server, session, fleet, tmp_path):
    state = fleet
    # A VM's chain (deallocate, PATCH, start: about 95 simulated s) takes about a tenth of a real second, and
    # the emulator keeps a finished operation's status for an hour of its time: 3.6 real seconds.
    session.control("POST", "clock", {"scale": 1000})
    plans = {"TrustedLaunch": _plan(server, state, tmp_path, session, "TrustedLaunch")}
    disks = _disks(session)
    db = state / "journal.sqlite"
    journal = Journal(db)
    rng = random.Random(20261201)
    kinds = {"killed": 0, "killed-again": 0, "resume": 0, "plain": 0, "finished-before-kill": 0}
    progress_at_kill: list[int] = []
    mid_chain: list[int] = []  # VMs a killed run had begun to deallocate and not yet started again
    t_start = time.monotonic()
    for trial in range(TRIALS):
        target = ("TrustedLaunch", "Standard")[trial % 2]
        if target not in plans:
            plans[target] = _plan(server, state, tmp_path, session, target)
        # The moment: on every fourth trial while refit starts (imports, the plan, its run in the journal: about
        # two seconds); on the others once a random share of the steps is complete.
        cmd = _cmd(server, state, "apply", plans[target], "--yes")
        if trial % 4 == 1:
            at = rng.uniform(0.3, 2.5)
            killed = _kill_when(lambda s, at=at: s >= at, *cmd)
        else:
            k = rng.randrange(0, int(0.95 * STEPS))
            killed = _kill_when(lambda _, k=k: (_complete(db) or -1) >= k, *cmd)
        kinds["killed" if killed else "finished-before-kill"] += 1
        interrupted = journal.interrupted(server.endpoint.subscription, ("apply",))
        if interrupted:
            rows = journal.apply_steps(interrupted[-1].id)
            progress_at_kill.append(sum(r.state in ("done", "skipped") for r in rows))
            mid_chain.append(_mid_chain(rows))
            if rng.random() < 0.3:  # killed again while resuming
                at = rng.uniform(1.0, 4.0)
                _kill_when(lambda s, at=at: s >= at, *_cmd(server, state, "apply", "--resume", interrupted[-1].id,
                                                            "--yes"))
                kinds["killed-again"] += 1
                interrupted = journal.interrupted(server.endpoint.subscription, ("apply",))
        else:
            progress_at_kill.append(0)  # killed before the run was recorded (or it finished)
            mid_chain.append(0)
        # Re-run, by `--resume RUN` on some trials, plainly (the same plan again) on the others: it exits 0.
        if interrupted and trial % 3 == 0:
            r = _refit(server, state, "apply", "--resume", interrupted[-1].id, "--yes", "-o", "json")
            kinds["resume"] += 1
        else:
            r = _refit(server, state, "apply", plans[target], "--yes", "-o", "json")
            kinds["plain"] += 1
        assert r.returncode == 0, (trial, r.stdout[-2000:], r.stderr[-2000:])
        report = json.loads(r.stdout)
        assert report["ok"] and sorted(report["done"] + report["skipped"]) == list(range(1, STEPS + 1)), trial
        events = _events(r.stderr)
        started = next(e for e in events if e["event"] == "run")
        if interrupted:  # the interrupted run is the one resumed, and it is now complete
            assert started == {"event": "run", "run": interrupted[-1].id, "resumed": True, "steps": STEPS}, trial
            done = journal.run(interrupted[-1].id)
            assert done is not None and done.status == "completed", (trial, done)
            assert {x.state for x in journal.apply_steps(done.id)} <= {"done", "skipped"}
        assert not journal.interrupted(server.endpoint.subscription, ("apply",)), trial
        assert _fleet(session) == {f"vm-{n:05d}": (target, "running") for n in range(1, VMS + 1)}, trial
        assert _disks(session) == disks, trial  # no disk lost (nor any made)
    journal.close()
    print(f"{TRIALS} trials in {time.monotonic() - t_start:.0f} s; {kinds}; steps complete at the kill: "
          f"{progress_at_kill}; VMs mid-chain at the kill: {mid_chain}")
    assert kinds["killed"] >= 10
    assert sum(1 for m in mid_chain if m) >= 3  # the kills left half-done chains, which the re-runs finished
