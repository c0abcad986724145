"""Tabular operators: a parsed query runs operator by operator over lists of row dicts.

Each operator is type-checked and compiled once against the schema flowing into it (column name ->
type), then applied to all rows with closures; nothing is re-parsed per row.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta

from refit.emulator.kql.aggregates import Agg, agg_result_name
from refit.emulator.kql.errors import INTERNAL_ERROR, SEMANTIC_ERROR, UNKNOWN_TABLE, KqlError
from refit.emulator.kql.expr import LOOSE, C, Scope, compile_expr, result_name
from refit.emulator.kql.parser import Call, Col, Named, Op, Query, parse, parse_datetime, parse_timespan
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
    __slots__ = ("now", "src", "tables")

    def __init__(self, src, now: datetime, tables: dict[str, list[dict]]) -> None:
        self.src = src
        self.now = now
        self.tables = tables  # a join's right side and a union's legs read them too


def _execute(q: Query, tables: dict[str, list[dict]]) -> list[dict]:
    return _finish(*_run(q, _Ctx(q.source, datetime.now(UTC), tables)))


def _table(q: Query, ctx: _Ctx) -> tuple[list[dict], dict[str, str]]:
    by_lower = {name.lower(): name for name in ctx.tables}
    key = by_lower.get(q.table.lower())
    if key is None:
        line, pos = q.source.where(q.table_pos)
        have = ", ".join(sorted(ctx.tables)) or "no tables"
        raise KqlError(
            f"Table {q.table} is invalid, unsupported or disallowed (line [{line},{pos}]; the emulator has {have})",
            code=UNKNOWN_TABLE, line=line, position=pos, token=q.table,
        )  # fmt: skip
    rows = ctx.tables[key]
    return rows, base_schema(key, rows)


def _run(q: Query, ctx: _Ctx) -> tuple[list[dict], dict[str, str], bool]:
    """A query's rows and schema before the answer's formatting (a join's right side and a union's legs run
    through here as well)."""
    rows, schema = ([], {}) if q.table == "" else _table(q, ctx)  # "": a leading `union` brings its legs
    exact = False  # True once every row dict holds exactly the schema's keys in schema order
    for op in q.ops:
        rows, schema, exact = _OPERATORS[op.kind](op, rows, schema, exact, ctx)
    return rows, schema, exact


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
        if expr.__class__ is Call and expr.name in ARG_EXTREMES:
            if it.__class__ is Named:
                raise _error(ctx, it.pos, it.name, f"'summarize' operator: {expr.name}() returns several columns; "
                             "rename them with project-rename")
            aggs.extend(_arg_extreme(expr, schema, inner, collector, taken, ctx))
            continue
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


# arg_max(ExprToMaximize, * | ExprToReturn, ...) and arg_min: the row of the group where the expression is largest
# (smallest); its value comes first, named as the expression, then the columns asked for (`*`: every input column
# the output does not have yet). https://learn.microsoft.com/kusto/query/arg-max-aggregation-function
ARG_EXTREMES = {"arg_max": True, "argmax": True, "arg_min": False, "argmin": False}


def _arg_extreme(node: Call, schema, inner: Scope, collector: list, taken: set[str], ctx) -> list:
    if len(node.args) < 2:
        raise _error(ctx, node.pos, node.name, f"'summarize' operator: {node.name}() expects an expression and the "
                     "columns to return (or *)")
    want_max = ARG_EXTREMES[node.name]
    target = compile_expr(node.args[0], inner)
    first = _unique(result_name(node.args[0]) or ("max_arg0" if want_max else "min_arg0"), taken)  # INFERRED
    taken.add(first)
    returned: list[tuple[str, object]] = []
    for arg in node.args[1:]:
        if arg.__class__ is Col and arg.name == "*":
            for col in schema:
                if col not in taken:
                    taken.add(col)
                    returned.append((col, compile_expr(Col(col, arg.pos), inner)))
            continue
        expr = arg.expr if arg.__class__ is Named else arg
        name = arg.name if arg.__class__ is Named else _unique(result_name(arg), taken)
        taken.add(name)
        returned.append((name, compile_expr(expr, inner)))
    fns = tuple(c.fn for _, c in returned)
    f = target.fn

    def step(st, r):
        v = f(r)
        if v is None:
            return
        k = sort_key(v)
        if st[0] is None or (k > st[0] if want_max else k < st[0]):
            st[0], st[1], st[2] = k, v, tuple(g(r) for g in fns)

    slot = f"\x00agg{len(collector)}"
    blank = (None,) * len(fns)
    collector.append(Agg(slot, lambda: [None, None, blank], step, lambda st: (st[1], *st[2])))
    out = [(first, C(lambda p, sl=slot: p[sl][0], target.type))]
    out += [(name, C(lambda p, sl=slot, i=i: p[sl][i + 1], c.type)) for i, (name, c) in enumerate(returned)]
    return out


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


# ---------------------------------------------------------------- join, union, parse

# The join flavours Resource Graph runs
# (https://learn.microsoft.com/azure/governance/resource-graph/concepts/query-language#resource-graph-tables);
# Kusto's default is innerunique (https://learn.microsoft.com/kusto/query/join-operator).
JOIN_KINDS = ("innerunique", "inner", "leftouter", "fullouter")
KUSTO_JOIN_KINDS = frozenset({"leftanti", "anti", "leftantisemi", "rightanti", "rightantisemi", "leftsemi",
                              "rightsemi", "rightouter"})


def _key_fn(col: str, schema: dict[str, str]):
    """A join key's value as Kusto compares it: strings as strings (never null), other nulls match nothing."""
    if schema.get(col) == "string":
        return lambda r: hkey(s(r.get(col)))
    return lambda r: None if r.get(col) is None else hkey(r.get(col))


