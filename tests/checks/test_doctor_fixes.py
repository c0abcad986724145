"""Every fix the doctor prints works as printed (issue 10, scope 6 and its second acceptance bullet).

For every check of the registry, on the resource that fails it: the shell variables docs/doctor.md defines are
set from that resource (its id, its document, the finding's message), each line of the check's `fix.az` runs in
bash - `az` is the real az CLI logged in to the emulator, `refit` is `python -m refit --endpoint ...
--subscription ...` - and exits 0; then `refit doctor --check ID -o json` no longer reports the resource failing
(a recreate fix: the new resource passes), and no other (check, resource) fails that did not fail before.

Live checks run on the `misconfig` scenario (tests/checks/test_doctor_misconfig.py EXPECTED names the resource
that fails each). RF-VMSS-003 (templates and plans only: Azure refuses the state) runs on the live scale set a
template would switch to Rolling; RF-TF-001 (Terraform only) on a configuration keyed by list position, judged by
refit's own Terraform evaluation. A check that none of these reach fails the coverage test: no skip list.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_doctor_misconfig import RG, expected

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parents[1] / "sources"))
from az_venv import ensure_az
from doctor_fixtures import Plan

from refit.arm import location
from refit.arm.ids import ResourceId, id_key
from refit.azure import Session, StaticCredential
from refit.checks.catalog.tf_001 import positional
from refit.checks.model import FAIL, PASS
from refit.checks.registry import all_checks, get
from refit.checks.run import run
from refit.cli.emulator import az_env
from refit.emulator.server import EmulatorServer
from refit.platform import regions
from refit.sources import live
from refit.terraform.config import Config, World
from refit.terraform.state import read_state

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
C = "Microsoft.Compute"
TEMPLATE_ONLY = {"RF-VMSS-003": "vmss-spotmix"}  # the live set a template would switch to Rolling
TERRAFORM_ONLY = {"RF-TF-001"}
RECREATED = {"RF-VMSS-010": "{VMSS_ID}-v2", "RF-VMSS-014": "{VMSS_ID}-v2",
             "RF-GAL-003": "{DEF_ID}/versions/{NEW_VERSION}"}  # the new resource, which must pass the check
TIME_SCALE = 10000.0  # as tests/conftest.py: a 45 s deallocate takes 4.5 ms; nothing asserts on time
VARIABLE = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)\}?")


class Lab:
    def __init__(self, root: Path, server: EmulatorServer, session: Session, env: dict[str, str]):
        self.root, self.server, self.session, self.env = root, server, session, env
        self.sub = server.endpoint.subscription

    def seed(self) -> None:
        assert self.session.control("POST", "scenario", {"name": "misconfig"})["scenario"] == "misconfig"

    def refit(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["refit", *args], env=self.env, cwd=cwd or self.root, capture_output=True, text=True,
                              timeout=600, check=False)

    def doctor(self, *args: str, cwd: Path | None = None) -> list[dict]:
        r = self.refit("doctor", *args, "-o", "json", cwd=cwd)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["findings"]

    def results(self) -> dict[tuple[str, str], str]:
        """(check, resource id key) -> status of every check over the live fleet, through Resource Graph."""
        return {(x.check, id_key(x.resource)): x.status for x in run(live.load(self.session)).results}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    az, _ = ensure_az()
    root = tmp_path_factory.mktemp("fixes")
    server = EmulatorServer(root / "emulator", time_scale=TIME_SCALE).start()
    ep = server.endpoint
    session = Session(ep.url, ep.subscription, StaticCredential(), ep.cert, emulator=True)
    bin_dir, home = root / "bin", root / "home"
    bin_dir.mkdir()
    home.mkdir()
    (bin_dir / "az").symlink_to(az)
    wrapper = bin_dir / "refit"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m refit --endpoint {ep.url} '
                       f'--subscription {ep.subscription} "$@"\n')
    wrapper.chmod(0o755)
    # HOME: az --generate-ssh-keys writes ~/.ssh, refit keeps its journals under the user data dir.
    env = {**os.environ, **az_env(ep, root / "az-config"), "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "HOME": str(home), "COLUMNS": "250"}
    env.pop("REFIT_DATA_DIR", None)
    login = subprocess.run([sys.executable, "-m", "refit", "emulator", "az-login", "--data", str(server.data_dir),
                            "--az", str(az), "--config-dir", str(root / "az-config")],
                           env=env, capture_output=True, text=True, timeout=300, check=False)
    assert login.returncode == 0, login.stderr
    try:
        yield Lab(root, server, session, env)
    finally:
        session.close()
        server.stop()


def run_fix(lab: Lab, check_id: str, values: dict[str, str], cwd: Path) -> list[str]:
    """Each line of the fix, as printed, in bash with the variables set; comments are what they say."""
    ran = []
    for line in get(check_id).fix.az.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        missing = sorted(set(VARIABLE.findall(line)) - set(values))
        assert not missing, f"{check_id}: `{line}` uses {missing}, which the test does not set"
        r = subprocess.run(["bash", "-uc", line], env={**lab.env, **values}, cwd=cwd, capture_output=True,
                           text=True, timeout=600, check=False)
        assert r.returncode == 0, f"{check_id}: `{line}` exited {r.returncode}: {r.stderr.strip()[-2000:]}"
        ran.append(line)
    assert ran, f"{check_id}: the fix has no command"
    return ran


# ---- the variables (docs/doctor.md, "Variables in the fixes") ------------------------------------------------------
def from_id(rid: str) -> dict[str, str]:
    r = ResourceId.parse(rid)
    out = {"SUB": r.subscription, "RG": r.resource_group or ""}
    names = {t.lower(): n for t, n in r.types}
    for arm_type, var in (("virtualMachineScaleSets", "VMSS"), ("virtualMachines", "VM"), ("galleries", "GAL"),
                          ("images", "DEF"), ("versions", "VERSION"), ("capacityReservationGroups", "CRG"),
                          ("capacityReservations", "CR"), ("autoscalesettings", "AS"), ("imageTemplates", "TEMPLATE")):
        if arm_type.lower() in names:
            out[var] = names[arm_type.lower()]
    if "VMSS" in out:
        out["VMSS_ID"] = rid
    if "VM" in out:
        out["VM_ID"] = rid
    if "DEF" in out:
        out["DEF_ID"] = rid.split("/versions/")[0]
    return out


def named(message: str, pattern: str) -> dict[str, str]:
    m = re.search(pattern, message)
    assert m, f"the finding does not name what the fix needs ({pattern!r}): {message}"
    return m.groupdict()


def image_urn(ref: dict) -> str:
    return ":".join(str(ref[k]) for k in ("publisher", "offer", "sku", "version"))


def variables(lab: Lab, check_id: str, rid: str, doc: dict, message: str) -> dict[str, str]:
    out = from_id(rid)
    out["LOCATION"] = location.normalize(doc["location"])
    props = doc.get("properties") or {}
    gallery = f"/subscriptions/{out['SUB']}/resourceGroups/{out['RG']}/providers/{C}/galleries/galMis"
    if check_id in ("RF-AIB-001", "RF-AIB-002"):  # the template as it was submitted
        out["IDENTITY"] = next(iter(doc["identity"]["userAssignedIdentities"]))
        out["IMAGE_SOURCE"] = image_urn(props["source"])
        dest = ResourceId.parse(props["distribute"][0]["galleryImageId"])
        out["GAL"], out["DEF"] = dest.types[0][1], dest.types[1][1]
    elif check_id == "RF-AIB-003":
        out.update(named(message, r"\(principal (?P<PRINCIPAL_ID>[0-9a-f-]+)\)"))
    elif check_id == "RF-CR-001":
        pass
    elif check_id == "RF-CR-002":
        out.update(named(message, r"(?P<CR>[\w-]+): (?P<N>\d+) allocated VMs"))
    elif check_id == "RF-GAL-001":
        out.update(named(message, r"(?P<REGION>\w[\w ]*) \(used by"))
    elif check_id == "RF-GAL-002":
        out.update(named(message, r"\((?P<REGION>[\w ]+): \d+\)"))
        target = next(t for t in props["publishingProfile"]["targetRegions"]
                      if location.same(t["name"], out["REGION"]))
        out["STORAGE"] = target["storageAccountType"]
    elif check_id == "RF-GAL-003":
        out.update(named(message, r"\((?P<REGION>[\w ]+): Standard_LRS\)"))
        out["NEW_VERSION"] = "1.0.1"
    elif check_id == "RF-GAL-004":
        out["VERSION"] = "1.0.0"  # the known-good version (the definition's only one)
    elif check_id == "RF-GAL-005":
        out.update(named(message, r"used by (?P<VM>[\w-]+) \(OS disk"))
        out["VM_ID"] = f"/subscriptions/{out['SUB']}/resourceGroups/{out['RG']}/providers/{C}/virtualMachines/{out['VM']}"
        out["NEW_VERSION"] = "2.0.0"
        # the new bake's OS disk (an Image Builder run or a build VM's disk): the scenario's golden disk
        out["SOURCE_ID"] = f"/subscriptions/{out['SUB']}/resourceGroups/{out['RG']}/providers/{C}/disks/golden-mis"
    elif check_id == "RF-IMG-001":
        out.update(named(message, r"managed image (?P<IMAGE>[\w-]+)"))
        out.update({"GAL": "galMis", "DEF": "legacy-app", "PUBLISHER": "contoso", "OFFER": "mis", "SKU": "legacy-app"})
    elif check_id == "RF-VMSS-001":  # the definition the set's image belongs to, which it should track
        image = ResourceId.parse(props["virtualMachineProfile"]["storageProfile"]["imageReference"]["id"])
        out["GAL"], out["DEF"] = image.types[0][1], image.types[1][1]
    elif check_id == "RF-NET-001":  # the NSG flow log: its storage account, the virtual network the finding names
        out["FLOW_LOG"] = ResourceId.parse(rid).name
        out["STORAGE_ID"] = props["storageId"]
        out["RETENTION_DAYS"] = str((props.get("retentionPolicy") or {}).get("days") or 0)
        out.update(named(message, r"log virtual network (?P<VNET_ID>/subscriptions/\S+?/virtualNetworks/[\w-]+)"))
        out["VNET"] = ResourceId.parse(out["VNET_ID"]).name
    elif check_id == "RF-VM-004":  # the stale Entra device the finding names
        out.update(named(message, r"Entra device object (?P<DEVICE_ID>[0-9a-f-]+) "))
    elif check_id == "RF-VM-002":
        out["OS_DISK"] = props["storageProfile"]["osDisk"]["name"]
    elif check_id == "RF-RES-001":
        out.update(named(message, r"replicated to (?P<DR_REGION>\w+) \(DR region"))
        out["DR_STORAGE"] = "Standard_ZRS" if regions.has_zones(out["DR_REGION"]) else "Standard_LRS"
    elif check_id == "RF-RES-002":
        out.update(named(message, r"(?P<CR>[\w-]+) reserves (?P<CAPACITY>\d+) x (?P<SIZE>\w+) .*DR region "
                                  r"(?P<DR_REGION>\w+)"))
    elif check_id == "RF-RES-003":
        out.update(named(message, r"move one to zone (?P<ZONE>\d)$"))
    elif check_id in ("RF-VMSS-010", "RF-VMSS-014"):
        vmp = props["virtualMachineProfile"]
        out["SIZE"], out["CAPACITY"] = doc["sku"]["name"], str(doc["sku"]["capacity"])
        nic = vmp["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
        out["SUBNET_ID"] = nic["ipConfigurations"][0]["properties"]["subnet"]["id"]
        ref = vmp["storageProfile"]["imageReference"]
        out["IMAGE"] = ref.get("id") or image_urn(ref)
        if check_id == "RF-VMSS-014":
            # the Trusted Launch capable (Gen2) counterpart of the set's image: the Gen2 SKU of a platform
            # image; for a managed image, the TrustedLaunchSupported gallery definition it was published to
            out["TL_IMAGE"] = (f"{gallery}/images/app" if ref.get("id")
                               else image_urn({**ref, "sku": ref["sku"].removesuffix("-gen2") + "-gen2"}))
    return out


# ---- the tests ----------------------------------------------------------------------------------------------------
def live_targets(sub: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for check_id, rid in sorted(expected(sub)):
        out.setdefault(check_id, []).append(rid)
    return out


def test_every_check_has_a_fix_run_here():
    """Live checks by the scenario's failing resource, the others by their own case below: nothing is left out."""
    ids = {c.id for c in all_checks()}
    live_ids = {c.id for c in all_checks() if "live" in c.inputs}
    assert set(live_targets("s")) == live_ids
    assert ids - live_ids == set(TEMPLATE_ONLY) | TERRAFORM_ONLY


