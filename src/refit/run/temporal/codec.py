"""How refit's Temporal clients encode payloads and where Temporal's own warnings go.

Payloads over COMPRESS_OVER bytes are zlib-compressed (a PayloadCodec: the encoding `binary/zlib`, the original
payload inside). Why: a campaign's workflow input carries every shard's journal rows (a shard of 500 VMs is ~280 KB
of JSON), and Temporal refuses any payload over 2 MB ("Blob data size exceeds limit", its default
blob-size limit error; the SDK warns over 512 KB). Journal rows compress about tenfold, so a campaign of ten
subscriptions x 500 VMs starts at ~300 KB. Small payloads (most activities' arguments and results) are sent as
they are: compressing them would cost the workers CPU for nothing. Decoding passes through payloads it did not
encode, so histories recorded before the codec (tests/run/temporal/histories) replay unchanged.

Temporal's Rust core prints its warnings on the process's standard output by default, which would break a
command's `-o json`; `runtime()` forwards them to Python's logging (standard error) instead.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from functools import cache

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/zlib"
COMPRESS_OVER = 4096  # bytes


class ZlibCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            raw = p.SerializeToString()
            out.append(Payload(metadata={"encoding": ENCODING}, data=zlib.compress(raw, 1))
                       if len(raw) > COMPRESS_OVER else p)
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") == ENCODING:
                inner = Payload()
                inner.ParseFromString(zlib.decompress(p.data))
                out.append(inner)
            else:
                out.append(p)
        return out


def data_converter() -> DataConverter:
    return DataConverter(payload_codec=ZlibCodec())


@cache
def runtime():
    """One Temporal runtime per process, its core's log lines (WARN and up) forwarded to the `temporalio.core`
    logger."""
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    log = logging.getLogger("temporalio.core")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=LogForwardingConfig(logger=log))))
