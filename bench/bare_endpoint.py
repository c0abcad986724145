"""The baseline of bench/emulator.py: a bare starlette + uvicorn JSON endpoint served as the emulator serves.

Same server stack and settings as `refit emulator start` (refit.emulator.server): uvicorn over HTTPS with a
certificate of the same kind (refit.emulator.tls: EC P-256, self-signed, CA:TRUE, SAN 127.0.0.1), one socket on
127.0.0.1 with TCP_NODELAY, no access log, keep-alive 30 s. Every GET answers the JSON body read from --body
(the emulator's own answer for the VM measured), so the client deserialises the same document. Nothing else:
no routing by ARM path, no store, no lock, no throttling headers.

    python bench/bare_endpoint.py --dir DIR --body FILE    (writes DIR/port when listening; stop it with SIGINT)
"""

from __future__ import annotations

import argparse
import contextlib
import socket
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from refit.emulator.tls import ensure_certificate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, required=True, help="where the certificate and the port file go")
    ap.add_argument("--body", type=Path, required=True, help="the JSON document every GET answers")
    a = ap.parse_args()
    body = a.body.read_bytes()

    async def answer(request: Request) -> Response:
        return Response(body, media_type="application/json; charset=utf-8")

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET"])])
    cert, key = ensure_certificate(a.dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the emulator: no delayed-ACK stalls
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    sock.setblocking(False)
    config = uvicorn.Config(app, ssl_certfile=str(cert), ssl_keyfile=str(key), log_level="warning", lifespan="off",
                            access_log=False, timeout_keep_alive=30, timeout_graceful_shutdown=2)
    (a.dir / "port").write_text(str(sock.getsockname()[1]))
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how bench/emulator.py stops it
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
