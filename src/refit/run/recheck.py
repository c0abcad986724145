"""Before `refit apply` sends anything: every step it would still run, re-checked against the fleet as it is now.

A plan is made against a snapshot of the fleet; by the time it is applied someone may have resized a VM, moved
an image or deleted a disk. Without a re-check, a chain would deallocate a VM and only then be refused its
PATCH, leaving the VM down. So the steps not yet done are performed, in plan order, on refit's model of Azure
(refit.platform, through plan.sim) seeded with the live state read through Resource Graph: a step whose effect is
already there is passed over (a finished or half-done plan re-checks clean), and the first step the model
refuses stops the apply before its first write, naming the step, the rule and Azure's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from refit.arm.errors import ArmError
from refit.arm.paths import get_path
from refit.ops.vocabulary import DELETE_ENTRA_DEVICE
from refit.plan.model import Step
from refit.plan.sim import Sim
from refit.platform import directory


@dataclass
class Drift:
    """The first step the fleet as it is now would refuse."""

    step: Step
    error: ArmError
    rules: tuple[str, ...]

    def message(self) -> str:
        rules = f" [rule {', '.join(self.rules)}]" if self.rules else ""
        return (f"the fleet changed since the plan was made: step {self.step.n} ({self.step.summary}) would be "
                f"refused now: ({self.error.code}) {self.error.message}{rules}; nothing was sent: make the plan "
                "again with `refit plan`")

    def to_json(self) -> dict:
        return {"step": self.step.n, "rules": list(self.rules), "code": self.error.code, "message": self.message()}


def recheck(session, steps: list[Step]) -> Drift | None:
    """The first of `steps` (those not done yet, in plan order) that the live fleet would refuse, or None."""
    if not steps:
        return None
    from refit.azure.fleet import load_world

    sim = Sim.from_world(load_world(session))
    for step in steps:
        if _already(sim, step):
            continue
        out = sim.run(step.to_op())
        if not out.ok:
            return Drift(step, out.error, out.rules)  # type: ignore[arg-type]
    return None


def _already(sim: Sim, step: Step) -> bool:
    """Whether the step's effect holds in the simulated fleet (the same tests the executor makes on live state)."""
    from refit.run.apply import effect_live, matches

    req = step.request
    method, path = req["method"].upper(), req["path"]
    if step.op == DELETE_ENTRA_DEVICE:  # a Graph step: done when the directory no longer has the device
        oid = path.rstrip("/").rsplit("/", 1)[-1].lower()
        return all(d["id"].lower() != oid for d in directory.devices(sim.cloud))
    doc = sim.get(step.resource)
    if method == "POST":
        verb = path.rstrip("/").rsplit("/", 1)[-1].lower()
        power = sim.power(step.resource) if doc is not None else None
        return (verb == "deallocate" and power == "deallocated") or (verb == "start" and power == "running")
    if method == "PUT":
        return doc is not None and get_path(doc, "properties.provisioningState") in (None, "Succeeded") and \
            matches(doc, req.get("body") or {})
    return effect_live(step, doc)
