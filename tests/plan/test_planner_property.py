"""Property (issue 3): for random fleets and random goals, every emitted plan, executed step by step on
the emulator, meets no rejection and ends at the goal; when the planner says "no path", no sequence of
at most 6 ops from the vocabulary reaches the goal (checked by exhaustive breadth-first search)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refit.arm.ids import id_key
from refit.arm.world import World
from refit.emulator.core import Emulator
from refit.emulator.scenario import create_now
from refit.plan import generate, search
from refit.plan.goal import parse
from refit.plan.planner import make_plan
from refit.plan.sim import Sim

SUB = "00000000-0000-4000-8000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-p"
VM_SPEC = st.fixed_dictionaries({
    "gen2": st.booleans(), "tl": st.booleans(), "zone": st.sampled_from([None, "1", "2"]),
    "running": st.booleans(),
})
GOAL = st.sampled_from(["Standard", "TrustedLaunch", "ConfidentialVM", "tag", "capacity"])


def _fleet(specs) -> Emulator:
    emu = Emulator(None)
    create_now(emu, {"id": RG, "location": "eastus"})
    for i, sp in enumerate(specs):
        nic = f"{RG}/providers/Microsoft.Network/networkInterfaces/vm{i}-nic"
        create_now(emu, {"id": nic, "location": "eastus", "properties": {}})
        props = {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                 "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                                       "sku": "22_04-lts-gen2" if sp["gen2"] else "22_04-lts",
                                                       "version": "latest"},
                                    "osDisk": {"createOption": "FromImage", "name": f"vm{i}-os"}},
                 "networkProfile": {"networkInterfaces": [{"id": nic}]}}
        if sp["gen2"] and sp["tl"]:
            props["securityProfile"] = {"securityType": "TrustedLaunch",
                                        "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
        doc = {"id": f"{RG}/providers/Microsoft.Compute/virtualMachines/vm{i}", "location": "eastus", "properties": props}
        if sp["zone"]:
            doc["zones"] = [sp["zone"]]
        create_now(emu, doc, {"power": "running" if sp["running"] else "deallocated"})
    return emu


def _goals(specs, picks):
    goals = []
    for i, g in enumerate(picks[: len(specs)]):
        vm = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm{i}"
        if g == "tag":
            goals.append({"resource": vm, "properties": {"tags.owner": "platform"}})
        elif g == "capacity":
            goals.append({"resource": vm, "properties": {
                "properties.capacityReservation.capacityReservationGroup.id":
                    f"{RG}/providers/Microsoft.Compute/capacityReservationGroups/crg-{i}"}})
        else:
            goals.append({"resource": vm, "properties": {"properties.securityProfile.securityType": g}})
    return parse({"goals": goals})


def _execute(emu: Emulator, plan) -> Sim:
    sim = Sim(emu)  # the emulator itself (with the rules Azure enforces), not a fork
    for step in plan.steps:
        out = sim.run(step.to_op())
        assert out.ok, f"step {step.n} ({step.summary}) refused: {out.error}"
    return sim


def _bfs_reaches(world: World, goals, depth: int = 6) -> bool:
    start = Sim.from_world(world)
    out = False
    for comp in [[g] for g in goals.goals]:
        ctx = generate.Context(goals=comp, initial_power={id_key(d["id"]): start.power(d["id"])
                                                          for d in start.world.of_type("Microsoft.Compute/virtualMachines")})
        frontier, seen = [start], {search._fingerprint(start)}
        reached = generate.satisfied(start, ctx)
        for _ in range(depth):
            if reached:
                break
            nxt = []
            for sim in frontier:
                for op in generate.candidates(sim, ctx):
                    child = sim.fork()
                    if not child.run(op).ok:
                        continue
                    search._mark(child, op)
                    fp = search._fingerprint(child)
                    if fp in seen:
                        continue
                    seen.add(fp)
                    if generate.satisfied(child, ctx):
                        reached = True
                        break
                    nxt.append(child)
                if reached:
                    break
            frontier = nxt
        if not reached:
            return False
        out = True
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(VM_SPEC, min_size=1, max_size=2), picks=st.lists(GOAL, min_size=2, max_size=2))
def test_plans_execute_cleanly_and_no_path_means_none_within_six_ops(specs, picks):
    emu = _fleet(specs)
    world = World(list(emu.world))
    goals = _goals(specs, picks)
    plan = make_plan(world, goals)
    if plan.status == "ok":
        sim = _execute(emu, plan)
        for g in goals.goals:
            doc = sim.get(g.resource)
            for path, want in g.properties.items():
                from refit.arm.paths import get_path
                from refit.plan.goal import equal

                assert equal(get_path(doc, path), want), (g.resource, path)
    else:
        impossible = [i.resource for i in plan.impossible]
        blocked = parse({"goals": [g.model_dump() for g in goals.goals if g.resource in impossible]})
        assert not _bfs_reaches(world, blocked)
