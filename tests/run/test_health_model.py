"""The emulator's health model: Application Health extension -> instanceView.vmHealth, and per-image-version
settings (unhealthy, slow to boot, AllocationFailed on start) from the control API and scenario YAML."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

RG = "rg-refresh"
V10 = "2026.10.0"


def _health(session, name):
    iv = session.compute.virtual_machines.instance_view(RG, name)
    return iv.vm_health.status.code if iv.vm_health else None


def test_control_api_validates_and_normalises(session):
    assert session.control("GET", "health-model") == {}
    out = session.control("PUT", "health-model", {"images": {"2026.11.0": {"state": "Unhealthy", "boot_seconds": 90},
                                                            "ubuntu-refresh/2026.10.0": {"allocation_failed": 2}},
                                                 "boot_seconds": 45})
    assert out == {"boot_seconds": 45.0, "images": {"2026.11.0": {"state": "unhealthy", "boot_seconds": 90.0},
                                                    "ubuntu-refresh/2026.10.0": {"allocation_failed": 2}}}
    from refit.arm.errors import UserError

    with pytest.raises(UserError, match="state must be healthy or unhealthy, not 'sick'"):
        session.control("PUT", "health-model", {"images": {"x": {"state": "sick"}}})


def test_vm_health_follows_the_extension_and_the_image_of_the_os_disk(session):
    session.control("POST", "scenario", {"name": "refresh-health", "params": {"vms": 3}})
    assert [_health(session, f"vm-0{i}") for i in (1, 2, 3)] == ["HealthState/healthy"] * 3
    # the image its OS disk was built from boots unhealthy / slowly
    session.control("PUT", "health-model", {"images": {V10: {"state": "unhealthy"}}})
    assert _health(session, "vm-01") == "HealthState/unhealthy"
    session.control("PUT", "health-model", {"images": {V10: {"boot_seconds": 600}}})
    session.control("POST", "clock", {"scale": 1e-9})  # hold simulated time still
    vms = session.compute.virtual_machines
    vms.begin_deallocate(RG, "vm-02")
    session.control("POST", "clock", {"advance": 46})
    assert _health(session, "vm-02") == "HealthState/unknown"  # deallocated: the extension does not report
    vms.begin_start(RG, "vm-02")
    session.control("POST", "clock", {"advance": 41})
    assert _health(session, "vm-02") == "HealthState/initializing"
    session.control("POST", "clock", {"advance": 599})
    assert _health(session, "vm-02") == "HealthState/initializing"
    # booted 600 s after the start, then one probe (intervalInSeconds 5, numberOfProbes 1) reports it healthy
    session.control("POST", "clock", {"advance": 2})
    assert _health(session, "vm-02") == "HealthState/initializing"
    session.control("POST", "clock", {"advance": 4})
    assert _health(session, "vm-02") == "HealthState/healthy"
    # without the extension there is no vmHealth
    session.control("POST", "clock", {"scale": 10000})
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    assert _health(session, "vm-01") is None


def test_allocation_failed_per_image_version(session):
    session.control("POST", "scenario", {"name": "refresh-health", "params": {"vms": 2, "no_capacity": V10}})
    session.compute.virtual_machines.begin_deallocate(RG, "vm-01").result()
    with pytest.raises(HttpResponseError) as e:
        session.compute.virtual_machines.begin_start(RG, "vm-01").result()
    assert e.value.error.code == "ZonalAllocationFailed"
    assert e.value.error.message.startswith("Allocation failed. We do not have sufficient capacity for the requested VM "
                                            "size in this zone.")
    assert [s.code for s in session.compute.virtual_machines.instance_view(RG, "vm-01").statuses] == [
        "ProvisioningState/failed/ZonalAllocationFailed", "PowerState/deallocated"]
    # a count of failing starts: capacity comes back after them
    session.control("PUT", "health-model", {"images": {V10: {"allocation_failed": 1}}})
    with pytest.raises(HttpResponseError):
        session.compute.virtual_machines.begin_start(RG, "vm-01").result()
    session.compute.virtual_machines.begin_start(RG, "vm-01").result()
    assert _health(session, "vm-01") in ("HealthState/initializing", "HealthState/healthy")
    assert session.control("GET", "health-model") == {"images": {V10: {"allocation_failed": 0}}}
