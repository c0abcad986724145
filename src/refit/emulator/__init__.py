"""Local Azure: an ARM emulator served over HTTPS on 127.0.0.1 that the official SDK and az accept.

Layout (moto's per-provider split): `core` holds the resource engine (store, LRO, validation hook),
`providers/` one module per resource provider, `app` the HTTP surface, `server` the process.
"""

from refit.emulator.core import Emulator

__all__ = ["Emulator"]
