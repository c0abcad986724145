"""refit's payload codec: a campaign's input over Temporal's 2 MB blob limit (bench/temporal.py's ten subscriptions x
500 VMs is 2.8 MB as JSON; here 20 x 500 rows of the journal's shape) goes through compressed, small payloads as they are, and payloads it did not encode decode unchanged."""

from __future__ import annotations

import asyncio
import json

from temporalio.api.common.v1 import Payload

from refit.run.temporal.codec import COMPRESS_OVER, ENCODING, ZlibCodec

BLOB_LIMIT = 2 * 1024 * 1024  # Temporal's default blob size limit (history.blobSizeLimitError)


def _rows(subs: int, vms: int) -> dict:
    return {"shards": [{"workflow_id": f"refit-run-{s}", "input": {"vms": [
        {"run": f"run-{s}", "vm": f"/subscriptions/00000000-0000-4000-8000-{s:012d}/resourceGroups/rg-refresh/providers/"
               f"Microsoft.Compute/virtualMachines/vm-{n:03d}", "name": f"vm-{n:03d}", "zone": str(n % 3 + 1),
         "wave": n // 100, "previous": None, "target": f"vm-{n:03d}-b", "state": "pending", "detail": "",
         "updated": 0.0} for n in range(vms)]}} for s in range(subs)]}


def test_a_campaign_input_over_the_blob_limit_fits_and_round_trips():
    big = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(_rows(20, 500)).encode())
    small = Payload(metadata={"encoding": b"json/plain"}, data=b'{"vm": "vm-001"}')
    assert big.ByteSize() > BLOB_LIMIT
    codec = ZlibCodec()
    enc = asyncio.run(codec.encode([big, small]))
    assert enc[0].metadata["encoding"] == ENCODING and enc[0].ByteSize() < BLOB_LIMIT / 4
    assert enc[1] == small and small.ByteSize() <= COMPRESS_OVER  # as it is
    assert asyncio.run(codec.decode(enc)) == [big, small]
    assert asyncio.run(codec.decode([small])) == [small]  # not ours: unchanged (histories recorded before the codec)
