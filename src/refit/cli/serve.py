"""`refit serve`: the live page on 127.0.0.1 (refit.serve), over the journal and the session every command uses."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from refit.arm.errors import UserError
from refit.cli.session import open_session


def serve(
    ctx: typer.Context,
    port: int = typer.Option(8470, "--port", metavar="N", help="TCP port on 127.0.0.1 (0: any free port)."),
    plan: list[Path] = typer.Option([], "--plan", metavar="FILE", help="A plan file to show (`refit plan GOAL --out FILE`; "
                                                       "repeatable)."),
    goal: list[Path] = typer.Option([], "--goal", metavar="FILE", help="A goal file to plan afresh on the live state each time its "
                                                       "page is opened (repeatable)."),
) -> None:
    """The live page: campaigns (with pause / resume / abort), plans, the fleet. Prints its URL, which carries the
    access token; Ctrl-C stops it."""
    from refit.run.journal import Journal
    from refit.serve.access import Access
    from refit.serve.context import Context, PlanSource
    from refit.serve.server import bind
    from refit.serve.server import serve as run

    for flag, paths in (("--plan", plan), ("--goal", goal)):
        for p in paths:
            if not p.is_file():
                raise UserError(f"{flag} {p}: no such file; give the path of a "
                                + ("plan written by `refit plan GOAL --out FILE`" if flag == "--plan" else
                                   "goal file (YAML)"))
    sock = bind(port)  # before anything else: a port in use changes nothing
    try:
        journal = Journal()
        with open_session(ctx) as s:
            sources = [PlanSource(p, False) for p in plan] + [PlanSource(p, True) for p in goal]
            c = Context(journal=journal, session=s, access=Access(), plans=sources)

            def ready(url: str) -> None:
                # stdout, flushed: scripts (and the tests) read the URL from the first line
                sys.stdout.write(f"refit serve: {url}\n(Ctrl-C stops it; journal {journal.path})\n")
                sys.stdout.flush()

            run(c, sock, ready)
        journal.close()
    finally:
        sock.close()
    sys.stdout.write("refit serve: stopped\n")
