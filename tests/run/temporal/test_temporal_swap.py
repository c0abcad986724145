"""The Temporal engine, end to end: `refit refresh swap --engine temporal` starts the campaign as a workflow, a
`refit worker` process executes it, the command follows it into the journal."""

from __future__ import annotations

from temporal_helpers import activity_identities, disks, fleet, seed

from refit.run.journal import Journal


def test_swap_on_temporal_matches_the_local_engine(session, temporal, workers, queue, refit_json):
    seed(session, 6)
    before = disks(session)
    workers(1)
    out = refit_json("refresh", "swap", "--yes", "--soak", "10", "--engine", "temporal", "--temporal",
                     temporal.address, "--task-queue", queue)
    assert out["status"] == "completed", out
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-b", "running") for n in range(1, 7)}
    assert disks(session) == before
    j = Journal()
    run = j.run(out["run"])
    assert run.params["engine"]["name"] == "temporal"
    assert [v.state for v in j.vms(run.id)] == ["done"] * 6
    assert [w["status"] for w in j.waves(run.id)] == ["done"] * len(j.waves(run.id))
    steps = j.steps(run.id, j.vms(run.id)[0].vm)
    assert [(s["step"], s["status"]) for s in steps] == [
        ("record-previous", "started"), ("record-previous", "done"), ("deallocate", "started"), ("deallocate", "done"),
        ("swap", "started"), ("swap", "done"), ("start", "started"), ("start", "done"), ("health", "started"),
        ("health", "done")]


def test_two_workers_share_a_campaign(session, temporal, workers, queue, refit_json):
    seed(session, 30)
    workers(2)
    out = refit_json("refresh", "swap", "--yes", "--soak", "10", "--canary", "2", "--engine", "temporal",
                     "--temporal", temporal.address, "--task-queue", queue)
    assert out["status"] == "completed", out
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-b", "running") for n in range(1, 31)}
    who = activity_identities(temporal, f"refit-{out['run']}")
    assert len(who) == 2 and all(n > 0 for n in who.values()), who  # both workers executed its activities


def test_bad_engine_input_and_an_unreachable_server(session, refit, state):
    """One `error:` line each; exit 2 for bad input, 3 for a Temporal server that does not answer; nothing changed."""
    from temporal_helpers import seed

    from refit.run.journal import Journal
    from refit.run.temporal.devserver import free_port

    def run(*args):
        rc, _, err = refit(*args)
        return rc, " ".join(err.split())

    seed(session, 2)
    rc, err = run("refresh", "swap", "--yes", "--engine", "temporal")
    assert rc == 2 and err.startswith("error: --engine temporal needs --temporal HOST:PORT (or REFIT_TEMPORAL)"), err
    assert run("refresh", "swap", "--yes", "--engine", "durable") == (
        2, "error: --engine takes local or temporal, not 'durable'")
    assert run("refresh", "swap", "--yes", "--engine", "temporal", "--temporal", "localhost") == (
        2, "error: --temporal takes HOST:PORT, e.g. 127.0.0.1:7233, not 'localhost'")
    port = free_port()  # nothing listens there
    for args in (("refresh", "swap", "--yes", "--engine", "temporal", "--temporal", f"127.0.0.1:{port}"),
                 ("worker", "--temporal", f"127.0.0.1:{port}")):
        rc, err = run(*args)
        assert rc == 3 and err.startswith(f"error: cannot reach Temporal at 127.0.0.1:{port} ("), err
        assert err.endswith("start one with `refit temporal dev` or check --temporal and --namespace"), err
    assert Journal().runs() == []  # no run was recorded
    assert fleet(session) == {"vm-001": ("vm-001-a", "running"), "vm-002": ("vm-002-a", "running")}  # nothing changed


def test_rollback_on_temporal(session, temporal, workers, queue, refit_json):
    seed(session, 4)
    workers(1)
    engine = ("--engine", "temporal", "--temporal", temporal.address, "--task-queue", queue)
    out = refit_json("refresh", "swap", "--yes", "--soak", "0", *engine)
    assert out["status"] == "completed"
    back = refit_json("refresh", "rollback", "--run", out["run"], "--yes", *engine)
    assert back["status"] == "completed", back
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-a", "running") for n in range(1, 5)}
    j = Journal()
    assert {v.state for v in j.vms(back["run"])} == {"rolled-back"}
    assert j.run(back["run"]).params["engine"]["name"] == "temporal"
