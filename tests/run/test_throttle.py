"""The emulator's throttling (reference section 6: T1, T3-T6, T8) and refit's pacing against it."""

from __future__ import annotations

import json

from azure.core.rest import HttpRequest

from refit.azure.clock import SteppedClock
from refit.azure.pacing import MIN_RATE_SPAN, PROBE_SECONDS, PacedClient, request
from refit.run.sched import Scheduler

API = {"api-version": "2024-11-01"}


def _freeze(session):
    session.control("POST", "clock", {"scale": 1e-9})


def _rg(raw, sub):
    r = raw.put(f"/subscriptions/{sub}/resourceGroups/rg1", params=API, json={"location": "eastus"})
    assert r.status_code in (200, 201)


def _tag(raw, sub, i):
    return raw.patch(f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Resources/tags/default", params=API,
                     json={"operation": "Merge", "properties": {"tags": {"n": str(i)}}})


def test_off_by_default_and_switchable(session):
    assert session.control("GET", "throttling")["enabled"] is False
    out = session.control("PUT", "throttling", {"enabled": True})
    assert out["enabled"] is True
    assert out["arm"]["write"] == {"capacity": 200, "refill_per_second": 10.0}
    assert out["compute"]["UpdateVM"] == {"resource": {"refill_per_minute": 4, "capacity": 12},
                                          "subscription": {"refill_per_minute": 500, "capacity": 1500}}


def test_arm_write_bucket_429_t4_with_retry_after_in_real_seconds(session, raw, sub):
    _rg(raw, sub)
    session.control("PUT", "throttling", {"enabled": True})
    _freeze(session)
    remaining = []
    for i in range(200):
        r = _tag(raw, sub, i)
        assert r.status_code == 200
        remaining.append(int(r.headers["x-ms-ratelimit-remaining-subscription-writes"]))
    assert remaining == list(range(199, -1, -1))
    assert r.headers["x-ms-ratelimit-remaining-subscription-global-writes"] == str(15 * 200 - 200)
    r = _tag(raw, sub, 200)
    assert r.status_code == 429
    assert r.json() == {"error": {"code": "SubscriptionRequestsThrottled", "message": (
        f"Number of 'write' requests for subscription '{sub}' actor 't' exceeded. "
        "Please try again after '1' seconds.")}}
    # the simulated wait (a token every 0.1 s) in real seconds at this clock's scale (1e-9)
    assert r.headers["Retry-After"] == "100000000"
    assert r.headers["retry-after-ms"] == "100000000000"
    assert r.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    # reads have their own bucket; one token later the write goes through
    assert raw.get(f"/subscriptions/{sub}/resourceGroups/rg1", params=API).status_code == 200
    session.control("POST", "clock", {"advance": 0.2})  # a token back (0.1 s), with room for float rounding
    assert _tag(raw, sub, 201).status_code == 200


def test_compute_per_resource_update_bucket_429_t6(session, raw, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    session.control("PUT", "throttling", {"enabled": True})
    _freeze(session)
    vm = f"/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/virtualMachines/vm-01"
    statuses, limits = [], []
    for _ in range(12):
        r = raw.post(f"{vm}/restart", params={"api-version": "2024-07-01"})
        statuses.append(r.status_code)
        limits.append(r.headers["x-ms-ratelimit-remaining-resource"])
    # the first restart is accepted; the others meet it in flight (409) but count against UpdateVM all the same
    assert statuses == [202] + [409] * 11
    assert limits[0] == "Microsoft.Compute/UpdateVMResource3Min;11,Microsoft.Compute/UpdateVM3Min;1499"
    assert limits[-1] == "Microsoft.Compute/UpdateVMResource3Min;0,Microsoft.Compute/UpdateVM3Min;1488"
    r = raw.post(f"{vm}/restart", params={"api-version": "2024-07-01"})
    assert r.status_code == 429
    body = r.json()["error"]
    inner = json.loads(body["details"][0].pop("message"))
    assert body == {"code": "OperationNotAllowed", "message": "The server rejected the request because too many "
                    "requests have been received for this resource.",
                    "details": [{"code": "TooManyRequests", "target": "UpdateVMResource3Min"}]}
    assert (inner["operationGroup"], inner["allowedRequestCount"], inner["measuredRequestCount"]) == ("UpdateVMResource3Min", 12, 13)
    assert int(r.headers["Retry-After"]) > 0 and int(r.headers["retry-after-ms"]) > 0
    # a deallocate draws from DeleteVM, a GET from LowCostGet: not throttled by UpdateVM
    assert raw.get(vm, params={"api-version": "2024-07-01"}).headers["x-ms-ratelimit-remaining-resource"] == (
        "Microsoft.Compute/LowCostGetResource3Min;35,Microsoft.Compute/LowCostGet3Min;23999")


def test_azure_core_retry_policy_honours_the_emulators_retry_after(session, raw, sub):
    """T8: the SDK's RetryPolicy retries a 429 with Retry-After (here after retry-after-ms of real time)."""
    _rg(raw, sub)
    session.control("PUT", "throttling", {"enabled": True})
    session.control("POST", "clock", {"scale": 1.0})  # real time: 10 write tokens per real second
    seen = []
    mgmt = session.resources
    client = mgmt._client
    for i in range(215):
        req = HttpRequest("PATCH", f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Resources/tags/default",
                          params=API, json={"operation": "Merge", "properties": {"tags": {"n": str(i)}}})
        req.url = client.format_url(req.url, endpoint=mgmt._config.base_url)
        resp = client._pipeline.run(req, raw_response_hook=lambda r: seen.append(r.http_response.status_code))
        assert resp.http_response.status_code == 200
    assert seen.count(429) >= 1 and seen.count(200) == 215


def test_refit_paces_a_burst_under_the_buckets_without_a_429(session, raw, sub):
    _rg(raw, sub)
    session.control("PUT", "throttling", {"enabled": True})
    clock = SteppedClock(session)
    client = PacedClient(session, clock)
    path = f"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Resources/tags/default"
    t0 = clock.now()
    sched = Scheduler(client, workers=8)
    try:
        res = sched.run({i: (lambda i=i: request(client, "PATCH", path, "2024-11-01",
                                                 {"operation": "Merge", "properties": {"tags": {"n": str(i)}}}))
                         for i in range(400)})
    finally:
        sched.close()
        clock.close()
    assert {r.value.status for r in res.values()} == {200}
    assert client.throttled == 0
    # 200 at once, then 10 per second: the 400th write cannot go before 20 simulated seconds. refit is told
    # neither figure: it reads what is left from the headers and measures the refill once the bucket is empty
    # (over MIN_RATE_SPAN, probing one request a PROBE_SECONDS meanwhile), which costs it a few seconds once.
    makespan = clock.now() - t0
    assert 20 <= makespan <= 20 + MIN_RATE_SPAN + 2 * PROBE_SECONDS, makespan
    client.close()
