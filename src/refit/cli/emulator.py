"""`refit emulator start|env|seed|reset|az-login`: the local Azure."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import typer

from refit.arm.errors import UserError
from refit.azure.session import control_call
from refit.cli.common import confirm, console, emit_json, err_console, json_of, output_option
from refit.cli.embedded import check_dir, default_data_dir

app = typer.Typer(no_args_is_help=True)

# The built-in scenarios, written out so that `--help` loads no emulator module (tests/cli/test_emulator_cli.py
# checks the list against refit.emulator.scenario.builtin_names()).
SCENARIO_HELP = ("A built-in scenario (deadlock, disk-swap, fleet, misconfig, refresh-health, rollout; docs/emulator.md) or a "
                 "YAML file.")
DATA_HELP = "The emulator's data dir (state, certificate, endpoint). Default: $REFIT_DATA_DIR or the user data dir."


def _data(data: Path | None) -> Path:
    return (check_dir(data) if data else default_data_dir()).resolve()


def _port(flag: str, port: int) -> int:
    if not 0 <= port <= 65535:
        raise UserError(f"{flag} must be a TCP port 1-65535 (0 = any free port), not {port}")
    return port


def _running(data: Path):
    from refit.azure.endpoint import Endpoint

    ep = Endpoint.read(data)
    return ep if ep is not None and ep.alive() else None


def _parse_sets(sets: list[str]) -> dict[str, object]:
    import yaml

    out: dict[str, object] = {}
    for s in sets:
        k, eq, v = s.partition("=")
        if not eq or not k:
            raise UserError(f"--set takes NAME=VALUE, not '{s}'")
        out[k.strip()] = yaml.safe_load(v) if v.strip().startswith("[") else v
    return out


@app.command()
def start(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Loopback only: the emulator accepts any token."),
    port: int = typer.Option(18443, help="HTTPS port for ARM; 0 takes a free port."),
    identity_port: int = typer.Option(0, help="Plain-HTTP port of the managed identity token route; 0 = free."),
    data: Path = typer.Option(None, "--data", help=DATA_HELP),
    time_scale: float = typer.Option(1000.0, "--time-scale", help="Simulated seconds per real second."),
    scenario: str = typer.Option(None, "--scenario", help="Seed a scenario (name or YAML file) before serving."),
    output: str = output_option(),
) -> None:
    """Serve the emulator in the foreground until Ctrl-C (state persists in the data dir)."""
    from refit.emulator import scenario as sc
    from refit.emulator.server import EmulatorServer

    json_out = json_of(ctx, output)
    _port("--port", port)
    _port("--identity-port", identity_port)
    d = _data(data)
    if host not in ("127.0.0.1", "localhost"):
        raise UserError(f"--host must be 127.0.0.1: the emulator never listens beyond this machine (got '{host}')")
    if time_scale <= 0:
        raise UserError("--time-scale must be > 0 (e.g. 1000: a 45 s deallocate takes 45 ms)")
    ep = _running(d)
    if ep is not None:
        raise UserError(f"an emulator already serves {d} at {ep.url} (pid {ep.pid}); stop it or use another --data")
    loaded = sc.load(scenario) if scenario else None
    try:
        server = EmulatorServer(d, host=host, port=port, identity_port=identity_port, time_scale=time_scale)
    except OSError as e:
        raise UserError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}; pick another --port (0 = any free)") from e
    if loaded is not None:
        sc.seed(server.emulator, loaded, {})
    server.emulator.clock.set_scale(time_scale)

    def ready(s: EmulatorServer) -> None:
        if json_out:  # one JSON line, flushed: a script reads it, then talks to the endpoint
            sys.stdout.write(json.dumps({"url": s.url, "data": str(d), "time_scale": time_scale,
                                         "resources": len(s.emulator.world), "env": env_vars(s.endpoint)}) + "\n")
            sys.stdout.flush()
            return
        console.print(f"[bold green]refit emulator[/] serving [bold]{s.url}[/] (data {d}, time scale {time_scale:g}x, "
                      f"{len(s.emulator.world)} resources)")
        console.print(f'In another shell:  eval "$(refit emulator env --data {shlex.quote(str(d))})"', highlight=False)

    server.serve(on_ready=ready)


@app.command()
def env(ctx: typer.Context, data: Path = typer.Option(None, "--data", help=DATA_HELP),
        output: str = output_option()) -> None:
    """Print `export` lines that make the SDK, az and refit trust and reach the running emulator."""
    json_out = json_of(ctx, output)
    d = _data(data)
    ep = _running(d)
    if ep is None:
        raise UserError(f"no emulator is serving {d}: start one with `refit emulator start --data {d}`")
    _exports(env_vars(ep), json_out)


def _exports(env: dict[str, str], json_out: bool) -> None:
    """`export` lines for `eval "$(...)"`, or (-o json) the same variables as one JSON object."""
    if json_out:
        emit_json(env)
        return
    for k, v in env.items():
        print(f"export {k}={shlex.quote(v)}")


def env_vars(ep) -> dict[str, str]:
    return {
        "REFIT_ENDPOINT": ep.url,
        "REQUESTS_CA_BUNDLE": ep.cert,
        "IDENTITY_ENDPOINT": ep.identity_url,
        "IDENTITY_HEADER": ep.identity_header,
        "AZURE_SUBSCRIPTION_ID": ep.subscription,
        "AZURE_TENANT_ID": ep.tenant,
    }


@app.command()
def seed(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help=SCENARIO_HELP),
    data: Path = typer.Option(None, "--data", help=DATA_HELP),
    set_: list[str] = typer.Option([], "--set", help="Scenario parameter NAME=VALUE (repeatable), e.g. vms=500."),
    add: bool = typer.Option(False, "--add", help="Keep what is there instead of resetting first."),
    output: str = output_option(),
) -> None:
    """Load a scenario into the emulator (the running one on that data dir, or its stored state), all or nothing."""
    from refit.emulator import scenario as sc
    from refit.emulator.core import Emulator

    json_out = json_of(ctx, output)
    params = _parse_sets(set_)
    loaded = sc.load(scenario)
    d = _data(data)
    ep = _running(d)
    if ep is not None:
        body = {"yaml": Path(scenario).read_text()} if Path(scenario).is_file() else {"name": scenario}
        summary = control_call(ep.url, ep.cert, "POST", "scenario", {**body, "params": params, "reset": not add})
    else:
        emu = Emulator(d)
        try:
            summary = sc.seed(emu, loaded, params, reset=not add)
        finally:
            emu.close()
    if json_out:
        emit_json(summary)
    else:
        console.print(f"seeded [bold]{summary['scenario']}[/]: {summary['created']} resources created, "
                      f"{summary['resources']} in the emulator ({d})")


@app.command()
def reset(
    ctx: typer.Context,
    data: Path = typer.Option(None, "--data", help=DATA_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    output: str = output_option(),
) -> None:
    """Forget every resource in the emulator's data dir."""
    from refit.emulator.core import Emulator

    json_out = json_of(ctx, output)
    d = _data(data)
    confirm(yes, f"Delete every emulated resource in {d}?")
    ep = _running(d)
    if ep is not None:
        control_call(ep.url, ep.cert, "POST", "reset", {})
    else:
        emu = Emulator(d)
        emu.reset()
        emu.close()
    if json_out:
        emit_json({"reset": str(d), "resources": 0})
    else:
        console.print(f"emulator at {d} reset")


