"""Tabular operators: a parsed query runs operator by operator over lists of row dicts.

Each operator is type-checked and compiled once against the schema flowing into it (column name ->
type), then applied to all rows with closures; nothing is re-parsed per row.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta

from refit.emulator.kql.aggregates import agg_result_name
from refit.emulator.kql.errors import INTERNAL_ERROR, SEMANTIC_ERROR, UNKNOWN_TABLE, KqlError
from refit.emulator.kql.expr import LOOSE, Scope, compile_expr, result_name
from refit.emulator.kql.parser import Col, Named, Op, Query, parse
from refit.emulator.kql.values import hkey, output, s, sort_key, to_datetime, type_of

# The columns of Resource Graph's resource tables, in the order it returns them
# (https://learn.microsoft.com/azure/governance/resource-graph/concepts/query-language#resource-graph-tables;
# string columns vs dynamic ones as in `Resources | getschema`).
ARG_COLUMNS = (
    ("id", "string"),
    ("name", "string"),
    ("type", "string"),
    ("tenantId", "string"),
    ("kind", "string"),
    ("location", "string"),
    ("resourceGroup", "string"),
    ("subscriptionId", "string"),
    ("managedBy", "string"),
    ("sku", "dynamic"),
    ("plan", "dynamic"),
    ("properties", "dynamic"),
    ("tags", "dynamic"),
    ("identity", "dynamic"),
    ("zones", "dynamic"),
    ("extendedLocation", "dynamic"),
)


@functools.lru_cache(maxsize=512)
def parsed(query: str) -> Query:
    """Parse once per distinct query text (the emulator answers the same queries many times)."""
    return parse(query)


def run(query: str, tables: dict[str, list[dict]]) -> list[dict]:
    """Run a KQL query over named tables (table names match case-insensitively, e.g. 'Resources',
    'ResourceContainers'). Rows are Resource Graph rows: dicts with keys id, name, type (lowercase),
    location, resourceGroup, subscriptionId, tenantId, kind, managedBy, sku, plan, properties, tags,
    identity, zones, extendedLocation. Returns rows as dicts in output column order (objectArray).

    A query that starts with an operator (`where type =~ 'x'`) runs on Resources, as in Resource Graph.
    The returned dicts are new, but nested dynamic values (properties, tags...) are the caller's own
    objects, not copies: copy before mutating. Raises KqlError for anything it cannot parse or run.
    """
    if not isinstance(query, str):
        raise KqlError("the query must be a string")
    try:
        return _execute(parsed(query), tables)
    except KqlError:
        raise
    except RecursionError:
        raise KqlError(
            "the query is nested too deeply for refit to parse or run", code=SEMANTIC_ERROR
        ) from None
    except Exception as exc:  # a bug in refit must still answer as a one-line error, never a traceback
        raise KqlError(
            f"refit could not run the query ({exc.__class__.__name__}: {exc})", code=INTERNAL_ERROR
        ) from exc


class _Ctx:
    __slots__ = ("now", "src")

    def __init__(self, src, now: datetime) -> None:
        self.src = src
        self.now = now


def _execute(q: Query, tables: dict[str, list[dict]]) -> list[dict]:
    by_lower = {name.lower(): name for name in tables}
    key = by_lower.get(q.table.lower())
    if key is None:
        line, pos = q.source.where(q.table_pos)
        have = ", ".join(sorted(tables)) or "no tables"
        raise KqlError(
            f"Table {q.table} is invalid, unsupported or disallowed (line [{line},{pos}]; the emulator has {have})",
            code=UNKNOWN_TABLE, line=line, position=pos, token=q.table,
        )  # fmt: skip
    rows = tables[key]
    schema = base_schema(key, rows)
    ctx = _Ctx(q.source, datetime.now(UTC))
    exact = False  # True once every row dict holds exactly the schema's keys in schema order
    for op in q.ops:
        rows, schema, exact = _OPERATORS[op.kind](op, rows, schema, exact, ctx)
    return _finish(rows, schema, exact)


def _finish(rows: list[dict], schema: dict[str, str], exact: bool) -> list[dict]:
    """Rows with exactly the schema's columns, datetimes/timespans as the JSON answer prints them."""
    if not exact:
        cols = tuple(schema)
        rows = [{c: r.get(c) for c in cols} for r in rows]
    # a dynamic value can hold a datetime only at the top (todynamic(now()), mv-expand of one)
    fixes = [
        (c, t != "dynamic") for c, t in schema.items() if t in ("datetime", "timespan", "unknown", "dynamic")
    ]
    if fixes:
        for r in rows:  # our own dicts by now: safe to update in place
            for c, deep in fixes:
                v = r[c]
                t = v.__class__
                if t is datetime or t is timedelta or (deep and (t is list or t is dict)):
                    r[c] = output(v)
    return rows


