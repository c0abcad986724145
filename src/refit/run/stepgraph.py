"""Which steps of a plan must wait for which: the dependency graph `refit apply` executes.

Derived from the plan alone, conservatively (an edge too many costs time; one too few could send a
request Azure refuses, or one that acts on a state the planner did not plan for):

- **Within a group, plan order.** A group is one planned component: the planner validated its steps
  in that order, each against the state the earlier ones left, and an earlier step may enable a later
  one without naming it (a deallocate makes room for a change to the VM's disk).
- **Across groups, shared footprints.** A step writes its resource (and, for an action, the resource
  the action is on; for a follow-up, what the follow-up writes) and reads every resource id its
  request, follow-up or rollback names (a rollback names what the step lets go of: the OS disk a swap
  detaches). A step waits for the last step of each earlier group that writes what it reads or
  writes, or reads what it writes, where a resource overlaps its children (a version is inside its
  definition). A bridge image version created by group 1 and used by group 7 orders them; 500 VMs
  that share nothing run side by side.
- **When unsure, group order.** A step whose request refit does not understand (an unknown action,
  a path that is not a resource id) waits for every earlier step, and every later step waits for it.
- **Waves.** In a fleet plan (`refit.plan.waves`), the first step of a group of wave k waits for the last step
  of every group of wave k-1: the canary finishes before the fleet starts.
- **Clean-up last.** Clean-up steps (the deletion of temporary bridges) wait for every plan step,
  and for each other in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.plan.model import Step

# Actions whose footprint is the resource they are on (power, guest commands, scale-set upgrades).
KNOWN_ACTIONS = frozenset({"deallocate", "start", "restart", "poweroff", "redeploy", "reimage", "runcommand",
                           "manualupgrade", "performmaintenance", "reapply"})
POWER_ACTIONS = frozenset({"deallocate", "start", "restart", "poweroff"})


def target_of(request: dict[str, Any]) -> str:
    """The resource a request acts on: its path, or for a POST action the path without the action."""
    path = request["path"].split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[0] if request["method"].upper() == "POST" else path


def verb_of(request: dict[str, Any]) -> str | None:
    """The action of a POST (`deallocate`, `start`, ...), lowercase; None for other methods."""
    if request["method"].upper() != "POST":
        return None
    return request["path"].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()


def ids_in(value: Any) -> Iterator[str]:
    """Every string in a request body that is a resource id."""
    if isinstance(value, dict):
        for x in value.values():
            yield from ids_in(x)
    elif isinstance(value, list):
        for x in value:
            yield from ids_in(x)
    elif isinstance(value, str) and value.lower().startswith("/subscriptions/"):
        yield id_key(value)


def footprint(step: Step) -> tuple[set[str], set[str]] | None:
    """(what the step writes, what it reads), as id keys; None when refit cannot tell."""
    req = step.request
    method = req["method"].upper()
    if method == "GET" and req["path"].lower().rstrip("/").endswith("/rollingupgrades/latest"):
        try:  # watching a set's rolling upgrade: the set is what the step changes (its instances)
            return {id_key(ResourceId.parse(step.resource))}, set()
        except ArmError:
            return None
    if method == "GET" and step.op == "validation_window":  # waiting while flow logs log: it reads the new one
        try:
            return set(), {id_key(ResourceId.parse(step.resource))}
        except ArmError:
            return None
    if method == "POST" and verb_of(req) not in KNOWN_ACTIONS:
        return None
    if method not in ("PUT", "PATCH", "DELETE", "POST"):
        return None
    try:
        writes = {id_key(ResourceId.parse(target_of(req))), id_key(ResourceId.parse(step.resource))}
        if step.followup:
            writes.add(id_key(ResourceId.parse(target_of(step.followup))))
    except ArmError:
        return None
    reads = set(ids_in(req.get("body")))
    for other in (step.followup, step.rollback):
        if other:
            reads |= set(ids_in(other.get("body")))
    return writes, reads - writes


def _ancestors(key: str) -> Iterator[str]:
    """The key itself and every prefix of it that ends at a path segment (its parents)."""
    yield key
    i = key.rfind("/")
    while i > 0:
        yield key[:i]
        i = key.rfind("/", 0, i)


class _Index:
    """Per resource key: the last step of each group that touched it, exactly or somewhere below it."""

    def __init__(self) -> None:
        self.at: dict[str, dict[int, int]] = {}
        self.below: dict[str, dict[int, int]] = {}

    def add(self, key: str, group: int, i: int) -> None:
        self.at.setdefault(key, {})[group] = i
        for a in _ancestors(key):
            if a != key:
                self.below.setdefault(a, {})[group] = i

    def overlapping(self, key: str) -> Iterator[tuple[int, int]]:
        """(group, step) of earlier steps on the key, on one of its ancestors, or on one of its children."""
        for a in _ancestors(key):
            yield from self.at.get(a, {}).items()
        yield from self.below.get(key, {}).items()


def dependencies(steps: list[Step], cleanup_from: int | None = None) -> list[set[int]]:
    """For each step (by position), the positions of the steps it waits for. Steps from `cleanup_from`
    on are clean-up steps."""
    deps: list[set[int]] = [set() for _ in steps]
    writes, reads = _Index(), _Index()
    last_of_group: dict[int, int] = {}
    last_of_wave: dict[int, dict[int, int]] = {}  # a fleet plan's wave -> {group: its last step} (plan.waves)
    barrier: int | None = None  # the last step refit could not read: every later step waits for it
    n_plan = len(steps) if cleanup_from is None else cleanup_from
    for j, step in enumerate(steps):
        if j >= n_plan:  # clean-up: after the whole plan, one at a time
            deps[j] = set(last_of_group.values()) if j == n_plan else {j - 1}
            continue
        group = step.group
        mine = deps[j]
        if group in last_of_group:
            mine.add(last_of_group[group])
        if barrier is not None:
            mine.add(barrier)
        if step.wave > 1 and group not in last_of_group:  # a group of a wave starts when the wave before has finished
            mine.update(last_of_wave.get(step.wave - 1, {}).values())
        if step.wave:
            last_of_wave.setdefault(step.wave, {})[group] = j
        fp = footprint(step)
        if fp is None:
            mine.update(last_of_group.values())
            barrier = j
        else:
            w, r = fp
            found: dict[int, int] = {}
            for key in w:
                for g, i in (*writes.overlapping(key), *reads.overlapping(key)):
                    found[g] = max(found.get(g, -1), i)
            for key in r:
                for g, i in writes.overlapping(key):
                    found[g] = max(found.get(g, -1), i)
            mine.update(i for g, i in found.items() if g != group)
            for key in w:
                writes.add(key, group, j)
            for key in r:
                reads.add(key, group, j)
        last_of_group[group] = j
        mine.discard(j)
    return deps
