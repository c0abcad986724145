"""The campaign scheduler: many VMs in flight at once, one thread of decisions, a few threads of HTTP.

A task is a generator (see refit.azure.pacing): it yields `Http` (answered with a `Reply`) and `Wait`
(resumed after that many clock seconds). The scheduler steps every ready task, hands requests to a pool
of worker threads, and when nothing is ready and no request is in flight it sleeps on the Clock until
the next timer. All waiting therefore happens in one place and through the Clock (DESIGN.md "Time"),
which is also what lets a SteppedClock advance simulated time exactly when refit waits.
"""

from __future__ import annotations

import heapq
import itertools
import queue
from collections import deque
from collections.abc import Callable, Generator, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from refit.azure.pacing import Http, PacedClient, Wait

if TYPE_CHECKING:
    from refit.run.control import Gate


@dataclass
class TaskResult:
    ok: bool
    value: Any = None
    error: BaseException | None = None


class Scheduler:
    def __init__(self, client: PacedClient, workers: int = 16):
        self.client = client
        self.clock = client.clock
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refit-http")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def run(self, tasks: dict[Hashable, Callable[[], Generator]], limit: int = 0,
            then: Callable[[Hashable, TaskResult], dict[Hashable, Callable[[], Generator]]] | None = None,
            gate: Gate | None = None, exempt: Callable[[Hashable], bool] | None = None,
            ) -> dict[Hashable, TaskResult]:
        """Run task factories to completion, at most `limit` at once (0: no limit). Returns each result;
        an exception inside a task is its result, not the scheduler's. `then(key, result)`, called as each
        task ends, returns the tasks that may start now (a dependency graph's newly ready nodes). With a
        `gate` (an operator's pause or abort, refit.run.control), no task starts while it holds, but those that
        `exempt(key)` (the rest of a chain already begun); on abort the others are dropped: they have no result."""
        pending = deque(tasks.items())
        results: dict[Hashable, TaskResult] = {}
        ready: deque[tuple[Hashable, Generator, Any, BaseException | None]] = deque()
        timers: list[tuple[float, int, Hashable, Generator]] = []
        done: queue.Queue = queue.Queue()
        seq = itertools.count()
        inflight = 0
        active = 0

        def admit() -> None:
            nonlocal active
            held = gate.state() if gate is not None and pending else None
            if held is not None:  # the rest of chains already begun first; on abort, nothing else
                free = [t for t in pending if exempt is not None and exempt(t[0])]
                rest = [t for t in pending if not (exempt is not None and exempt(t[0]))]
                pending.clear()
                pending.extend(free if held == "abort" else free + rest)
            while pending and (limit <= 0 or active < limit):
                key, factory = pending[0]
                if held is not None and not (exempt is not None and exempt(key)):
                    break
                pending.popleft()
                active += 1
                try:
                    ready.append((key, factory(), None, None))
                except Exception as e:  # a factory that fails is that task's failure
                    finish(key, TaskResult(False, error=e))

        def finish(key: Hashable, result: TaskResult) -> None:
            nonlocal active
            results[key] = result
            active -= 1
            if then is not None:
                pending.extend(then(key, result).items())

        admit()
        while ready or timers or inflight or pending:
            if gate is not None:
                admit()  # a pause lifted while tasks run lets the next ones start now
                if pending and not (ready or timers or inflight):
                    self.clock.sleep(gate.poll_seconds())  # paused with nothing in flight
                    continue
            while ready:
                key, gen, value, exc = ready.popleft()
                try:
                    action = gen.throw(exc) if exc is not None else gen.send(value)
                except StopIteration as stop:
                    finish(key, TaskResult(True, stop.value))
                    admit()
                    continue
                except Exception as e:
                    finish(key, TaskResult(False, error=e))
                    admit()
                    continue
                if isinstance(action, Http):
                    inflight += 1
                    fut = self._pool.submit(self.client.send, action)
                    fut.add_done_callback(lambda f, k=key, g=gen: done.put((k, g, f)))
                elif isinstance(action, Wait):
                    if action.seconds <= 0:
                        ready.append((key, gen, None, None))
                    else:
                        heapq.heappush(timers, (self.clock.now() + action.seconds, next(seq), key, gen))
                else:
                    ready.append((key, gen, None, TypeError(f"a task yielded {action!r}, not Http or Wait")))
            if inflight:
                timeout = None
                if timers and self.clock.scale > 1e-6:  # a stepped clock does not move while requests run
                    timeout = max(0.0, (timers[0][0] - self.clock.now()) / self.clock.scale)
                try:
                    item = done.get(timeout=timeout)
                except queue.Empty:
                    item = None
                while item is not None:
                    k, g, f = item
                    inflight -= 1
                    exc = f.exception()
                    ready.append((k, g, None if exc else f.result(), exc))
                    try:
                        item = done.get_nowait()
                    except queue.Empty:
                        item = None
            now = self.clock.now()
            while timers and timers[0][0] <= now:
                _, _, k, g = heapq.heappop(timers)
                ready.append((k, g, None, None))
            if not ready and not inflight and timers:
                self.clock.sleep(timers[0][0] - now)
        return results


def drive(client: PacedClient, gen: Generator) -> Any:
    """Run one task to completion (for one-off requests outside a campaign)."""
    s = Scheduler(client, workers=1)
    try:
        r = s.run({0: lambda: gen})[0]
    finally:
        s.close()
    if not r.ok:
        raise r.error  # type: ignore[misc]
    return r.value