def _join(op: Op, rows, schema, exact, ctx):
    kind = op.args["kind"][0] if op.args["kind"] else "innerunique"
    kpos = op.args["kind"][1] if op.args["kind"] else op.pos
    if op.args["hints"]:
        hint, hpos = op.args["hints"][0]
        raise _error(ctx, hpos, hint, "'join' operator: Resource Graph does not allow custom join strategies "
                     "(hint.*)")
    if kind not in JOIN_KINDS:
        why = (f"join kind '{kind}' is not supported by Resource Graph" if kind in KUSTO_JOIN_KINDS
               else f"'{kind}' is not a join kind")
        raise _error(ctx, kpos, kind, f"'join' operator: {why} (supported: {', '.join(JOIN_KINDS)})")
    right_rows, right_schema, _ = _run(op.args["right"], ctx)
    for left_col, right_col, pos in op.args["keys"]:
        for col, side in ((left_col, schema), (right_col, right_schema)):
            if col not in side:
                raise _error(ctx, pos, col, f"'join' operator: Failed to resolve column '{col}'")
    # The right side's columns follow the left's; a name the left has gets Kusto's suffix (id -> id1).
    out_schema = dict(schema)
    renamed: list[tuple[str, str]] = []
    for col, t in right_schema.items():
        name = _unique(col, out_schema)
        out_schema[name] = t
        renamed.append((name, col))
    left_key = [_key_fn(lc, schema) for lc, _, _ in op.args["keys"]]
    right_key = [_key_fn(rc, right_schema) for _, rc, _ in op.args["keys"]]

    def key(r, fns):
        k = tuple(f(r) for f in fns)
        return None if any(v is None for v in k) else k

    index: dict = {}
    for r in right_rows:
        k = key(r, right_key)
        if k is not None:
            index.setdefault(k, []).append(r)
    left_cols = tuple(schema)
    if kind == "innerunique":  # one left row per key value: the first one
        firsts: dict = {}
        for r in rows:
            k = key(r, left_key)
            if k is not None:
                firsts.setdefault(k, r)
        rows = list(firsts.values())
    out, matched = [], set()
    for r in rows:
        k = key(r, left_key)
        hits = index.get(k, []) if k is not None else []
        base = {c: r.get(c) for c in left_cols}
        if hits:
            matched.add(k)
            out.extend({**base, **{name: h.get(col) for name, col in renamed}} for h in hits)
        elif kind in ("leftouter", "fullouter"):
            out.append({**base, **{name: _none(right_schema[col]) for name, col in renamed}})
    if kind == "fullouter":
        blank = {c: _none(t) for c, t in schema.items()}
        for r in right_rows:
            if key(r, right_key) not in matched:
                out.append({**blank, **{name: r.get(col) for name, col in renamed}})
    return out, out_schema, True


def _none(t: str):
    """No value of a column's type: Kusto's strings are never null, they are empty."""
    return "" if t == "string" else None