def test_every_variable_of_every_fix_is_documented():
    doc = (REPO / "docs" / "doctor.md").read_text()
    section = doc.split("## Variables in the fixes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`\$([A-Z][A-Z0-9_]*)`", section))
    used = {v for c in all_checks() for v in VARIABLE.findall(c.fix.az)}
    assert used - documented == set()
    assert documented - used == set()


@pytest.mark.parametrize("check_id", sorted(c.id for c in all_checks() if "live" in c.inputs))
def test_live_fix_works_as_printed(lab, check_id, tmp_path):
    for rid in live_targets(lab.sub)[check_id]:
        lab.seed()
        source = live.load(lab.session)
        before = {(x.check, id_key(x.resource)): x for x in run(source).results}
        finding = before.get((check_id, id_key(rid)))
        assert finding is not None and finding.status == FAIL, f"{check_id}: {rid} does not fail it"
        values = variables(lab, check_id, rid, source.world.get(rid), finding.message)
        work = tmp_path / ResourceId.parse(rid).name
        work.mkdir()
        run_fix(lab, check_id, values, work)

        left = [f for f in lab.doctor("--check", check_id, cwd=work)
                if id_key(f["resource"]) == id_key(rid) and f["status"] == FAIL]
        assert left == []
        after = lab.results()
        new = sorted(k for k, s in after.items() if s == FAIL and (k not in before or before[k].status != FAIL))
        assert new == [], f"{check_id}: the fix made these fail"
        if check_id in RECREATED:
            assert after[(check_id, id_key(RECREATED[check_id].format(**values)))] == PASS