def base_schema(name: str, rows: list[dict]) -> dict[str, str]:
    low = name.lower()
    schema = dict(ARG_COLUMNS) if low.endswith("resources") or low == "resourcecontainers" else {}
    seen: set = set()
    for r in rows:
        seen.update(r)
    extra = seen.difference(schema)
    if extra:
        ordered: dict[str, None] = {}
        for r in rows:
            for k in r:
                if k in extra:
                    ordered.setdefault(k, None)
            if len(ordered) == len(extra):
                break
        for k in ordered:
            schema[k] = next((type_of(r[k]) for r in rows if r.get(k) is not None), "dynamic")
    return schema


def _scope(schema: dict[str, str], op: str, ctx: _Ctx) -> Scope:
    return Scope(schema, op, ctx.src, ctx.now)


def _error(ctx: _Ctx, pos: int, token: str, why: str) -> KqlError:
    return ctx.src.error(pos, token, why, code=SEMANTIC_ERROR)


def _unique(base: str | None, taken) -> str:
    """Kusto's names for clashing or unnamed columns: name1, name2...; Column1, Column2..."""
    if base is None:
        n = 1
        while f"Column{n}" in taken:
            n += 1
        return f"Column{n}"
    if base not in taken:
        return base
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def _pos(node) -> int:
    return getattr(node, "pos", 0)


# ---------------------------------------------------------------- operators


def _where(op: Op, rows, schema, exact, ctx):
    c = compile_expr(op.args["expr"], _scope(schema, "where", ctx))
    if c.type != "bool" and c.type not in LOOSE:
        raise _error(ctx, op.pos, "where", f"'where' operator: the predicate is of type {c.type}, not bool")
    if c.is_const:
        return (list(rows) if c.value is True else []), schema, exact
    f = c.fn
    return [r for r in rows if f(r) is True], schema, exact


def _columns(items, schema, opname: str, ctx, *, taken=None):
    """Named/unnamed expressions -> [(name, compiled)] with Kusto's naming rules."""
    sc = _scope(schema, opname, ctx)
    out = []
    declared: set[str] = set()
    names: set[str] = set(taken or ())
    for it in items:
        if it.__class__ is Named:
            if it.name in declared:
                raise _error(
                    ctx, it.pos, it.name, f"'{opname}' operator: column '{it.name}' is declared twice"
                )
            c = compile_expr(it.expr, sc)
            name = it.name
            declared.add(name)
        else:
            c = compile_expr(it, sc)
            name = _unique(result_name(it), names)
        names.add(name)
        out.append((name, c))
    return out


def _project(op: Op, rows, schema, exact, ctx):
    cols = _columns(op.args["items"], schema, "project", ctx)
    new_schema = {name: c.type for name, c in cols}
    if len(new_schema) != len(cols):
        dup = next(n for n in new_schema if sum(1 for m, _ in cols if m == n) > 1)
        raise _error(ctx, op.pos, dup, f"'project' operator: column '{dup}' is produced twice")
    items = op.args["items"]
    if all(it.__class__ is Col for it in items):
        pairs = tuple((name, it.name) for (name, _), it in zip(cols, items, strict=True))
        return [{n: r.get(src) for n, src in pairs} for r in rows], new_schema, True
    fns = tuple((name, c.fn) for name, c in cols)
    return [{n: f(r) for n, f in fns} for r in rows], new_schema, True


