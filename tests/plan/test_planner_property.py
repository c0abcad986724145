"""Property (issues 3 and 9): for random fleets and random goals,

- every plan `make_plan` emits, for a fleet loaded into the emulator over HTTPS (a scenario through the
  control API) and read back through Resource Graph as `refit plan` reads it, is executed request by request through the SDK pipeline
  (`refit.azure.fleet.execute`): every step is accepted, and the final state, read back through the SDK,
  meets every goal with every VM in the power state it started in;
- when the planner answers "no path", an oracle that shares nothing with the planner's search finds none
  either: its own vocabulary of raw ARM requests, its own state key and its own goal check, breadth-first
  to depth 6 over a throwaway in-memory platform `Cloud` (`refit.platform.writes.perform`). It shares
  only the platform model, which is what both the emulator and the planner answer with.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refit.arm.errors import ArmError
from refit.azure.fleet import execute
from refit.plan.goal import parse
from refit.plan.planner import make_plan
from refit.platform import writes
from refit.platform.clock import ManualClock
from refit.platform.cloud import Cloud
from refit.platform.rules.facts import PARTITION_TAG
from refit.sources import live

RG_NAME = "rg-p"
COMPUTE_API, RESOURCES_API, NETWORK_API = "2026-04-01", "2024-11-01", "2024-05-01"
SECURITY = "properties.securityProfile.securityType"
CRG_PATH = "properties.capacityReservation.capacityReservationGroup.id"

# Sizes: one that does everything, a Gen1-only size without Trusted Launch, a confidential (Gen2-only) size.
VM_SPEC = st.fixed_dictionaries({
    "size": st.sampled_from(["Standard_D2s_v5", "Standard_A2_v2", "Standard_DC2as_v5"]),
    "gen2": st.booleans(), "tl": st.booleans(), "zone": st.sampled_from([None, "1", "2"]), "running": st.booleans(),
})
GOAL = st.sampled_from(["Standard", "TrustedLaunch", "ConfidentialVM", "tag", "capacity"])


# ---- the fleet: ARM documents, created in the emulator over HTTPS and, for the oracle, in a Cloud ------
def _generation(sp: dict) -> bool:
    """Gen2 unless the size boots Gen1 only (and always Gen2 on a confidential size)."""
    return {"Standard_A2_v2": False, "Standard_DC2as_v5": True}.get(sp["size"], sp["gen2"])


def fleet_docs(sub: str, specs: list[dict]) -> list[tuple[dict, bool]]:
    """(document, running) in creation order."""
    rg = f"/subscriptions/{sub}/resourceGroups/{RG_NAME}"
    out: list[tuple[dict, bool]] = [({"id": rg, "location": "eastus"}, True)]
    for i, sp in enumerate(specs):
        gen2 = _generation(sp)
        nic = f"{rg}/providers/Microsoft.Network/networkInterfaces/vm{i}-nic"
        out.append(({"id": nic, "location": "eastus", "properties": {}}, True))
        props = {"hardwareProfile": {"vmSize": sp["size"]},
                 "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                                       "sku": "22_04-lts-gen2" if gen2 else "22_04-lts",
                                                       "version": "latest"},
                                    "osDisk": {"createOption": "FromImage", "name": f"vm{i}-os"}},
                 "networkProfile": {"networkInterfaces": [{"id": nic}]}}
        if gen2 and sp["tl"]:
            props["securityProfile"] = {"securityType": "TrustedLaunch",
                                        "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
        doc = {"id": f"{rg}/providers/Microsoft.Compute/virtualMachines/vm{i}", "location": "eastus", "properties": props}
        if sp["zone"]:
            doc["zones"] = [sp["zone"]]
        out.append((doc, sp["running"]))
    return out


def scenario_yaml(docs: list[tuple[dict, bool]]) -> str:
    resources = [doc if running else {**doc, "refit": {"power": "deallocated"}} for doc, running in docs]
    return yaml.safe_dump({"name": "planner-property", "resources": resources})


def goal_list(sub: str, specs: list[dict], picks: list[str]) -> list[dict]:
    rg = f"/subscriptions/{sub}/resourceGroups/{RG_NAME}"
    goals = []
    for i, g in enumerate(picks[: len(specs)]):
        vm = f"{rg}/providers/Microsoft.Compute/virtualMachines/vm{i}"
        if g == "tag":
            goals.append({"resource": vm, "properties": {"tags.owner": "platform"}})
        elif g == "capacity":
            goals.append({"resource": vm, "properties": {
                CRG_PATH: f"{rg}/providers/Microsoft.Compute/capacityReservationGroups/crg-{i}"}})
        else:
            goals.append({"resource": vm, "properties": {SECURITY: g}})
    return goals


# ---- executing a plan over HTTPS, reading the result back through the SDK ------------------------------
def execute_plan(session, plan) -> None:
    for step in plan.steps + plan.cleanup:
        for req in (step.request, step.followup):
            if req is None:
                continue
            try:
                execute(session, req["method"], req["path"], req["api_version"], req.get("body"))
            except ArmError as e:
                raise AssertionError(f"step {step.n} ({step.summary}) refused: ({e.code}) {e.message}") from e


def power_via_sdk(session, name: str) -> str:
    view = session.compute.virtual_machines.instance_view(RG_NAME, name)
    (code,) = [s.code for s in view.statuses if s.code.startswith("PowerState/")]
    return code.split("/", 1)[1]


def assert_goal_met_via_sdk(session, goal: dict) -> None:
    name = goal["resource"].rsplit("/", 1)[-1]
    vm = session.compute.virtual_machines.get(RG_NAME, name)
    (path, want), = goal["properties"].items()
    if path == SECURITY:
        assert ((vm.security_profile.security_type if vm.security_profile else None) or "Standard") == want, name
        if want == "TrustedLaunch":
            assert vm.security_profile.uefi_settings.v_tpm_enabled is True
    elif path == "tags.owner":
        assert (vm.tags or {}).get("owner") == want
    else:
        assert vm.capacity_reservation.capacity_reservation_group.id.lower() == want.lower()
        crg = want.rsplit("/", 1)[-1]
        reserving = [cr for cr in session.compute.capacity_reservations.list_by_capacity_reservation_group(RG_NAME, crg)
                     if cr.sku.name.lower() == vm.hardware_profile.vm_size.lower()
                     and (not cr.zones or (vm.zones or [None])[0] in cr.zones)]
        assert [cr.sku.capacity for cr in reserving] == [1], f"{name}: capacity reserved in {crg}"


# ---- the oracle: its own requests, state key and goal check over a platform Cloud ------------------------
@dataclass(frozen=True)
class Req:
    method: str
    path: str
    api: str
    body: object = None


def _perform(cloud: Cloud, req: Req) -> bool:
    """Send one request to the platform and run its clock until everything it started has finished.
    True when accepted and completed."""
    try:
        cloud.tick()
        answer = writes.perform(cloud, req.method, req.path, req.api, copy.deepcopy(req.body))
    except ArmError:
        return False
    while (due := cloud.next_due()) is not None:
        cloud.clock.advance(max(0.0, due - cloud.now()) + 1e-6)
        cloud.tick()
    return answer.op is None or answer.op.status == "Succeeded"


def oracle_cloud(docs: list[tuple[dict, bool]]) -> Cloud:
    cloud = Cloud(strict=True)  # the rules Azure cannot check too (U5's guest disk layout), as plans must
    cloud.clock = ManualClock(1_700_000_000.0)
    cloud.add_subscription(docs[0][0]["id"].split("/")[2])
    apis = {"resourcegroups": RESOURCES_API, "networkinterfaces": NETWORK_API, "virtualmachines": COMPUTE_API}
    for doc, running in docs:
        body = {k: v for k, v in doc.items() if k != "id"}
        kind = doc["id"].split("/")[-2].lower()
        assert _perform(cloud, Req("PUT", doc["id"], apis[kind], body)), doc["id"]
        if not running:
            assert _perform(cloud, Req("POST", f"{doc['id']}/deallocate", COMPUTE_API))
    return cloud


def _vms(cloud: Cloud) -> list[dict]:
    return [d for d in cloud.world if d["type"].lower() == "microsoft.compute/virtualmachines"]


def _power(doc: dict) -> str:
    return doc["properties"]["extended"]["instanceView"]["powerState"]["code"]


_NOISE = {"timeCreated", "uniqueId", "vmId", "provisioningState", "time", "startTime", "endTime", "diskSizeBytes",
          "lastOwnershipUpdateTime", "provisioningTime", "reservationId", "displayStatus"}


def _content(x):
    if isinstance(x, dict):
        return {k: _content(v) for k, v in x.items() if k not in _NOISE}
    if isinstance(x, list):
        return [_content(v) for v in x]
    return x


def oracle_key(cloud: Cloud) -> str:
    """What the fleet *is*: every document's content without timestamps and server-assigned ids."""
    docs = sorted((d["id"].lower(), _content(d)) for d in cloud.world)
    return hashlib.sha256(json.dumps(docs, sort_keys=True, default=str).encode()).hexdigest()


