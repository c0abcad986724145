"""Running the emulator: HTTPS (ARM, Entra, control) and plain HTTP (managed identity token) on 127.0.0.1.

`EmulatorServer.start()` runs both servers on a background thread (embedded mode, tests); `serve()`
runs them in the foreground until interrupted (`refit emulator start`). The running emulator records
its endpoints in `<data dir>/endpoint.json` and removes the file when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
from pathlib import Path

import uvicorn

from refit.azure.endpoint import ENDPOINT_FILE, Endpoint
from refit.emulator.app import build_app
from refit.emulator.core import Emulator
from refit.emulator.tls import ensure_certificate


def _bind(host: str, port: int) -> socket.socket:
    if host not in ("127.0.0.1", "localhost", "::1"):
        # Security: the emulator accepts any token; it must never be reachable from another machine.
        raise ValueError(f"the emulator binds to the loopback address only (127.0.0.1), not '{host}'")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit TCP_NODELAY on Linux; without it every response waits ~40 ms for a
    # delayed ACK (Nagle), which capped the emulator at ~22 requests per second.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


class EmulatorServer:
    def __init__(self, data_dir: Path | None, host: str = "127.0.0.1", port: int = 0, identity_port: int = 0,
                 time_scale: float = 1000.0, persist: bool = True):
        self.data_dir = Path(data_dir) if data_dir else None
        if self.data_dir is None:
            import tempfile

            self._tmp = tempfile.TemporaryDirectory(prefix="refit-emulator-")
            self.data_dir = Path(self._tmp.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.emulator = Emulator(self.data_dir if persist else None, time_scale=time_scale)
        self.cert, self.key = ensure_certificate(self.data_dir)
        self._sock = _bind(host, port)
        self._id_sock = _bind(host, identity_port)
        self.port = self._sock.getsockname()[1]
        self.identity_port = self._id_sock.getsockname()[1]
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> Endpoint:
        e = self.emulator
        return Endpoint(url=self.url, identity_url=f"http://127.0.0.1:{self.identity_port}/msi/token",
                        cert=str(self.cert), identity_header=e.settings["identity_header"],
                        subscription=e.subscriptions[0]["id"], tenant=e.tenant_id, data_dir=str(self.data_dir),
                        pid=os.getpid())

    def _make_servers(self) -> list[uvicorn.Server]:
        https = uvicorn.Config(build_app(self.emulator), ssl_certfile=str(self.cert), ssl_keyfile=str(self.key),
                               log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=30,
                               timeout_graceful_shutdown=2)
        http = uvicorn.Config(build_app(self.emulator, arm=False), log_level="warning", lifespan="off",
                              access_log=False, timeout_graceful_shutdown=2)
        servers = [uvicorn.Server(https), uvicorn.Server(http)]
        for s in servers:
            s.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        return servers

    async def _run(self) -> None:
        self._servers = self._make_servers()
        await asyncio.gather(self._servers[0].serve(sockets=[self._sock]),
                             self._servers[1].serve(sockets=[self._id_sock]))

    def _write_endpoint(self) -> None:
        assert self.data_dir is not None
        path = self.data_dir / ENDPOINT_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.endpoint.__dict__, indent=2))
        os.replace(tmp, path)

    def _remove_endpoint(self) -> None:
        assert self.data_dir is not None
        ep = Endpoint.read(self.data_dir)
        if ep is not None and ep.url == self.url:
            with contextlib.suppress(OSError):
                (self.data_dir / ENDPOINT_FILE).unlink()

    # ---- background mode ------------------------------------------------------------------------
    def start(self, write_endpoint: bool = True) -> EmulatorServer:
        ready = threading.Event()

        def runner() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            task = self._loop.create_task(self._run())
            self._loop.call_soon(ready.set)
            self._loop.run_until_complete(task)
            self._loop.close()

        self._thread = threading.Thread(target=runner, name="refit-emulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        for _ in range(500):
            if self._servers and all(s.started for s in self._servers):
                break
            threading.Event().wait(0.01)
        if write_endpoint:
            self._write_endpoint()
        self._wrote = write_endpoint
        return self

    def stop(self) -> None:
        for s in self._servers:
            # The code that stops the server is done with it (its requests are answered): do not wait out idle
            # keep-alive connections of the SDK's pool (uvicorn would log "timeout graceful shutdown exceeded").
            s.should_exit = s.force_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if getattr(self, "_wrote", False):
            self._remove_endpoint()
        self.emulator.close()
        for sock in (self._sock, self._id_sock):
            with contextlib.suppress(OSError):
                sock.close()
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- foreground mode --------------------------------------------------------------------------
    def serve(self, on_ready=None) -> None:
        """Run until SIGINT/SIGTERM; persist and clean up on the way out."""
        import signal

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        def _stop(*_: object) -> None:
            for s in self._servers:
                s.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stop)
        task = loop.create_task(self._run())

        async def _announce() -> None:
            while not (self._servers and all(s.started for s in self._servers)):
                await asyncio.sleep(0.01)
            self._write_endpoint()
            self._wrote = True
            if on_ready:
                on_ready(self)

        self._announcer = loop.create_task(_announce())
        try:
            loop.run_until_complete(task)
        finally:
            self._remove_endpoint()
            self.emulator.close()
            loop.close()
