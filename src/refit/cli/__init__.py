"""The refit command line. One module per command group; names are stable (see DESIGN.md)."""

from __future__ import annotations

import sys

import typer

from refit.arm.errors import UserError
from refit.cli.common import Globals, err_console


def _flags_without_type() -> None:
    """typer 0.29's rich help shows a type for every option, `--yes -y <bool>`, as if flags took a value: show
    none for flags (click's own help shows none either)."""
    from typer.core import TyperOption

    if getattr(TyperOption, "_refit_flags", False) or not hasattr(TyperOption, "display_type_rich"):
        return
    shown = TyperOption.display_type_rich

    def display_type_rich(self, ctx):  # type: ignore[no-untyped-def]
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
    TyperOption._refit_flags = True  # type: ignore[attr-defined]


_flags_without_type()

app = typer.Typer(
    name="refit",
    help="Change Azure VM fleets safely. Runs against a local Azure emulator unless --endpoint or --azure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _globals(
    ctx: typer.Context,
    endpoint: str = typer.Option(None, "--endpoint", envvar="REFIT_ENDPOINT",
                                 help="A running emulator (or ARM endpoint), e.g. https://127.0.0.1:8443."),
    azure: bool = typer.Option(False, "--azure", help="Real Azure, with DefaultAzureCredential."),
    subscription: str = typer.Option(None, "--subscription", envvar="AZURE_SUBSCRIPTION_ID", help="Subscription id."),
    output: str = typer.Option("text", "--output", "-o", metavar="text|json",
                               help="text or json, for every command (a command's own -o overrides it)."),
    debug: bool = typer.Option(False, "--debug", help="On an unexpected error, show the traceback."),
) -> None:
    _STATE["debug"] = debug
    output = output.lower()
    if output not in ("text", "json", "sarif", "markdown"):  # doctor's sarif, plan's markdown: refused by the others
        raise UserError(f"-o/--output takes text or json, not '{output}'")
    if azure and endpoint:
        raise UserError("--azure and --endpoint exclude each other: pick real Azure or an emulator endpoint")
    ctx.obj = Globals(endpoint=endpoint, azure=azure, subscription=subscription, output=output, debug=debug)
    _STATE["endpoint"] = endpoint


_STATE: dict = {"debug": False, "endpoint": None}  # what the error boundary needs after the command is gone


def _register() -> None:
    # Imported here so that `refit --help` stays fast and import cycles stay impossible.
    from refit.cli import demo, emulator, inventory, plan

    app.add_typer(emulator.app, name="emulator", help="Local Azure: start, env, seed, reset, az-login.")
    app.command("inventory")(inventory.inventory)
    app.command("demo")(demo.demo)
    app.command("plan")(plan.plan)
    app.command("apply")(plan.apply)
    from refit.cli import tf
    app.add_typer(tf.app, name="tf", help="Terraform: index keys -> stable keys, with proof.")
    from refit.cli import refresh
    app.add_typer(refresh.app, name="refresh", help="Tag-driven OS disk refresh (AutoRefresh / OsDiskName).")
    from refit.cli import reserve
    app.command("reserve")(reserve.reserve)
    from refit.cli import doctor
    app.command("doctor")(doctor.doctor)
    from refit.cli import release
    app.add_typer(release.app, name="release", help="Golden images: publish (canary region first), promote, kill, "
                                                    "status.")
    from refit.cli import rollout
    app.command("rollout")(rollout.rollout)
    from refit.cli import serve
    app.command("serve")(serve.serve)
    from refit.cli import campaign
    app.add_typer(campaign.app, name="campaign", help="The runs in the journal; pause, resume or abort one in flight.")
    app.command("status")(campaign.status)
    from refit.cli import temporal, worker
    app.command("worker")(worker.worker)
    app.add_typer(temporal.app, name="temporal", help="Temporal for campaigns: a dev server on this machine.")


def main(argv: list[str] | None = None) -> None:
    """Run one command; whatever goes wrong ends as one line on stderr and a documented exit code."""
    _register()
    import click

    from refit.cli.errors import BAD_INPUT, explain

    try:
        import typer._click.exceptions as tclick  # typer >= 0.29 bundles its own click
        usage: tuple[type[BaseException], ...] = (click.exceptions.ClickException, tclick.ClickException)
        help_only: tuple[type[BaseException], ...] = (tclick.NoArgsIsHelpError,)
    except ImportError:
        usage = (click.exceptions.ClickException,)
        help_only = (getattr(click.exceptions, "NoArgsIsHelpError", ()),)  # type: ignore[assignment]
    aborts = (typer.Abort, click.exceptions.Abort)
    _STATE.update(debug=False, endpoint=None)
    try:
        # standalone_mode=False: click returns (not raises) the code of a typer.Exit, so pass it on.
        rc = app(args=argv, prog_name="refit", standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except aborts:  # "no" to a confirmation
        err_console.print("aborted: nothing changed", highlight=False)
        sys.exit(1)
    except help_only as e:  # `refit`, `refit tf`: the help, on stdout
        sys.stdout.write(e.format_message() + "\n")  # type: ignore[attr-defined]
        sys.exit(0)
    except usage as e:  # click's usage errors, as one line naming the command's help
        cmd = getattr(getattr(e, "ctx", None), "command_path", "refit")
        _error(f"{e.format_message()} (see `{cmd} --help`)")
        sys.exit(BAD_INPUT if getattr(e, "exit_code", 2) == 2 else e.exit_code)
    except KeyboardInterrupt:
        _error("interrupted (a journaled run resumes where it stopped: run the same command again)")
        sys.exit(130)
    except Exception as e:
        if _STATE["debug"]:
            raise
        code, line = explain(e, _STATE["endpoint"])
        _error(line)
        sys.exit(code)
    sys.exit(rc if isinstance(rc, int) else 0)


def _error(line: str) -> None:
    from rich.text import Text

    err_console.print(Text.assemble(("error:", "red"), " ", line), highlight=False, soft_wrap=True)
