"""`refit inventory`: what is there, through Resource Graph (paged to the end, never just the first 100)."""

from __future__ import annotations

import re

import typer
from rich.table import Table

from refit.arm.errors import UserError
from refit.cli.common import console, emit_json, json_of, output_option
from refit.cli.session import open_session

DEFAULT_QUERY = ("Resources | where type in~ ('microsoft.compute/virtualmachines', 'microsoft.compute/virtualmachinescalesets', "
                 "'microsoft.compute/disks', 'microsoft.compute/images', 'microsoft.compute/galleries', "
                 "'microsoft.compute/galleries/images', 'microsoft.compute/galleries/images/versions', "
                 "'microsoft.compute/capacityreservationgroups') "
                 "| project id, name, type, location, resourceGroup, zones, tags | order by type asc, name asc")


def inventory(
    ctx: typer.Context,
    query: str = typer.Option(None, "--query", "-q", help="A KQL query instead of the compute inventory."),
    type_: str = typer.Option(None, "--type", help="Only this resource type, e.g. microsoft.compute/virtualmachines."),
    output: str = output_option(),
) -> None:
    """List resources through Azure Resource Graph."""
    json_out = json_of(ctx, output)
    if query is not None and type_:
        raise UserError("--query and --type exclude each other: add the type to the query (| where type =~ '...')")
    if query is not None and not query.strip():
        raise UserError("--query is empty: give a KQL query, e.g. \"Resources | where type =~ 'microsoft.compute/disks'\"")
    if type_ is not None and not re.fullmatch(r"[A-Za-z0-9.]+(/[A-Za-z0-9]+)+", type_):
        raise UserError(f"--type takes a resource type NAMESPACE/TYPE, e.g. microsoft.compute/virtualmachines; not '{type_}'")
    q = query or DEFAULT_QUERY
    if type_ and not query:
        q = f"Resources | where type =~ '{type_}' | project id, name, type, location, resourceGroup, zones, tags | order by name asc"
    with open_session(ctx) as s:
        rows = _query(s, q, query is not None)
    if json_out:
        emit_json(rows)
        return
    if not rows:
        console.print("no resources matched")
        return
    cols = [c for c in rows[0] if c != "id"] if "name" in rows[0] else list(rows[0])
    table = Table(title=f"{len(rows)} resources", show_lines=False)
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*[_cell(r.get(c)) for c in cols])
    console.print(table)


def _query(s, q: str, user_query: bool) -> list[dict]:
    """Rows of the query; Resource Graph's 400 for a query it cannot run is the user's input to fix."""
    from azure.core.exceptions import HttpResponseError

    try:
        return s.graph_query(q)
    except HttpResponseError as e:
        if not user_query or e.status_code != 400:
            raise
        raise UserError(f"--query: Resource Graph cannot run it: {_why(e)}") from None


def _why(e) -> str:
    """The most specific detail of Resource Graph's answer: where the parser failed, else the last detail
    (e.g. DisallowedLogicalTableName), else the message."""
    try:
        err = e.response.json()["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return str(e).splitlines()[0]
    details = [d for d in err.get("details") or [] if isinstance(d, dict)]
    for d in details:
        if d.get("code") == "ParserFailure":
            near = f" near {d['token']!r}" if d.get("token") else ""
            return (f"it does not parse at line {d.get('line', 1)}, character {d.get('characterPositionInLine', 0)}"
                    f"{near} (KQL as Resource Graph runs it: docs/emulator.md)")
    specific = [d for d in details if d.get("code") != "InvalidQuery" and d.get("message")]
    return (specific or details or [err])[-1].get("message") or err.get("code", "BadRequest")


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={val}" for k, val in v.items())
    return str(v)
