"""cProfile of every thread of a Python program, by each thread's CPU time, merged into one pstats file.

`python -m cProfile` profiles the main thread only; refit's requests run on worker threads (refit.run.sched), so its
CPU would be missing. This runs a module with a profiler per thread (the main one and every threading.Thread started,
thread pools included), each timed by time.thread_time (that thread's CPU seconds, not its waiting), and writes the
merged statistics when the module exits:

    python bench/threadprof.py OUT.prof -m refit rollout ...
"""

from __future__ import annotations

import cProfile
import pstats
import runpy
import sys
import threading
import time


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit("usage: python bench/threadprof.py OUT.prof -m MODULE [ARGS...]")
    out, module = sys.argv[1], sys.argv[3]
    sys.argv = [module, *sys.argv[4:]]
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        p = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(p)
        p.enable()
        try:
            original(self)
        finally:
            p.disable()

    threading.Thread.run = run  # type: ignore[method-assign]
    main_profile = cProfile.Profile(time.thread_time)
    code: object = 0
    main_profile.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as e:
        code = e.code
    finally:
        main_profile.disable()
        with lock:
            stats = pstats.Stats(main_profile)
            for p in profiles:
                stats.add(p)
        stats.dump_stats(out)
    sys.exit(code)


if __name__ == "__main__":
    main()
