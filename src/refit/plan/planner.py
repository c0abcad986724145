"""From the fleet as it is (a World) and goals, to a Plan: per independent group of goals, the cheapest
order of operations every step of which the rule catalog accepts; or, when none exists, the blocking
rules and the recreate alternative."""

from __future__ import annotations

import time
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.ops import vocabulary as voc
from refit.ops.op import Op
from refit.plan import explain, generate, recreate, search
from refit.plan.goal import GoalSet, unmet
from refit.plan.model import Blocker, Exhausted, Impossible, Plan, Step
from refit.plan.sim import Sim
from refit.platform.rules import RULES, facts

# Types refit plans changes to but never creates from a goal: a goal naming one that does not exist is a
# wrong name, not a request to create it (disks, capacity reservation groups and images are created).
_CHANGED_NOT_CREATED = {v.VM.lower(): "virtual machines", v.VMSS.lower(): "scale sets"}
# Goal values the catalog's facts enumerate: a value outside them is refused whatever the state, so it is
# answered before any search. (type, path) -> (accepted values, what they are)
_ENUMERATED = {
    (v.VM.lower(), "properties.securityProfile.securityType"): (facts.VM_SECURITY_TYPES, "security type"),
    (v.VMSS.lower(), "properties.virtualMachineProfile.securityProfile.securityType"):
        (facts.VM_SECURITY_TYPES, "security type"),
}