@app.command("az-login")
def az_login(
    ctx: typer.Context,
    data: Path = typer.Option(None, "--data", help=DATA_HELP),
    az: str = typer.Option("az", "--az", help="The az executable."),
    config_dir: Path = typer.Option(None, "--config-dir", help="AZURE_CONFIG_DIR to use (default: <data>/az-config)."),
    cloud: str = typer.Option("RefitEmulator", help="Name of the az cloud to register."),
    output: str = output_option(),
) -> None:
    """Register the running emulator as an az cloud and log in with managed identity, isolated from ~/.azure."""
    json_out = json_of(ctx, output)
    d = _data(data)
    ep = _running(d)
    if ep is None:
        raise UserError(f"no emulator is serving {d}: start one with `refit emulator start --data {d}`")
    exe = shutil.which(az)
    if exe is None:
        raise UserError(f"az not found ('{az}'): install azure-cli or pass --az PATH")
    cfg = (check_dir(config_dir, "--config-dir") if config_dir else d / "az-config").resolve()
    cfg.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **az_env(ep, cfg)}
    for cmd in az_setup_commands(exe, ep, cloud, registered=_cloud_exists(exe, cloud, env)):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise UserError(f"`{' '.join(cmd[1:4])}` failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    # stdout carries only `export` lines, so that `eval "$(refit emulator az-login ...)"` works; prose on stderr.
    err_console.print(f"az is logged in to the emulator ({ep.url}) with config dir {cfg}; these exports point az "
                      "at it:", highlight=False)
    _exports(az_env(ep, cfg), json_out)


def az_env(ep, config_dir: Path) -> dict[str, str]:
    """What every az process needs (MSAL's managed identity re-fetches its token per process)."""
    return {**env_vars(ep), "AZURE_CONFIG_DIR": str(config_dir), "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false", "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            "AZURE_CORE_NO_COLOR": "true", "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no"}


def _cloud_exists(exe: str, cloud: str, env: dict[str, str]) -> bool:
    return subprocess.run([exe, "cloud", "show", "-n", cloud, "-o", "none"], env=env, capture_output=True,
                          check=False).returncode == 0


def az_setup_commands(exe: str, ep, cloud: str, registered: bool) -> list[list[str]]:
    verb = "update" if registered else "register"
    return [
        [exe, "cloud", verb, "-n", cloud, "--endpoint-resource-manager", ep.url + "/"],
        [exe, "cloud", "set", "-n", cloud],
        [exe, "login", "--identity", "-o", "none"],
        [exe, "account", "set", "--subscription", ep.subscription],
    ]
