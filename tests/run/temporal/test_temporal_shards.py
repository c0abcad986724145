"""Acceptance: a campaign over 3 subscriptions x 100 VMs on the Temporal engine, one shard workflow per
subscription. The emulator enforces throttles per subscription (ARM's writes bucket here made small enough to
bind: refit is told nothing of it); each shard paces itself by its own subscription's headers, the three proceed
in parallel, and the campaign's makespan, on the emulator's virtual clock, is asserted against the makespan of the
same campaign over one subscription, measured first in the same test."""

from __future__ import annotations

from temporal_helpers import fleet, seed, set_desired

from refit.run.journal import Journal

VMS = 100
SUBS = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003"]
# ARM writes, per subscription (and principal): 10 in the bucket, one back every 2 s: 400 writes bind for ~800 s.
LIMITS = {"arm": {"write": {"capacity": 10, "refill_per_second": 0.5}}}
SCALE = 30.0  # simulated seconds per real one: Temporal's own latency stays small against the platform's


def _span(j: Journal, run_ids: list[str]) -> tuple[float, float]:
    runs = [j.run(r) for r in run_ids]
    assert all(r.clock_started is not None and r.clock_finished is not None for r in runs)
    return min(r.clock_started for r in runs), max(r.clock_finished for r in runs)


def test_three_subscriptions_in_parallel_each_within_its_throttles(session, temporal, workers, queue, refit_json):
    for i, sub in enumerate(SUBS):
        seed(session, VMS, sub, reset=i == 0)
    configured = session.control("PUT", "throttling", {"enabled": True, "limits": LIMITS})
    assert configured["arm"]["write"] == {"capacity": 10, "refill_per_second": 0.5}
    session.control("POST", "clock", {"scale": SCALE})
    workers(1)
    args = ("refresh", "swap", "--yes", "--soak", "0", "--engine", "temporal", "--temporal", temporal.address,
            "--task-queue", queue)
    j = Journal()

    # the baseline: the same campaign over one subscription
    one = refit_json(*args)
    assert one["status"] == "completed", one
    t0, t1 = _span(j, [one["run"]])
    single = t1 - t0
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-b", "running") for n in range(1, VMS + 1)}

    # three subscriptions: the first swaps back, the others forward
    set_desired(session, SUBS[0], VMS, "a")
    out = refit_json(*args, "--subscriptions", ",".join(SUBS))
    assert out["status"] == "completed", out
    runs = [r["run"] for r in out["runs"]]
    assert sorted(j.run(r).subscription for r in runs) == SUBS
    t0, t1 = _span(j, runs)
    three = t1 - t0
    stats = session.control("GET", "throttling")["stats"]
    session.control("POST", "clock", {"scale": 10000})
    for sub, disk in zip(SUBS, "abb", strict=True):
        assert fleet(session, sub) == {f"vm-{n:03d}": (f"vm-{n:03d}-{disk}", "running") for n in range(1, VMS + 1)}
    for r in runs:
        assert {v.state for v in j.vms(r)} == {"done"}
    spans = [_span(j, [r]) for r in runs]
    print(f"makespan (virtual clock): one subscription {single:.0f} s, three {three:.0f} s "
          f"(ratio {three / single:.2f}); shards {[round(b - a) for a, b in spans]}; throttling {stats}")
    # in parallel: every shard was in flight while each other one was
    assert all(a0 < b1 and b0 < a1 for a0, a1 in spans for b0, b1 in spans)
    # each within its own throttles: the writes' throttle is most of one subscription's makespan (400 writes at one
    # per 2 s); three sharing it, or in sequence, would take at least 2.2 times as long. (What a parallel campaign
    # costs beyond one is this machine's CPU: 2 cores for Temporal, the emulator and the worker; bench/temporal.py.)
    assert three < 1.8 * single
    assert stats["early_retries"] == 0  # no request was sent again before its Retry-After
    j.close()
