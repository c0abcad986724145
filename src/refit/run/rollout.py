"""`refit rollout`: scale sets to an image version, the canary region first, region by region, each set through
Azure's own rolling upgrade, the campaign halted (and the version killed) at the first breach.

Per set (seed 001 section 4; https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-
automatic-upgrade and ...-configure-rolling-upgrades):
- a set that tracks the definition (its model names the definition, no version) takes the version when it is latest
  in the set's region: `POST osRollingUpgrade`, under the set's rolling policy;
- a set that names an image gets the version in its model (a PATCH): in Rolling mode Azure's rolling upgrade
  follows; in Manual mode `manualUpgrade` of every instance; in Automatic mode every instance at once;
- either way refit watches `rollingUpgrades/latest` (and the instances' `latestModelApplied`) until it ends.
A region is started only once the version has replicated there (a set cannot take a version its region has not:
rule G14). A Faulted or Cancelled upgrade halts the campaign: no further set starts, and the version is excluded
from latest (`refit release kill`) unless the caller says not to.

Reconcile, don't replay: every set is read live before it is touched, so a re-run after a crash skips the sets on the
version and watches an upgrade already rolling instead of starting another (rule M18 would refuse it). The journal
(kind `rollout`) records each set's state and every poll of its upgrade (progress counts, virtual-clock time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from refit.arm import views as v
from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path
from refit.arm.world import World
from refit.azure.pacing import POLL_SECONDS, PacedClient, Wait, operation, request
from refit.platform import apis, regions
from refit.platform.rules import facts
from refit.platform.rules import images as image_rules
from refit.run.campaign import RunAll, drive_local

Doc = dict[str, Any]
COMPUTE_API = apis.COMPUTE
GALLERY_API = apis.GALLERY
WATCH_LIMIT = 86_400.0 * 7  # a week of (clock) time for one set's upgrade: longer is a hung upgrade


@dataclass
class Target:
    definition: Doc
    version: Doc | None  # None: the latest version in each set's region

    @property
    def definition_id(self) -> str:
        return self.definition["id"]


@dataclass
class SetPlan:
    vmss: Doc
    region: str
    wave: int
    how: str  # os-upgrade | model
    state: str = "pending"  # pending | running | in-sync | done | failed | not-started
    version: str | None = None  # the version this set takes (known once its region has it)
    detail: str = ""
    polls: list[Doc] = field(default_factory=list)


def target_of(world: World, text: str) -> Target:
    try:
        rid = ResourceId.parse(text)
    except ArmError as e:
        raise UserError(f"--image '{text}' is not a resource id: give a gallery image definition or version id") from e
    t = rid.type.lower()
    if t == v.IMAGE_VERSION.lower():
        doc = world.get(rid)
        if doc is None:
            raise UserError(f"--image: no image version {rid}; `refit release status` lists the versions")
        return Target(world.get(rid.parent) or {}, doc)
    if t == v.IMAGE_DEFINITION.lower():
        doc = world.get(rid)
        if doc is None:
            raise UserError(f"--image: no image definition {rid}; check the id")
        return Target(doc, None)
    raise UserError(f"--image '{text}' is a {rid.type}: give a gallery image definition or version id")


def _uses(vmss: Doc, definition_id: str) -> bool:
    ref = str(v.Vmss(vmss).image_reference.get("id") or "")
    return id_key(ref) == id_key(definition_id) or id_key(ref).startswith(id_key(definition_id) + "/versions/")


def select(world: World, target: Target, sets: list[str], groups: list[str], where: list[str]) -> list[Doc]:
    """The scale sets to roll: those named, else every set whose model uses the definition; filtered by resource group
    and tags. An empty selection, or a named set that does not exist, is bad input."""
    from refit.run.refresh.scope import tag_filter

    filters = [tag_filter(w) for w in where]
    every = world.of_type(v.VMSS)
    if sets:
        chosen = []
        for name in sets:
            hit = next((d for d in every if id_key(d["id"]) == id_key(name) or d["name"].lower() == name.lower()),
                       None)
            if hit is None:
                raise UserError(f"--scale-set {name}: no such scale set; `refit inventory` lists them")
            chosen.append(hit)
    else:
        chosen = [d for d in every if _uses(d, target.definition_id)]
    chosen = [d for d in chosen if (not groups or ResourceId.parse(d["id"]).resource_group.lower() in
                                    {g.lower() for g in groups})
              and all(str((d.get("tags") or {}).get(k, "")).lower() == val.lower() for k, val in filters)]
    if not chosen:
        raise UserError(f"no scale set to roll: none uses {target.definition['name']} within the selection "
                        "(--scale-set, -g, --where)")
    return chosen


def waves(world: World, target: Target, chosen: list[Doc], canary: str | None) -> list[SetPlan]:
    """Canary region first (given, else the version's first target region), then the other regions in turn. A named
    version must already target every region; a definition's newest version is brought to each region in turn."""
    where = [regions.normalize(d["location"]) for d in chosen]
    version = desired_version(world, target)
    targeted = [regions.normalize(t.get("name", "")) for t in
                get_path(version, "properties.publishingProfile.targetRegions") or []]
    if target.version is not None:
        missing = sorted(set(where) - set(targeted))
        if missing:
            raise UserError(f"version {target.version['name']} does not target {', '.join(missing)}: promote it there "
                            f"first (refit release promote {target.version['id']} --regions {','.join(missing)}), or "
                            "roll out the definition to bring it region by region")
    first = canary or (targeted[0] if targeted else None)
    if canary and regions.normalize(canary) not in where:
        raise UserError(f"--canary-region {canary}: none of the selected scale sets is there ({', '.join(sorted(set(where)))})")
    order = ([regions.normalize(first)] if first and regions.normalize(first) in where else []) + \
        sorted(r for r in set(where) if not first or r != regions.normalize(first))
    out = []
    for d in chosen:
        r = regions.normalize(d["location"])
        ref = str(v.Vmss(d).image_reference.get("id") or "")
        # A set that tracks this definition takes the version by an OS upgrade; any other set by a model change.
        tracks = image_rules.ref_kind(ref) == "definition" and id_key(ref) == id_key(target.definition_id)
        out.append(SetPlan(d, r, order.index(r) + 1, "os-upgrade" if tracks else "model"))
    return sorted(out, key=lambda p: (p.wave, p.vmss["name"]))


def preflight(world: World, plans: list[SetPlan], version: Doc) -> None:
    """What makes a rollout fail before it starts, refused with the fix: no health source to gate it (seed 001 rows 5
    and 6), and a model change Azure would refuse (the version's security type, generation or OS state the set cannot
    take: the rule catalog, performed on refit's model of Azure first)."""
    from refit.ops.op import Op, Request
    from refit.plan.sim import Sim

    for p in plans:
        if p.how == "model":
            body = {"properties": {"virtualMachineProfile": {"storageProfile": {"imageReference": {
                "id": version["id"]}}}}}
            out = Sim.from_world(world).run(Op("patch", p.vmss["id"], Request("PATCH", p.vmss["id"], COMPUTE_API,
                                                                               body)))
            if not out.ok and out.error is not None:
                raise UserError(f"{p.vmss['name']} cannot take {version['name']}: ({out.error.code}) {out.error.message}"
                                + (f" (rule {out.rules[0]})" if out.rules else ""))
        exts = (((p.vmss.get("properties") or {}).get("virtualMachineProfile") or {}).get("extensionProfile") or {}) \
            .get("extensions") or []
        sources = facts.health_sources(p.vmss, exts)
        flexible = v.Vmss(p.vmss).orchestration_mode == "Flexible"
        if not sources or (flexible and "extension" not in sources):
            raise UserError(f"{p.vmss['name']}: no health source, so no upgrade can be gated: add the Application "
                            f"Health extension (az vmss extension set -g {ResourceId.parse(p.vmss['id']).resource_group}"
                            f" --vmss-name {p.vmss['name']} --name ApplicationHealthLinux --publisher "
                            "Microsoft.ManagedServices --version 2.0 ...) and update the instances")


# ---- running ----------------------------------------------------------------------------------------------------
HEALTH_WAIT = 300.0  # as Azure's own upgrade: "waits up to 5 minutes for the instance to become healthy"
PLATFORM_WAIT = 3 * 3600.0  # "It can take up to 3 hours for a scale set to trigger the first image upgrade rollout"


def desired_version(world: World, target: Target) -> Doc:
    """The version a campaign rolls out: the one named, else the definition's newest version not excluded from latest
    (anywhere: the campaign brings it to the other regions as it goes)."""
    if target.version is not None:
        return target.version
    cands = [x for x in world.image_versions(target.definition_id) if not x.exclude_from_latest]
    if not cands:
        raise UserError(f"{target.definition['name']} has no version to roll out (every one is excluded from latest)")
    return max(cands, key=lambda x: x.version).doc


def _version_doc(c: PacedClient, version_id: str) -> Generator[Any, Any, Doc]:
    r = yield from request(c, "GET", version_id, GALLERY_API, params={"$expand": "ReplicationStatus"})
    if r.status >= 400:
        raise r.error()
    return r.body or {}


def _replicated(doc: Doc, region: str) -> bool:
    for s in get_path(doc, "properties.replicationStatus.summary") or []:
        if regions.normalize(s.get("region", "")) == region:
            return s.get("state") == "Completed"
    return False


def _targets(doc: Doc) -> list[str]:
    return [regions.normalize(t.get("name", "")) for t in get_path(doc, "properties.publishingProfile.targetRegions")
            or [] if isinstance(t, dict)]


def _latest(c: PacedClient, set_id: str) -> Generator[Any, Any, Doc | None]:
    r = yield from request(c, "GET", f"{set_id}/rollingUpgrades/latest", COMPUTE_API)
    if r.status == 404:
        return None
    if r.status >= 400:
        raise r.error()
    return r.body or {}


def _os_upgrade_to(c: PacedClient, set_id: str, version_name: str) -> Generator[Any, Any, Doc | None]:
    """The newest OS upgrade of the set, if its target is this version (osUpgradeHistory, newest first)."""
    r = yield from request(c, "GET", f"{set_id}/osUpgradeHistory", COMPUTE_API)
    if r.status >= 400:
        raise r.error()
    newest = ((r.body or {}).get("value") or [None])[0]
    if newest and get_path(newest, "properties.targetImageReference.exactVersion") == version_name:
        return newest
    return None


def _instances(c: PacedClient, set_id: str) -> Generator[Any, Any, list[Doc]]:
    r = yield from request(c, "GET", f"{set_id}/virtualMachines", COMPUTE_API)
    if r.status >= 400:
        raise r.error()
    return (r.body or {}).get("value") or []


def _on(c: PacedClient, set_id: str, version_id: str) -> Generator[Any, Any, bool]:
    """Whether every instance runs the version: its OS disk made from it, on the latest model."""
    for inst in (yield from _instances(c, set_id)):
        if get_path(inst, "properties.latestModelApplied") is False:
            return False
        disk = get_path(inst, "properties.storageProfile.osDisk.managedDisk.id")
        r = (yield from request(c, "GET", disk, apis.api_version_for(disk))) if disk else None
        made = get_path((r.body if r is not None else None) or {}, "properties.creationData.galleryImageReference.id")
        if not made or id_key(made) != id_key(version_id):
            return False
    return True


def _auto_os(vmss: Doc) -> bool:
    return str(get_path(vmss, "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade")).lower() \
        == "true"


@dataclass
class Outcome:
    ok: bool
    plans: list[SetPlan]
    breach: Doc | None = None  # the upgrade error that halted it
    killed: Doc | None = None


class Rollout:
    """One rollout's decisions (refit.run.campaign's RunAll), whichever engine drives them. `kill(version_id)` is a
    generator (the local engine's runs refit.run.release.kill here; a workflow's is an activity)."""

    def __init__(self, client: PacedClient, version: Doc, plans: list[SetPlan], event: Callable[[Doc], None],
                 kill: Callable[[str], Generator[Any, Any, Doc | None]]):
        self.c, self.version, self.plans = client, version, plans
        self.event, self._kill = event, kill
        self.name = version["id"].rstrip("/").rsplit("/", 1)[-1]
        self.stopped: SetPlan | None = None  # the first set that failed: nothing starts after it
        self.killed: Doc | None = None
        self._killing = False

    def kill(self, version_id: str) -> Generator[Any, Any, Doc | None]:
        """Kill the version once (the first failure does; sets rolling beside it see their upgrade cancelled)."""
        if self.killed is None and not self._killing:
            self._killing = True  # a set failing beside it while the kill is in flight does not kill again
            self.killed = (yield from self._kill(version_id)) or {}
        return self.killed or None

    def _halt(self, p: SetPlan) -> Generator[Any, Any, Outcome]:
        """The campaign stops at `p`: what has not started does not; the version is killed."""
        p = self.stopped or p
        for rest in self.plans:
            if rest.state == "pending":
                rest.state = "not-started"
        err = next((x.get("error") for x in reversed(p.polls) if x.get("error")), None)
        killed = yield from _one_task(lambda: self.kill(self.version["id"]))
        return Outcome(False, self.plans, err, killed)

    def decisions(self, side_by_side: int = 8) -> Generator[Any, Any, Outcome]:
        """Region by region; within a region, its sets side by side (at most `side_by_side` at once: each is one
        of Azure's rolling upgrades, on a set of its own). The first set that fails halts the campaign once its
        region's sets have ended (those still rolling are watched to their end, or to the kill's cancel)."""
        for wave in sorted({p.wave for p in self.plans}):
            sets = [p for p in self.plans if p.wave == wave]
            if not (yield from _one_task(lambda sets=sets: self.bring(sets[0]))):
                return (yield from self._halt(sets[0]))
            done = yield RunAll({i: (lambda p=p: self._one(p)) for i, p in enumerate(sets)}, limit=side_by_side,
                                gated=False)
            for i, p in enumerate(sets):
                r = done[i]
                if not r.ok:
                    p.state, p.detail = "failed", f"{type(r.error).__name__}: {r.error}"
            failed = [p for i, p in enumerate(sets) if not (done[i].ok and done[i].value)]
            if failed:
                return (yield from self._halt(failed[0]))
        return Outcome(True, self.plans)

    def bring(self, p: SetPlan) -> Generator[Any, Any, bool]:
        """The version to the wave's region (added to its targets once the regions before succeeded), replicated."""
        vid = self.version["id"]
        doc = yield from _version_doc(self.c, vid)
        if p.region not in _targets(doc):
            self._emit(p, "promote", version=vid)
            body = {"properties": {"publishingProfile": {"targetRegions": [
                *(get_path(doc, "properties.publishingProfile.targetRegions") or []),
                {"name": p.region, "regionalReplicaCount": 1}]}}}
            yield from operation(self.c, "PATCH", vid, GALLERY_API, body)
        waited = 0.0
        while not _replicated((yield from _version_doc(self.c, vid)), p.region):
            if waited == 0.0:
                self._emit(p, "waiting-for-replication", version=vid)
            if waited > WATCH_LIMIT:
                p.state, p.detail = "failed", f"{self.name} never replicated to {p.region}"
                return False
            yield Wait(POLL_SECONDS)
            waited += POLL_SECONDS
        return True

    def _emit(self, p: SetPlan, what: str, **extra: Any) -> None:
        self.event({"set": p.vmss["id"], "region": p.region, "wave": p.wave, "event": what,
                    "at": self.c.clock.now(), **extra})

    def _one(self, p: SetPlan) -> Generator[Any, Any, bool]:
        sid, vid = p.vmss["id"], self.version["id"]
        p.version = vid
        if self.stopped is not None:
            return False  # a set beside it failed: this one does not start (it stays not-started)
        if (yield from _on(self.c, sid, vid)):
            p.state, p.detail = "in-sync", vid
            self._emit(p, "in-sync", version=vid)
            return True
        yield from self._start(p)
        p.state = "running"
        ok = yield from self._watch(p)
        if ok and (yield from _on(self.c, sid, vid)):
            p.state, p.detail = "done", vid
            self._emit(p, "done", version=vid)
            return True
        err = next((x.get("error") for x in reversed(p.polls) if x.get("error")), None)
        p.state, p.detail = "failed", (err or {}).get("code", "") or "not on the version"
        self._emit(p, "failed", error=err)
        if self.stopped is None:  # the first breach: kill now, so the sets rolling beside it stop too
            self.stopped = p
            yield from self.kill(vid)
        return False

    def _start(self, p: SetPlan) -> Generator[Any, Any, None]:
        sid, vid = p.vmss["id"], self.version["id"]
        latest = yield from _latest(self.c, sid)
        if get_path(latest or {}, "properties.runningStatus.code") == "RollingForward":
            self._emit(p, "watching", how="an upgrade already rolling (a crashed run's, or the platform's)")
            return
        if p.how == "os-upgrade":
            if _auto_os(p.vmss):
                # The platform's own upgrade rolls back failed instances to their previous OS disk; a manual trigger
                # "does not provide automatic rollback capabilities" (automatic-upgrade page): wait for it first.
                self._emit(p, "waiting-for-platform", version=vid)
                t0 = self.c.clock.now()
                while self.c.clock.now() - t0 < PLATFORM_WAIT:
                    if (yield from _os_upgrade_to(self.c, sid, self.name)) is not None:
                        return
                    yield Wait(POLL_SECONDS * 6)
            self._emit(p, "started", how="osRollingUpgrade", version=vid)
            r = yield from request(self.c, "POST", f"{sid}/osRollingUpgrade", COMPUTE_API)
            if r.status == 409 and get_path((yield from _latest(self.c, sid)) or {},
                                            "properties.runningStatus.code") == "RollingForward":
                # M18: one is rolling already. Ours, when this request was sent twice (a Temporal activity retried
                # after its worker was lost with the first attempt's answer), or one that began since the read
                # above: either way it is watched to its end, as above.
                self._emit(p, "watching", how="an upgrade already rolling (this request's earlier attempt's)")
                return
            if r.status >= 400:
                raise r.error()
            return
        body = {"properties": {"virtualMachineProfile": {"storageProfile": {"imageReference": {"id": vid}}}}}
        self._emit(p, "started", how="model", version=vid)
        yield from operation(self.c, "PATCH", sid, COMPUTE_API, body)

    def _watch(self, p: SetPlan) -> Generator[Any, Any, bool]:
        if p.how == "model" and v.Vmss(p.vmss).upgrade_mode == "Manual":
            return (yield from self._manual_batches(p))
        t0 = self.c.clock.now()
        while self.c.clock.now() - t0 < WATCH_LIMIT:
            latest = yield from _latest(self.c, p.vmss["id"])
            props = (latest or {}).get("properties") or {}
            code = get_path(props, "runningStatus.code")
            poll = {"at": self.c.clock.now(), "code": code, "progress": props.get("progress")}
            if props.get("error"):
                poll["error"] = props["error"]
            p.polls.append(poll)
            self._emit(p, "progress", code=code, progress=props.get("progress"))
            if code in (None, "Completed"):
                return True
            if code in ("Faulted", "Cancelled"):
                return False
            yield Wait(POLL_SECONDS)
        return False

    # ---- refit's own batches, for a set in Manual mode ----------------------------------------------------------
    def _manual_batches(self, p: SetPlan) -> Generator[Any, Any, bool]:
        """Manual mode moves nothing until told: refit upgrades the instances in batches of the set's
        maxBatchInstancePercent (at least one), waits for each batch to report healthy (Initializing waited out,
        then up to 5 minutes), and stops at the first batch whose failures exceed maxUnhealthyUpgradedInstancePercent
        of those upgraded: Azure's own rolling rules, applied by refit (rolling-upgrade engine, platform/effects)."""
        sid = p.vmss["id"]
        pol = get_path(p.vmss, "properties.upgradePolicy.rollingUpgradePolicy") or {}
        pct = int(pol.get("maxBatchInstancePercent") or 20)
        limit = int(pol.get("maxUnhealthyUpgradedInstancePercent") or 20)
        insts = yield from _instances(self.c, sid)
        todo = [i["instanceId"] if "instanceId" in i else i["name"] for i in insts
                if get_path(i, "properties.latestModelApplied") is False]
        size = max(1, len(insts) * pct // 100)
        upgraded, failed = 0, []
        for n in range(0, len(todo), size):
            batch = todo[n:n + size]
            self._emit(p, "batch", instances=batch)
            yield from operation(self.c, "POST", f"{sid}/manualupgrade", COMPUTE_API, {"instanceIds": batch})
            bad = yield from self._healthy(p, batch)
            upgraded += len(batch)
            failed += bad
            progress = {"successfulInstanceCount": upgraded - len(failed), "failedInstanceCount": len(failed),
                        "inProgressInstanceCount": 0, "pendingInstanceCount": len(todo) - upgraded}
            poll: Doc = {"at": self.c.clock.now(), "code": "RollingForward", "progress": progress}
            if 100 * len(failed) / upgraded > limit:
                poll["code"] = "Faulted"
                poll["error"] = {"code": "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade",
                                 "message": f"{len(failed)} of the {upgraded} instances refit upgraded are unhealthy "
                                            f"({', '.join(failed)}), more than maxUnhealthyUpgradedInstancePercent "
                                            f"{limit}%: stopped before the next batch"}
                p.polls.append(poll)
                self._emit(p, "progress", code="Faulted", progress=progress)
                return False
            p.polls.append(poll)
            self._emit(p, "progress", code="RollingForward", progress={**progress, "inProgressInstanceCount": len(batch)})
            pause = facts.iso_seconds(pol.get("pauseTimeBetweenBatches"))
            if pause and n + size < len(todo):
                yield Wait(pause)
        return True

    def _healthy(self, p: SetPlan, batch: list[str]) -> Generator[Any, Any, list[str]]:
        """The instances of the batch that failed: not healthy 5 minutes after their upgrade (Initializing is waited
        out, up to the extension's longest grace period, 4 hours), as their Application Health extension reports."""
        sid = p.vmss["id"]
        t0 = self.c.clock.now()
        while True:
            waited = self.c.clock.now() - t0
            pending, failed = [], []
            for iid in batch:
                r = yield from request(self.c, "GET", f"{sid}/virtualMachines/{iid}/instanceView", COMPUTE_API)
                code = get_path(r.body or {}, "vmHealth.status.code") if r.status < 400 else "HealthState/unknown"
                if code in (None, "HealthState/healthy"):
                    continue
                if code == "HealthState/initializing" or waited < HEALTH_WAIT:
                    pending.append(iid)
                else:
                    failed.append(iid)
            if not pending or waited > HEALTH_WAIT + 14_400:
                return failed + pending
            yield Wait(POLL_SECONDS)


def _one_task(factory) -> Generator[Any, Any, Any]:
    """A campaign decision that runs one task (the version brought to a region, the kill) and answers its value."""
    r = (yield RunAll({0: factory}, gated=False))[0]
    if not r.ok:
        raise r.error  # type: ignore[misc]
    return r.value


def execute(client: PacedClient, rollout: Rollout, side_by_side: int = 8) -> Outcome:
    """The rollout's decisions on the local engine: here, its sets' tasks on a Scheduler."""
    from refit.run.sched import Scheduler

    s = Scheduler(client, workers=max(1, side_by_side))
    try:
        return drive_local(rollout.decisions(side_by_side), s, None)
    finally:
        s.close()


def kill_here(session, enabled: bool = True) -> Callable[[str], Generator[Any, Any, Doc | None]]:
    """The kill switch as the local engine pulls it: refit.run.release.kill on the fleet as it is now."""
    from refit.azure.fleet import load_world
    from refit.run import release

    def kill(version_id: str) -> Generator[Any, Any, Doc | None]:
        yield from ()  # a generator that waits for nothing: the workflow's kill is an activity instead
        if not enabled:
            return None
        fresh = load_world(session)
        return release.kill(session, fresh, release.version_of(fresh, version_id))

    return kill


# ---- the journal of a rollout run (both engines) --------------------------------------------------------------------
def record_event(journal, run_id: str, e: Doc) -> None:
    journal.step(run_id, e["set"], e["event"], e.get("code") or "", json.dumps(e, default=str), e["at"])


def record_outcome(journal, run_id: str, version_id: str, out: Outcome, now: float) -> None:
    """Each set's end state, the upgrade error that halted it and the kill's report (steps of the version), the
    run's status."""
    for p in out.plans:
        journal.set_vm(run_id, p.vmss["id"], state=p.state, detail=p.detail)
    for what, value in (("breach", out.breach), ("killed", out.killed)):
        if value:  # events of the version, shaped as the sets' events are
            record_event(journal, run_id, {"set": version_id, "event": what, "at": now, "detail": value})
    status = "completed" if out.ok else "halted"
    message = "" if out.ok else f"({(out.breach or {}).get('code', '')}) {(out.breach or {}).get('message', '')}"
    journal.finish_run(run_id, status, message, now)


def outcome_of(journal, run, plans: list[SetPlan], version_id: str) -> Outcome:
    """A run's Outcome as its journal tells it (a run executed elsewhere: by a Temporal workflow)."""
    run = journal.run(run.id) or run
    rows = {r.vm.lower(): r for r in journal.vms(run.id)}
    for p in plans:
        r = rows.get(p.vmss["id"].lower())
        if r is not None:
            p.state, p.detail = r.state, r.detail
            p.version = version_id if r.state not in ("pending", "not-started") else None
    last = {s["step"]: json.loads(s["detail"])["detail"] for s in journal.steps(run.id, version_id)
            if s["step"] in ("breach", "killed")}
    return Outcome(run.status == "completed", plans, last.get("breach"), last.get("killed"))


# ---- what it will take ---------------------------------------------------------------------------------------------
def expected(world: World, plans: list[SetPlan], version: Doc) -> list[Doc]:
    """Each set's expected duration, in the campaign's order, simulated on refit's model of Azure (`refit.plan.sim`:
    the same replication, rolling-upgrade engine, platform delay and timing model the emulator runs): the version
    brought to the region, the wait for the platform's automatic upgrade, the upgrade's batches and pauses."""
    from refit.ops.op import Op, Request
    from refit.plan.sim import Sim
    from refit.platform.effects import rolling, vmss_instances

    sim = Sim.from_world(world)
    out = []
    vid = version["id"]
    for p in plans:
        t0 = sim.now()
        doc = sim.get(vid) or {}
        if p.region not in _targets(doc):
            body = {"properties": {"publishingProfile": {"targetRegions": [
                *(get_path(doc, "properties.publishingProfile.targetRegions") or []),
                {"name": p.region, "regionalReplicaCount": 1}]}}}
            sim.run(Op("promote", vid, Request("PATCH", vid, GALLERY_API, body)))
        sid = p.vmss["id"]
        note = ""
        vmss = sim.get(sid)
        if vmss is not None and all(id_key(vmss_instances.running_image(sim.cloud, d) or "") == id_key(vid)
                                    and vmss_instances.latest_applied(sim.cloud, vmss, d)
                                    for d in vmss_instances.members(sim.cloud, vmss)):
            out.append({"set": sid, "region": p.region, "wave": p.wave, "seconds": round(sim.now() - t0, 3)})
            continue  # already on it
        if p.how == "os-upgrade" and _auto_os(p.vmss):
            while rolling.running(sim.cloud, sim.get(sid)) is None and (due := sim.cloud.next_due()) is not None \
                    and sim.now() - t0 < PLATFORM_WAIT + 86_400:
                sim.cloud.clock.advance(max(0.0, due - sim.now()) + 1e-6)
                sim.cloud.tick()
            outcome = sim.run(Op("await_rolling_upgrade", sid, Request("GET", f"{sid}/rollingUpgrades/latest",
                                                                        COMPUTE_API)))
        elif p.how == "os-upgrade":
            outcome = sim.run(Op("osRollingUpgrade", sid, Request("POST", f"{sid}/osRollingUpgrade", COMPUTE_API)))
        else:
            body = {"properties": {"virtualMachineProfile": {"storageProfile": {"imageReference": {"id": vid}}}}}
            outcome = sim.run(Op("patch", sid, Request("PATCH", sid, COMPUTE_API, body)))
            if outcome.ok and v.Vmss(p.vmss).upgrade_mode == "Rolling":
                outcome = sim.run(Op("await_rolling_upgrade", sid, Request("GET", f"{sid}/rollingUpgrades/latest",
                                                                            COMPUTE_API)))
            elif outcome.ok and v.Vmss(p.vmss).upgrade_mode == "Manual":
                outcome = sim.run(Op("manualupgrade", sid, Request("POST", f"{sid}/manualupgrade", COMPUTE_API,
                                                                    {"instanceIds": ["*"]})))
                note = "refit's batches take longer: each batch is this long plus its health wait"
        if not outcome.ok and outcome.error is not None:
            note = f"the simulation ends ({outcome.error.code}): {outcome.error.message}"
        out.append({"set": sid, "region": p.region, "wave": p.wave, "seconds": round(sim.now() - t0, 3),
                    **({"note": note} if note else {})})
    return out


def unhealthy_before(c: PacedClient, plans: list[SetPlan], side_by_side: int = 8) -> list[str]:
    """Seed 001 row 9: sets whose instances are already unhealthy beyond the rolling policy's
    maxUnhealthyInstancePercent (Azure would stop the upgrade before its first batch:
    MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade). The sets are read side by side."""
    from refit.run.sched import Scheduler

    s = Scheduler(c, workers=max(1, side_by_side))
    try:
        done = s.run({i: (lambda p=p: _unhealthy(c, p)) for i, p in enumerate(plans)}, limit=side_by_side)
    finally:
        s.close()
    out = []
    for i in range(len(plans)):
        if not done[i].ok:
            raise done[i].error  # type: ignore[misc]
        if done[i].value:
            out.append(done[i].value)
    return out


def _unhealthy(c: PacedClient, p: SetPlan) -> Generator[Any, Any, str | None]:
    sid = p.vmss["id"]
    limit = int(get_path(p.vmss, "properties.upgradePolicy.rollingUpgradePolicy.maxUnhealthyInstancePercent") or 20)
    insts = yield from _instances(c, sid)
    bad = []
    for inst in insts:
        iid = inst.get("instanceId") or inst["name"]
        r = yield from request(c, "GET", f"{sid}/virtualMachines/{iid}/instanceView", COMPUTE_API)
        code = get_path(r.body or {}, "vmHealth.status.code") if r.status < 400 else None
        if code in ("HealthState/unhealthy", "HealthState/unknown"):
            bad.append(iid)
    if insts and 100 * len(bad) / len(insts) > limit:
        return (f"{p.vmss['name']}: {len(bad)} of {len(insts)} instances are unhealthy before the rollout "
                f"({', '.join(sorted(bad))}), more than its maxUnhealthyInstancePercent {limit}%: repair or remove "
                "them first (az vmss reimage / delete-instances)")
    return None
