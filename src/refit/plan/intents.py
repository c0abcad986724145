"""Fleet intents: what users say of fleets ("every VM and scale set in these resource groups to Trusted Launch"),
expanded over the fleet as it is to one goal per resource, which the planner solves like any other goal.

    intents:
      - intent: trusted-launch          # VMs and scale sets: securityType TrustedLaunch
        where: {resource_groups: [rg-app], tags: {env: prod}}
      - intent: reserve-capacity        # running VMs: in a capacity reservation group of their region
        where: {tags: {tier: critical}}
      - intent: track-latest            # scale sets: their gallery definition's latest version, automatic OS upgrade
        where: {types: [vmss]}
        health: {protocol: http, port: 80, requestPath: /health}   # for a set with no health source
      - intent: gen2                    # Gen1 VMs and scale sets to Gen2
      - intent: vnet-flow-logs          # virtual networks whose NSGs log: VNet flow logs, then NSG logs off
        window: PT24H                   # how long both log before the NSG flow logs are disabled
    waves: {canary: 1, batch_percent: 20}

A resource an intent does not apply to is skipped, with the reason (already Trusted Launch, not running, ...).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from refit.arm import location
from refit.arm import views as v
from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.arm.world import World
from refit.plan import rehome
from refit.plan.goal import Goal, GoalSet, read_yaml
from refit.plan.selectors import Selector
from refit.platform.rules import facts, images

VM_SEC = "properties.securityProfile.securityType"
VMSS_SEC = "properties.virtualMachineProfile.securityProfile.securityType"
CRG = "properties.capacityReservation.capacityReservationGroup.id"
IMAGE = "properties.virtualMachineProfile.storageProfile.imageReference"
AUTO_OS = "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade"
MAX_SURGE = "properties.upgradePolicy.rollingUpgradePolicy.maxSurge"
EXTENSIONS = "properties.virtualMachineProfile.extensionProfile.extensions"
HEALTH_PROBE = "properties.virtualMachineProfile.networkProfile.healthProbe.id"
INTENTS = ("trusted-launch", "reserve-capacity", "track-latest", "gen2", "vnet-flow-logs")
NETWORK_INTENTS = ("vnet-flow-logs",)  # over virtual networks, planned by refit.plan.flowlogs


class Health(BaseModel):
    """The Application Health extension's settings (acd virtual-machine-scale-sets-health-extension.md)."""

    model_config = ConfigDict(extra="forbid")
    protocol: Literal["http", "https", "tcp"]
    port: int
    requestPath: str | None = None  # the extension's own name


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intent: Literal["trusted-launch", "reserve-capacity", "track-latest", "gen2", "vnet-flow-logs"]
    where: Selector = Field(default_factory=Selector)
    group: str | None = None  # reserve-capacity: the capacity reservation group's name (default: crg-<region>)
    health: Health | None = None  # track-latest: the health extension for a set with no health source
    window: str | None = None  # vnet-flow-logs: how long both flow logs log (ISO 8601, PT24H by default)

    @model_validator(mode="after")
    def _network(self) -> Intent:
        if self.intent in NETWORK_INTENTS and self.where.types:
            raise ValueError(f"{self.intent} selects virtual networks: 'types' (vm, vmss) does not apply")
        if self.window is not None and (self.intent != "vnet-flow-logs" or facts.iso_minutes(self.window) is None):
            raise ValueError("'window' is vnet-flow-logs' validation window, an ISO 8601 duration such as PT24H")
        return self


class Waves(BaseModel):
    model_config = ConfigDict(extra="forbid")
    canary: int = Field(1, ge=0)
    batch_percent: float = Field(20.0, gt=0, le=100)


class GoalFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    goals: list[Goal] = Field(default_factory=list)
    intents: list[Intent] = Field(default_factory=list)
    waves: Waves | None = None

    @model_validator(mode="after")
    def _something(self) -> GoalFile:
        if not self.goals and not self.intents:
            raise ValueError("a goal file needs goals or intents")
        return self


@dataclass
class Expansion:
    goals: GoalSet | None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (resource id, why the intent does not apply)
    selected: int = 0


def load(path: Path) -> GoalFile:
    return parse(read_yaml(path), str(path))


def parse(data: Any, source: str = "goal") -> GoalFile:
    try:
        return GoalFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise UserError(f"{source}: {where}: {err['msg']} (a goal file is 'goals: [{{resource: ID, properties: "
                        f"{{path: value}}}}]' and/or 'intents: [{{intent: {'|'.join(INTENTS)}, where: {{...}}}}]')") from e


