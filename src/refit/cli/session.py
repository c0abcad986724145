"""Opening the session a command runs against, from the global options."""

from __future__ import annotations

import typer

from refit.azure import Session
from refit.cli.common import globals_of
from refit.cli.embedded import connect


def open_session(ctx: typer.Context) -> Session:
    g = globals_of(ctx)
    return connect(endpoint=g.endpoint, azure=g.azure, subscription=g.subscription)
