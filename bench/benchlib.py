"""What the benchmark scripts share: an emulator in its own process (always stopped), a process's CPU seconds,
and the machine a figure was measured on."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from refit.azure.endpoint import Endpoint


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


# A bench stopped with SIGTERM (a timeout, pkill) unwinds like one stopped with Ctrl-C: its finally blocks stop the
# emulator, servers and workers it started, none is left running.
signal.signal(signal.SIGTERM, _terminated)


@contextlib.contextmanager
def emulator(data: Path, time_scale: float) -> Iterator[tuple[Endpoint, int]]:
    """`refit emulator start` on 127.0.0.1 (a free port) in its own process; stopped on the way out, even on error."""
    proc = subprocess.Popen([sys.executable, "-m", "refit", "emulator", "start", "--port", "0", "--data", str(data),
                             "--time-scale", str(time_scale)], stdout=subprocess.DEVNULL)
    try:
        yield wait_endpoint(data, proc), proc.pid
    finally:
        stop(proc)


def wait_endpoint(data: Path, proc: subprocess.Popen, seconds: float = 60.0) -> Endpoint:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the emulator exited with {proc.returncode} before serving")
        ep = Endpoint.read(data)
        if ep is not None and ep.alive():
            return ep
        time.sleep(0.05)
    raise SystemExit(f"the emulator did not serve within {seconds:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0.0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, object]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "loadavg": [round(x, 2) for x in os.getloadavg()], "date": time.strftime("%Y-%m-%d")}


def git_state() -> dict[str, object]:
    """The commit measured and how many tracked files differ from it (the working tree is measured as it is)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"head": head, "modified_files": len(dirty)}


def ts(value) -> float:
    """An SDK datetime (or ISO string) as seconds since the epoch."""
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()