Move = tuple[Req, ...]  # requests sent one after the other, as one step


def oracle_moves(cloud: Cloud, goal: dict) -> list[Move]:
    """Every request that could bear on the goal, whether or not Azure accepts it here."""
    vm_id = goal["resource"]
    vm = cloud.get(vm_id)
    (path, want), = goal["properties"].items()
    out: list[Move] = [(Req("POST", f"{vm_id}/deallocate", COMPUTE_API),), (Req("POST", f"{vm_id}/start", COMPUTE_API),)]
    if path == SECURITY:
        uefi = {"secureBootEnabled": True, "vTpmEnabled": True}
        out += [(Req("PATCH", vm_id, COMPUTE_API, {"properties": {"securityProfile": {"securityType": want}}}),),
                (Req("PATCH", vm_id, COMPUTE_API, {"properties": {"securityProfile": {"securityType": want,
                                                                                       "uefiSettings": uefi}}}),)]
        if want == "ConfidentialVM":
            for enc in ("VMGuestStateOnly", "DiskWithVMGuestState"):
                out.append((Req("PATCH", vm_id, COMPUTE_API, {"properties": {
                    "securityProfile": {"securityType": want, "uefiSettings": uefi},
                    "storageProfile": {"osDisk": {"managedDisk": {"securityProfile": {"securityEncryptionType": enc}}}}}}),))
        # The guest's MBR -> GPT conversion through Run Command, then recorded where rule U5 reads it (a tag on
        # the OS disk): one move, since the tag without the conversion would be a lie.
        disk = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        out.append((Req("POST", f"{vm_id}/runCommand", COMPUTE_API, {"commandId": "RunShellScript",
                                                                      "script": ["sgdisk --mbrtogpt /dev/sda"]}),
                    Req("PATCH", f"{disk}/providers/Microsoft.Resources/tags/default", RESOURCES_API,
                        {"operation": "Merge", "properties": {"tags": {PARTITION_TAG: "GPT"}}})))
    elif path == "tags.owner":
        out.append((Req("PATCH", vm_id, COMPUTE_API, {"tags": {"owner": want}}),))
    else:
        crg, cr = want, f"{want}/capacityReservations/cr"
        zones = {"zones": vm["zones"]} if vm.get("zones") else {}
        size = vm["properties"]["hardwareProfile"]["vmSize"]
        out.append((Req("PUT", crg, COMPUTE_API, {"location": vm["location"], **zones}),))
        out += [(Req("PUT", cr, COMPUTE_API, {"location": vm["location"], "sku": {"name": size, "capacity": n}, **zones}),)
                for n in (0, 1)]
        out += [(Req("PATCH", cr, COMPUTE_API, {"sku": {"capacity": 1}}),),
                (Req("PATCH", vm_id, COMPUTE_API, {"properties": {"capacityReservation": {
                    "capacityReservationGroup": {"id": crg}}}}),)]
    return out


