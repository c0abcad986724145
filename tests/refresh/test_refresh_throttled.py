"""Issue 9: refit learns Azure's limits from Azure. The emulator is given limits unlike Azure's defaults
(through its control API, as a test or a rehearsal would); refit is told nothing of them, paces a 500-VM
`refresh swap` from the rate-limit headers it is answered with, meets few 429s and waits out every
Retry-After it is given (the emulator counts a request sent again before its Retry-After as early)."""

from __future__ import annotations

import pytest
from refresh_helpers import fleet, version

VMS = 500
# Nothing like Azure's (ARM writes 200 / 10 per s; Compute UpdateVM and DeleteVM 1,500 / 500 per minute).
LIMITS = {
    "arm": {"write": {"capacity": 60, "refill_per_second": 4}, "read": {"capacity": 400, "refill_per_second": 40}},
    "compute": {"UpdateVM": {"subscription": {"refill_per_minute": 300, "capacity": 90}},
                "DeleteVM": {"subscription": {"refill_per_minute": 240, "capacity": 70}}},
}


@pytest.mark.timeout(900)
def test_500_vm_swap_under_unknown_limits_meets_few_429s_and_honours_retry_after(session, sub, refit_json):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": VMS}})
    refit_json("refresh", "disks", "--image", version(sub, "2026.11.0"), "--suffix", "2026-11", "--yes")
    refit_json("refresh", "tag", "--suffix", "2026-11", "--yes")

    configured = session.control("PUT", "throttling", {"enabled": True, "limits": LIMITS})
    assert configured["arm"]["write"] == {"capacity": 60, "refill_per_second": 4}
    assert configured["compute"]["UpdateVM"]["subscription"] == {"refill_per_minute": 300, "capacity": 90}
    assert configured["stats"] == {"requests": 0, "throttled": 0, "early_retries": 0}
    # Slow enough that the limits bind: at 20 simulated seconds per real one, a write token comes back every
    # 12.5 real ms, far less often than refit can send.
    session.control("POST", "clock", {"scale": 20})

    out = refit_json("refresh", "swap", "--yes")

    assert out["status"] == "completed" and out["message"] == f"{VMS} of {VMS} VMs on their new OS disk"
    stats = session.control("GET", "throttling")["stats"]
    assert stats["requests"] > 4 * VMS  # tag, deallocate, swap and start per VM, and their reads and polls
    assert stats["early_retries"] == 0
    assert stats["throttled"] <= stats["requests"] // 100, stats
    print(f"throttling: {stats}")  # the figure docs/refresh.md quotes (pytest -s)
    session.control("POST", "clock", {"scale": 10000})
    assert fleet(session) == {f"vm-{n:02d}": (f"vm-{n:02d}-2026-11", "running") for n in range(1, VMS + 1)}
