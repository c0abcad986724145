"""Helpers of the Temporal engine's tests (fixtures in conftest.py): the swap fleet, reading it back through the
SDK, and reading workflows through Temporal's client."""

from __future__ import annotations

from pathlib import Path

from refit.run.temporal.codec import data_converter  # as refit's own clients encode payloads

HERE = Path(__file__).parent
FLEET_YAML = (HERE / "swap_fleet.yaml").read_text()
HISTORIES = HERE / "histories"  # recorded workflow histories that the current code must replay
RG = "rg-refresh"


def seed(session, vms: int, subscription: str | None = None, reset: bool = True) -> str:
    sub = subscription or session.subscription
    session.control("POST", "scenario", {"yaml": FLEET_YAML, "params": {"vms": vms, "subscription": sub},
                                         "reset": reset})
    return sub


def fleet(session, sub: str | None = None) -> dict[str, tuple[str, str]]:
    """{vm: (OS disk name, power state)} read back through the SDK."""
    from azure.mgmt.compute import ComputeManagementClient

    compute = session.compute if sub in (None, session.subscription) else ComputeManagementClient(
        session.credential, sub, base_url=session.endpoint, connection_verify=session.verify,
        credential_scopes=["https://management.azure.com/.default"])
    out = {}
    for vm in compute.virtual_machines.list(RG):
        iv = compute.virtual_machines.instance_view(RG, vm.name)
        power = next(s.code.split("/", 1)[1] for s in iv.statuses if s.code.startswith("PowerState/"))
        out[vm.name] = (vm.storage_profile.os_disk.name, power)
    return out


def disks(session) -> set[str]:
    return {d.name for d in session.compute.disks.list_by_resource_group(RG)}


def wf_status(temporal, workflow_id: str) -> str:
    """RUNNING, COMPLETED, ... of a workflow (or NOT_FOUND)."""
    import asyncio

    from temporalio.client import Client
    from temporalio.service import RPCError

    async def go() -> str:
        c = await Client.connect(temporal.address, data_converter=data_converter())
        try:
            d = await c.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return "NOT_FOUND"
        return d.status.name if d.status else "UNKNOWN"

    return asyncio.run(go())


def activity_identities(temporal, workflow_id: str) -> dict[str, int]:
    """{worker identity: activities it started} from the workflow's history."""
    import asyncio

    from temporalio.client import Client

    async def go() -> dict[str, int]:
        c = await Client.connect(temporal.address, data_converter=data_converter())
        h = await c.get_workflow_handle(workflow_id).fetch_history()
        out: dict[str, int] = {}
        for e in h.events:
            if e.HasField("activity_task_started_event_attributes"):
                ident = e.activity_task_started_event_attributes.identity
                out[ident] = out.get(ident, 0) + 1
        return out

    return asyncio.run(go())


def set_desired(session, sub: str, vms: int, suffix: str) -> None:
    from refit.azure.fleet import send

    for n in range(1, vms + 1):
        vm_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm-{n:03d}"
        status, _, _ = send(session, "PATCH", f"{vm_id}/providers/Microsoft.Resources/tags/default", "2024-11-01",
                            {"operation": "Merge", "properties": {"tags": {"OsDiskName": f"vm-{n:03d}-{suffix}"}}})
        assert status == 200



def replay(histories) -> None:
    """Replay workflow histories with the current code, in Temporal's sandbox (a clock read, a random number or I/O
    in workflow code fails the replay too); raises on any nondeterminism."""
    import asyncio

    from temporalio.worker import Replayer

    from refit.run.temporal.worker import runner
    from refit.run.temporal.workflows import CampaignWorkflow, ShardWorkflow

    async def go() -> None:
        replayer = Replayer(workflows=[CampaignWorkflow, ShardWorkflow], workflow_runner=runner(sandbox=True),
                            data_converter=data_converter())
        for h in histories:
            await replayer.replay_workflow(h)

    asyncio.run(go())


def fetch_histories(temporal, workflow_ids: list[str]):
    import asyncio

    from temporalio.client import Client

    async def go():
        c = await Client.connect(temporal.address, data_converter=data_converter())
        return [await c.get_workflow_handle(w).fetch_history() for w in workflow_ids]

    return asyncio.run(go())
