"""The Temporal engine for the campaigns other than the swap: `refresh disks`, `refresh tag` and `refit apply` with
`--engine temporal` start their run as a workflow that a `refit worker` executes (each request one activity), the
command follows it into the journal; the journal, the report and the live state are exactly the local engine's."""

from __future__ import annotations

import json
import os

from temporal_helpers import HISTORIES, RG, disks, fetch_histories, fleet, replay, seed

from refit.run.journal import Journal

VERSION = "/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/galleries/galRefresh/images/" \
          "ubuntu-refresh/versions/2026.10.0"


def engine(temporal, queue) -> tuple[str, ...]:
    return ("--engine", "temporal", "--temporal", temporal.address, "--task-queue", queue)


def test_refresh_disks_then_tag_on_temporal(session, sub, temporal, workers, queue, refit_json):
    seed(session, 4)
    before = disks(session)
    workers(1)
    version = VERSION.format(sub=sub)
    out = refit_json("refresh", "disks", "--image", version, "--suffix", "c", "--yes", *engine(temporal, queue))
    assert (out["status"], out["message"]) == ("completed", "4 disks created"), out
    assert disks(session) == before | {f"vm-{n:03d}-c" for n in range(1, 5)}
    for n in range(1, 5):
        d = session.compute.disks.get(RG, f"vm-{n:03d}-c")
        assert d.creation_data.gallery_image_reference.id.lower() == version.lower()
        assert (d.tags or {}) == {"refit-vm": f"vm-{n:03d}", "refit-image": version}
    j = Journal()
    run = j.run(out["run"])
    assert (run.kind, run.status, run.params["engine"]["name"]) == ("disks", "completed", "temporal")
    assert [(v.name, v.state) for v in j.vms(run.id)] == [(f"vm-{n:03d}", "created") for n in range(1, 5)]
    assert [(s["step"], s["status"]) for s in j.steps(run.id, j.vms(run.id)[0].vm)] == [
        ("create-disk", "started"), ("create-disk", "done")]

    out = refit_json("refresh", "tag", "--suffix", "c", "--yes", *engine(temporal, queue))
    assert (out["status"], out["message"]) == ("completed", "4 VMs tagged"), out
    tags = {vm.name: vm.tags["OsDiskName"] for vm in session.compute.virtual_machines.list(RG)}
    assert tags == {f"vm-{n:03d}": f"vm-{n:03d}-c" for n in range(1, 5)}
    run = j.run(out["run"])
    assert (run.kind, run.status, run.params["engine"]["name"]) == ("tag", "completed", "temporal")
    assert [(v.name, v.state, v.detail) for v in j.vms(run.id)] == [
        (f"vm-{n:03d}", "tagged", f"OsDiskName=vm-{n:03d}-c") for n in range(1, 5)]
    replay(fetch_histories(temporal, [f"refit-{r.id}" for r in j.runs()]))  # both workflows are deterministic
    # nothing swapped: tagging and creating disks touch no VM's disk or power
    assert fleet(session) == {f"vm-{n:03d}": (f"vm-{n:03d}-a", "running") for n in range(1, 5)}


def vm_id(sub: str, n: int) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-{n:03d}"


def test_apply_on_temporal(session, sub, temporal, workers, queue, refit, tmp_path):
    """A plan of two VMs' resize: deallocate, PATCH, start each, on the workflow; the report, the journal's steps
    and the VMs read back as the local engine leaves them; a re-run of the finished run says so."""
    seed(session, 2)
    workers(1)
    goal = tmp_path / "goal.json"
    goal.write_text(json.dumps({"goals": [{"resource": vm_id(sub, n), "properties": {
        "properties.hardwareProfile.vmSize": "Standard_D4s_v5"}} for n in (1, 2)]}))
    plan = tmp_path / "plan.json"
    code, _, err = refit("plan", str(goal), "--out", str(plan))
    assert code == 0, err
    steps = [(s["n"], s["op"]) for s in json.loads(plan.read_text())["steps"]]
    code, out, err = refit("apply", str(plan), "--yes", "-o", "json", *engine(temporal, queue))
    assert code == 0, (out, err)
    report = json.loads(out)
    assert (report["ok"], report["aborted"], report["failed"], report["error"]) == (True, False, None, None)
    assert report["done"] == [n for n, _ in steps] and report["skipped"] == []
    progress = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert sorted((e["step"], e["status"]) for e in progress if e["event"] == "step") == sorted(
        [(n, "running") for n, _ in steps] + [(n, "done") for n, _ in steps])
    j = Journal()
    run = next(r for r in j.runs() if r.kind == "apply")
    assert (run.status, run.params["engine"]["name"]) == ("completed", "temporal")
    assert [(r.n, r.state) for r in j.apply_steps(run.id)] == [(n, "done") for n, _ in steps]
    for n in (1, 2):
        vm = session.compute.virtual_machines.get(RG, f"vm-{n:03d}", expand="instanceView")
        power = next(s.code for s in vm.instance_view.statuses if s.code.startswith("PowerState/"))
        assert (vm.hardware_profile.vm_size, power) == ("Standard_D4s_v5", "PowerState/running")
    code, out, _ = refit("apply", "--resume", run.id, "--yes", "-o", "json", *engine(temporal, queue))
    assert code == 0 and json.loads(out)["ok"] is True
    [history] = fetch_histories(temporal, [f"refit-{run.id}"])
    replay([history])
    if os.environ.get("REFIT_RECORD_HISTORIES") == "1":  # test_temporal_replay replays it with every later change
        (HISTORIES / "apply-completed.json").write_text(history.to_json())


