"""The refit command line. One module per command group; names are stable (see DESIGN.md)."""

from __future__ import annotations

import sys

import typer

from refit.arm.errors import ArmError, UserError
from refit.cli.common import Globals, err_console

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
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    if output not in ("text", "json"):
        raise UserError(f"--output must be 'text' or 'json', not '{output}'")
    if azure and endpoint:
        raise UserError("--azure and --endpoint exclude each other: pick real Azure or an emulator endpoint")
    ctx.obj = Globals(endpoint=endpoint, azure=azure, subscription=subscription, output=output)


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


def main(argv: list[str] | None = None) -> None:
    _register()
    import click

    try:
        import typer._click.exceptions as tclick  # typer >= 0.29 bundles its own click
        click_errors: tuple[type[BaseException], ...] = (click.exceptions.ClickException, tclick.ClickException)
        aborts: tuple[type[BaseException], ...] = (typer.Abort, click.exceptions.Abort)
    except ImportError:
        click_errors = (click.exceptions.ClickException,)
        aborts = (typer.Abort, click.exceptions.Abort)
    try:
        # standalone_mode=False: click returns (not raises) the code of a typer.Exit, so pass it on.
        rc = app(args=argv, standalone_mode=False)
    except UserError as e:
        err_console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except ArmError as e:
        err_console.print(f"[red]error:[/red] Azure refused: ({e.code}) {e.message}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except aborts:
        err_console.print("aborted")
        sys.exit(1)
    except click_errors as e:  # usage errors: one line, exit 2
        e.show()
        sys.exit(e.exit_code)
    sys.exit(rc if isinstance(rc, int) else 0)