def _union(op: Op, rows, schema, exact, ctx):
    inputs = [] if op.args["lead"] else [("union_arg0", rows, schema)]
    for leg in op.args["legs"]:
        leg_rows, leg_schema, _ = _run(leg, ctx)
        # withsource names a bare table by its name and any other leg as Kusto does (union_arg<i>, INFERRED).
        label = leg.table if not leg.ops else f"union_arg{len(inputs)}"
        inputs.append((label, leg_rows, leg_schema))
    # outer: every column of every input (in order of first appearance); a name with two types becomes
    # name_<type> in each (Kusto's union rule); inner: the columns every input has with one type.
    types: dict[str, set[str]] = {}
    for _, _, sch in inputs:
        for c, t in sch.items():
            types.setdefault(c, set()).add(t)
    if op.args["kind"] == "inner":
        common = [c for c in inputs[0][2] if all(c in sch for _, _, sch in inputs) and len(types[c]) == 1]
        plan = [(c, {i: c for i in range(len(inputs))}, inputs[0][2][c]) for c in common]
    else:
        plan = []
        for c, ts in types.items():
            if len(ts) == 1:
                plan.append((c, {i: c for i, (_, _, sch) in enumerate(inputs) if c in sch}, next(iter(ts))))
            else:
                for t in sorted(ts):
                    plan.append((f"{c}_{t}", {i: c for i, (_, _, sch) in enumerate(inputs) if sch.get(c) == t}, t))
    out_schema = {name: t for name, _, t in plan}
    source = op.args["withsource"]
    if source:
        out_schema = {source: "string", **{k: v for k, v in out_schema.items() if k != source}}
    out = []
    for i, (label, leg_rows, _) in enumerate(inputs):
        cols = tuple((name, src.get(i), _none(t)) for name, src, t in plan)
        for r in leg_rows:
            row = {name: (r.get(col) if col is not None else blank) for name, col, blank in cols}
            if source:
                row = {source: label, **row}
            out.append(row)
    return out, out_schema, True


_PARSE_CASTS = {
    "string": lambda v: v,
    "long": lambda v: int(v),
    "real": lambda v: float(v),
    "bool": lambda v: {"true": True, "false": False}[v.lower()],
    "datetime": lambda v: _must(parse_datetime(v)),
    "timespan": lambda v: _must(parse_timespan(v)),
    "dynamic": lambda v: v,
}


def _must(v):
    if v is None:
        raise ValueError("not a value of the type")
    return v


def _parse(op: Op, rows, schema, exact, ctx):
    # https://learn.microsoft.com/kusto/query/parse-operator: the pattern becomes one regular expression, anchored
    # at the start: string constants match as text (as regular expressions with kind=regex), '*' skips, and each
    # column captures up to the next element (the last element takes the rest). simple: a row whose text does not
    # match, or whose value does not convert to its column's type, gets nulls; relaxed: only that column does.
    kind = op.args["kind"]
    pattern = op.args["pattern"]
    source = compile_expr(op.args["source"], _scope(schema, "parse", ctx)).fn
    parts, columns = [], []
    for i, el in enumerate(pattern):
        last = i == len(pattern) - 1
        if el[0] == "*":
            parts.append(".*" if last else ".*?")
        elif el[0] == "text":
            parts.append(el[1] if kind == "regex" else re.escape(el[1]))
        else:
            parts.append("(.*)" if last else "(.*?)")
            columns.append((el[1], el[2]))
    try:
        rx = re.compile("".join(parts), re.DOTALL)
    except re.error as e:
        raise _error(ctx, op.pos, "parse", f"'parse' operator: the pattern is not a valid regular expression "
                     f"({e})") from None
    new_schema = dict(schema)
    for name, t in columns:
        new_schema[name] = t
    empty = {name: ("" if t == "string" else None) for name, t in columns}
    out = []
    for r in rows:
        d = dict(r)
        m = rx.match(s(source(r)))
        values = dict(empty)
        if m is not None:
            for (name, t), text in zip(columns, m.groups(), strict=True):
                try:
                    values[name] = _PARSE_CASTS[t](text)
                except (ValueError, KeyError, OverflowError):
                    if kind != "relaxed":
                        values = dict(empty)
                        break
                    values[name] = empty[name]
        d.update(values)
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
    "join": _join,
    "union": _union,
    "parse": _parse,
}