def _extend(op: Op, rows, schema, exact, ctx):
    new_schema = dict(schema)
    adds = []
    for it in op.args["items"]:
        sc = _scope(new_schema, "extend", ctx)
        if it.__class__ is Named:
            c = compile_expr(it.expr, sc)
            name = it.name
        else:
            c = compile_expr(it, sc)
            name = _unique(result_name(it), new_schema)
        new_schema[name] = c.type
        adds.append((name, c.fn))
    out = []
    for r in rows:
        d = dict(r)
        for name, f in adds:
            d[name] = f(d)
        out.append(d)
    return out, new_schema, exact


def _patterns(op: Op, schema, ctx) -> list[str]:
    chosen: list[str] = []
    for pattern, pos in op.args["patterns"]:
        if "*" in pattern:
            rx = re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$")
            chosen.extend(c for c in schema if rx.match(c) and c not in chosen)
        elif pattern in schema:
            if pattern not in chosen:
                chosen.append(pattern)
        else:
            raise _error(ctx, pos, pattern, f"'{op.kind}' operator: Failed to resolve column '{pattern}'")
    return chosen


def _project_away(op: Op, rows, schema, exact, ctx):
    gone = set(_patterns(op, schema, ctx))
    if not gone:
        return rows, schema, exact
    return rows, {c: t for c, t in schema.items() if c not in gone}, False


def _project_keep(op: Op, rows, schema, exact, ctx):
    keep = set(_patterns(op, schema, ctx))
    new_schema = {c: t for c, t in schema.items() if c in keep}
    return rows, new_schema, exact and len(new_schema) == len(schema)


def _project_rename(op: Op, rows, schema, exact, ctx):
    mapping: dict[str, str] = {}
    for new, old, pos in op.args["pairs"]:
        if old not in schema:
            raise _error(ctx, pos, old, f"'project-rename' operator: Failed to resolve column '{old}'")
        mapping[old] = new
    new_names = [mapping.get(c, c) for c in schema]
    if len(set(new_names)) != len(new_names):
        clash = next(n for n in new_names if new_names.count(n) > 1)
        raise _error(
            ctx, op.pos, clash, f"'project-rename' operator: a column named '{clash}' already exists"
        )
    new_schema = {mapping.get(c, c): t for c, t in schema.items()}
    keys = frozenset(schema)
    out = [{mapping.get(k, k): v for k, v in r.items() if k in keys} for r in rows]
    return out, new_schema, exact


def _sorted(rows, keys, schema, ctx, opname: str):
    sc = _scope(schema, opname, ctx)
    compiled = []
    for key in keys:
        c = compile_expr(key.expr, sc)
        if c.type == "dynamic":
            # Kusto: "order operator: key can't be of dynamic type" -- cast with tostring()/tolong().
            raise _error(
                ctx,
                _pos(key.expr),
                result_name(key.expr) or opname,
                f"'{opname}' operator: key can't be of dynamic type; cast it, e.g. tostring() or tolong()",
            )
        compiled.append((c, key))
    rows = list(rows)
    for c, key in reversed(compiled):
        f = c.fn
        if c.type == "string":  # strings are never null: a missing value sorts as ""
            pairs = [(s(f(r)), r) for r in rows]
            nulls: list = []
        else:
            vals = [(f(r), r) for r in rows]
            pairs = [(v, r) for v, r in vals if v is not None]
            nulls = [r for v, r in vals if v is None]
        try:
            pairs.sort(key=lambda t: t[0], reverse=key.desc)
        except TypeError:  # mixed runtime types in an untyped column
            pairs.sort(key=lambda t: sort_key(t[0]), reverse=key.desc)
        ordered = [r for _, r in pairs]
        rows = nulls + ordered if key.nulls_first else ordered + nulls
    return rows


