"""Helpers for the refresh acceptance tests (fixtures in conftest.py): constants and fleet snapshots."""

from __future__ import annotations

RG = "rg-refresh"
VERSIONS = "/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/galleries/galRefresh/images/ubuntu-refresh/versions/{v}"


def fleet(session, rg: str = RG) -> dict[str, tuple[str, str]]:
    """{vm name: (OS disk name, power state)} as Azure reports them."""
    out = {}
    for vm in session.compute.virtual_machines.list(rg):
        iv = session.compute.virtual_machines.instance_view(rg, vm.name)
        power = next(s.code.split("/", 1)[1] for s in iv.statuses if s.code.startswith("PowerState/"))
        out[vm.name] = (vm.storage_profile.os_disk.name, power)
    return out


def disks(session, rg: str = RG) -> set[str]:
    return {d.name for d in session.compute.disks.list_by_resource_group(rg)}


def version(sub: str, v: str) -> str:
    return VERSIONS.format(sub=sub, v=v)
