"""The CLI contract under bad input (issue 10): for every case, the documented exit code (2 bad input, 3 could
not reach Azure or the emulator; docs/cli.md), exactly one line on stderr that names the problem, no
traceback, nothing on stdout, and nothing changed: the fleet byte-identical (every Resource Graph row and
every resource's GET) and the files refit was pointed at untouched.

The cases run in-process (refit.cli.main) against one emulator, with the environment each case names.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path

import pytest

from clitools import parse
from refit.azure import Session, StaticCredential
from refit.cli import main
from refit.emulator.server import EmulatorServer
from snapshots import fleet_digest

E = ["--endpoint", "{url}", "--subscription", "{sub}"]
DEAD = ["--endpoint", "https://127.0.0.1:1", "--subscription", "{sub}"]
VM = "/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/virtualMachines/vm-01"
SEC = "properties.securityProfile.securityType=TrustedLaunch"
V11 = ("/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/galleries/galRefresh/images/"
       "ubuntu-refresh/versions/2026.11.0")

# (id, argv, exit code, a fragment the one stderr line must contain, extra environment)
CASES: list[tuple[str, list[str], int, str, dict[str, str]]] = [
    # ---- global options and usage ----
    ("global-output-yaml", [*E, "-o", "yaml", "inventory"], 2, "-o/--output takes text or json, not 'yaml'", {}),
    ("global-azure-and-endpoint", ["--azure", "--endpoint", "{url}", "inventory"], 2, "exclude each other", {}),
    ("global-endpoint-http", ["--endpoint", "http://127.0.0.1:1", "--subscription", "{sub}", "inventory"], 2,
     "must be an https:// URL", {}),
    ("global-azure-no-subscription", ["--azure", "inventory"], 2, "--azure needs a subscription",
     {"AZURE_SUBSCRIPTION_ID": ""}),
    ("unknown-command", ["frobnicate"], 2, "No such command 'frobnicate'", {}),
    ("unknown-option", [*E, "inventory", "--bogus"], 2, "No such option: --bogus (see `refit inventory --help`)", {}),
    ("int-option-not-a-number", [*E, "refresh", "swap", "--canary", "one"], 2, "Invalid value for '--canary'", {}),
    # ---- unreachable: exit 3 ----
    ("dead-endpoint-inventory", [*DEAD, "inventory"], 3, "cannot reach https://127.0.0.1:1: connection refused", {}),
    ("dead-endpoint-plan", [*DEAD, "plan", "--resource", VM, "--set", SEC], 3, "cannot reach https://127.0.0.1:1", {}),
    ("dead-endpoint-doctor", [*DEAD, "doctor"], 3, "cannot reach https://127.0.0.1:1", {}),
    ("dead-endpoint-swap", [*DEAD, "refresh", "swap", "--dry-run"], 3, "cannot reach https://127.0.0.1:1", {}),
    ("dead-endpoint-no-subscription", ["--endpoint", "https://127.0.0.1:1", "inventory"], 3,
     "cannot reach https://127.0.0.1:1: connection refused", {}),
    ("stale-REFIT_ENDPOINT", ["inventory"], 3, "cannot reach https://127.0.0.1:1",
     {"REFIT_ENDPOINT": "https://127.0.0.1:1", "AZURE_SUBSCRIPTION_ID": "{sub}"}),
    ("untrusted-certificate", [*E, "inventory"], 3, "its TLS certificate is not trusted", {"REQUESTS_CA_BUNDLE": ""}),
    # ---- inventory ----
    ("inventory-kql-syntax", [*E, "inventory", "-q", "Resources | wherex"], 2, "--query: Resource Graph cannot run it", {}),
    ("inventory-empty-query", [*E, "inventory", "-q", " "], 2, "--query is empty", {}),
    ("inventory-query-and-type", [*E, "inventory", "-q", "Resources", "--type", "microsoft.compute/disks"], 2,
     "--query and --type exclude each other", {}),
    ("inventory-bad-type", [*E, "inventory", "--type", "disks'; drop"], 2, "--type takes a resource type", {}),
    ("inventory-output-sarif", [*E, "inventory", "-o", "sarif"], 2, "-o/--output takes text or json, not 'sarif'", {}),
    ("inventory-data-dir-is-file", ["inventory"], 2, "is a file, not a directory", {"REFIT_DATA_DIR": "{file}"}),
    # ---- emulator ----
    ("start-port-out-of-range", ["emulator", "start", "--port", "99999"], 2, "--port must be a TCP port", {}),
    ("start-port-negative", ["emulator", "start", "--port", "-1"], 2, "--port must be a TCP port", {}),
    ("start-identity-port", ["emulator", "start", "--identity-port", "70000"], 2, "--identity-port must be a TCP port", {}),
    ("start-host-not-loopback", ["emulator", "start", "--host", "0.0.0.0"], 2, "--host must be 127.0.0.1", {}),
    ("start-time-scale-zero", ["emulator", "start", "--time-scale", "0", "--data", "{tmp}/new"], 2,
     "--time-scale must be > 0", {}),
    ("start-data-is-file", ["emulator", "start", "--data", "{file}"], 2, "is a file, not a directory", {}),
    ("start-data-under-file", ["emulator", "start", "--data", "{file}/sub"], 2, "is a file, not a directory", {}),
    ("start-already-serving", ["emulator", "start", "--data", "{data}"], 2, "an emulator already serves", {}),
    ("start-unknown-scenario", ["emulator", "start", "--data", "{tmp}/new", "--scenario", "atlantis"], 2,
     "unknown scenario 'atlantis'", {}),
    ("env-nothing-serving", ["emulator", "env", "--data", "{tmp}/none"], 2, "no emulator is serving", {}),
    ("env-data-is-file", ["emulator", "env", "--data", "{file}"], 2, "is a file, not a directory", {}),
    ("seed-unknown-scenario", ["emulator", "seed", "atlantis", "--data", "{data}"], 2, "unknown scenario 'atlantis'", {}),
    ("seed-negative-count", ["emulator", "seed", "fleet", "--set", "vms=-3", "--data", "{data}"], 2,
     "must be a whole number >= 0", {}),
    ("seed-negative-count-add", ["emulator", "seed", "fleet", "--add", "--set", "vms=-3", "--data", "{data}"], 2,
     "must be a whole number >= 0", {}),
    ("seed-unknown-parameter", ["emulator", "seed", "fleet", "--set", "bogus=1", "--data", "{data}"], 2,
     "has no parameter bogus", {}),
    ("seed-set-without-equals", ["emulator", "seed", "fleet", "--set", "vms", "--data", "{data}"], 2,
     "--set takes NAME=VALUE, not 'vms'", {}),
    ("seed-missing-file", ["emulator", "seed", "{tmp}/nope.yaml", "--data", "{data}"], 2, "does not exist", {}),
    ("seed-invalid-yaml", ["emulator", "seed", "{tmp}/broken.yaml", "--data", "{data}"], 2, "broken.yaml", {}),
    ("seed-data-is-file", ["emulator", "seed", "fleet", "--data", "{file}"], 2, "is a file, not a directory", {}),
    ("seed-REFIT_DATA_DIR-is-file", ["emulator", "seed", "fleet"], 2, "is a file, not a directory",
     {"REFIT_DATA_DIR": "{file}"}),
    ("reset-without-yes", ["emulator", "reset", "--data", "{data}"], 2, "pass --yes", {}),
    ("reset-data-is-file", ["emulator", "reset", "--yes", "--data", "{file}"], 2, "is a file, not a directory", {}),
    ("az-login-no-az", ["emulator", "az-login", "--data", "{data}", "--az", "{tmp}/no-az"], 2, "az not found", {}),
    ("az-login-nothing-serving", ["emulator", "az-login", "--data", "{tmp}/none"], 2, "no emulator is serving", {}),
    ("emulator-output-yaml", ["emulator", "env", "--data", "{data}", "-o", "yaml"], 2, "not 'yaml'", {}),
    # ---- plan ----
    ("plan-nothing", [*E, "plan"], 2, "give a goal file, or --resource ID", {}),
    ("plan-goal-and-resource", [*E, "plan", "{tmp}/goal.yaml", "--resource", VM, "--set", SEC], 2,
     "not both", {}),
    ("plan-resource-without-set", [*E, "plan", "--resource", VM], 2, "at least one --set PATH=VALUE", {}),
    ("plan-set-without-equals", [*E, "plan", "--resource", VM, "--set", "properties.x"], 2, "PATH=VALUE", {}),
    ("plan-negative-depth", [*E, "plan", "--resource", VM, "--set", SEC, "--max-depth", "-1"], 2,
     "--max-depth is a number of steps", {}),
    ("plan-negative-expansions", [*E, "plan", "--resource", VM, "--set", SEC, "--max-expansions", "-5"], 2,
     "--max-expansions is a number of states", {}),
    ("plan-missing-goal-file", [*E, "plan", "{tmp}/none.yaml"], 2, "none.yaml", {}),
    ("plan-invalid-goal-yaml", [*E, "plan", "{tmp}/broken.yaml"], 2, "broken.yaml", {}),
    ("plan-unknown-resource", [*E, "plan", "--resource", VM.replace("vm-01", "vm-99"), "--set", SEC], 2, "vm-99", {}),
    ("plan-bad-security-type", [*E, "plan", "--resource", VM, "--set", "properties.securityProfile.securityType=Shiny"],
     2, "Shiny", {}),
    ("plan-out-missing-dir", [*E, "plan", "--resource", VM, "--set", SEC, "--out", "/nonexistent/x.json"], 2,
     "the directory /nonexistent does not exist", {}),
    ("plan-out-is-dir", [*E, "plan", "--resource", VM, "--set", SEC, "--out", "{tmp}"], 2, "is a directory", {}),
    ("plan-o-file", [*E, "plan", "--resource", VM, "--set", SEC, "-o", "plan.json"], 2,
     "files are written with --out FILE", {}),
    # ---- apply ----
    ("apply-nothing", [*E, "apply"], 2, "give a plan file", {}),
    ("apply-missing-plan", [*E, "apply", "{tmp}/none.json", "--yes"], 2, "none.json", {}),
    ("apply-invalid-plan", [*E, "apply", "{tmp}/broken.json", "--yes"], 2, "broken.json", {}),
    ("apply-negative-parallel", [*E, "apply", "{tmp}/plan.json", "--max-parallel", "-1", "--yes"], 2,
     "--max-parallel must be 0", {}),
    ("apply-without-yes", [*E, "apply", "{tmp}/plan.json"], 2, "pass --yes", {}),
    ("apply-unknown-run", [*E, "apply", "--resume", "run-ghost", "--yes"], 2, "no apply run 'run-ghost'", {}),
    ("apply-dry-run-without-plan", [*E, "apply", "--resume", "run-ghost", "--dry-run"], 2, "give the plan file", {}),
    # ---- reserve ----
    ("reserve-no-selection", [*E, "reserve", "--yes"], 2, "select the VMs to protect", {}),
    ("reserve-unknown-vm", [*E, "reserve", "--vm", "vm-99", "--yes"], 2, "no VM 'vm-99' in the subscription", {}),
    ("reserve-unknown-rg", [*E, "reserve", "-g", "rg-ghost", "--yes"], 2, "--resource-group rg-ghost: no VM", {}),
    ("reserve-where-without-equals", [*E, "reserve", "--where", "tier", "--yes"], 2, "a tag filter is KEY=VALUE", {}),
    ("reserve-where-no-match", [*E, "reserve", "--where", "tier=platinum", "--yes"], 2, "no VM has that tag value", {}),
    ("reserve-without-yes", [*E, "reserve", "--vm", "vm-01"], 2, "pass --yes", {}),
    ("reserve-output-yaml", [*E, "reserve", "--vm", "vm-01", "-o", "yaml"], 2, "not 'yaml'", {}),
    # ---- refresh ----
    ("disks-no-image", [*E, "refresh", "disks", "--suffix", "2026-11"], 2, "Missing option '--image'", {}),
    ("disks-empty-suffix", [*E, "refresh", "disks", "--image", V11, "--suffix", "", "--yes"], 2,
     "--suffix must end a managed disk name", {}),
    ("disks-bad-suffix", [*E, "refresh", "disks", "--image", V11, "--suffix", "x;y", "--yes"], 2,
     "not 'x;y'", {}),
    ("disks-unknown-image", [*E, "refresh", "disks", "--image", V11.replace("2026.11.0", "9.9.9"), "--suffix", "n",
                             "--yes"], 2, "9.9.9", {}),
    ("tag-empty-suffix", [*E, "refresh", "tag", "--suffix", "", "--yes"], 2, "--suffix must end a managed disk name", {}),
    ("tag-space-suffix", [*E, "refresh", "tag", "--suffix", "a b", "--yes"], 2, "not 'a b'", {}),
    ("scope-tag-empty", [*E, "refresh", "--scope-tag", "", "swap", "--yes"], 2, "--scope-tag must not be empty", {}),
    ("scope-value-empty", [*E, "refresh", "--scope-value", "", "swap", "--yes"], 2, "--scope-value must not be empty", {}),
    ("disk-tag-empty", [*E, "refresh", "--disk-tag", " ", "swap", "--yes"], 2, "--disk-tag must not be empty", {}),
    ("critical-tag-without-equals", [*E, "refresh", "--critical-tag", "critical", "swap", "--yes"], 2,
     "--critical-tag must be NAME=VALUE", {}),
    ("critical-tag-env", [*E, "refresh", "swap", "--yes"], 2, "--critical-tag must be NAME=VALUE",
     {"REFIT_CRITICAL_TAG": "critical"}),
    ("scope-tag-nothing-in-scope", [*E, "refresh", "--scope-tag", "Refresh", "swap", "--yes"], 2,
     "nothing selected: no VM is tagged Refresh=true", {}),
    ("swap-unknown-rg", [*E, "refresh", "swap", "-g", "rg-ghost", "--yes"], 2, "--resource-group rg-ghost: no VM", {}),
    ("swap-unknown-vm", [*E, "refresh", "swap", "--vm", "vm-99", "--yes"], 2, "no VM 'vm-99' in the subscription", {}),
    ("swap-vm-not-in-scope", [*E, "refresh", "swap", "--vm", "vm-std", "--yes"], 2, "not in scope", {}),
    ("swap-where-no-match", [*E, "refresh", "swap", "--where", "env=mars", "--yes"], 2, "no VM has that tag value", {}),
    ("swap-negative-canary", [*E, "refresh", "swap", "--canary", "-1", "--yes"], 2, "--canary", {}),
    ("swap-batch-percent-zero", [*E, "refresh", "swap", "--batch-percent", "0", "--yes"], 2, "--batch-percent", {}),
    ("swap-batch-percent-150", [*E, "refresh", "swap", "--batch-percent", "150", "--yes"], 2, "--batch-percent", {}),
    ("swap-unhealthy-200", [*E, "refresh", "swap", "--max-unhealthy-percent", "200", "--yes"], 2,
     "--max-unhealthy-percent", {}),
    ("swap-wave-by-region", [*E, "refresh", "swap", "--wave-by", "region", "--yes"], 2, "--wave-by", {}),
    ("swap-negative-grace", [*E, "refresh", "swap", "--grace", "-5", "--yes"], 2, "--grace", {}),
    ("swap-negative-soak", [*E, "refresh", "swap", "--soak", "-1", "--yes"], 2, "--soak", {}),
    ("swap-negative-retries", [*E, "refresh", "swap", "--start-retries", "-1", "--yes"], 2, "--start-retries", {}),
    ("swap-unknown-run", [*E, "refresh", "swap", "--resume", "run-ghost", "--yes"], 2,
     "no swap or rollback run 'run-ghost'", {}),
    ("swap-without-yes", [*E, "refresh", "swap"], 2, "pass --yes", {}),
    ("rollback-unknown-vm", [*E, "refresh", "rollback", "vm-99", "--yes"], 2, "no VM 'vm-99' in the subscription", {}),
    ("rollback-unknown-run", [*E, "refresh", "rollback", "--run", "run-ghost", "--yes"], 2, "no swap run 'run-ghost'", {}),
    ("rollback-run-and-vms", [*E, "refresh", "rollback", "vm-01", "--run", "run-ghost"], 2, "not both", {}),
    ("rollback-nothing", [*E, "refresh", "rollback", "--yes"], 2, "name the VMs to roll back", {}),
    ("status-unknown-run", [*E, "refresh", "status", "--run", "run-ghost"], 2, "run-ghost", {}),
    # ---- campaign controls ----
    ("campaign-pause-unknown-run", [*E, "campaign", "pause", "run-ghost", "--yes"], 2,
     "no run 'run-ghost' in the journal", {}),
    ("campaign-abort-empty-run", [*E, "campaign", "abort", " ", "--yes"], 2, "RUN must not be empty", {}),
    ("campaign-resume-no-run", [*E, "campaign", "resume"], 2, "Missing argument 'RUN'", {}),
    ("campaign-list-yaml", [*E, "campaign", "list", "-o", "yaml"], 2, "-o/--output takes text or json, not 'yaml'", {}),
    ("run-status-unknown-run", [*E, "status", "run-ghost"], 2, "no run 'run-ghost' in the journal", {}),
    ("run-status-empty-run", [*E, "status", " "], 2, "RUN must not be empty", {}),
    ("apply-engine-unknown", [*E, "apply", "--resume", "run-ghost", "--yes", "--engine", "durable"], 2,
     "--engine takes local or temporal, not 'durable'", {}),
    ("tag-engine-no-address", [*E, "refresh", "tag", "--suffix", "x", "--yes", "--engine", "temporal"], 2,
     "--engine temporal needs --temporal HOST:PORT", {"REFIT_TEMPORAL": ""}),
    ("rollout-temporal-bad-address", [*E, "rollout", "--image", "x", "--yes", "--engine", "temporal", "--temporal",
                                      "localhost"], 2, "--temporal takes HOST:PORT, e.g. 127.0.0.1:7233", {}),
    ("prune-keep-zero", [*E, "refresh", "prune", "--keep", "0", "--yes"], 2, "--keep must be >= 1", {}),
    ("prune-no-keep", [*E, "refresh", "prune", "--yes"], 2, "Missing option '--keep'", {}),
    # ---- doctor ----
    ("doctor-output-yaml", [*E, "doctor", "-o", "yaml"], 2, "-o/--output takes text, json or sarif, not 'yaml'", {}),
    ("doctor-fail-on-extreme", [*E, "doctor", "--fail-on", "extreme"], 2, "--fail-on must be one of", {}),
    ("doctor-missing-template", [*E, "doctor", "--template", "{tmp}/none.json"], 2, "none.json", {}),
    ("doctor-invalid-template", [*E, "doctor", "--template", "{tmp}/broken.json"], 2, "broken.json", {}),
    ("doctor-two-inputs", [*E, "doctor", "--template", "{tmp}/broken.json", "--terraform-plan", "{tmp}/broken.json"], 2,
     "exclude each other", {}),
    ("doctor-parameters-alone", [*E, "doctor", "--parameters", "{tmp}/broken.json"], 2, "--parameters needs --template",
     {}),
    ("doctor-critical-tag", [*E, "doctor", "--critical-tag", "critical"], 2, "--critical-tag must be NAME=VALUE", {}),
    ("doctor-unknown-check", [*E, "doctor", "--check", "RF-NOPE-001"], 2, "unknown check id(s) RF-NOPE-001", {}),
    ("doctor-bad-boot-budget", [*E, "doctor", "--boot-budget", "forever"], 2, "--boot-budget must be a duration", {}),
    ("doctor-missing-suppressions", [*E, "doctor", "--suppressions", "{tmp}/none.yaml"], 2, "none.yaml", {}),
    ("doctor-invalid-terraform-plan", [*E, "doctor", "--terraform-plan", "{tmp}/broken.json"], 2, "broken.json", {}),
    ("doctor-missing-snapshot", [*E, "doctor", "--snapshot", "{tmp}/none.json"], 2, "none.json", {}),
    ("doctor-save-snapshot-missing-dir", [*E, "doctor", "--save-snapshot", "/nonexistent/s.json"], 2,
     "the directory /nonexistent does not exist", {}),
    # ---- tf ----
    ("tf-migrate-no-before", ["tf", "migrate-keys", "--after", "{tmp}/tf", "--state", "{tmp}/state.json"], 2,
     "--before is required", {}),
    ("tf-migrate-missing-state", ["tf", "migrate-keys", "--before", "{tmp}/tf", "--after", "{tmp}/tf", "--state",
                                  "{tmp}/none.json"], 2, "none.json", {}),
    ("tf-migrate-bad-emit", ["tf", "migrate-keys", "--before", "{tmp}/tf", "--after", "{tmp}/tf", "--state",
                             "{tmp}/state.json", "--emit", "yaml"], 2, "--emit", {}),
    ("tf-migrate-bad-strategy", ["tf", "migrate-keys", "--before", "{tmp}/tf", "--after", "{tmp}/tf", "--state",
                                 "{tmp}/state.json", "--strategy", "guess"], 2, "--strategy", {}),
    ("tf-migrate-out-missing-dir", ["tf", "migrate-keys", "--before", "{tmp}/tf", "--after", "{tmp}/tf", "--state",
                                    "{tmp}/state.json", "--out", "/nonexistent/m.tf"], 2,
     "the directory /nonexistent does not exist", {}),
    ("tf-rekey-missing-dir", ["tf", "rekey", "{tmp}/none", "--address", "azurerm_managed_disk.data", "--key", '"k"',
                              "--yes"], 2, "none", {}),
    ("tf-rekey-unknown-address", ["tf", "rekey", "{tmp}/tf", "--address", "azurerm_managed_disk.nope", "--key",
                                  '"${each.value.vm}"', "--yes"], 2, "azurerm_managed_disk.nope", {}),
    ("tf-rekey-no-key", ["tf", "rekey", "{tmp}/tf", "--address", "azurerm_managed_disk.data", "--yes"], 2,
     "--key is required", {}),
    ("tf-rekey-unparsable-key", ["tf", "rekey", "{tmp}/tf", "--address", "azurerm_managed_disk.data", "--key",
                                 '"${each.value.vm', "--yes"], 2, "--key", {}),
    ("tf-output-yaml", ["tf", "rekey", "{tmp}/tf", "--address", "azurerm_managed_disk.data", "--key", '"k"', "-o",
                        "yaml"], 2, "not 'yaml'", {}),
    # ---- demo ----
    ("demo-zero-vms", ["demo", "--vms", "0"], 2, "--vms must be between 1 and 500", {}),
    ("demo-too-many-vms", ["demo", "--vms", "1000"], 2, "--vms must be between 1 and 500", {}),
]

TF_MAIN = """
locals {
  disks = [{ vm = "vm-a", lun = 0 }, { vm = "vm-b", lun = 0 }]
}

