"""`refit inventory`: what is there, through Resource Graph (paged to the end, never just the first 100)."""

from __future__ import annotations

import typer
from rich.table import Table

from refit.cli.common import console, emit_json, globals_of
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
) -> None:
    """List resources through Azure Resource Graph."""
    g = globals_of(ctx)
    q = query or DEFAULT_QUERY
    if type_ and not query:
        q = f"Resources | where type =~ '{type_}' | project id, name, type, location, resourceGroup, zones, tags | order by name asc"
    with open_session(ctx) as s:
        rows = s.graph_query(q)
    if g.json:
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


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={val}" for k, val in v.items())
    return str(v)