def oracle_goal_met(cloud: Cloud, goal: dict, start_power: dict[str, str]) -> bool:
    if any(_power(d) != start_power[d["id"].lower()] for d in _vms(cloud)):
        return False
    vm = cloud.get(goal["resource"])
    (path, want), = goal["properties"].items()
    if path == SECURITY:
        return ((vm["properties"].get("securityProfile") or {}).get("securityType") or "Standard") == want
    if path == "tags.owner":
        return (vm.get("tags") or {}).get("owner") == want
    group = ((vm["properties"].get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")
    if (group or "").lower() != want.lower():
        return False
    prefix = f"{want.lower()}/capacityreservations/"
    size, zone = vm["properties"]["hardwareProfile"]["vmSize"].lower(), (vm.get("zones") or [None])[0]
    return any(d["id"].lower().startswith(prefix) and d["sku"]["name"].lower() == size and d["sku"]["capacity"] >= 1
               and (not d.get("zones") or zone in d["zones"]) for d in cloud.world)


def oracle_path(docs: list[tuple[dict, bool]], goal: dict, depth: int = 6) -> list[Move] | None:
    """Breadth-first over the oracle's moves: a sequence of at most `depth` accepted moves that meets the
    goal with every VM in its starting power state, or None."""
    start = oracle_cloud(docs)
    start_power = {d["id"].lower(): _power(d) for d in _vms(start)}
    if oracle_goal_met(start, goal, start_power):
        return []
    frontier: list[tuple[Cloud, list[Move]]] = [(start, [])]
    seen = {oracle_key(start)}
    for _ in range(depth):
        nxt = []
        for cloud, path in frontier:
            for move in oracle_moves(cloud, goal):
                child = cloud.fork()
                if not all(_perform(child, req) for req in move):
                    continue
                key = oracle_key(child)
                if key in seen:
                    continue
                seen.add(key)
                if oracle_goal_met(child, goal, start_power):
                    return [*path, move]
                nxt.append((child, [*path, move]))
        frontier = nxt
    return None


# ---- the property ------------------------------------------------------------------------------------------
# Bounded for 2 shared cores: about 0.1 s an example (a scenario load, a Resource Graph read, the plan's
# requests over HTTPS, the oracle's search); the deadline catches one that grows out of bounds.
@settings(max_examples=150, deadline=timedelta(seconds=20), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(specs=st.lists(VM_SPEC, min_size=1, max_size=2), picks=st.lists(GOAL, min_size=2, max_size=2))
def test_plans_execute_over_https_and_no_path_means_none_within_six_steps(session, sub, specs, picks):
    docs = fleet_docs(sub, specs)
    session.control("POST", "scenario", {"yaml": scenario_yaml(docs)})  # resets the emulator first
    goals = goal_list(sub, specs, picks)
    world = live.load(session).world  # Resource Graph, as `refit plan` reads the fleet
    started = {f"vm{i}": power_via_sdk(session, f"vm{i}") for i in range(len(specs))}
    assert started == {f"vm{i}": "running" if sp["running"] else "deallocated" for i, sp in enumerate(specs)}

    plan = make_plan(world, parse({"goals": goals}))
    impossible = {i.resource.lower() for i in plan.impossible}
    assert plan.status in ("ok", "impossible") and plan.exhausted == []
    solvable = [g for g in goals if g["resource"].lower() not in impossible]
    execute_plan(session, plan)  # the steps of the goals it solved (all of them, when the status is ok)
    for g in solvable:
        assert_goal_met_via_sdk(session, g)
    assert {f"vm{i}": power_via_sdk(session, f"vm{i}") for i in range(len(specs))} == started
    for g in goals:
        found = oracle_path(docs, g)
        if g["resource"].lower() in impossible:
            assert found is None, f"the planner says no path for {g}; the oracle found {found}"
        else:  # the oracle's vocabulary reaches whatever the planner reaches, so its "none" means something
            assert found is not None, f"the planner solved {g}; the oracle found no path"
