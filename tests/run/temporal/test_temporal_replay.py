"""Determinism: workflow histories replay with the current code (temporalio's Replayer, in Temporal's sandbox so
that a clock read, a random number or I/O in workflow code fails the replay too).

Two sources: histories recorded when the workflows were written (histories/*.json: a 6-VM swap that was paused
and resumed, its campaign workflow, and a 6-VM swap aborted mid-campaign, so they hold the signals, durable
timers and a halt's rollback), which a later change to the campaign's decisions must still replay or consciously version; and
a campaign run now, with a pause and a resume, whose fresh history is replayed at once. Set
REFIT_RECORD_HISTORIES=1 to write the fresh histories into histories/ (when a change is meant to break replay)."""

from __future__ import annotations

import os

import pytest
from temporal_helpers import HISTORIES, fetch_histories, fleet, replay, seed


def test_recorded_histories_replay_with_the_current_code():
    from temporalio.client import WorkflowHistory

    files = sorted(HISTORIES.glob("*.json"))
    assert len(files) >= 4
    replay([WorkflowHistory.from_json(f.stem, f.read_text()) for f in files])


def test_a_fresh_history_with_signals_replays(session, temporal, workers, queue, refit, refit_json):
    seed(session, 6)
    workers(1)
    # A soak of 20,000 clock seconds is 2 s of real time at the tests' x10,000: the pause lands while the campaign runs
    # (with a 10 s soak the six VMs could all be done before `refit campaign pause` started, as it was in one CI run).
    args = ("refresh", "swap", "--yes", "--soak", "20000", "--max-parallel", "1", "--engine", "temporal",
            "--temporal", temporal.address, "--task-queue", queue)
    run_id = refit_json(*args, "--detach")["run"]
    assert refit("campaign", "pause", run_id, "--yes")[0] == 0
    assert refit("campaign", "resume", run_id, "--yes")[0] == 0
    assert refit_json("refresh", "swap", "--yes", "--resume", run_id)["status"] == "completed"
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-b", "running") for n in range(1, 7)}
    ids = [f"refit-{run_id}", f"refit-campaign-{run_id}"]
    histories = fetch_histories(temporal, ids)
    kinds = {e.WhichOneof("attributes") for h in histories for e in h.events}
    assert "workflow_execution_signaled_event_attributes" in kinds
    assert "activity_task_completed_event_attributes" in kinds
    replay(histories)
    if os.environ.get("REFIT_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        for name, h in zip(("swap-paused-resumed", "swap-paused-resumed-campaign"), histories, strict=True):
            (HISTORIES / f"{name}.json").write_text(h.to_json())


@pytest.mark.skipif(os.environ.get("REFIT_RECORD_HISTORIES") != "1", reason="records histories/ (set REFIT_RECORD_HISTORIES=1)")
def test_record_an_aborted_swap(session, temporal, workers, queue, refit, refit_json):
    import time

    seed(session, 6)
    workers(1)
    args = ("refresh", "swap", "--yes", "--soak", "10", "--max-parallel", "1", "--engine", "temporal",
            "--temporal", temporal.address, "--task-queue", queue)
    run_id = refit_json(*args, "--detach")["run"]
    time.sleep(0.5)
    assert refit("campaign", "abort", run_id, "--yes")[0] == 0
    assert refit_json("refresh", "swap", "--yes", "--resume", run_id, code=1)["status"] == "halted"
    [h] = fetch_histories(temporal, [f"refit-{run_id}"])
    replay([h])
    (HISTORIES / "swap-aborted.json").write_text(h.to_json())
