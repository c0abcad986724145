"""Who may use the page: whoever has the access token printed with its URL, and nobody else.

The page listens on 127.0.0.1, but any local process (and any web page open in a local browser, through DNS
rebinding or a cross-site form) can reach 127.0.0.1. So:
- every request, pages, static assets and the event stream alike, carries the token: in the URL
  (`?token=...`, what `refit serve` prints) or in the HttpOnly, SameSite=Strict cookie the first such request
  sets; anything else is 403;
- the Host header must name 127.0.0.1 or localhost (a rebound DNS name carries another Host);
- a POST (pause / resume / abort) also carries a CSRF token tied to the page it came from, an HMAC of the
  page's path under a per-process secret, and must not come from another site (Sec-Fetch-Site / Origin).
Nothing is stored: the token and the secret live in this process only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "refit_token_{port}"  # per port: cookies ignore the port, and two `refit serve` may run side by side
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass
class Access:
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def valid(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.token.encode())  # type: ignore[union-attr]

    def csrf(self, page: str) -> str:
        """The CSRF token of one page (its path): a form from one campaign's page cannot act on another."""
        return hmac.new(self.secret, f"csrf:{page}".encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, page: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(page), token or "")

    def url(self, host: str, port: int, path: str = "/") -> str:
        return f"http://{host}:{port}{path}?{urlencode({'token': self.token})}"


def _forbidden(why: str) -> PlainTextResponse:
    return PlainTextResponse(f"403 forbidden: {why}\n", status_code=403)


class TokenMiddleware:
    """Refuses (403) any request without the token or with a foreign Host; a GET carrying the token in its URL
    gets the cookie and is redirected to the same URL without it (so the token does not linger in history or
    reach a Referer)."""

    def __init__(self, app: ASGIApp, access: Access):
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
        if host not in LOCAL_HOSTS:
            await _forbidden("this page answers to 127.0.0.1 only")(scope, receive, send)
            return
        cookie_name = COOKIE.format(port=(scope.get("server") or ("", 0))[1])
        params = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        query = params.get("token")
        cookie = _cookie(headers.get("cookie", ""), cookie_name)
        if self.access.valid(query):
            if scope["method"] == "GET":
                rest = [(k, v) for k, v in params.multi_items() if k != "token"]
                target = scope["path"] + (f"?{urlencode(rest)}" if rest else "")
                resp = RedirectResponse(target, status_code=303)
                resp.set_cookie(cookie_name, self.access.token, httponly=True, samesite="strict", path="/")
                await resp(scope, receive, send)
                return
        elif not self.access.valid(cookie):
            await _forbidden("open the URL `refit serve` printed (it carries the access token)")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def same_site(headers) -> bool:
    """A POST from this page, not from another site: browsers send Sec-Fetch-Site (and Origin on POSTs)."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        host = origin.split("://", 1)[-1].rsplit(":", 1)[0]
        return host in LOCAL_HOSTS and origin.split("://", 1)[-1] == headers.get("host")
    return origin != "null"


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return None