def _sort(op: Op, rows, schema, exact, ctx):
    return _sorted(rows, op.args["keys"], schema, ctx, "order"), schema, exact


def _count_arg(op: Op, ctx) -> int:
    c = compile_expr(op.args["count"], _scope({}, op.kind, ctx))
    if not c.is_const or c.value.__class__ not in (int, float) or c.value.__class__ is bool:
        raise _error(
            ctx,
            _pos(op.args["count"]),
            op.kind,
            f"'{op.kind}' operator: the number of rows must be a constant number",
        )
    return max(int(c.value), 0)  # type: ignore[call-overload]


def _take(op: Op, rows, schema, exact, ctx):
    return list(rows[: _count_arg(op, ctx)]), schema, exact


def _top(op: Op, rows, schema, exact, ctx):
    n = _count_arg(op, ctx)
    return _sorted(rows, op.args["keys"], schema, ctx, "top")[:n], schema, exact


def _summarize(op: Op, rows, schema, exact, ctx):
    inner = _scope(schema, "summarize", ctx)
    taken: set[str] = set()
    groups = []
    for it in op.args["groups"]:
        expr = it.expr if it.__class__ is Named else it
        c = compile_expr(expr, inner)
        name = it.name if it.__class__ is Named else _unique(result_name(it), taken)
        if name in taken:
            raise _error(ctx, _pos(it), name, f"'summarize' operator: column '{name}' is declared twice")
        if c.type == "dynamic":
            # Kusto's own message (SEM0001), verbatim.
            raise _error(
                ctx,
                _pos(expr),
                name,
                f"Summarize group key '{name}' is of a 'dynamic' type. Please use an explicit cast (for example, 'summarize ... by tostring({name})') as grouping by a 'dynamic' type is not supported.",
            )
        taken.add(name)
        groups.append((name, c))
    collector: list = []
    outer = Scope({}, "summarize", ctx.src, ctx.now, aggs=collector, inner=inner)
    aggs = []
    for it in op.args["aggs"]:
        expr = it.expr if it.__class__ is Named else it
        before = len(collector)
        c = compile_expr(expr, outer)
        if len(collector) == before:
            raise _error(
                ctx,
                _pos(expr),
                result_name(expr) or "summarize",
                "'summarize' operator: each column before 'by' must be an aggregation such as count(), sum(x) or take_any(x)",
            )
        if it.__class__ is Named:
            name = it.name
            if name in taken:
                raise _error(ctx, it.pos, name, f"'summarize' operator: column '{name}' is declared twice")
        else:
            name = _unique(agg_result_name(expr), taken)
        taken.add(name)
        aggs.append((name, c))
    gnames = tuple(name for name, _ in groups)
    gfns = tuple(c.fn for _, c in groups)
    gstr = tuple(c.type == "string" for _, c in groups)
    states_of = collector
    n_aggs = len(states_of)
    steps = tuple(a.step for a in states_of)
    inits = tuple(a.init for a in states_of)

    def finish(vals, states) -> dict:
        pseudo = {a.slot: a.final(st) for a, st in zip(states_of, states, strict=True)}
        row = dict(zip(gnames, vals, strict=True))
        for name, c in aggs:
            row[name] = c.fn(pseudo)
        return row

    if not groups:
        states = [init() for init in inits]
        for r in rows:
            for i in range(n_aggs):
                steps[i](states[i], r)
        out = [finish((), states)]
    else:
        table: dict = {}
        for r in rows:
            vals = tuple(s(f(r)) if is_str else f(r) for f, is_str in zip(gfns, gstr, strict=True))
            k = tuple(hkey(v) for v in vals)
            entry = table.get(k)
            if entry is None:
                entry = table[k] = (vals, [init() for init in inits])
            states = entry[1]
            for i in range(n_aggs):
                steps[i](states[i], r)
        out = [finish(vals, states) for vals, states in table.values()]
    new_schema = {name: c.type for name, c in groups}
    new_schema.update((name, c.type) for name, c in aggs)
    return out, new_schema, True


