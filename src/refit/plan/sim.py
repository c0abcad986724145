"""The planner's transition model: the platform model (`refit.platform`), forked in memory.

Executing a candidate op here performs the very call `refit apply` will send, through the same effects
and the same rule catalog the emulator answers with (plus the rules Azure cannot enforce, such as the
guest-side U5), so a plan that passes here is one Azure will accept at every step. Time is the
platform's simulated time on a manual clock: each op is completed by advancing the clock to its end,
which also yields its duration from the timing model. No emulator, no HTTP.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import id_key
from refit.arm.paths import clone
from refit.arm.world import World
from refit.ops.op import Op
from refit.ops.op import Request as OpRequest
from refit.ops.vocabulary import AWAIT_ROLLING_UPGRADE, DELETE_ENTRA_DEVICE, VALIDATION_WINDOW
from refit.platform import directory, effects, writes
from refit.platform.clock import ManualClock
from refit.platform.cloud import Cloud
from refit.platform.effects import rolling, vmss, vmss_instances
from refit.platform.effects.vm import power_state


@dataclass
class StepOutcome:
    ok: bool
    error: ArmError | None = None
    duration: float = 0.0
    rules: tuple[str, ...] = ()  # ids of the catalog rules that refused it


class Sim:
    def __init__(self, cloud: Cloud, temporary: frozenset[str] = frozenset()):
        self.cloud = cloud
        self.temporary = temporary  # keys of resources the plan created only for its path (offered for clean-up)

    # ---- construction ------------------------------------------------------------------------------
    @classmethod
    def from_world(cls, world: World, now: float | None = None) -> Sim:
        """A simulation seeded with ARM documents (from Resource Graph, the emulator, a snapshot)."""
        cloud = Cloud(strict=True)
        cloud.clock = ManualClock(time.time() if now is None else now)
        subs = {d["id"].split("/")[2] for d in world}
        cloud.settings["subscriptions"] = [{"id": s, "displayName": s} for s in sorted(subs)] or cloud.subscriptions
        for doc in world:
            effects.adopt(cloud, clone(doc))
        for dev in world.devices or []:  # the tenant's Entra devices, as the live source read them from Graph
            directory.adopt(cloud, dev)
        vmss_instances.materialise(cloud)  # a Uniform set's instances are not in Resource Graph's resources
        return cls(cloud)

    def fork(self) -> Sim:
        return Sim(self.cloud.fork(), self.temporary)

    def mark_temporary(self, rid: str) -> None:
        self.temporary = self.temporary | {id_key(rid)}

    def is_temporary(self, rid: str) -> bool:
        return id_key(rid) in self.temporary

    @property
    def world(self) -> World:
        return self.cloud.world

    def now(self) -> float:
        return self.cloud.now()

    # ---- running ops ---------------------------------------------------------------------------------
    def run(self, op: Op) -> StepOutcome:
        start = self.cloud.now()
        if op.name == AWAIT_ROLLING_UPGRADE:
            out = self._await_upgrade(op)
            out.duration = self.cloud.now() - start
            return out
        if op.name == DELETE_ENTRA_DEVICE:  # a Microsoft Graph request: the directory, not ARM
            try:
                directory.delete(self.cloud, op.request.path.rstrip("/").rsplit("/", 1)[-1])
            except ArmError as e:
                return StepOutcome(False, e, rules=self._rules(e))
            return StepOutcome(True)
        if op.name == VALIDATION_WINDOW:
            out = self._window(op)
            out.duration = self.cloud.now() - start
            return out
        out = self._send(op.request)
        if out.ok and op.meta.get("followup"):
            follow = self._send(OpRequest.from_json(op.meta["followup"]))
            if not follow.ok:
                return follow
        out.duration = self.cloud.now() - start
        return out

    def _window(self, op: Op) -> StepOutcome:
        """A validation window: the clock runs for its length (every operation due in it completes), then each flow
        log it validates is read; one missing or not enabled fails the step with the read's answer."""
        self.cloud.clock.advance(float(op.meta.get("window_s") or op.duration_s or 0.0))
        self.cloud.tick()
        for rid in op.meta.get("validate") or [op.resource]:
            out = self._send(OpRequest("GET", rid, op.request.api_version))
            if not out.ok:
                return out
            if (self.get(rid) or {}).get("properties", {}).get("enabled") is not True:
                return StepOutcome(False, ArmError(409, "FlowLogNotEnabled", f"flow log {rid} is not enabled"))
        return StepOutcome(True)

    def _send(self, r: OpRequest) -> StepOutcome:
        self.cloud.last_violations = []
        try:
            self.cloud.tick()
            answer = writes.perform(self.cloud, r.method, r.path, r.api_version, clone(r.body))
        except ArmError as e:
            return StepOutcome(False, e, rules=self._rules(e))
        if answer.op is not None:
            out = self._finish(answer.op.id)
            if not out.ok:
                out.rules = self._rules(out.error)
            return out
        return StepOutcome(True)

    def _rules(self, err: ArmError | None) -> tuple[str, ...]:
        """The catalog rules that refused a step: the one the platform's answer names (every refusal of
        refit.platform carries its rule id), then any other rule of this write that gave the same answer
        (S2 and V1 share one text). Empty only for an answer from outside the platform: a bug."""
        if err is None:
            return ()
        same = [v.rule.id for v in self.cloud.last_violations
                if v.error.code == err.code and v.error.message == err.message]
        return tuple(dict.fromkeys([*([err.rule] if err.rule else []), *same]))

    def _finish(self, op_id: str) -> StepOutcome:
        cloud = self.cloud
        op = cloud.ops[op_id]
        # Run the clock to the end of this operation (and whatever ends before it).
        while op.status == "InProgress":
            cloud.clock.advance(max(0.0, op.end - cloud.now()) + 1e-6)
            cloud.tick()
        if op.status == "Failed":
            err = op.error or {}
            return StepOutcome(False, ArmError(op.data.get("http_status", 409), err.get("code", "Failed"),
                                           err.get("message", ""), err.get("target"), rule=op.data.get("rule")))
        return StepOutcome(True)

    def _await_upgrade(self, op: Op) -> StepOutcome:
        """Run the clock until the set's rolling upgrade ends; its batches' downtime goes into the step's meta."""
        cloud = self.cloud
        doc = cloud.get(op.resource)
        u = rolling.running(cloud, doc) if doc is not None else None
        if u is None:
            return StepOutcome(True)
        while u["code"] == "RollingForward" and (due := cloud.next_due()) is not None:
            cloud.clock.advance(max(0.0, due - cloud.now()) + 1e-6)
            cloud.tick()
        op.meta.update(rolling.plan_facts(cloud, doc, u))
        if u["code"] != "Completed":
            err = rolling.error_of(u)
            return StepOutcome(False, err, rules=(err.rule,) if err.rule else ())
        return StepOutcome(True)

    def upgrade_running(self, vmss_id: str) -> bool:
        doc = self.cloud.get(vmss_id)
        return doc is not None and rolling.running(self.cloud, doc) is not None

    def settle(self) -> None:
        """Complete every timer still pending (e.g. a replication finishing after its PUT)."""
        while (due := self.cloud.next_due()) is not None:
            self.cloud.clock.advance(max(0.0, due - self.cloud.now()) + 1e-6)
            self.cloud.tick()

    # ---- reading ------------------------------------------------------------------------------------------
    def get(self, rid: str) -> dict[str, Any] | None:
        return self.cloud.get(rid)

    def power(self, vm_id: str) -> str:
        return power_state(self.cloud, vm_id)

    def instances_behind(self, vmss_id: str) -> bool:
        return vmss.instances_behind(self.cloud, vmss_id)

    def fingerprint(self) -> str:
        """A state key over the semantic content of every resource in the simulation (volatile fields such as
        timestamps dropped), with the platform state the planner's goals depend on (power, instances on the
        latest model) and which resources are the plan's temporaries."""
        hidden = self._instance_parts()
        parts = sorted(([id_key(d["id"]), _semantic(d), self._state(d)] for d in self.cloud.world
                        if id_key(d["id"]) not in hidden), key=lambda x: x[0])
        return json.dumps(parts, sort_keys=True, default=str)

    def _instance_parts(self) -> set[str]:
        """The documents of scale-set instances (their VMs, NICs and disks): a state is the same whatever its
        instances are called; what counts of them is in the set's own state (`_state`)."""
        out: set[str] = set()
        for d in self.cloud.world.of_type("Microsoft.Compute/virtualMachineScaleSets"):
            for inst in vmss_instances.members(self.cloud, d):
                out.add(id_key(inst["id"]))
                p = inst.get("properties") or {}
                for n in (p.get("networkProfile") or {}).get("networkInterfaces") or []:
                    if n.get("id"):
                        out.add(id_key(n["id"]))
                sp = p.get("storageProfile") or {}
                for disk in [sp.get("osDisk") or {}, *(sp.get("dataDisks") or [])]:
                    if (disk.get("managedDisk") or {}).get("id"):
                        out.add(id_key(disk["managedDisk"]["id"]))
        return out

    def _set_state(self, doc: dict[str, Any]) -> list[Any]:
        insts = vmss_instances.members(self.cloud, doc)
        ran = sorted(f"{vmss_instances.running_image(self.cloud, i)}|{vmss_instances.latest_applied(self.cloud, doc, i)}"
                     f"|{(i['properties'].get('securityProfile') or {}).get('securityType')}".lower() for i in insts)
        return [self.upgrade_running(doc["id"]), ran]

    def _state(self, doc: dict[str, Any]) -> list[Any]:
        t = (doc.get("type") or "").lower()
        out: list[Any] = [self.is_temporary(doc["id"])]
        if t == "microsoft.compute/virtualmachines":
            out.append(self.power(doc["id"]))
        elif t == "microsoft.compute/virtualmachinescalesets":
            out.append(self.instances_behind(doc["id"]))
            out.append(self._set_state(doc))
        return out


_VOLATILE = {"timeCreated", "uniqueId", "vmId", "publishedDate", "provisioningTime", "reservationId", "time",
             "startTime", "endTime", "progress", "provisioningState", "diskSizeBytes", "LastOwnershipUpdateTime"}


def _semantic(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _semantic(v) for k, v in doc.items() if k not in _VOLATILE}
    if isinstance(doc, list):
        return [_semantic(x) for x in doc]
    return doc