def arm_template(doc: dict, mode: str | None = None) -> dict:
    props = json.loads(json.dumps(doc["properties"]))
    for k in ("provisioningState", "uniqueId", "timeCreated"):
        props.pop(k, None)
    if mode:
        props["upgradePolicy"] = {"mode": mode}
    res = {"type": doc["type"], "apiVersion": "2024-07-01", "name": doc["name"], "location": doc["location"],
           "sku": doc["sku"], "properties": props}
    if doc.get("zones"):
        res["zones"] = doc["zones"]
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": [res]}


def test_template_only_fix_works_as_printed(lab, tmp_path):
    """RF-VMSS-003: the template that switches a set without a health source to Rolling fails; after the fix on
    the live set, the same change - the set as it now is, exported - passes."""
    (check_id, name), = TEMPLATE_ONLY.items()
    lab.seed()
    rid = f"/subscriptions/{lab.sub}/resourceGroups/{RG}/providers/{C}/virtualMachineScaleSets/{name}"
    source = live.load(lab.session)
    before = {(x.check, id_key(x.resource)): x.status for x in run(source).results}
    bad = tmp_path / "rolling.json"
    bad.write_text(json.dumps(arm_template(source.world.get(rid), mode="Rolling")))
    found = lab.doctor("--template", str(bad), "--resource-group", RG, "--check", check_id)
    assert [(f["resource"], f["status"]) for f in found] == [(rid, FAIL)]

    run_fix(lab, check_id, from_id(rid), tmp_path)
    now = live.load(lab.session).world.get(rid)
    assert now["properties"]["upgradePolicy"]["mode"] == "Rolling"
    good = tmp_path / "exported.json"
    good.write_text(json.dumps(arm_template(now)))
    assert lab.doctor("--template", str(good), "--resource-group", RG, "--check", check_id) == []
    after = lab.results()
    assert sorted(k for k, s in after.items() if s == FAIL and before.get(k) != FAIL) == []