def _count(op: Op, rows, schema, exact, ctx):
    return [{"Count": len(rows)}], {"Count": "long"}, True


def _distinct(op: Op, rows, schema, exact, ctx):
    items = op.args["items"]
    if items is None:
        fns = tuple((name, (lambda r, n=name: r.get(n))) for name in schema)
        new_schema = dict(schema)
    else:
        cols = _columns(items, schema, "distinct", ctx)
        fns = tuple((name, c.fn) for name, c in cols)
        new_schema = {name: c.type for name, c in cols}
    seen: set = set()
    out = []
    for r in rows:
        row = {n: f(r) for n, f in fns}
        k = tuple(hkey(v) for v in row.values())
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out, new_schema, True


_CASTS = {
    "datetime": to_datetime,
    "timespan": lambda v: v if v.__class__ is timedelta else None,
    "string": lambda v: v if v.__class__ is str else None,
    "long": lambda v: v if v.__class__ is int else None,
    "real": lambda v: float(v) if v.__class__ in (int, float) else None,
    "bool": lambda v: v if v.__class__ is bool else None,
    "dynamic": lambda v: v,
}


def _mv_expand(op: Op, rows, schema, exact, ctx):
    # https://learn.microsoft.com/kusto/query/mv-expand-operator: arrays expand one row per element,
    # bags one row per property; null gives one row with null; an empty array or bag gives no row;
    # several columns expand in parallel, padding with null.
    sc = _scope(schema, "mv-expand", ctx)
    new_schema = dict(schema)
    targets = []
    for item, to_type in op.args["items"]:
        expr = item.expr if item.__class__ is Named else item
        c = compile_expr(expr, sc)
        if c.type not in LOOSE:
            raise _error(
                ctx,
                _pos(expr),
                result_name(expr) or "mv-expand",
                f"'mv-expand' operator: expects a dynamic array or property bag, not {c.type}",
            )
        name = item.name if item.__class__ is Named else (result_name(expr) or _unique(None, new_schema))
        cast = _CASTS[to_type or "dynamic"]
        new_schema[name] = to_type or "dynamic"
        targets.append((name, c.fn, cast))
    index_col = op.args["itemindex"]
    if index_col:
        new_schema[index_col] = "long"
    limit = None
    if op.args["limit"] is not None:
        limit = _count_arg(Op("mv-expand", op.pos, {"count": op.args["limit"]}), ctx)
    as_array = op.args["bag_as_array"]

    def elements(v):
        if v is None:
            return [None]
        if v.__class__ is list:
            return v
        if v.__class__ is dict:
            return [[k, x] for k, x in v.items()] if as_array else [{k: x} for k, x in v.items()]
        return [v]

    out = []
    for r in rows:
        lists = [elements(f(r)) for _, f, _ in targets]
        n = max(len(x) for x in lists)
        if limit is not None:
            n = min(n, limit)
        for i in range(n):
            d = dict(r)
            for (name, _, cast), values in zip(targets, lists, strict=True):
                d[name] = cast(values[i]) if i < len(values) else None
            if index_col:
                d[index_col] = i
            out.append(d)
    return out, new_schema, exact


_OPERATORS = {
    "where": _where,
    "project": _project,
    "extend": _extend,
    "project-away": _project_away,
    "project-keep": _project_keep,
    "project-rename": _project_rename,
    "sort": _sort,
    "take": _take,
    "top": _top,
    "summarize": _summarize,
    "count": _count,
    "distinct": _distinct,
    "mv-expand": _mv_expand,
}
