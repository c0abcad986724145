"""`refit tf rekey`: rewrite a for_each / count in place, touching nothing else, then prove the migration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import tf_fleet as F

DISK = "module.disks.azurerm_managed_disk.data"
ATTACH = "module.disks.azurerm_virtual_machine_data_disk_attachment.data"
KEY = '"${sp.vm}-${sp.data_disk.lun}"'


def test_for_each_rewrite_changes_only_the_for_expression(tmp_path, run_json):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    main = root / "modules" / "vm_disks" / "main.tf"
    before = main.read_text()
    code, out = run_json("tf", "rekey", root, "--address", DISK, "--key", KEY, "--yes")

    assert code == 0
    after = main.read_text()
    assert out["before"] == "{ for index, sp in local.managed_disks : index => sp }"
    assert out["after"] == '{ for sp in local.managed_disks : "${sp.vm}-${sp.data_disk.lun}" => sp }'
    assert out["written"] is True and out["line"] == 63 and out["file"] == str(main.resolve())
    assert after == before.replace(
        'resource "azurerm_managed_disk" "data" {\n  for_each             = ' + F.INDEX_FOR_EACH,
        'resource "azurerm_managed_disk" "data" {\n  for_each             = ' + F.STABLE_FOR_EACH, 1)
    assert after != before
    # the attachment's identical for_each was not touched
    assert after.count(F.INDEX_FOR_EACH) == 1


def test_dry_run_writes_nothing_and_text_shows_the_diff(tmp_path, run):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    main = root / "modules" / "vm_disks" / "main.tf"
    before = main.read_text()
    code, out, _ = run("tf", "rekey", root, "--address", DISK, "--key", KEY, "--dry-run")
    assert code == 0
    assert main.read_text() == before
    assert "-  for_each             = { for index, sp in local.managed_disks : index => sp }" in out
    assert '+  for_each             = { for sp in local.managed_disks : "${sp.vm}-${sp.data_disk.lun}" => sp }' in out
    assert out.rstrip().endswith("dry run: nothing written")


def test_crlf_files_keep_their_line_endings(tmp_path, run_json):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    main = root / "modules" / "vm_disks" / "main.tf"
    crlf = main.read_text().replace("\n", "\r\n").encode()
    main.write_bytes(crlf)
    code, _ = run_json("tf", "rekey", root, "--address", DISK, "--key", KEY, "--yes")
    assert code == 0
    assert main.read_bytes() == crlf.replace(F.INDEX_FOR_EACH.encode(), F.STABLE_FOR_EACH.encode(), 1)


def test_rekey_both_then_migrate_keys_proves_keep(tmp_path, run_json):
    envs = F.fleet()
    before = F.write_config(tmp_path / "before", envs, "index")
    after = tmp_path / "after"
    shutil.copytree(before, after)
    for address in (DISK, ATTACH):
        code, _ = run_json("tf", "rekey", after, "--address", address, "--key", KEY, "--yes")
        assert code == 0
    s = F.write_state(tmp_path / "state.json", F.state_v4(envs, "index"))
    code, report = run_json("tf", "migrate-keys", "--before", before, "--after", after, "--state", s)
    assert code == 0
    assert len(report["moves"]) == 16 and {r["status"] for r in report["proof"]} == {"keep"}


def test_count_rewrite_turns_count_index_into_each(tmp_path, run_json):
    envs = F.fleet()
    before = F.write_config(tmp_path / "before", envs, "count")
    after = tmp_path / "after"
    shutil.copytree(before, after)
    for address in (DISK, ATTACH):
        code, out = run_json("tf", "rekey", after, "--address", address, "--as", "sp", "--key", KEY, "--yes")
        assert code == 0
    assert out["before"] == "count              = length(local.managed_disks)"
    assert out["after"] == f"for_each = {{ for sp in local.managed_disks : {KEY} => sp }}"
    assert out["notes"] == [
        "after/modules/vm_disks/main.tf:76: azurerm_managed_disk.data[count.index] became "
        "azurerm_managed_disk.data[each.key]: re-key azurerm_managed_disk.data with the same key",
    ]
    text = (after / "modules" / "vm_disks" / "main.tf").read_text()
    assert "count.index" not in text
    assert "  managed_disk_id    = azurerm_managed_disk.data[each.key].id\n" in text
    assert "  virtual_machine_id = each.value.vm_id\n" in text
    assert '  name                 = "${each.value.vm}-data-${each.value.data_disk.lun}"\n' in text
    s = F.write_state(tmp_path / "state.json", F.state_v4(envs, "count"))
    code, report = run_json("tf", "migrate-keys", "--before", before, "--after", after, "--state", s)
    assert code == 0
    assert report["moves"][0]["from"] == 'module.disks["neu"].azurerm_managed_disk.data[0]'
    assert {r["status"] for r in report["proof"]} == {"keep"}


def test_address_that_does_not_exist_is_a_user_error(tmp_path, run):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    code, out, err = run("tf", "rekey", root, "--address", "module.disks.azurerm_managed_disk.nope", "--key", KEY,
                         "--yes")
    assert (code, out) == (2, "")
    assert err == (f"error: module.disks.azurerm_managed_disk.nope: no resource azurerm_managed_disk.nope in "
                   f"{(root / 'modules' / 'vm_disks').resolve()} (declared: azurerm_linux_virtual_machine.vm, "
                   "azurerm_managed_disk.data, azurerm_network_interface.nic, "
                   "azurerm_virtual_machine_data_disk_attachment.data); the address does not exist\n")
    code, _, err = run("tf", "rekey", root, "--address", "module.nope.azurerm_managed_disk.data", "--key", KEY)
    assert (code, err) == (2, f"error: module.nope.azurerm_managed_disk.data: no module call 'nope' in "
                              f"{root.resolve()}; the address does not exist\n")


def test_keys_that_would_stay_unstable_or_unknown_are_refused(tmp_path, run):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    where = "cfg/modules/vm_disks/main.tf:63"
    cases = {
        '"${index}"': f"--key uses `index`, the list position ({where}): that is the unstable key being removed; "
                      "build the key from the element's values",
        '"${disk.vm}"': f"--key refers to `disk.vm`: `disk` is not the iteration variable `sp` ({where}), and "
                        "resource attributes are not known at plan time; write the key in terms of the iteration "
                        "variable",
        '"fixed"': "--key does not use the iteration variable `sp`: every instance would get the same key",
        '"${sp.vm': "--key: '\"${sp.vm' is not a valid HCL expression",
    }
    for key, message in cases.items():
        code, out, err = run("tf", "rekey", root, "--address", DISK, "--key", key, "--yes")
        assert (code, out, err) == (2, "", f"error: {message}\n"), key


def test_json_output_requires_yes_or_dry_run(tmp_path, run):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    code, out, err = run("tf", "rekey", root, "--address", DISK, "--key", KEY, "--output", "json")
    assert (code, out, err) == (2, "", "error: --output json needs --yes or --dry-run (refit asks before it writes "
                                       "a file)\n")
    code, out, _ = run("tf", "rekey", root, "--address", DISK, "--key", KEY, "--output", "json", "--dry-run")
    assert code == 0 and json.loads(out)["written"] is False


def test_a_for_each_that_is_not_a_for_expression_is_refused(tmp_path, run):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    code, _, err = run("tf", "rekey", root, "--address", "module.disks", "--key", '"${x}"', "--yes")
    assert (code, err) == (2, "error: cfg/main.tf:27: for_each is `var.environments`, not a `{ for ... }` "
                              "expression; refit rewrites only for expressions: change it by hand\n")


def test_literal_key_references_elsewhere_are_noted(tmp_path: Path, run_json):
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    outputs = root / "modules" / "vm_disks" / "outputs.tf"
    outputs.write_text(outputs.read_text() + '\noutput "first_disk" {\n  value = azurerm_managed_disk.data["0"].id\n}\n')
    code, out = run_json("tf", "rekey", root, "--address", DISK, "--key", KEY, "--dry-run")
    assert code == 0
    assert out["notes"] == ['cfg/modules/vm_disks/outputs.tf:6: azurerm_managed_disk.data["0"] uses a literal key; '
                            "update it to the new key"]


def test_each_value_in_the_key_is_the_element_being_keyed(tmp_path, run_json, run):
    """The doctor's RF-TF-001 fix gives the key as `each.value.X` (it does not know the for expression's variable):
    that is the element, written as the iteration variable; `each.key` is the position being removed."""
    root = F.write_config(tmp_path / "cfg", F.fleet(), "index")
    code, out = run_json("tf", "rekey", root, "--address", DISK, "--key",
                         '"${each.value.vm}-${each.value.data_disk.lun}"', "--dry-run")
    assert code == 0 and out["after"] == '{ for sp in local.managed_disks : "${sp.vm}-${sp.data_disk.lun}" => sp }'
    code, _, err = run("tf", "rekey", root, "--address", DISK, "--key", '"${each.key}"', "--yes")
    assert (code, err) == (2, "error: --key uses `each.key`, the list position (`index`) (cfg/modules/vm_disks/"
                              "main.tf:63): that is the unstable key being removed; build the key from the element's "
                              "values, e.g. --key '\"${sp.vm}-${sp.lun}\"'\n")
    count_root = F.write_config(tmp_path / "count", F.fleet(), "count")
    code, out = run_json("tf", "rekey", count_root, "--address", DISK, "--as", "sp", "--key",
                         '"${each.value.vm}-${each.value.data_disk.lun}"', "--dry-run")
    assert code == 0 and out["after"] == f"for_each = {{ for sp in local.managed_disks : {KEY} => sp }}"
