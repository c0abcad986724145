"""Dijkstra over simulated states. Cost, compared in this order (issue 3): downtime, irreversible
steps, duration, writes. A state is the semantic content of the resources involved (volatile fields such
as timestamps dropped), so two orders that end in the same fleet are one state."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from refit.arm.errors import ArmError
from refit.ops.op import Op
from refit.plan import generate as gen
from refit.plan.sim import Sim


@dataclass
class Attempt:
    """A candidate the catalog refused: what Azure would have answered."""

    op: Op
    error: ArmError
    rules: tuple[str, ...]


# Why a search stopped. Only EXHAUSTED proves that no path exists (within the vocabulary): every reachable
# state was expanded. The two budgets leave states unexplored, and say so (issue 9).
GOAL = "goal"  # a path was found
EXHAUSTED = "exhausted"  # every reachable state was expanded: there is no path
MAX_EXPANSIONS = "max_expansions"  # states were left unexpanded: the expansion budget ran out
MAX_DEPTH = "max_depth"  # states at the depth limit were not expanded: longer paths were not tried


@dataclass
class SearchResult:
    path: list[Op] | None
    final: Sim | None
    expansions: int
    refused: list[Attempt] = field(default_factory=list)  # refused from the initial state (why no path)
    stopped: str = EXHAUSTED  # GOAL, EXHAUSTED, MAX_EXPANSIONS or MAX_DEPTH


def step_costs(sim_before: Sim, sim_after: Sim, op: Op, ctx: gen.Context, duration: float) -> tuple[float, int, float, int]:
    """(downtime seconds, irreversible, duration, writes) of one step."""
    down = 0.0
    for key, p0 in ctx.initial_power.items():
        if p0 != "running":
            continue
        before = sim_before.power(key) if sim_before.get(key) else "running"
        after = sim_after.power(key) if sim_after.get(key) else "deleted"
        if before != "running" or after != "running":
            down = duration  # a VM that ran is down during this step
            break
    if op.name == "await_rolling_upgrade":
        down = max(down, float(op.meta.get("per_batch_downtime_s") or 0.0))  # each batch's instances, in turn
    if op.name == "update_instances" or (op.request.path.lower().endswith("/manualupgrade")):
        down = max(down, duration)  # Manual mode upgrades every instance in place at once (INFERRED)
    if _reboots(sim_before, op):
        down = max(down, duration)
    return (down, 1 if op.irreversible else 0, duration, 1)


def _reboots(sim: Sim, op: Op) -> bool:
    """A swap of the OS disk (D1) or a security change of a running VM restarts it: that is downtime."""
    if op.request.method not in ("PATCH", "PUT") or "/virtualmachines/" not in op.resource.lower():
        return False
    if sim.get(op.resource) is None or sim.power(op.resource) != "running":
        return False
    props = op.meta.get("props") or {}
    return any(p.startswith("properties.storageProfile.osDisk") or p.startswith("properties.securityProfile")
               for p in props)


def _mark(child: Sim, op: Op) -> None:
    if op.temporary and op.creates:
        child.mark_temporary(op.creates)


def _fingerprint(sim: Sim) -> str:
    return sim.fingerprint()


DEFAULT_MAX_EXPANSIONS = 3000  # states expanded per group of goals (`refit plan --max-expansions`)
DEFAULT_MAX_DEPTH = 10  # steps per path (`refit plan --max-depth`)


def search(start: Sim, ctx: gen.Context, max_expansions: int = DEFAULT_MAX_EXPANSIONS,
           max_depth: int = DEFAULT_MAX_DEPTH) -> SearchResult:
    counter = itertools.count()
    zero = (0.0, 0, 0.0, 0)
    heap: list = [(zero, next(counter), start, [])]
    best = {_fingerprint(start): zero}
    refused: list[Attempt] = []
    expansions = 0
    cut_budget = cut_depth = False  # whether a state was left unexpanded, and by which budget
    while heap:
        cost, _, sim, path = heapq.heappop(heap)
        if gen.satisfied(sim, ctx):
            return SearchResult(path, sim, expansions, refused, GOAL)
        if expansions >= max_expansions:
            cut_budget = True
            continue
        if len(path) >= max_depth:
            cut_depth = True
            continue
        expansions += 1
        for op in gen.candidates(sim, ctx):
            child = sim.fork()
            out = child.run(op)
            if not out.ok:
                if not path and out.error is not None:
                    refused.append(Attempt(op, out.error, out.rules))
                continue
            _mark(child, op)
            step = Op(**{**op.__dict__})
            step.duration_s = out.duration
            c = step_costs(sim, child, op, ctx, out.duration)
            step.downtime_s = c[0]
            new = (cost[0] + c[0], cost[1] + c[1], cost[2] + c[2], cost[3] + c[3])
            fp = _fingerprint(child)
            if fp in best and best[fp] <= new:
                continue
            best[fp] = new
            heapq.heappush(heap, (new, next(counter), child, [*path, step]))
    stopped = MAX_EXPANSIONS if cut_budget else (MAX_DEPTH if cut_depth else EXHAUSTED)
    return SearchResult(None, None, expansions, refused, stopped)


def _refs(doc) -> list[str]:
    out = []
    stack = [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, str) and x.lower().startswith("/subscriptions/") and x.lower() != doc["id"].lower():
            out.append(x)
    return out