def test_rollout_on_temporal_halts_kills_and_completes_as_the_local_engine(session, sub, temporal, workers, queue,
                                                                           refit):
    """Seed 001 on the Temporal engine (tests/run/test_rollout_cli.py is the local engine's): the bad version halts
    in the canary region (exit 1, Azure's code), the second region is never touched, the kill excludes the version
    from latest (an activity); the fixed version then completes in both regions."""
    from clitools import last_json

    session.control("POST", "scenario", {"name": "rollout"})
    workers(1)
    rg = "rg-payments"
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute"
    definition, source = f"{base}/galleries/galPayments/images/payments-auth", f"{base}/disks/payments-bake"
    for version in ("1.7.0", "1.7.1"):
        code, _, err = refit("release", "publish", "--definition", definition, "--version", version, "--source",
                             source, "--canary-region", "eastus", "--yes")
        assert code == 0, err
        code, out, err = refit("rollout", "--image", definition, "--canary-region", "eastus", "--yes", "-o", "json",
                               *engine(temporal, queue))
        summary = last_json(out)
        sets = {k.rsplit("/", 1)[-1]: (s["state"], s["wave"]) for k, s in summary["sets"].items()}
        run = Journal().run(summary["run"])
        assert run.params["engine"]["name"] == "temporal"
        if version == "1.7.0":
            assert (code, summary["ok"], summary["error"]["code"]) == (
                1, False, "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"), (out, err)
            assert sets == {"vmss-payments-eastus": ("failed", 1), "vmss-payments-westus3": ("not-started", 2)}
            assert summary["killed"]["version"] == f"{definition}/versions/1.7.0"
            assert (run.status, run.message.split(")")[0]) == (
                "halted", "(MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade")
            bad = session.compute.gallery_image_versions.get(rg, "galPayments", "payments-auth", "1.7.0")
            assert bad.publishing_profile.exclude_from_latest is True
            assert [t.name for t in bad.publishing_profile.target_regions] == ["East US"]  # never promoted
        else:
            assert (code, summary["ok"], summary["error"], summary["killed"]) == (0, True, None, None), (out, err)
            # Both sets track the definition with automatic OS upgrade on: at the tests' time scale a whole platform
            # upgrade can pass between two activities, so a set may be found on the version already (in-sync).
            assert {k: (st in ("done", "in-sync"), wave) for k, (st, wave) in sets.items()} == {
                "vmss-payments-eastus": (True, 1), "vmss-payments-westus3": (True, 2)}
            assert run.status == "completed"
            for name in ("vmss-payments-eastus", "vmss-payments-westus3"):
                got = set()
                for i in session.compute.virtual_machine_scale_set_vms.list(rg, name):
                    d = session.compute.disks.get(rg, i.storage_profile.os_disk.managed_disk.id.rsplit("/", 1)[-1])
                    got.add(d.creation_data.gallery_image_reference.id.rsplit("/", 1)[-1])
                assert got == {"1.7.1"}, name


def test_a_detached_tag_run_is_read_back_by_refit_status(session, sub, temporal, workers, queue, refit):
    """`--detach` returns with the run still going; `refit status RUN` and `refit refresh status --run RUN` bring the
    journal up to date from the workflow and show it, until it has completed."""
    import time

    seed(session, 3)
    workers(1)
    code, out, err = refit("refresh", "tag", "--suffix", "c", "--force", "--yes", "-o", "json", "--detach",
                           *engine(temporal, queue))
    detached = json.loads(out)
    assert (code, detached["kind"], detached["status"]) == (0, "tag", "running"), (out, err)
    run_id = detached["run"]
    end = time.monotonic() + 120
    while True:
        code, out, err = refit("status", run_id, "-o", "json")
        st = json.loads(out)
        assert code == 0, (out, err)
        assert (st["id"], st["kind"], st["engine"]["name"], st["engine"]["workflow_id"]) == (
            run_id, "tag", "temporal", f"refit-{run_id}")
        if st["status"] == "completed":
            break
        assert st["status"] == "running" and time.monotonic() < end, st
        time.sleep(0.2)
    assert [(r["name"], r["state"], r["detail"]) for r in st["rows"]] == [
        (f"vm-{n:03d}", "tagged", f"OsDiskName=vm-{n:03d}-c") for n in range(1, 4)]
    assert (st["done"], st["total"], st["message"]) == (3, 3, "3 VMs tagged")
    code, out, _ = refit("refresh", "status", "--run", run_id, "-o", "json")
    assert code == 0 and json.loads(out)["run"]["status"] == "completed"
    code, _, err = refit("status", "no-such-run")
    assert (code, " ".join(err.split())) == (
        2, f"error: no run 'no-such-run' in the journal ({Journal().path}); `refit campaign list` shows the runs")
