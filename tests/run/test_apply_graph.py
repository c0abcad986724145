"""`refit apply`'s dependency graph (refit.run.stepgraph): derived from the plan alone, conservatively."""

from __future__ import annotations

from refit.plan.model import Step
from refit.run.stepgraph import dependencies

SUB = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg"
CP = f"{SUB}/providers/Microsoft.Compute"
GAL = f"{CP}/galleries/gal/images/bridge"


def step(n: int, group: int, method: str, path: str, body=None, rollback=None, resource: str | None = None,
         op: str = "x") -> Step:
    target = path.rsplit("/", 1)[0] if method == "POST" else path
    return Step(n=n, op=op, summary=f"{n}", resource=resource or target,
                request={"method": method, "path": path, "api_version": "2026-04-01", "body": body}, why="",
                rules=[], duration_seconds=1.0, downtime_seconds=0.0, rollback=rollback, group=group)


def vm_chain(n: int, group: int, vm: str, body=None) -> list[Step]:
    rid = f"{CP}/virtualMachines/{vm}"
    return [step(n, group, "POST", f"{rid}/deallocate"), step(n + 1, group, "PATCH", rid, body or {"properties": {}}),
            step(n + 2, group, "POST", f"{rid}/start")]


def test_independent_vms_only_chain_their_own_steps():
    steps = vm_chain(1, 1, "vm-1") + vm_chain(4, 2, "vm-2") + vm_chain(7, 3, "vm-3")
    assert dependencies(steps) == [set(), {0}, {1}, set(), {3}, {4}, set(), {6}, {7}]


def test_a_later_group_waits_for_the_bridge_an_earlier_group_created_not_for_its_vms():
    version = f"{GAL}/versions/1.0.0"
    steps = [
        step(1, 1, "PUT", GAL, {"location": "eastus"}),
        step(2, 1, "PUT", version, {"properties": {"storageProfile": {"source": {"id": f"{CP}/disks/os-1"}}}}),
        *vm_chain(3, 1, "vm-1", {"properties": {"storageProfile": {"imageReference": {"id": GAL}}}}),
        # group 2 makes a disk from the version group 1 created, and swaps vm-2 onto it
        step(6, 2, "PUT", f"{CP}/disks/os-2-new",
             {"properties": {"creationData": {"galleryImageReference": {"id": version.upper()}}}}),
        *vm_chain(7, 2, "vm-2", {"properties": {"storageProfile": {"osDisk": {"managedDisk": {"id": f"{CP}/disks/os-2-new"}}}}}),
    ]
    # group 1 in plan order; group 2's disk waits for the version (ids compare case-insensitively), and vm-2's
    # chain for its disk, not for vm-1
    assert dependencies(steps) == [set(), {0}, {1}, {2}, {3}, {1}, {5}, {6}, {7}]


def test_a_child_orders_with_its_parent_and_a_released_resource_with_what_released_it():
    old, new = f"{CP}/disks/os-old", f"{CP}/disks/os-new"
    vm = f"{CP}/virtualMachines/vm-1"
    steps = [
        step(1, 1, "PATCH", vm, {"properties": {"storageProfile": {"osDisk": {"managedDisk": {"id": new}}}}},
             rollback={"method": "PATCH", "path": vm, "api_version": "2026-04-01",
                       "body": {"properties": {"storageProfile": {"osDisk": {"managedDisk": {"id": old}}}}}}),
        step(2, 2, "PATCH", old, {"tags": {"a": "b"}}),  # the disk the swap detaches: only after the swap
        step(3, 3, "PUT", f"{GAL}/versions/2.0.0", {}),
        step(4, 4, "PATCH", GAL, {"properties": {}}),  # the parent of what group 3 writes
        step(5, 5, "PATCH", f"{CP}/disks/unrelated", {"tags": {}}),
    ]
    assert dependencies(steps) == [set(), {0}, set(), {2}, set()]


def test_an_unknown_action_is_a_barrier_and_clean_up_comes_last():
    steps = [*vm_chain(1, 1, "vm-1"), step(4, 2, "POST", f"{CP}/virtualMachines/vm-9/convertToManagedDisks"),
             *vm_chain(5, 3, "vm-2"), step(1, 0, "DELETE", GAL), step(2, 0, "DELETE", f"{CP}/disks/tmp")]
    deps = dependencies(steps, cleanup_from=7)
    assert deps[3] == {2}  # waits for everything before it (vm-1's chain ends at step 3)
    assert deps[4] == {3}  # vm-2 waits for the barrier
    assert deps[7] == {2, 3, 6} and deps[8] == {7}  # clean-up after the last step of every group, one at a time
