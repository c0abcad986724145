"""Parse a refit command line exactly as `refit` would, without running it: click's own parser, group by group
(global options, `refit refresh --scope-tag ...` group options, then the command's options and arguments).
Unknown commands and options, missing values and values of the wrong type raise click's usage errors."""

from __future__ import annotations

import functools

import typer
import typer.main
from typer._click.exceptions import NoArgsIsHelpError
from typer.core import TyperGroup

from refit.cli import _register, app


@functools.cache
def _root():
    _register()
    return typer.main.get_command(app)


def parse(argv: list[str]) -> list[str]:
    """The command path (e.g. ['refit', 'refresh', 'swap']) of a command line (without the leading `refit`)."""
    cmd = _root()
    path = ["refit"]
    try:
        ctx = cmd.make_context("refit", list(argv))
        while isinstance(cmd, TyperGroup):
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                break
            name, sub, rest = cmd.resolve_command(ctx, rest)
            path.append(name)
            cmd = sub
            ctx = sub.make_context(name, rest, parent=ctx)
    except typer.Exit as e:  # --help: the help was printed; a success
        assert e.exit_code == 0
    except NoArgsIsHelpError:  # a group named alone (`refit tf`): its help
        pass
    return path


def run_cli(capsys, monkeypatch, server, *args: str) -> tuple[int, str, str]:
    """`refit --endpoint <the test's emulator> ARGS` in-process: (exit code, stdout, stderr)."""
    import pytest

    from refit.cli import main

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["--endpoint", server.url, "--subscription", server.endpoint.subscription, *args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def last_json(out: str) -> dict:
    """The last JSON document of a command's stdout, after its events (one JSON object a line, each checked)."""
    import json

    lines = out.rstrip().splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    for line in lines[:start]:
        json.loads(line)
    return json.loads("\n".join(lines[start:]))