def expand(world: World, spec: GoalFile) -> Expansion:
    """The goal file's goals, then each intent's goal for each resource it selects (a resource selected by two
    intents gets one goal with both intents' properties)."""
    by_resource: dict[str, dict[str, Any]] = {g.resource: dict(g.properties) for g in spec.goals}
    out = Expansion(None)
    for it in spec.intents:
        if it.intent in NETWORK_INTENTS:
            continue  # over virtual networks, in an order of its own (refit.plan.flowlogs)
        for doc in it.where.select(world):
            out.selected += 1
            props, why = _EXPAND[it.intent](world, doc, it)
            if props:
                by_resource.setdefault(doc["id"], {}).update(props)
            else:
                out.skipped.append((doc["id"], f"{it.intent}: {why}"))
    if by_resource:
        out.goals = GoalSet(goals=[Goal(resource=r, properties=p) for r, p in by_resource.items()])
    return out


# ---- the intents ----------------------------------------------------------------------------------------------
def _is_vm(doc: dict[str, Any]) -> bool:
    return doc["type"].lower() == v.VM.lower()


def _trusted_launch(world: World, doc: dict[str, Any], it: Intent) -> tuple[dict[str, Any], str]:
    st = v.Vm(doc).security_type if _is_vm(doc) else v.Vmss(doc).security_type
    if st in ("TrustedLaunch", "ConfidentialVM"):
        return {}, f"already {st}"
    return {VM_SEC if _is_vm(doc) else VMSS_SEC: "TrustedLaunch"}, ""


def _generation(world: World, doc: dict[str, Any]) -> str | None:
    if _is_vm(doc):
        disk = world.get(v.Vm(doc).os_disk_id or "")
        return get_path(disk, "properties.hyperVGeneration") or "V1" if disk is not None else None
    try:
        return images.facts(world, get_path(doc, IMAGE) or {}, doc.get("location", "")).hyper_v_generation
    except ArmError:
        return None


def _gen2(world: World, doc: dict[str, Any], it: Intent) -> tuple[dict[str, Any], str]:
    """Azure's in-place way from Gen1 to Gen2 is the Trusted Launch upgrade: a VM's guest disk converted MBR -> GPT,
    then Trusted Launch (acd trusted-launch-existing-vm-gen-1.md, rule U5); a scale set's Gen2 SKU of its image with
    Trusted Launch (acd trusted-launch-existing-vmss.md, rule V6). So gen2 is trusted-launch for Gen1 resources."""
    gen = _generation(world, doc)
    if gen is None:
        return {}, "its generation is unknown (OS disk or image not found)"
    if gen == "V2":
        return {}, "already Gen2"
    return _trusted_launch(world, doc, it)


def _reserve(world: World, doc: dict[str, Any], it: Intent) -> tuple[dict[str, Any], str]:
    """A running VM into the capacity reservation group of its region and resource group: the one named, an existing
    one that covers its zone, else `crg-<region>` (`crg-<region>-z<zone>` when that one does not cover the zone: a
    group's zones are fixed at creation, rule C1), as `refit reserve` does (refit.run.reserve)."""
    if not _is_vm(doc):
        return {}, "capacity is reserved for VMs (a scale set's instances: not planned here)"
    vm = v.Vm(doc)
    if vm.capacity_reservation_group_id:
        return {}, "already in a capacity reservation group"
    if vm.power_state != "running":
        return {}, f"not running ({vm.power_state or 'unknown'}): no capacity to keep"
    return {CRG: group_id(world, vm, it.group, None)}, ""


def group_id(world: World, vm: v.Vm, name: str | None, resource_group: str | None) -> str:
    """The group a VM goes into: the one named, else an existing group of its region and resource group that
    covers its zone (a regional group for a regional VM), else a new one: `crg-<region>`, or
    `crg-<region>-z<zone>` when `crg-<region>` exists but does not cover the zone (a group's zones are
    fixed when it is created, rule C1, so it cannot be extended to take the VM)."""
    r = vm.rid
    rg = resource_group or r.resource_group

    def gid(n: str) -> str:
        return str(ResourceId.build(r.subscription, rg, v.CAPACITY_RESERVATION_GROUP, n))

    if name:
        return gid(name)
    zones = [vm.zone] if vm.zone else []
    for doc in world.of_type(v.CAPACITY_RESERVATION_GROUP):
        g = ResourceId.parse(doc["id"])
        if (g.subscription.lower(), (g.resource_group or "").lower()) != (r.subscription.lower(), rg.lower()):
            continue
        if not location.same(doc.get("location"), vm.location):
            continue
        covered = doc.get("zones") or []
        if (not zones and not covered) or (zones and zones[0] in covered):
            return doc["id"]
    default = gid(f"crg-{location.normalize(vm.location)}")
    if world.get(default) is None or not zones:
        return default
    return gid(f"crg-{location.normalize(vm.location)}-z{zones[0]}")


