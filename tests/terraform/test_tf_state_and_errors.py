"""State readers (v4, `terraform show -json`), other formats refused, and user errors: one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tf_fleet as F

from refit.terraform.address import ResourceInstance
from refit.terraform.state import parse_state, read_state


def setup(tmp_path: Path) -> tuple[Path, Path, dict]:
    envs = F.fleet()
    b = F.write_config(tmp_path / "before", envs, "index")
    a = F.write_config(tmp_path / "after", envs, "stable")
    return b, a, F.state_v4(envs, "index")


def test_v4_and_show_json_read_to_the_same_objects(tmp_path):
    doc = F.state_v4(F.fleet(), "index")
    v4 = read_state(F.write_state(tmp_path / "a.json", doc))
    show = read_state(F.write_state(tmp_path / "b.json", F.show_json(doc)))
    assert (v4.format, show.format) == ("v4", "show-json")
    assert v4.terraform_version == "1.12.2" and v4.serial == 57
    assert sorted((str(o.addr), json.dumps(o.attributes, sort_keys=True)) for o in v4.objects) == \
        sorted((str(o.addr), json.dumps(o.attributes, sort_keys=True)) for o in show.objects)
    disk = v4.get(ResourceInstance((("disks", "weu"),), "managed", "azurerm_managed_disk", "data", "2"))
    assert disk is not None and disk.attributes["name"] == "vm-db-01-data-0"


def test_v4_index_key_number_is_a_count_key_and_missing_key_is_no_key():
    doc = {"version": 4, "resources": [
        {"mode": "managed", "type": "azurerm_managed_disk", "name": "d", "provider": F.PROVIDER,
         "instances": [{"index_key": 2.0, "attributes": {}}, {"index_key": "2", "attributes": {}}]},
        {"mode": "managed", "type": "azurerm_resource_group", "name": "rg", "provider": F.PROVIDER,
         "instances": [{"attributes": {"name": "rg"}}]},
    ]}
    st = parse_state(doc)
    assert [str(o.addr) for o in st.objects] == ['azurerm_managed_disk.d[2]', 'azurerm_managed_disk.d["2"]',
                                                 "azurerm_resource_group.rg"]


def test_empty_show_json_is_an_empty_state():
    st = parse_state({"format_version": "1.0"})
    assert st.objects == [] and st.format == "show-json"


@pytest.mark.parametrize(("doc", "message"), [
    ({"version": 3, "serial": 1, "modules": []},
     "state format version 3 (Terraform < 0.12) is not supported; upgrade the state with Terraform >= 0.12 and give "
     "`terraform state pull` output"),
    ({"version": 5, "resources": []},
     "state format version 5 is not supported (refit reads version 4, written by Terraform >= 0.12 and OpenTofu); "
     "run `terraform state pull` with a current Terraform"),
    ({"format_version": "1.2", "planned_values": {}, "resource_changes": []},
     "a plan, not a state; give `terraform state pull` output or `terraform show -json` without a plan file"),
    ({"meta": {"key_provider.pbkdf2.main": "eyJ"}, "encrypted_data": "AAAA", "encryption_version": "v0"},
     "an OpenTofu encrypted state; give `tofu state pull` output instead (it is decrypted)"),
    ([{"version": 4}], "not a Terraform state (a JSON object is expected)"),
    ({"resources": []},
     "not a Terraform state (no `version` or `format_version`); give `terraform state pull` output or "
     "`terraform show -json`"),
])
def test_a_state_of_another_format_is_a_one_line_user_error(tmp_path, run, doc, message):
    b, a, _ = setup(tmp_path)
    s = tmp_path / "other.json"
    s.write_text(json.dumps(doc))
    code, out, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 2
    assert out == ""
    assert err == f"error: {s}: {message}\n"


def test_not_json_and_missing_state_files(tmp_path, run):
    b, a, _ = setup(tmp_path)
    code, _, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", b / "main.tf")
    assert (code, err) == (2, f"error: {b / 'main.tf'}: not JSON (line 1): give a v4 state (`terraform state pull`) "
                              "or `terraform show -json`\n")
    code, _, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", tmp_path / "nope.json")
    assert (code, err) == (2, f"error: {tmp_path / 'nope.json'}: no such state file; give `terraform state pull > "
                              "state.json` output\n")


def test_unparsable_hcl_is_a_one_line_user_error_with_file_and_line(tmp_path, run):
    b, a, doc = setup(tmp_path)
    s = F.write_state(tmp_path / "state.json", doc)
    broken = a / "modules" / "vm_disks" / "main.tf"
    broken.write_text(broken.read_text() + '\nresource "azurerm_managed_disk" "broken" {\n  name = \n}\n')
    code, out, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 2 and out == ""
    line = len(broken.read_text().splitlines()) - 1
    assert err.startswith(f"error: {broken}:{line}:")
    assert err.endswith("cannot parse HCL (UnexpectedToken); fix the syntax (run `terraform validate`)\n")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--emit", "tfmigrate", "--emit must be one of moved, state-mv-sh, state-mv-pwsh, json, not 'tfmigrate'"),
    ("--strategy", "guess", "--strategy must be one of auto, value, state, not 'guess'"),
    ("--output", "yaml", "-o/--output takes text or json, not 'yaml'"),
])
def test_bad_flags_are_user_errors(tmp_path, run, flag, value, message):
    b, a, doc = setup(tmp_path)
    s = F.write_state(tmp_path / "state.json", doc)
    code, out, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s, flag, value)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_json_configuration_files_are_refused_not_half_read(tmp_path, run):
    b, a, doc = setup(tmp_path)
    s = F.write_state(tmp_path / "state.json", doc)
    (a / "extra.tf.json").write_text("{}")
    code, _, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert (code, err) == (2, f"error: {(a / 'extra.tf.json').resolve()}: refit does not read JSON configuration "
                              f"syntax; convert it to .tf or move it out of {a.resolve()}\n")


def test_remote_module_without_terraform_init_is_a_user_error(tmp_path, run):
    b, a, doc = setup(tmp_path)
    s = F.write_state(tmp_path / "state.json", doc)
    main = a / "main.tf"
    main.write_text(main.read_text().replace('source   = "./modules/vm_disks"',
                                             'source   = "Azure/vm-disks/azurerm"\n  version  = "1.2.0"'))
    code, _, err = run("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 2
    assert err == (f"error: {main.resolve()}:25: module 'disks' source 'Azure/vm-disks/azurerm' is not a local path "
                   f"and is not installed in {a.resolve()}/.terraform/modules/modules.json: run `terraform init` (or "
                   f"`terraform get`) in {a.resolve()} first\n")


def test_installed_remote_module_is_read_from_the_init_manifest(tmp_path, run_json):
    b, a, doc = setup(tmp_path)
    s = F.write_state(tmp_path / "state.json", doc)
    installed = a / ".terraform" / "modules" / "disks"
    installed.parent.mkdir(parents=True)
    (a / "modules" / "vm_disks").rename(installed)
    (a / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "disks", "Source": "registry.terraform.io/contoso/vm-disks/azurerm", "Version": "1.2.0",
         "Dir": ".terraform/modules/disks"}]}))
    main = a / "main.tf"
    main.write_text(main.read_text().replace('source   = "./modules/vm_disks"',
                                             'source   = "contoso/vm-disks/azurerm"\n  version  = "1.2.0"'))
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 0
    assert len(report["moves"]) == 16


def test_deposed_and_tainted_objects_are_reported(tmp_path, run_json):
    b, a, doc = setup(tmp_path)
    for r in doc["resources"]:
        if r["type"] == "azurerm_managed_disk" and r["module"] == 'module.disks["neu"]':
            r["instances"][0]["status"] = "tainted"
            deposed = json.loads(json.dumps(r["instances"][1]))
            deposed["deposed"] = "1a2b3c4d"
            r["instances"].append(deposed)
    s = F.write_state(tmp_path / "state.json", doc)
    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 1
    rows = {(r["address"], r["status"]) for r in report["proof"] if r["status"] not in ("keep",)}
    assert rows == {
        ('module.disks["neu"].azurerm_managed_disk.data["vm-app-01-0"]', "replace"),
        ('module.disks["neu"].azurerm_virtual_machine_data_disk_attachment.data["vm-app-01-0"]', "replace"),
        ('module.disks["neu"].azurerm_managed_disk.data["vm-db-01-0"]', "deposed"),
    }
    tainted = next(r for r in report["proof"] if r["address"].endswith('data["vm-app-01-0"]')
                   and r["type"] == "azurerm_managed_disk")
    assert tainted["detail"] == "tainted in the state: Terraform replaces it on the next apply"
    assert [p["kind"] for p in report["problems"]] == ["deposed"]


def test_var_file_supplies_root_variables_and_their_absence_is_named(tmp_path, run_json):
    b, a, doc = setup(tmp_path)
    s = F.write_state(tmp_path / "state.json", doc)
    varfile = tmp_path / "prod.tfvars"
    varfile.write_text((b / "terraform.tfvars").read_text())
    (b / "terraform.tfvars").unlink()
    (a / "terraform.tfvars").unlink()

    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s)
    assert code == 1
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [{
        "severity": "error", "kind": "unevaluable", "address": "module.disks", "where": "after/main.tf:27",
        "message": "after/main.tf:27: Cannot evaluate for_each offline: var.environments has no value: give it in a "
                   ".tfvars file or with --var-file in `var.environments`"}]
    assert {r["status"] for r in report["proof"]} == {"unverified"}

    code, report = run_json("tf", "migrate-keys", "--before", b, "--after", a, "--state", s, "--var-file", varfile)
    assert code == 0 and len(report["moves"]) == 16


def test_rekey_asks_before_writing(tmp_path, run, monkeypatch):
    import io

    b, _, _ = setup(tmp_path)
    main = b / "modules" / "vm_disks" / "main.tf"
    before = main.read_text()
    class Terminal(io.StringIO):  # refit asks only on a terminal (without one it needs --yes)
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, err = run("tf", "rekey", b, "--address", "module.disks.azurerm_managed_disk.data",
                         "--key", '"${sp.vm}-${sp.data_disk.lun}"')
    assert code == 1 and main.read_text() == before
    assert "Write " in out and err == "aborted: nothing changed\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["tf", "migrate-keys", "--before", "b"], "--after is required; see `refit tf migrate-keys --help`"),
    (["tf", "migrate-keys", "--before", "b", "--after", "a", "--state", "s", "--bogus"],
     "unexpected argument(s) --bogus; see `refit tf migrate-keys --help`"),
    (["tf", "rekey", "--key", "k"], "DIR is required; see `refit tf rekey --help`"),
    (["tf", "rekey", "dir", "--key", "k"], "--address is required; see `refit tf rekey --help`"),
])
def test_usage_errors_are_one_line_exit_2(run, argv, message):
    assert run(*argv) == (2, "", f"error: {message}\n")
