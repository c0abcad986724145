"""Acceptance: a 100-VM refresh on the Temporal engine survives its workers being SIGKILLed at random moments.

Two `refit worker` processes share the task queue; at seeded random moments one of them (sometimes both) is
SIGKILLed and restarted, at least 20 times while a campaign is in flight (kills are counted only when the
campaign's workflow was running just before them). Campaigns swap the fleet to disk b, then back to a, and so
on, until 20 kills have landed. Each campaign must converge: every VM running on its intended disk (read back
through the SDK), none left deallocated, no disk lost, every journal row `done`; and the workers must both have
executed its activities (the workflow history's ActivityTaskStarted identities)."""

from __future__ import annotations

import random
import time

from temporal_helpers import activity_identities, disks, fleet, seed, set_desired, wf_status

from refit.run.journal import Journal

VMS = 100
KILLS = 20


def test_sigkill_workers_at_random_moments(session, temporal, workers, queue, refit_json, monkeypatch):
    monkeypatch.setenv("REFIT_TEMPORAL_HEARTBEAT", "2")  # a lost worker's activity is retried after 2 s
    sub = seed(session, VMS)
    before = disks(session)
    pool = workers(2)
    rng = random.Random(20261201)
    args = ("refresh", "swap", "--yes", "--soak", "10", "--engine", "temporal", "--temporal", temporal.address,
            "--task-queue", queue)
    kills, campaigns, suffix = 0, [], "a"
    identities: dict[str, int] = {}
    while kills < KILLS:
        suffix = "b" if suffix == "a" else "a"
        if campaigns:  # the next campaign swaps back
            set_desired(session, sub, VMS, suffix)
        out = refit_json(*args, "--detach")
        run_id = out["run"]
        wid = f"refit-{run_id}"
        campaigns.append((run_id, suffix))
        while kills < KILLS:
            time.sleep(rng.uniform(0.2, 1.2))
            if wf_status(temporal, wid) != "RUNNING":
                break
            victims = pool if rng.random() < 0.25 else [rng.choice(pool)]
            for w in victims:
                w.kill()
            kills += 1
            for w in victims:
                w.start()
        # follow it to its end: the journal catches up from the workflow
        done = refit_json("refresh", "swap", "--yes", "--resume", run_id)
        assert (done["run"], done["status"]) == (run_id, "completed"), done
        assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-{suffix}", "running") for n in range(1, VMS + 1)}
        assert disks(session) == before  # no disk lost (or added)
        j = Journal()
        assert {v.state for v in j.vms(run_id)} == {"done"}
        assert {w["status"] for w in j.waves(run_id)} == {"done"}
        j.close()
        for k, n in activity_identities(temporal, wid).items():
            identities[k] = identities.get(k, 0) + n
    print(f"{kills} kills over {len(campaigns)} campaigns of {VMS} VMs; activities by worker: {identities}")
    assert kills >= KILLS
    assert len(identities) >= 2, identities  # the workers shared the work (restarted ones have new identities)
