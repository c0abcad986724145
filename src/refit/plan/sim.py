"""The planner's transition model: a forked, in-memory emulator.

Executing a candidate op here runs the very request `refit apply` will send, through the same resource
handlers and the same rule catalog the emulator answers with (plus the rules Azure cannot enforce, such
as the guest-side U5), so a plan that passes here is one Azure will accept at every step. Time is
virtual: each op is completed by advancing the clock to its end, which also yields its duration from
the emulator's timing model.
"""

from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import id_key
from refit.arm.paths import get_path
from refit.arm.world import World
from refit.emulator.core import Emulator, Request
from refit.emulator.store import NullStore
from refit.ops.op import Op
from refit.ops.op import Request as OpRequest


@dataclass
class Outcome:
    ok: bool
    error: ArmError | None = None
    duration: float = 0.0
    rules: tuple[str, ...] = ()  # ids of the catalog rules that refused it


class Sim:
    def __init__(self, emu: Emulator):
        self.emu = emu

    # ---- construction ------------------------------------------------------------------------------
    @classmethod
    def from_world(cls, world: World, now: float | None = None) -> Sim:
        """A simulation seeded with ARM documents (from Resource Graph, the emulator, a snapshot)."""
        emu = Emulator(None, store=NullStore())
        emu.strict = True
        if now is not None:
            emu.clock._anchor_sim = now
        emu.clock.set_scale(1e-9)  # time moves only when the simulation advances it
        subs = {d["id"].split("/")[2] for d in world}
        emu.settings["subscriptions"] = [{"id": s, "displayName": s} for s in sorted(subs)] or emu.subscriptions
        t = emu.now()
        for doc in world:
            d = copy.deepcopy(doc)
            emu.world.add(d)
            priv = emu.priv(d["id"])
            if d.get("type", "").lower() == "microsoft.compute/virtualmachines":
                code = get_path(d, "properties.extended.instanceView.powerState.code") or "PowerState/running"
                priv["power"] = code.split("/", 1)[1]
            if d.get("type", "").lower() == "microsoft.compute/galleries/images/versions":
                sched = []
                for s in get_path(d, "properties.replicationStatus.summary") or []:
                    from refit.emulator.regions import normalize

                    done = s.get("state") == "Completed"
                    sched.append({"region": normalize(s.get("region", "")), "start": t - 1,
                                  "end": t - 1 if done else t + emu.timing["version.replicate_region"]})
                priv["replication"] = sched
        return cls(emu)

    def fork(self) -> Sim:
        src = self.emu
        emu = Emulator(None, store=NullStore())
        emu.strict = src.strict
        emu.clock = copy.copy(src.clock)
        emu.settings = copy.deepcopy(src.settings)
        emu.timing.table = dict(src.timing.table)
        emu.world = World(copy.deepcopy(list(src.world)))
        emu.private = copy.deepcopy(src.private)
        emu.ops = {k: copy.copy(v) for k, v in src.ops.items() if v.status == "InProgress"}
        emu.inflight = dict(src.inflight)
        emu._heap = list(src._heap)
        heapq.heapify(emu._heap)
        return Sim(emu)

    @property
    def world(self) -> World:
        return self.emu.world

    def now(self) -> float:
        return self.emu.now()

    # ---- running ops ---------------------------------------------------------------------------------
    def run(self, op: Op) -> Outcome:
        start = self.emu.now()
        out = self._send(op.request)
        if out.ok and op.meta.get("followup"):
            follow = self._send(OpRequest.from_json(op.meta["followup"]))
            if not follow.ok:
                return follow
        out.duration = self.emu.now() - start
        return out

    def _send(self, r: OpRequest) -> Outcome:
        from refit.emulator import dispatch

        req = Request(r.method, r.path, {"api-version": r.api_version}, copy.deepcopy(r.body), "https://sim")
        self.emu.last_violations = []
        try:
            self.emu.tick()
            resp = dispatch.handle(self.emu, req)
        except ArmError as e:
            return Outcome(False, e, rules=self._rules(e))
        if resp.status >= 400:
            err = (resp.body or {}).get("error") or {}
            e = ArmError(resp.status, err.get("code", "Error"), err.get("message", ""), err.get("target"))
            return Outcome(False, e, rules=self._rules(e))
        url = resp.headers.get("Azure-AsyncOperation")
        if url:
            op_id = url.split("/operations/", 1)[1].split("?", 1)[0]
            out = self._finish(op_id)
            if not out.ok:
                out.rules = self._rules(out.error)
            return out
        return Outcome(True)

    def _rules(self, err: ArmError | None) -> tuple[str, ...]:
        if err is None:
            return ()
        return tuple(v.rule.id for v in self.emu.last_violations
                     if v.error.code == err.code and v.error.message == err.message)

    def _finish(self, op_id: str) -> Outcome:
        emu = self.emu
        op = emu.ops[op_id]
        # Run the clock to the end of this operation (and whatever ends before it).
        while op.status == "InProgress":
            emu.clock.advance(max(0.0, op.end - emu.now()) + 1e-6)
            emu.tick()
        if op.status == "Failed":
            err = op.error or {}
            return Outcome(False, ArmError(op.data.get("http_status", 409), err.get("code", "Failed"),
                                           err.get("message", ""), err.get("target")))
        return Outcome(True)

    def settle(self) -> None:
        """Complete every timer still pending (e.g. a replication finishing after its PUT)."""
        while self.emu._heap:
            self.emu.clock.advance(max(0.0, self.emu._heap[0][0] - self.emu.now()) + 1e-6)
            self.emu.tick()

    # ---- reading ------------------------------------------------------------------------------------------
    def get(self, rid: str) -> dict[str, Any] | None:
        return self.emu.get(rid)

    def power(self, vm_id: str) -> str:
        return self.emu.priv(vm_id).get("power", "running")

    def fingerprint(self) -> str:
        """A state key over the semantic content of every resource in the simulation (volatile fields such as
        timestamps dropped): the planner simulates a goal's neighbourhood only, so this stays small."""
        import json

        parts = sorted(([id_key(d["id"]), _semantic(d), self.emu.priv(d["id"]).get("power")] for d in self.emu.world),
                       key=lambda x: x[0])
        return json.dumps(parts, sort_keys=True, default=str)


_VOLATILE = {"timeCreated", "uniqueId", "vmId", "publishedDate", "provisioningTime", "reservationId", "time",
             "startTime", "endTime", "progress", "provisioningState", "diskSizeBytes"}


def _semantic(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _semantic(v) for k, v in doc.items() if k not in _VOLATILE}
    if isinstance(doc, list):
        return [_semantic(x) for x in doc]
    return doc
