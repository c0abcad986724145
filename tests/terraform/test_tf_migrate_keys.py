"""Acceptance of issue 6 (`refit tf migrate-keys`), through the CLI entry point, with exact outcomes.

Fixture: a root module calling `modules/vm_disks` once per environment (module.disks["neu"], ["weu"]); the
module flattens VMs x data disks from env/<name>.json and creates azurerm_managed_disk +
azurerm_virtual_machine_data_disk_attachment per element (tf_fleet.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tf_fleet as F
from tf_fleet import parse_json, parse_moved, parse_pwsh, parse_sh

DISK = "azurerm_managed_disk"
ATTACH = "azurerm_virtual_machine_data_disk_attachment"


def addr(env: str, rtype: str, key: object) -> str:
    k = f"[{key}]" if isinstance(key, int) else f'["{key}"]'
    return f'module.disks["{env}"].{rtype}.data{k}'


def expected_moves(envs: dict[str, F.Env], old_key=str) -> list[tuple[str, str]]:
    """Per module instance (neu, weu), disks first, then attachments (they reference the disks)."""
    out = []
    for env in sorted(envs):
        for rtype in (DISK, ATTACH):
            for i, (vm, d) in enumerate(F.flattened(envs[env])):
                out.append((addr(env, rtype, old_key(i)), addr(env, rtype, f"{vm.name}-{d.lun}")))
    return out


def scenario(tmp_path: Path, *, before: str = "index", after: str = "stable", applied=None, today=None,
             keying: str = "index", name_expr: str = F.DEFAULT_NAME, extra=None, show: bool = False):
    applied = applied or F.fleet()
    today = today or applied
    b = F.write_config(tmp_path / "before", today, before)
    a = F.write_config(tmp_path / "after", today, after, name_expr)
    doc = F.state_v4(applied, keying, extra)
    s = F.write_state(tmp_path / "state.json", F.show_json(doc) if show else doc)
    return b, a, s


def statuses(report: dict) -> dict[str, str]:
    return {r["address"]: r["status"] for r in report["proof"]}


# --- pure refactor ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("show", [False, True], ids=["state-pull-v4", "show-json"])
def test_pure_refactor_moves_every_disk_and_attachment_and_proof_is_all_keep(tmp_path, run_json, show):
    envs = F.fleet()
    b, a, s = scenario(tmp_path, show=show)
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 0
    assert [(m["from"], m["to"]) for m in report["moves"]] == expected_moves(envs)
    assert {m["basis"] for m in report["moves"]} == {"value+state"}
    assert report["summary"] == {"keep": 24, "update": 0, "create": 0, "destroy": 0, "replace": 0,
                                 "blocked": 0, "unverified": 0, "deposed": 0}
    assert set(statuses(report).values()) == {"keep"}
    moved = {r["address"]: r["moved_from"] for r in report["proof"] if r["moved_from"]}
    assert moved == {to: frm for frm, to in expected_moves(envs)}
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["artifact"].count("moved {") == 16


def test_pure_refactor_text_report_says_the_proof_holds(tmp_path, run):
    b, a, s = scenario(tmp_path)
    code, out, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 0, err
    assert "PROOF HOLDS: no existing object is destroyed or replaced (keep 24)" in out
    assert 'from = module.disks["weu"].azurerm_managed_disk.data["2"]' in out
    assert 'to   = module.disks["weu"].azurerm_managed_disk.data["vm-db-01-0"]' in out


def test_global_output_json_is_honoured(tmp_path, run):
    b, a, s = scenario(tmp_path)
    code, out, _ = run("-o", "json", "tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 0
    assert json.loads(out)["ok"] is True


# --- environment JSON changed since the last apply ---------------------------------------------------------


def drifted() -> tuple[dict[str, F.Env], dict[str, F.Env]]:
    applied = F.fleet()
    today = F.fleet()
    today["weu"].vms.insert(1, F.Vm("vm-app-02", [F.Disk(0, 128, "StandardSSD_LRS")]))  # mid-list
    return applied, today


def test_drift_state_mapping_is_right_new_disks_create_existing_keep(tmp_path, run_json):
    applied, today = drifted()
    b, a, s = scenario(tmp_path, applied=applied, today=today)
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 0
    weu = [(m["from"], m["to"], m["basis"]) for m in report["moves"] if '"weu"' in m["from"]]
    assert weu == [
        (addr("weu", rt, "0"), addr("weu", rt, "vm-app-01-0"), "value+state") if i == 0 else
        (addr("weu", rt, "1"), addr("weu", rt, "vm-app-01-1"), "value+state") if i == 1 else
        (addr("weu", rt, str(i)), addr("weu", rt, f"vm-db-01-{i - 2}"), "state")
        for rt in (DISK, ATTACH) for i in range(5)
    ]
    creates = sorted(r["address"] for r in report["proof"] if r["status"] == "create")
    assert creates == sorted([
        'module.disks["weu"].azurerm_linux_virtual_machine.vm["vm-app-02"]',
        'module.disks["weu"].azurerm_network_interface.nic["vm-app-02"]',
        addr("weu", DISK, "vm-app-02-0"), addr("weu", ATTACH, "vm-app-02-0"),
    ])
    existing = [r for r in report["proof"] if r["status"] != "create"]
    assert len(existing) == 24 and {r["status"] for r in existing} == {"keep"}
    # the value mapping is detected as wrong, and said so for every position that shifted
    disagreements = [p for p in report["problems"] if p["kind"] == "disagreement"]
    assert [p["address"] for p in disagreements] == [addr("weu", rt, str(i)) for rt in (DISK, ATTACH) for i in (2, 3, 4)]
    assert disagreements[0]["message"] == (
        f'{addr("weu", DISK, "2")}: value mapping says ["vm-app-02-0"], the state\'s attributes say ["vm-db-01-0"]: '
        "the environment files changed since the last apply, so list positions no longer match the state; using "
        "the state")


def test_drift_value_mapping_is_wrong_and_the_proof_shows_it(tmp_path, run_json):
    applied, today = drifted()
    b, a, s = scenario(tmp_path, applied=applied, today=today)
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s, "--strategy", "value")

    assert code == 1
    st = statuses(report)
    assert {k: v for k, v in st.items() if '"weu"' in k and ".data[" in k} == {
        addr("weu", DISK, "vm-app-01-0"): "keep",
        addr("weu", DISK, "vm-app-01-1"): "keep",
        addr("weu", DISK, "vm-app-02-0"): "replace",
        addr("weu", DISK, "vm-db-01-0"): "replace",
        addr("weu", DISK, "vm-db-01-1"): "replace",
        addr("weu", DISK, "vm-db-01-2"): "create",
        addr("weu", ATTACH, "vm-app-01-0"): "keep",
        addr("weu", ATTACH, "vm-app-01-1"): "keep",
        addr("weu", ATTACH, "vm-app-02-0"): "replace",
        addr("weu", ATTACH, "vm-db-01-0"): "replace",
        addr("weu", ATTACH, "vm-db-01-1"): "replace",
        addr("weu", ATTACH, "vm-db-01-2"): "create",
    }
    row = next(r for r in report["proof"] if r["address"] == addr("weu", DISK, "vm-app-02-0"))
    assert row["moved_from"] == addr("weu", DISK, "2")
    assert row["detail"].startswith('name: "vm-db-01-data-0" -> "vm-app-02-data-0"')
    assert report["artifact"] is None


# --- a name derived from the new key -----------------------------------------------------------------------


def test_name_from_new_key_is_reported_as_replace_and_exits_non_zero(tmp_path, run_json):
    b, a, s = scenario(tmp_path, name_expr='"disk-${each.key}"')
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 1
    disks = [r for r in report["proof"] if r["type"] == DISK]
    assert len(disks) == 8 and {r["status"] for r in disks} == {"replace"}
    row = next(r for r in disks if r["address"] == addr("weu", DISK, "vm-db-01-2"))
    assert row["detail"] == 'name: "vm-db-01-data-2" -> "disk-vm-db-01-2" (forces replacement)'
    assert row["changes"] == [{"attribute": "name", "state": "vm-db-01-data-2", "config": "disk-vm-db-01-2",
                               "forces_replacement": True}]
    # the attachments follow: their managed_disk_id is only known once the new disk exists
    attachments = [r for r in report["proof"] if r["type"] == ATTACH]
    assert {r["status"] for r in attachments} == {"replace"}
    assert report["summary"]["replace"] == 16
    assert report["artifact"] is None
    # state attributes match nothing (the name changed), so the disks were mapped by value only
    assert {m["basis"] for m in report["moves"] if m["type"] == DISK} == {"value"}


# --- a colliding key ---------------------------------------------------------------------------------------


def test_colliding_key_is_reported_as_duplicate_object_key(tmp_path, run_json, run):
    b, a, s = scenario(tmp_path, after="vm-only")
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 1
    main_tf = "after/modules/vm_disks/main.tf"
    lines = (a / "modules" / "vm_disks" / "main.tf").read_text().splitlines()
    disk_line = lines.index('resource "azurerm_managed_disk" "data" {') + 2
    dup = [p for p in report["problems"] if p["kind"] == "duplicate_key"]
    assert {(p["where"], p["address"]) for p in dup} >= {
        (f"{main_tf}:{disk_line}", 'module.disks["weu"].azurerm_managed_disk.data'),
        (f"{main_tf}:{disk_line}", 'module.disks["neu"].azurerm_managed_disk.data'),
    }
    weu = next(p for p in dup if p["address"] == 'module.disks["weu"].azurerm_managed_disk.data')
    assert weu["message"] == (
        f'{main_tf}:{disk_line}: Duplicate object key: Two different items produced the key "vm-app-01" in this '
        "'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable "
        "grouping by key. in `sp.vm`")
    assert weu["severity"] == "error"
    assert report["artifact"] is None and report["moves"] == []

    code, out, _ = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 1
    assert 'Duplicate object key: Two different items produced the key "vm-app-01"' in out


# --- count -> stable for_each ------------------------------------------------------------------------------


def test_count_to_stable_for_each_moves_numeric_keys_to_string_keys(tmp_path, run_json):
    envs = F.fleet()
    b, a, s = scenario(tmp_path, before="count", keying="count")
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s,
                            "--emit", "state-mv-sh")

    assert code == 0
    assert [(m["from"], m["to"]) for m in report["moves"]] == expected_moves(envs, old_key=int)
    assert report["moves"][0] == {"from": 'module.disks["neu"].azurerm_managed_disk.data[0]',
                                  "to": 'module.disks["neu"].azurerm_managed_disk.data["vm-app-01-0"]',
                                  "kind": "resource", "type": DISK, "basis": "value+state"}
    assert set(statuses(report).values()) == {"keep"}
    before = {d[0]["address"]: d[0] for d in [(x["before"],) for x in report["detected"]] if d[0]}
    assert before["module.disks.azurerm_managed_disk.data"]["kind"] == "count"
    lines = [ln for ln in report["artifact"].splitlines() if ln.startswith("terraform state mv")]
    assert lines[0] == ("terraform state mv 'module.disks[\"neu\"].azurerm_managed_disk.data[0]' "
                        "'module.disks[\"neu\"].azurerm_managed_disk.data[\"vm-app-01-0\"]'")


# --- destination already in the state ----------------------------------------------------------------------


def test_destination_already_in_state_is_blocked_and_the_destroy_is_reported(tmp_path, run_json):
    envs = F.fleet()
    e = envs["weu"]
    vm, d = e.vms[0], e.vms[0].disks[0]
    occupant = F.disk_attributes(e, vm, d, name="vm-app-01-data-0-restored")
    b, a, s = scenario(tmp_path, extra=[{"env": "weu", "type": DISK, "key": "vm-app-01-0", "attributes": occupant}])
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)

    assert code == 1
    row = next(r for r in report["proof"] if r["address"] == addr("weu", DISK, "0"))
    assert row["status"] == "blocked"
    assert row["detail"] == (
        f'could not move to {addr("weu", DISK, "vm-app-01-0")}: {addr("weu", DISK, "vm-app-01-0")} is already in '
        f'the state; the object stays at {addr("weu", DISK, "0")}, which the new configuration does not declare, so '
        "Terraform would destroy it (\"Unresolved resource instance address changes\")")
    occupied = next(r for r in report["proof"] if r["address"] == addr("weu", DISK, "vm-app-01-0"))
    assert occupied["status"] == "replace"
    assert occupied["detail"] == 'name: "vm-app-01-data-0-restored" -> "vm-app-01-data-0" (forces replacement)'
    blocked = [p for p in report["problems"] if p["kind"] == "blocked"]
    assert [(p["severity"], p["address"]) for p in blocked] == [("error", addr("weu", DISK, "0"))]
    assert "plans to destroy" in blocked[0]["message"]
    assert report["summary"]["blocked"] == 1 and report["artifact"] is None


# --- the emitted artifacts parse back to exactly the computed mapping -------------------------------------


@pytest.mark.parametrize(("emit", "parse"), [("moved", parse_moved), ("state-mv-sh", parse_sh),
                                             ("state-mv-pwsh", parse_pwsh), ("json", parse_json)])
@pytest.mark.parametrize("keying", ["index", "count"])
def test_emitted_artifacts_parse_back_to_exactly_the_mapping(tmp_path, run_json, emit, parse, keying):
    b, a, s = scenario(tmp_path, before=keying, keying=keying)
    out = tmp_path / f"moves.{emit}"
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s, "--emit", emit,
                            "--out", out)
    assert code == 0
    mapping = [(m["from"], m["to"]) for m in report["moves"]]
    assert mapping == expected_moves(F.fleet(), old_key=int if keying == "count" else str)
    assert parse(out.read_text()) == mapping
    assert report["written"] == str(out)


def test_moved_blocks_written_into_the_new_root_make_a_rerun_idempotent(tmp_path, run_json):
    b, a, s = scenario(tmp_path)
    code, _ = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s, "--out", a / "refit_moved.tf")
    assert code == 0
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 0
    assert len(report["declared_moves"]) == 16 and report["moves"] == []
    assert {m["basis"] for m in report["declared_moves"]} == {"declared"}
    assert set(statuses(report).values()) == {"keep"}


def test_nothing_is_written_when_the_proof_fails(tmp_path, run):
    b, a, s = scenario(tmp_path, name_expr='"disk-${each.key}"')
    out = tmp_path / "moved.tf"
    code, stdout, _ = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s, "--out", out)
    assert code == 1
    assert not out.exists()
    assert "PROOF FAILS" in stdout and "nothing was emitted" in stdout


def test_a_moved_block_inside_the_module_applies_to_every_instance(tmp_path, run_json):
    b, a, s = scenario(tmp_path)
    (a / "modules" / "vm_disks" / "moves.tf").write_text(
        'moved {\n  from = azurerm_managed_disk.data["0"]\n  to   = azurerm_managed_disk.data["vm-app-01-0"]\n}\n')
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 0
    assert [(m["from"], m["to"]) for m in report["declared_moves"]] == [
        (addr("neu", DISK, "0"), addr("neu", DISK, "vm-app-01-0")),
        (addr("weu", DISK, "0"), addr("weu", DISK, "vm-app-01-0")),
    ]
    assert len(report["moves"]) == 14
    assert (addr("neu", DISK, "0"), addr("neu", DISK, "vm-app-01-0")) not in [
        (m["from"], m["to"]) for m in report["moves"]]
    assert set(statuses(report).values()) == {"keep"}