resource "azurerm_managed_disk" "data" {
  for_each             = { for i, d in local.disks : i => d }
  name                 = "${each.value.vm}-data-${each.value.lun}"
  location             = "eastus"
  resource_group_name  = "rg-app"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
  disk_size_gb         = 64
}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """One emulator with a fleet (seed 003's VMs, the misconfig scenario), and the files the cases point at."""
    root = tmp_path_factory.mktemp("corpus")
    srv = EmulatorServer(root / "emulator", time_scale=10000.0).start()
    e = srv.endpoint
    s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
    s.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 3}})
    s.control("POST", "scenario", {"name": "misconfig", "reset": False})
    files = root / "files"
    files.mkdir()
    (files / "a-file").write_text("not a directory\n")
    (files / "broken.yaml").write_text("goals: [unclosed\n")
    (files / "broken.json").write_text("{not json\n")
    (files / "goal.yaml").write_text(f"goals:\n  - resource: {VM.format(sub=e.subscription)}\n"
                                     f"    properties: {{properties.securityProfile.securityType: TrustedLaunch}}\n")
    (files / "tf").mkdir()
    (files / "tf" / "main.tf").write_text(TF_MAIN)
    (files / "state.json").write_text(json.dumps({"version": 4, "terraform_version": "1.9.0", "serial": 1,
                                                  "lineage": "x", "outputs": {}, "resources": []}))
    plan = files / "plan.json"
    with pytest.MonkeyPatch.context() as mp, pytest.raises(SystemExit) as ex:
        mp.setenv("REQUESTS_CA_BUNDLE", str(e.cert))
        mp.setenv("REFIT_STATE_DIR", str(root / "state"))
        main(["--endpoint", e.url, "--subscription", e.subscription, "plan", "--resource",
              VM.format(sub=e.subscription), "--set", SEC, "--out", str(plan)])
    assert ex.value.code == 0 and plan.is_file()
    try:
        yield srv, s, files
    finally:
        s.close()
        srv.stop()