TF_CONFIG = """locals {
  disks = [
    { vm = "vm1", lun = 0, size = 64 },
    { vm = "vm1", lun = 1, size = 128 },
    { vm = "vm2", lun = 0, size = 64 },
  ]
}

resource "azurerm_managed_disk" "data" {
  for_each             = { for i, d in local.disks : i => d }
  name                 = "${each.value.vm}-data-${each.value.lun}"
  location             = "westeurope"
  resource_group_name  = "rg-data"
  storage_account_type = "Premium_LRS"
  create_option        = "Empty"
  disk_size_gb         = each.value.size
}
"""
TF_SUB = "6f1c5e2a-7d3b-4c1e-9a8f-2b4d6e8f0a1c"
DISK = ("managed", "azurerm_managed_disk", "data")


def tf_state(disks: list[tuple[str, str, int]]) -> dict:
    """terraform.tfstate (v4) of the applied configuration: one disk per index key."""
    def obj(key: str, name: str, size: int) -> dict:
        return {"index_key": key, "schema_version": 1, "attributes": {
            "id": f"/subscriptions/{TF_SUB}/resourceGroups/rg-data/providers/{C}/disks/{name}", "name": name,
            "location": "westeurope", "resource_group_name": "rg-data", "storage_account_type": "Premium_LRS",
            "create_option": "Empty", "disk_size_gb": size, "zone": "", "tags": {}}}
    return {"version": 4, "terraform_version": "1.10.5", "serial": 3, "lineage": "f1x3", "outputs": {},
            "resources": [{"mode": "managed", "type": DISK[1], "name": DISK[2],
                           "provider": 'provider["registry.terraform.io/hashicorp/azurerm"]',
                           "instances": [obj(k, n, s) for k, n, s in disks]}]}


