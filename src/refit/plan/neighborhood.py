"""The documents a group of goals can touch: what the planner simulates the group on (a small fork of the fleet,
not the fleet), and what a situation is made of (`plan.situations`)."""

from __future__ import annotations

from refit.arm import views as v
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.plan.goal import Goal
from refit.plan.search import _refs
from refit.platform.effects.extensions import VM_EXTENSION

# Documents included but not followed: a subnet lists every network interface in it (`ipConfigurations`), and a
# network interface its VM, so following them would pull half the fleet into every VM's group. No compute rule the
# planner plans against reads past the network interface a VM names (VM5: that it exists).
_LEAF_NAMESPACES = ("microsoft.network/",)


class Index:
    """What `neighborhood` looks up, indexed once per plan instead of scanning the fleet per goal (id keys: the
    documents are read from the world when asked for, so later groups see what earlier ones changed)."""

    def __init__(self, world: World):
        self.images_by_rg: dict[str, set[str]] = {}
        self.vms_by_crg: dict[str, set[str]] = {}
        self._refs: dict[str, tuple[dict, list[str]]] = {}
        for d in world:
            self.add(d)

    def refs(self, doc: dict) -> list[str]:
        """The ids a document names, once per version of it (the world replaces a document when it changes)."""
        k = id_key(doc["id"])
        hit = self._refs.get(k)
        if hit is None or hit[0] is not doc:
            hit = self._refs[k] = (doc, _refs(doc))
        return hit[1]

    def add(self, d: dict | None) -> None:
        if d is None:
            return
        t = d.get("type", "").lower()
        if t.startswith("microsoft.compute/galleries") or t == v.IMAGE.lower():
            rid = ResourceId.parse(d["id"])
            self.images_by_rg.setdefault(id_key(ResourceId(rid.subscription, rid.resource_group)), set()).add(
                id_key(d["id"]))
        elif t == v.VM.lower():
            crg = v.Vm(d).capacity_reservation_group_id
            if crg:
                self.vms_by_crg.setdefault(id_key(crg), set()).add(id_key(d["id"]))


def neighborhood(world: World, goals: list[Goal], index: Index | None = None) -> World:
    """The goals, what they reference (transitively, 4 hops), their ancestors, their resource groups, the galleries
    (with definitions and versions) and managed images of those groups, and the VMs sharing a capacity reservation
    group with them."""
    index = index or Index(world)
    keys: set[str] = set()
    # The ids a goal's values name, nested ones too (a CVM goal's osDisk securityProfile names its disk
    # encryption set).
    frontier = [g.resource for g in goals] + [ref for g in goals
                                                for ref in _refs({"id": g.resource, "goal": list(g.properties.values())})]
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
            if doc is not None and not doc.get("type", "").lower().startswith(_LEAF_NAMESPACES):
                nxt += index.refs(doc)
        frontier = nxt
    found = set(keys | rgs)
    for rg in rgs:
        found |= index.images_by_rg.get(rg, set())
    for k in list(keys):
        found |= index.vms_by_crg.get(k, set())
    docs = [d for k in sorted(found) if (d := world.get(k)) is not None]
    # A VM's extensions: its recreate path installs them again (and AADLoginForWindows needs its Entra device gone).
    docs += [e for d in list(docs) if d.get("type", "").lower() == v.VM.lower()
             for e in world.children(d["id"], VM_EXTENSION) if id_key(e["id"]) not in found]
    return World(docs)
