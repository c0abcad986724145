"""The fleet as a test compares it before and after: every Resource Graph row and every resource's GET."""

from __future__ import annotations

import hashlib
import json

from refit.azure import Session
from refit.azure.fleet import send
from refit.platform.apis import api_version_for


def fleet_documents(session: Session) -> dict[str, object]:
    """Resource id -> (its Resource Graph row, its GET status and body)."""
    return {r["id"]: (r, *send(session, "GET", r["id"], api_version_for(r["id"]))[::2])
            for r in session.graph_query("Resources | order by id asc")}


def fleet_digest(session: Session) -> str:
    return hashlib.sha256(json.dumps(fleet_documents(session), sort_keys=True, default=str).encode()).hexdigest()


def os_disks_and_power(session: Session, rg: str) -> dict[str, tuple[str, str]]:
    """{VM name: (OS disk name, power state)} of a resource group's VMs, as Azure reports them."""
    out = {}
    for vm in session.compute.virtual_machines.list(rg):
        iv = session.compute.virtual_machines.instance_view(rg, vm.name)
        power = next(s.code.split("/", 1)[1] for s in iv.statuses if s.code.startswith("PowerState/"))
        out[vm.name] = (vm.storage_profile.os_disk.name, power)
    return out
