"""Helpers for the refresh acceptance tests (fixtures in conftest.py): constants and fleet snapshots."""

from __future__ import annotations

from snapshots import os_disks_and_power

RG = "rg-refresh"
VERSIONS = "/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/galleries/galRefresh/images/ubuntu-refresh/versions/{v}"


def fleet(session, rg: str = RG) -> dict[str, tuple[str, str]]:
    """{vm name: (OS disk name, power state)} as Azure reports them."""
    return os_disks_and_power(session, rg)


def disks(session, rg: str = RG) -> set[str]:
    return {d.name for d in session.compute.disks.list_by_resource_group(rg)}


def version(sub: str, v: str) -> str:
    return VERSIONS.format(sub=sub, v=v)
