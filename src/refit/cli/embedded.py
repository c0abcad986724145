"""Which emulator a command talks to when it names no Azure: a running one (its endpoint file in the data
dir gives the certificate), or one started in-process on the data dir for the length of the command.

This is the only place outside the emulator's own commands that starts or looks up an emulator; the rest
of refit reaches it as any ARM endpoint, through `refit.azure`.
"""

from __future__ import annotations

import os
from pathlib import Path

from refit.arm.errors import UserError
from refit.azure.endpoint import Endpoint
from refit.azure.session import Session, StaticCredential, connect_azure, connect_endpoint


def default_data_dir() -> Path:
    """$REFIT_DATA_DIR, else the platform's user data dir (e.g. ~/.local/share/refit/emulator)."""
    env = os.environ.get("REFIT_DATA_DIR")
    if env:
        return check_dir(Path(env), "REFIT_DATA_DIR")
    from platformdirs import user_data_dir

    return check_dir(Path(user_data_dir("refit")) / "emulator", "the default data dir")


def check_dir(path: Path, source: str = "--data") -> Path:
    """An emulator data dir: a directory (created when missing), never a file."""
    path = path.expanduser()
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise UserError(f"{source} {path}: {p} is a file, not a directory; point it at a directory (it is "
                                "created when missing)")
            break
    return path


def connect(endpoint: str | None = None, azure: bool = False, subscription: str | None = None,
            data_dir: Path | None = None) -> Session:
    """The session of the global options: `--azure`, `--endpoint URL`, or the embedded emulator."""
    if azure:
        return connect_azure(subscription)
    if endpoint:
        ep = _endpoint_for(endpoint.rstrip("/"), data_dir)
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or (ep.cert if ep else None)
        return connect_endpoint(endpoint, subscription or (ep.subscription if ep else None), verify)
    from refit.emulator.server import EmulatorServer

    data = check_dir(data_dir) if data_dir else default_data_dir()
    ep = Endpoint.read(data)
    if ep is not None and ep.alive():
        return Session(ep.url, subscription or ep.subscription, StaticCredential(), ep.cert, emulator=True)
    server = EmulatorServer(data).start()
    e = server.endpoint
    return Session(e.url, subscription or e.subscription, StaticCredential(), e.cert, emulator=True,
                   on_close=[server.stop])


def _endpoint_for(url: str, data_dir: Path | None) -> Endpoint | None:
    for d in [data_dir, default_data_dir()]:
        if d is None:
            continue
        ep = Endpoint.read(d)
        if ep is not None and ep.url.rstrip("/") == url:
            return ep
    return None
