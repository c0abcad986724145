"""A restart on the same data dir keeps every resource, in-flight operations and the simulated time."""

from __future__ import annotations

from azure.mgmt.compute import models as cm

from refit.azure import Session, StaticCredential
from refit.emulator.server import EmulatorServer


def _session(srv):
    e = srv.endpoint
    return Session(e.url, e.subscription, StaticCredential(), e.cert, emulator=True)


def test_restart_keeps_the_fleet(tmp_path):
    data = tmp_path / "emu"
    srv = EmulatorServer(data, time_scale=10000).start()
    with _session(srv) as s:
        s.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 4}})
        s.compute.virtual_machines.begin_deallocate("rg-refresh", "vm-02").result()
        s.resources.tags.begin_update_at_scope(
            s.compute.virtual_machines.get("rg-refresh", "vm-03").id,
            {"operation": "Merge", "properties": {"tags": {"owner": "me"}}}).result()
        before = sorted((r["id"], r["name"]) for r in s.graph_query("Resources | project id, name"))
        sim_before = s.control("GET", "clock")["now"]
        ident = srv.emulator.settings["identity_header"]
        cert = srv.cert.read_bytes()
    srv.stop()
    assert not (data / "endpoint.json").exists()

    srv2 = EmulatorServer(data, time_scale=10000).start()
    try:
        with _session(srv2) as s:
            assert sorted((r["id"], r["name"]) for r in s.graph_query("Resources | project id, name")) == before
            assert len(before) == 1 + 2 + 1 + 1 + 2 + 4 * 3  # vnet, golden disks, gallery, definition, versions, VMs+NICs+disks
            statuses = s.compute.virtual_machines.instance_view("rg-refresh", "vm-02").statuses
            assert [st.code for st in statuses][-1] == "PowerState/deallocated"
            assert s.compute.virtual_machines.get("rg-refresh", "vm-03").tags["owner"] == "me"
            assert s.compute.disks.get("rg-refresh", "vm-02-2026-10").disk_state == "Reserved"
            assert s.control("GET", "clock")["now"] >= sim_before
        assert srv2.emulator.settings["identity_header"] == ident and srv2.cert.read_bytes() == cert
    finally:
        srv2.stop()


def test_restart_mid_operation_finishes_it(tmp_path):
    data = tmp_path / "emu"
    srv = EmulatorServer(data, time_scale=1.0).start()
    with _session(srv) as s:
        s.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
        poller = s.compute.virtual_machines.begin_deallocate("rg-refresh", "vm-01")
        assert not poller.done()
    srv.stop()
    srv2 = EmulatorServer(data, time_scale=1.0).start()
    try:
        with _session(srv2) as s:
            assert [st.code for st in s.compute.virtual_machines.instance_view("rg-refresh", "vm-01").statuses] == [
                "ProvisioningState/updating", "PowerState/deallocating"]
            s.control("POST", "clock", {"advance": 120})
            assert [st.code for st in s.compute.virtual_machines.instance_view("rg-refresh", "vm-01").statuses] == [
                "ProvisioningState/succeeded", "PowerState/deallocated"]
            vm = s.compute.virtual_machines.get("rg-refresh", "vm-01")
            assert isinstance(vm, cm.VirtualMachine) and vm.provisioning_state == "Succeeded"
    finally:
        srv2.stop()
