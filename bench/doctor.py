"""`refit doctor` at scale: a 20,000-resource live emulator fleet (Resource Graph, paged), a 5,000-resource
Terraform plan, and checkov on the same plan file.

    python bench/doctor.py [--vms 6664] [--tf-resources 5000] [--no-checkov]

Each doctor run is a separate `refit doctor` process (time = wall clock of the command, peak memory = its
maximum resident set size). checkov comes from PyPI, installed by this script into .cache/checkov-venv.
The last line is one JSON object with the figures (bench/README.md keeps the table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from refit.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(seconds, peak RSS MiB of the child, result). Children run one at a time, so RUSAGE_CHILDREN's
    maxrss after each run is that run's peak only if it exceeds earlier ones: each is run in a fresh
    intermediate process that reports its own child's peak."""
    probe = ("import resource,subprocess,sys,json,time;t=time.perf_counter();"
             "r=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
             "d=time.perf_counter()-t;"
             "m=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
             "sys.stderr.write(r.stderr);sys.stdout.write(r.stdout);"
             "open(__import__('os').environ['REFIT_BENCH_OUT'],'w').write(json.dumps([d,m,r.returncode]))")
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        e = {**os.environ, **(env or {}), "REFIT_BENCH_OUT": f.name}
        res = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, env=e)
        secs, maxrss_kib, rc = json.loads(Path(f.name).read_text())
    res.returncode = rc
    return secs, maxrss_kib / 1024, res