def tf_plan_of(cfg: Path) -> tuple[list, Path]:
    """The instance keys refit's Terraform evaluation gives the disks, and the plan (`terraform show -json`
    shape) of creating them with the attribute values it evaluates."""
    mi = World(Config(cfg), read_state(cfg / "terraform.tfstate")).root
    exp = mi.expansion(*DISK)
    block = mi.definition.resources[DISK]
    plan = Plan(TF_SUB)
    for key in exp.keys:
        each, count = mi.instance_env(exp, key)
        values = {a: mi.eval(block.attrs[a], each=each, count=count) for a in
                  ("name", "location", "resource_group_name", "storage_account_type", "create_option")}
        plan.add(DISK[1], DISK[2], {**values, "disk_size_gb": int(mi.eval(block.attrs["disk_size_gb"], each=each))},
                 index=key)
    out = cfg.parent / f"plan-{cfg.name}-{len(list(cfg.parent.glob('plan-*')))}.json"
    out.write_text(json.dumps(plan.json()))
    return exp.keys, out


def test_terraform_only_fix_works_as_printed(lab, tmp_path):
    """RF-TF-001 on `for_each = { for i, d in local.disks : i => d }`: after the printed fix (rekey with
    `each.value.X`, migrate-keys), refit's evaluation keys the disks by what they are and the state moves."""
    check_id = "RF-TF-001"
    cfg = tmp_path / "infra"
    cfg.mkdir()
    (cfg / "main.tf").write_text(TF_CONFIG)
    (cfg / "terraform.tfstate").write_text(json.dumps(tf_state([("0", "vm1-data-0", 64), ("1", "vm1-data-1", 128),
                                                                 ("2", "vm2-data-0", 64)])))
    keys, plan = tf_plan_of(cfg)
    assert positional(keys) == "index"
    found = lab.doctor("--terraform-plan", str(plan), "--check", check_id)
    assert len(found) == 3 and {f["status"] for f in found} == {FAIL}
    address = named(found[0]["message"], r"^(?P<ADDRESS>[\w.]+)\[")

    run_fix(lab, check_id, address, cfg)
    keys, plan = tf_plan_of(cfg)
    assert sorted(keys) == ["vm1-0", "vm1-1", "vm2-0"] and positional(keys) is None
    assert lab.doctor("--terraform-plan", str(plan), "--check", check_id) == []
    moved = re.findall(r"moved \{\n  from = (.*)\n  to   = (.*)\n\}", (cfg / "refit_moved.tf").read_text())
    assert sorted(moved) == [(f'azurerm_managed_disk.data["{old}"]', f'azurerm_managed_disk.data["{new}"]')
                             for old, new in (("0", "vm1-0"), ("1", "vm1-1"), ("2", "vm2-0"))]