def files_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.stat()
        h.update(f"{p.relative_to(root)} {st.st_mtime_ns} {st.st_size}".encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_the_corpus_is_big_enough_and_covers_every_command():
    assert len(CASES) >= 80
    assert len({c[0] for c in CASES}) == len(CASES)
    firsts = {next(a for a in argv if not a.startswith("-") and "{" not in a and a != "https://127.0.0.1:1")
              for _, argv, *_ in CASES}
    assert {"inventory", "emulator", "plan", "apply", "reserve", "refresh", "doctor", "tf", "demo", "campaign"} <= firsts


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, fleet, monkeypatch, capsys, tmp_path):
    name, argv, code, fragment, env = case
    srv, session, files = fleet
    values = {"url": srv.url, "sub": srv.endpoint.subscription, "tmp": str(files), "file": str(files / "a-file"),
              "data": str(srv.data_dir)}
    monkeypatch.setenv("REFIT_STATE_DIR", str(files.parent / "state"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(srv.cert))
    monkeypatch.setenv("REFIT_DATA_DIR", str(tmp_path / "default-data"))
    for k in ("REFIT_ENDPOINT", "AZURE_SUBSCRIPTION_ID", "REFIT_CRITICAL_TAG", "REFIT_SCOPE_TAG"):
        monkeypatch.delenv(k, raising=False)
    def fill(text: str) -> str:  # {url}, {sub}, ... (not str.format: Terraform's ${...} stays as it is)
        return re.sub(r"(?<!\$)\{(\w+)\}", lambda m: values.get(m[1], m[0]), text)

    for k, val in env.items():
        monkeypatch.setenv(k, fill(val))
    args = [fill(a) for a in argv]
    before, before_files = fleet_digest(session), files_digest(files)
    capsys.readouterr()
    with pytest.raises(SystemExit) as ex:
        main(args)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert (ex.value.code, out) == (code, ""), (name, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (name, err)
    assert "Traceback" not in err and fragment in lines[0], (name, lines[0])
    # A command the line suggests is one of today's CLI, as printed (parsed as `refit` would; its values here)
    for suggested in re.findall(r"`(refit [^`]*)`", lines[0]):
        words = shlex.split(re.sub(r"\$\([^)]*\)", "VALUE", suggested))[1:]
        parse(words)  # raises if it names a command or option that does not exist
    assert fleet_digest(session) == before, f"{name}: the fleet changed"
    assert files_digest(files) == before_files, f"{name}: a file changed"
