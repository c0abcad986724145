"""Running the page: a socket bound to 127.0.0.1 only (never a wildcard address: the page can stop a campaign), uvicorn
on it, stopped by Ctrl-C. The socket is bound here, before uvicorn starts, so a port in use is a clear error and
`--port 0` tells the port it got."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from refit.arm.errors import UserError
from refit.serve.app import create_app
from refit.serve.context import Context

HOST = "127.0.0.1"
GRACE_SECONDS = 2  # open event streams get this long to end on shutdown


def bind(port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be a TCP port, 0 to 65535 (0: any free port), not {port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} is in use on {HOST}: pick another with --port N (0: any free port)") from e
        if e.errno == errno.EACCES:
            raise UserError(f"port {port} needs privileges on this machine: pick one above 1023 with --port N") from e
        raise
    sock.listen(128)
    return sock


def serve(ctx: Context, sock: socket.socket, on_ready: Callable[[str], None]) -> None:
    """Serve until Ctrl-C (or SIGTERM). `on_ready(url)` is called with the URL that carries the token."""
    import uvicorn

    config = uvicorn.Config(create_app(ctx), log_level="warning", access_log=False, lifespan="off", proxy_headers=False,
                            timeout_graceful_shutdown=GRACE_SECONDS)
    server = uvicorn.Server(config)
    ctx.stopping = lambda: server.should_exit
    port = sock.getsockname()[1]
    original = server.startup

    async def startup(sockets=None):  # the URL is printed once uvicorn accepts connections, not before
        await original(sockets=sockets)
        if server.started:
            on_ready(ctx.access.url(HOST, port))

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled once it has shut down
        pass
    finally:
        sock.close()