def _components(goals: GoalSet) -> list[list]:
    """Goals that reference each other (or a shared resource) are planned together."""
    idx = {id_key(g.resource): i for i, g in enumerate(goals.goals)}
    parent = list(range(len(goals.goals)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    shared: dict[str, int] = {}
    for i, g in enumerate(goals.goals):
        for val in g.properties.values():
            if isinstance(val, str) and val.lower().startswith("/subscriptions/"):
                k = id_key(val)
                if k in idx:
                    parent[find(i)] = find(idx[k])
                if k in shared:
                    parent[find(i)] = find(shared[k])
                shared.setdefault(k, i)
    groups: dict[int, list] = {}
    for i, g in enumerate(goals.goals):
        groups.setdefault(find(i), []).append(g)
    return list(groups.values())


class _Index:
    """What `_neighborhood` looks up, indexed once per plan instead of scanning the fleet per goal."""

    def __init__(self, world: World):
        self.images_by_rg: dict[str, list[dict]] = {}
        self.vms_by_crg: dict[str, list[dict]] = {}
        for d in world:
            t = d.get("type", "").lower()
            if t.startswith("microsoft.compute/galleries") or t == v.IMAGE.lower():
                rid = ResourceId.parse(d["id"])
                self.images_by_rg.setdefault(id_key(ResourceId(rid.subscription, rid.resource_group)), []).append(d)
            elif t == v.VM.lower():
                crg = v.Vm(d).capacity_reservation_group_id
                if crg:
                    self.vms_by_crg.setdefault(id_key(crg), []).append(d)


def _neighborhood(world: World, goals: list, index: _Index | None = None) -> World:
    """The documents a group of goals can touch: the goals, what they reference (transitively), their
    ancestors, their resource groups, the galleries (with definitions and versions) and managed images of
    those groups, and the VMs sharing a capacity reservation group with them."""
    index = index or _Index(world)
    keys: set[str] = set()
    frontier = [g.resource for g in goals] + [val for g in goals for val in g.properties.values()
                                                if isinstance(val, str) and val.lower().startswith("/subscriptions/")]
    rgs: set[str] = set()
    for _ in range(4):
        nxt = []
        for rid in frontier:
            k = id_key(rid)
            if k in keys:
                continue
            keys.add(k)
            try:
                r = ResourceId.parse(rid)
            except ArmError:  # a value that merely looks like an id
                continue
            if r.resource_group:
                rgs.add(id_key(ResourceId(r.subscription, r.resource_group)))
            p = r.parent
            while p is not None and p.namespace:
                nxt.append(str(p))
                p = p.parent
            doc = world.get(rid)
            if doc is not None:
                nxt += search._refs(doc)
        frontier = nxt
    docs: dict[str, dict] = {}
    for k in keys | rgs:
        d = world.get(k)
        if d is not None:
            docs[k] = d
    for rg in rgs:
        for d in index.images_by_rg.get(rg, []):
            docs[id_key(d["id"])] = d
    for k in list(keys):
        for d in index.vms_by_crg.get(k, []):
            docs[id_key(d["id"])] = d
    return World(docs.values())


def make_plan(world: World, goals: GoalSet, max_expansions: int = search.DEFAULT_MAX_EXPANSIONS,
              max_depth: int = search.DEFAULT_MAX_DEPTH) -> Plan:
    t0 = time.perf_counter()
    _check_goals(world, goals)
    plan = Plan(goals=[g.model_dump() for g in goals.goals])
    master = Sim.from_world(world)
    temporaries: list[Op] = []
    n = 0
    index = _Index(master.world)
    for group_no, comp in enumerate(_components(goals), start=1):
        sub = Sim.from_world(_neighborhood(master.world, comp, index), now=master.now())
        ctx = generate.Context(goals=comp, initial_power={id_key(d["id"]): sub.power(d["id"])
                                                          for d in sub.world.of_type(v.VM)})
        if generate.satisfied(sub, ctx):
            continue
        res = search.search(sub, ctx, max_expansions=max_expansions, max_depth=max_depth)
        plan.expansions += res.expansions
        if res.path is None and res.stopped != search.EXHAUSTED:
            # Not a proof: the search stopped on a budget with states left to try.
            plan.exhausted.append(Exhausted(
                resources=[g.resource for g in comp], goals=[g.model_dump() for g in comp], budget=res.stopped,
                limit=max_expansions if res.stopped == search.MAX_EXPANSIONS else max_depth, states=res.expansions))
            continue
        if res.path is None:
            plan.impossible += _impossible(sub, ctx, res)
            continue
        explain.explain(sub, res.path, ctx)
        vms = []
        for op in res.path:
            out = master.run(op)  # the whole plan, in order, on the whole fleet
            if not out.ok:
                raise RuntimeError(f"planned step refused on the full fleet: {op.describe()}: {out.error}")
            n += 1
            plan.steps.append(Step.from_op(n, op, group_no))
            if op.temporary:
                temporaries.append(op)
            if ResourceId.parse(op.resource).type.lower() == v.VM.lower() and op.resource not in vms:
                vms.append(op.resource)
        # The group's end state, for `refit apply` to recognise a group already done: its goals, and the power
        # state the plan leaves each VM it touches in (a run killed between a deallocate and its start has met
        # the goals but not this).
        plan.groups.append({"group": group_no, "goals": [g.model_dump() for g in comp],
                            "power": {vm: master.power(vm) for vm in vms}})
        if any(op.creates for op in res.path):
            index = _Index(master.world)  # later groups must see what this one created
    plan.cleanup = _cleanup(master, temporaries)
    plan.planning_seconds = time.perf_counter() - t0
    return plan


def _check_goals(world: World, goals: GoalSet) -> None:
    from refit.platform.effects import known_type

    for g in goals.goals:
        rid = ResourceId.parse(g.resource)
        if not known_type(rid.type):
            raise UserError(f"goal resource type '{rid.type}' is not one refit can plan for")
        if world.get(ResourceId(rid.subscription, rid.resource_group)) is None:
            raise UserError(f"resource group '{rid.resource_group}' of goal {rid.name} does not exist "
                            f"(check the subscription and resource group in the goal's id)")
        parent = rid.parent
        if parent is not None and parent.namespace and world.get(parent) is None and not goals.for_resource(str(parent)):
            raise UserError(f"goal {g.resource} names a child of {parent}, which does not exist")
        t = rid.type.lower()
        if t in _CHANGED_NOT_CREATED and world.get(rid) is None:
            raise UserError(f"goal resource {g.resource} does not exist (check its name; refit plans changes to "
                            f"existing {_CHANGED_NOT_CREATED[t]}, it does not create them)")
        for path, val in g.properties.items():
            accepted, what = _ENUMERATED.get((t, path), (None, ""))
            if accepted is not None and val not in accepted:
                raise UserError(f"goal {rid.name}: {path} = {val!r} is not a {what} Azure accepts "
                                f"({', '.join(accepted)})")
            if (t, path) in _SIZES:
                _check_size(world, rid, path, val)


# Where a goal names a VM size: checked against the SKU table before any search (a size Azure does not
# offer is a wrong value, not a state to plan around).
_SIZES = {(v.VM.lower(), "properties.hardwareProfile.vmSize"), (v.VMSS.lower(), "sku.name")}


def _check_size(world: World, rid: ResourceId, path: str, val: Any) -> None:
    from refit.platform import skus

    doc = world.get(rid)
    region = (doc or {}).get("location")
    if region and skus.offered(val, region) is None:
        rule = RULES["SZ1"]
        raise UserError(f"goal {rid.name}: {path} = {val!r} is refused by {rule.id} ({rule.title}): Azure offers no "
                        f"VM size {val!r} in {region}; `az vm list-sizes -l {region}` lists those it does")


def _impossible(sim: Sim, ctx: generate.Context, res: search.SearchResult) -> list[Impossible]:
    out = []
    for g in ctx.goals:
        doc = sim.get(g.resource)
        pending = unmet(doc, g)
        if not pending:
            continue
        blockers: dict[tuple, Blocker] = {}
        direct = [a for a in res.refused if a.op.resource.lower() == g.resource.lower()]
        # Also what the direct change is refused with once the VM is deallocated (the usual enabler).
        probe = sim.fork()
        if doc is not None and doc["type"].lower() == v.VM.lower() and probe.power(doc["id"]) == "running":
            probe.run(voc.deallocate(doc["id"]))
        if doc is not None:
            attempt = voc.patch(probe.get(g.resource), pending)
            o = probe.fork().run(attempt)
            if not o.ok and o.error is not None:
                direct.append(search.Attempt(attempt, o.error, o.rules))
        for a in direct:
            if not a.rules:  # every platform refusal names its catalog rule (tests/rules/test_catalog_mechanism.py)
                raise RuntimeError(f"refusal without a catalog rule (a bug in refit.platform): {a.error}")
            for rid in a.rules:
                r = RULES[rid]
                key = (rid, a.error.code, a.error.message)
                if key not in blockers:
                    blockers[key] = Blocker(rule=rid, title=r.title, source=r.source, code=a.error.code,
                                            message=a.error.message, attempted=a.op.describe())
        imp = Impossible(resource=g.resource, goal=dict(g.properties), blocked_by=list(blockers.values()))
        if recreate.applies(sim, g):
            ops, err = recreate.vm_path(sim, g)
            if err:
                imp.recreate_error = err
            else:
                rs = sim.fork()
                steps = []
                for i, op in enumerate(ops, start=1):
                    before = rs.fork()
                    o = rs.run(op)
                    if not o.ok:
                        imp.recreate_error = (f"the recreate path is refused too, at '{op.describe()}': "
                                              f"({o.error.code}) {o.error.message}")
                        break
                    op.duration_s = o.duration
                    op.downtime_s = search.step_costs(before, rs, op, ctx, o.duration)[0] or (
                        o.duration if op.name.startswith("recreate") else 0.0)
                    op.why = "recreate: the only way to the goal (no in-place path)"
                    steps.append(Step.from_op(i, op, 0))
                if not imp.recreate_error:
                    imp.recreate = steps
                    imp.recreate_downtime_seconds = round(sum(s.downtime_seconds for s in steps), 3)
        out.append(imp)
    return out


def _cleanup(sim: Sim, temporaries: list[Op]) -> list[Step]:
    """Offer to delete the temporary bridge resources, newest first, where the catalog allows it."""
    steps: list[Step] = []
    for i, op in enumerate(reversed(temporaries), start=1):
        d = voc.delete(op.creates or op.resource, f"delete temporary {op.resource.rsplit('/', 1)[-1]}")
        out = sim.fork().run(d)
        if out.ok:
            sim.run(d)
            d.duration_s = out.duration
            d.why = "clean-up: the temporary bridge is no longer referenced"
            steps.append(Step.from_op(i, d, 0))
    return steps


def totals(plan: Plan) -> dict[str, Any]:
    return plan.totals()
