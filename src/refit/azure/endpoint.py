"""A local ARM endpoint's address file: `<data dir>/endpoint.json`, written by a running emulator while it
serves and read by refit's CLI (and `refit emulator env`) to reach it and trust its certificate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ENDPOINT_FILE = "endpoint.json"


@dataclass
class Endpoint:
    """How a client reaches a running emulator (what `refit emulator env` prints)."""

    url: str  # https://127.0.0.1:PORT
    identity_url: str  # http://127.0.0.1:PORT/msi/token
    cert: str
    identity_header: str
    subscription: str
    tenant: str
    data_dir: str
    pid: int

    @classmethod
    def read(cls, data_dir: Path) -> Endpoint | None:
        try:
            data = json.loads((data_dir / ENDPOINT_FILE).read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def alive(self) -> bool:
        import ssl
        import urllib.request

        ctx = ssl.create_default_context(cafile=self.cert)
        try:
            with urllib.request.urlopen(self.url + "/_refit/health", context=ctx, timeout=2) as r:
                return r.status == 200
        except (OSError, ValueError):
            return False
