"""The page's HTTP routes (starlette). Every handler reads the journal afresh, under one lock: `Journal.held_elsewhere`
briefly takes a run's lock file, and two threads of this process doing that at once would each see the other's."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from refit.arm.errors import UserError
from refit.serve import campaigns, pages, plans
from refit.serve.access import TokenMiddleware, same_site
from refit.serve.context import Context

STATIC = Path(__file__).parent / "static"
LIVE_SECONDS = 2.0  # while a run goes on, the live state (power, OS disk) is read again at most this often
KEEPALIVE_SECONDS = 15.0
# No inline script or style anywhere; nothing from another origin (assets are vendored in the package).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
           "x-frame-options": "DENY", "cache-control": "no-store"}


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(k.encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def unreachable(e: BaseException) -> str:
    first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
    return f"cannot read the live state ({type(e).__name__}: {first}); check that Azure or the emulator is reachable"


def create_app(ctx: Context) -> ASGIApp:
    jlock = threading.Lock()

    def read(fn, *args):
        with jlock:
            return fn(*args)

    def campaign_data(run_id: str) -> dict[str, Any]:
        """A run with its live state when the run's rows are VMs refresh status can read (refit refresh status)."""
        run = read(ctx.reader.run, run_id)
        if run is None:
            raise UserError(f"no run '{run_id}' in the journal ({ctx.journal.path})")
        live, world = None, None
        if run.kind in campaigns.REFRESH_LIVE_KINDS:
            try:
                world = ctx.world()
            except Exception:  # Azure or the emulator unreachable: the journal alone still tells the story
                world = None
        if world is not None:
            from refit.run.refresh import status

            live = read(status, world, ctx.reader, ctx.session, run_id)
        return read(campaigns.campaign, ctx.reader, run_id, live, world)

    async def index(request: Request) -> Response:
        return RedirectResponse("/campaigns", status_code=303)

    async def runs(request: Request) -> Response:
        return HTMLResponse(pages.campaigns(await run_in_threadpool(read, campaigns.runs, ctx.reader)))

    async def campaign(request: Request) -> Response:
        rid = request.path_params["run"]
        try:
            data = await run_in_threadpool(campaign_data, rid)
        except UserError as e:
            return HTMLResponse(pages.message("No such campaign", str(e), "/campaigns"), status_code=404)
        return HTMLResponse(pages.campaign(data, ctx.access.csrf(f"/campaigns/{rid}")))

    def stream(snapshot, render, live_of):
        """Server-sent events: `render()` (HTML and extra fields) whenever `snapshot()`, what the page shows of the
        journal, changes; and at least every LIVE_SECONDS while `live_of(snapshot)` says the run goes on (the live
        state moves when the journal does not). Only what differs from the last event is sent."""

        async def events():
            last_fp: Any = None
            last_html = None
            last_live = last_sent = 0.0
            while not ctx.stopping():
                fp = await run_in_threadpool(snapshot)
                now = time.monotonic()
                if fp != last_fp or (live_of(fp) and now - last_live >= LIVE_SECONDS):
                    last_fp, last_live = fp, now
                    html, extra = await run_in_threadpool(render)
                    if html != last_html:
                        last_html, last_sent = html, now
                        yield f"event: campaign\ndata: {json.dumps({'html': html, **extra})}\n\n"
                if now - last_sent >= KEEPALIVE_SECONDS:
                    last_sent = now
                    yield ": keep-alive\n\n"
                await asyncio.sleep(ctx.tick_seconds)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})

    async def events(request: Request) -> Response:
        rid = request.path_params["run"]
        if await run_in_threadpool(read, ctx.reader.run, rid) is None:
            return Response(status_code=404)

        def render():
            data = campaign_data(rid)
            return pages.campaign_live(data), {"status": data["status"], "control": data["control"] or ""}

        return stream(lambda: read(campaigns.fingerprint, ctx.reader, rid), render,
                      lambda fp: bool(fp) and fp[0] in ("running", "paused"))

    async def runs_events(request: Request) -> Response:
        def snapshot():
            return read(campaigns.runs, ctx.reader)

        return stream(snapshot, lambda: (pages.campaigns_live(snapshot()), {}), lambda fp: False)

    async def control(request: Request) -> Response:
        """Pause / resume / abort: what `refit campaign pause|resume|abort RUN` calls (refit.run.control.request)."""
        from refit.run import control as ctl

        rid = request.path_params["run"]
        # An urlencoded form (the page's form and its script send one); parsed here, starlette's parser needs
        # python-multipart, which refit does not depend on for one form of three fields.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        token = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
        if not (ctx.access.csrf_valid(f"/campaigns/{rid}", token) and same_site(request.headers)):
            return Response("403 forbidden: this action needs the page's CSRF token\n", status_code=403,
                            media_type="text/plain")
        action = str(form.get("action") or "")
        try:
            text, ok = await run_in_threadpool(read, ctl.request, ctx.journal, rid, action), True
        except UserError as e:
            text, ok = str(e), False
        if "application/json" in request.headers.get("accept", ""):
            # 200 either way: the page's script reads `ok` (a refusal is an answer, not a failed request)
            return JSONResponse({"ok": ok, "message": text})
        return HTMLResponse(pages.message("Done" if ok else "Refused", text, f"/campaigns/{rid}"),
                            status_code=200 if ok else 409)

    async def plan_index(request: Request) -> Response:
        return HTMLResponse(pages.plan_index(ctx.plans))

    async def plan(request: Request) -> Response:
        n = request.path_params["n"]
        if not 0 <= n < len(ctx.plans):
            return HTMLResponse(pages.message("No such plan", f"no plan {n}: see the list", "/plan"), status_code=404)
        try:
            return HTMLResponse(pages.plan(await run_in_threadpool(plans.page, ctx, n)))
        except Exception as e:  # a goal planned afresh reads the live state
            return HTMLResponse(pages.message("Plan", unreachable(e), "/plan"), status_code=503)

    async def fleet(request: Request) -> Response:
        from refit.serve import fleet as fleet_data

        try:
            data = await run_in_threadpool(fleet_data.page, ctx)
        except UserError as e:
            return HTMLResponse(pages.message("Fleet", str(e), "/fleet"), status_code=400)
        except Exception as e:  # Azure or the emulator unreachable: say so on the page (the server goes on)
            return HTMLResponse(pages.message("Fleet", unreachable(e), "/fleet"), status_code=503)
        return HTMLResponse(pages.fleet(data))

    async def check_doc(request: Request) -> Response:
        from refit.serve.markdown import check_page

        cid = request.path_params["check"]
        body = check_page(cid)
        if body is None:
            return HTMLResponse(pages.message("No such check", f"no check {cid}", "/fleet"), status_code=404)
        return HTMLResponse(pages.check_doc(cid, body))

    routes = [Route("/", index), Route("/campaigns", runs), Route("/campaigns/{run}", campaign),
              Route("/campaigns/{run}/events", events), Route("/events/campaigns", runs_events),
              Route("/campaigns/{run}/control", control, methods=["POST"]),
              Route("/plan", plan_index), Route("/plan/{n:int}", plan), Route("/fleet", fleet),
              Route("/docs/checks/{check}", check_doc), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes)
    return SecurityHeaders(TokenMiddleware(app, ctx.access))