def _track_latest(world: World, doc: dict[str, Any], it: Intent) -> tuple[dict[str, Any], str]:
    """A scale set on its gallery definition (no version) or its platform image's `latest`, with automatic OS
    upgrade, and its prerequisites (acd virtual-machine-scale-sets-automatic-upgrade.md): one health source (H2,
    H3; the health extension added when there is none), no MaxSurge (H7: not with automatic OS upgrade on a
    Flexible set; left off on Uniform sets too, as the intent says)."""
    if _is_vm(doc):
        return {}, "automatic OS image upgrade is a scale set's (VMs: not planned here)"
    props: dict[str, Any] = {}
    ref = get_path(doc, IMAGE) or {}
    kind = images.ref_kind(ref.get("id") or "") if ref.get("id") else ("platform" if ref.get("sku") else "unknown")
    if kind == "version":
        props[f"{IMAGE}.id"] = str(ResourceId.parse(ref["id"]).parent)
    elif kind == "platform" and str(ref.get("version", "")).lower() != "latest":
        props[f"{IMAGE}.version"] = "latest"
    elif kind == "managed-image" and world.get(ref["id"]) is not None:
        props[f"{IMAGE}.id"] = definition_for(world, doc, ref["id"])  # created by the plan (plan.definitions)
    elif kind not in ("definition", "platform"):
        return {}, f"its image ({kind}) has no 'latest' version to track (H4: a gallery definition or a platform image)"
    health_ext = [e for e in get_path(doc, EXTENSIONS) or []
                  if get_path(e, "properties.type") in facts.HEALTH_EXTENSION_TYPES]
    if not health_ext and not get_path(doc, HEALTH_PROBE):
        if it.health is None:
            return {}, "it has no health source (H3): give the intent health: {protocol, port, requestPath}"
        props[EXTENSIONS] = [*copy.deepcopy(get_path(doc, EXTENSIONS) or []), _health_extension(doc, it.health)]
    if get_path(doc, MAX_SURGE) is True:
        props[MAX_SURGE] = False
    props[AUTO_OS] = True
    return props, ""


def definition_for(world: World, vmss: dict[str, Any], image_id: str) -> str:
    """The gallery definition a set on a managed image moves to, to track latest: one that already holds a version
    built from that image, else `<image name without its date>` in the first gallery of the set's resource group
    (a new `gal_<resource group>` when there is none): img-app-2026-01 -> img-app, whose versions are the months."""
    for ver in world.of_type(v.IMAGE_VERSION):
        src = get_path(ver, "properties.storageProfile.source.id")
        if isinstance(src, str) and id_key(src) == id_key(image_id):
            return str(ResourceId.parse(ver["id"]).parent)
    r = ResourceId.parse(vmss["id"])
    prefix = id_key(ResourceId(r.subscription, r.resource_group)) + "/"
    galleries = sorted((g["id"] for g in world.of_type(v.GALLERY) if id_key(g["id"]).startswith(prefix)), key=id_key)
    gallery = galleries[0] if galleries else str(ResourceId.build(r.subscription, r.resource_group, v.GALLERY,
                                                                    rehome.gallery_name(r.resource_group)))
    name = re.sub(r"[-_.]?(19|20)\d{2}([-_.]?\d{2}){0,2}$", "", ResourceId.parse(image_id).name) or \
        ResourceId.parse(image_id).name
    return f"{gallery}/images/{name}"


def _health_extension(doc: dict[str, Any], health: Health) -> dict[str, Any]:
    windows = (get_path(doc, "properties.virtualMachineProfile.storageProfile.osDisk.osType") or "").lower() == "windows"
    settings = {"protocol": health.protocol, "port": health.port}
    if health.requestPath:
        settings["requestPath"] = health.requestPath
    return {"name": "HealthExtension", "properties": {
        "publisher": facts.HEALTH_EXTENSION_PUBLISHER, "type": facts.HEALTH_EXTENSION_TYPES[1 if windows else 0],
        "typeHandlerVersion": "2.0", "autoUpgradeMinorVersion": True, "settings": settings}}


_EXPAND = {"trusted-launch": _trusted_launch, "gen2": _gen2, "reserve-capacity": _reserve,
           "track-latest": _track_latest}