def tf_plan(n: int, sub: str) -> dict:
    """n resources in groups of four: a Linux VM, its NIC, a data disk and an extension (azurerm types checkov
    and refit both read)."""
    changes, planned = [], []
    rg = f"/subscriptions/{sub}/resourceGroups/rg-bench"
    for i in range(n // 4):
        vm = f"vm-{i:05d}"
        items = [
            ("azurerm_network_interface", f"{vm}-nic", {"name": f"{vm}-nic", "resource_group_name": "rg-bench",
                                                        "location": "eastus", "ip_configuration": [{
                                                            "name": "ip", "subnet_id": f"{rg}/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
                                                            "private_ip_address_allocation": "Dynamic"}]}),
            ("azurerm_linux_virtual_machine", vm, {
                "name": vm, "resource_group_name": "rg-bench", "location": "eastus", "size": "Standard_D2s_v5",
                "zone": str(i % 3 + 1), "admin_username": "azureuser", "disable_password_authentication": True,
                "secure_boot_enabled": i % 2 == 0, "vtpm_enabled": i % 2 == 0, "tags": {"tier": "critical" if i % 10 == 0 else "std"},
                "network_interface_ids": [f"{rg}/providers/Microsoft.Network/networkInterfaces/{vm}-nic"],
                "os_disk": [{"name": f"{vm}-os", "caching": "ReadWrite", "storage_account_type": "Premium_LRS"}],
                "source_image_reference": [{"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                            "sku": "22_04-lts-gen2", "version": "latest"}]}),
            ("azurerm_managed_disk", f"{vm}-data", {"name": f"{vm}-data", "resource_group_name": "rg-bench",
                                                    "location": "eastus", "storage_account_type": "Premium_LRS",
                                                    "create_option": "Empty", "disk_size_gb": 64, "zone": str(i % 3 + 1)}),
            ("azurerm_virtual_machine_extension", f"{vm}-ama", {
                "name": "AzureMonitorLinuxAgent", "virtual_machine_id": f"{rg}/providers/Microsoft.Compute/virtualMachines/{vm}",
                "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent", "type_handler_version": "1.0"}),
        ]
        for rtype, name, values in items:
            tfname = name.replace("-", "_")
            address = f"{rtype}.{tfname}"
            changes.append({"address": address, "mode": "managed", "type": rtype, "name": tfname,
                            "provider_name": "registry.terraform.io/hashicorp/azurerm",
                            "change": {"actions": ["create"], "before": None, "after": values,
                                       "after_unknown": {"id": True}}})
            planned.append({"address": address, "mode": "managed", "type": rtype, "name": tfname,
                            "provider_name": "registry.terraform.io/hashicorp/azurerm", "schema_version": 0,
                            "values": values})
    return {"format_version": "1.2", "terraform_version": "1.9.5",
            "planned_values": {"root_module": {"resources": planned}}, "resource_changes": changes,
            "configuration": {"provider_config": {"azurerm": {"name": "azurerm", "expressions": {
                "subscription_id": {"constant_value": sub}}}}, "root_module": {"resources": []}}}


def checkov_bin() -> Path:
    venv = CACHE / "checkov-venv"
    exe = venv / "bin" / "checkov"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "checkov"], check=True)
    return exe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=6664, help="fleet VMs (3 resources each + 9 shared = ~20,000)")
    ap.add_argument("--tf-resources", type=int, default=5000)
    ap.add_argument("--no-checkov", action="store_true")
    a = ap.parse_args()
    out: dict[str, object] = {}
    refit = [sys.executable, "-m", "refit"]
    with tempfile.TemporaryDirectory() as tmp:
        srv = EmulatorServer(Path(tmp) / "emu", time_scale=1e6).start()
        try:
            from refit.azure import Session, StaticCredential

            e = srv.endpoint
            s = Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)
            t = time.perf_counter()
            seeded = s.control("POST", "scenario", {"name": "fleet", "params": {"vms": a.vms}})
            print(f"seeded fleet: {seeded['resources']} resources in {time.perf_counter() - t:.1f} s")
            s.close()
            env = {"REQUESTS_CA_BUNDLE": str(e.cert)}
            secs, mib, res = timed([*refit, "--endpoint", e.url, "--subscription", e.subscription, "doctor",
                                    "--output", "json"], env)
            if res.returncode != 0:
                raise SystemExit(f"doctor failed: {res.stderr}")
            rep = json.loads(res.stdout)
            print(f"live: {rep['summary']['resources']} resources, {rep['summary']['results']} results, "
                  f"{rep['summary']['fail']} failing, in {secs:.1f} s, peak {mib:.0f} MiB")
            out.update(live_resources=rep["summary"]["resources"], live_doctor_s=round(secs, 2),
                       live_peak_mib=round(mib))
        finally:
            srv.stop()
        plan = Path(tmp) / "plan.json"
        plan.write_text(json.dumps(tf_plan(a.tf_resources, "33333333-3333-3333-3333-333333333333")))
        secs, mib, res = timed([*refit, "doctor", "--terraform-plan", str(plan), "--output", "json"])
        if res.returncode != 0:
            raise SystemExit(f"doctor failed: {res.stderr}")
        rep = json.loads(res.stdout)
        print(f"terraform plan: {a.tf_resources} resources ({rep['summary']['resources']} mapped), "
              f"{rep['summary']['results']} results, in {secs:.1f} s, peak {mib:.0f} MiB")
        out.update(tf_resources=a.tf_resources, tf_doctor_s=round(secs, 2), tf_peak_mib=round(mib))
        if not a.no_checkov:
            exe = checkov_bin()
            version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()
            secs, mib, res = timed([str(exe), "-f", str(plan), "--framework", "terraform_plan", "-o", "json",
                                    "--quiet", "--compact"])
            ck = json.loads(res.stdout) if res.stdout.strip().startswith(("{", "[")) else {}
            summary = (ck[0] if isinstance(ck, list) else ck).get("summary", {}) if ck else {}
            print(f"checkov {version}: {secs:.1f} s, peak {mib:.0f} MiB "
                  f"({summary.get('passed', '?')} passed, {summary.get('failed', '?')} failed checks)")
            out.update(checkov_s=round(secs, 2), checkov_peak_mib=round(mib), checkov_version=version)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
