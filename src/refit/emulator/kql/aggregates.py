"""Aggregation functions of `summarize` (https://learn.microsoft.com/kusto/query/aggregation-functions).

Nulls are ignored by every aggregate (scalar-data-types/null-values). On an empty input without
`by`, count-like aggregates give 0, make_list/make_set give [], all others null (summarize operator,
"Default values of aggregations").
"""

from __future__ import annotations

from refit.emulator.kql.expr import LOOSE, NUMERIC, C, Scope, compile_expr, result_name
from refit.emulator.kql.parser import Call, Lit
from refit.emulator.kql.values import hkey, num, output, sort_key

_CANONICAL = {"makelist": "make_list", "makeset": "make_set", "anyif": "take_anyif"}
# name -> (min args, max args)
_ARITY = {
    "count": (0, 0), "countif": (1, 1), "dcount": (1, 2), "dcountif": (2, 3), "sum": (1, 1),
    "sumif": (2, 2), "min": (1, 1), "max": (1, 1), "avg": (1, 1), "avgif": (2, 2),
    "make_list": (1, 2), "make_list_if": (2, 3), "make_set": (1, 2), "make_set_if": (2, 3),
    "any": (1, 1), "take_any": (1, 1), "take_anyif": (2, 2),
}  # fmt: skip
# Result-name prefixes (Kusto.Language Aggregates: ResultNamePrefix with PrefixAndFirstArgument).
_PREFIX = {
    "count": "count", "countif": "countif", "dcount": "dcount", "dcountif": "dcountif", "sum": "sum",
    "sumif": "sumif", "min": "min", "max": "max", "avg": "avg", "avgif": "avgif", "make_list": "list",
    "make_list_if": "list", "make_set": "set", "make_set_if": "set", "any": "any",
}  # fmt: skip
_MAX_LIST = 1_048_576  # make_list/make_set default maxSize


class Agg:
    __slots__ = ("final", "init", "slot", "step")

    def __init__(self, slot: str, init, step, final) -> None:
        self.slot = slot
        self.init = init
        self.step = step
        self.final = final


def agg_result_name(node) -> str | None:
    """count() -> count_, sum(x) -> sum_x, make_list(x) -> list_x, take_any(x) -> x."""
    if node.__class__ is not Call or (node.name not in _ARITY and node.name not in _CANONICAL):
        return None
    name = _CANONICAL.get(node.name, node.name)
    if name in ("take_any", "take_anyif"):
        return (result_name(node.args[0]) if node.args else None) or "any_arg0"
    first = (result_name(node.args[0]) or "") if node.args else ""
    return f"{_PREFIX[name]}_{first}"


def register(node: Call, sc: Scope) -> C:
    name = _CANONICAL.get(node.name, node.name)
    lo, hi = _ARITY[name]
    if not lo <= len(node.args) <= hi:
        want = f"{lo}" if lo == hi else f"{lo} to {hi}"
        raise sc.error(
            node.pos,
            node.name,
            f"'summarize' operator: {node.name}() expects {want} argument(s), got {len(node.args)}",
        )
    assert sc.inner is not None and sc.aggs is not None
    args = [compile_expr(a, sc.inner) for a in node.args]
    fns = [a.fn for a in args]
    init, step, final, rtype = _build(name, args, fns, node, sc)
    slot = f"\x00agg{len(sc.aggs)}"
    sc.aggs.append(Agg(slot, init, step, final))
    return C(lambda r: r[slot], rtype)


def _limit(node: Call, position: int, sc: Scope) -> int:
    if len(node.args) <= position:
        return _MAX_LIST
    arg = node.args[position]
    if arg.__class__ is not Lit or arg.type != "long":
        raise sc.error(
            node.pos,
            node.name,
            f"'summarize' operator: the size limit of {node.name}() must be a constant number",
        )
    return int(arg.value)  # type: ignore[call-overload]


def _pred(fn):
    return lambda r: fn(r) is True


def _build(name: str, args: list[C], fns: list, node: Call, sc: Scope):
    x = fns[0] if fns else None
    arg_t = args[0].type if args else "long"
    if name == "count":

        def step_count(st, r):
            st[0] += 1

        return (lambda: [0]), step_count, (lambda st: st[0]), "long"
    if name == "countif":
        p = _pred(fns[0])

        def step_countif(st, r):
            if p(r):
                st[0] += 1

        return (lambda: [0]), step_countif, (lambda st: st[0]), "long"
    if name in ("dcount", "dcountif"):
        p = _pred(fns[1]) if name == "dcountif" else None

        def step_dcount(st, r):
            if p is not None and not p(r):
                return
            v = x(r)
            if v is not None:
                st.add(hkey(v))

        return set, step_dcount, len, "long"
    if name in ("sum", "sumif", "avg", "avgif"):
        if arg_t not in NUMERIC and arg_t not in LOOSE:
            raise sc.error(
                node.pos, node.name, f"'summarize' operator: {node.name}() needs a number, not {arg_t}"
            )
        p = _pred(fns[1]) if name.endswith("if") else None

        def step_sum(st, r):
            if p is not None and not p(r):
                return
            v = num(x(r))
            if v is not None:
                st[0] += v
                st[1] += 1

        if name.startswith("sum"):
            return (
                (lambda: [0, 0]),
                step_sum,
                (lambda st: st[0] if st[1] else None),
                (arg_t if arg_t in NUMERIC else "unknown"),
            )
        return (lambda: [0, 0]), step_sum, (lambda st: st[0] / st[1] if st[1] else None), "real"
    if name in ("min", "max"):
        want_max = name == "max"

        def step_minmax(st, r):
            v = x(r)
            if v is None:
                return
            k = sort_key(v)
            if st[0] is None or (k > st[0] if want_max else k < st[0]):
                st[0] = k
                st[1] = v

        return (lambda: [None, None]), step_minmax, (lambda st: st[1]), arg_t
    if name in ("make_list", "make_list_if", "make_set", "make_set_if"):
        conditional = name.endswith("_if")
        p = _pred(fns[1]) if conditional else None
        cap = _limit(node, 2 if conditional else 1, sc)
        if name.startswith("make_list"):

            def step_list(st, r):
                if len(st) >= cap or (p is not None and not p(r)):
                    return
                v = x(r)
                if v is not None:
                    st.append(v)

            return list, step_list, (lambda st: [output(v) for v in st]), "dynamic"

        def step_set(st, r):
            if len(st) >= cap or (p is not None and not p(r)):
                return
            v = x(r)
            if v is not None:
                st.setdefault(hkey(v), v)

        return dict, step_set, (lambda st: [output(v) for v in st.values()]), "dynamic"
    # any / take_any / take_anyif: an arbitrary value of the group; we take the first non-null one.
    p = _pred(fns[1]) if name == "take_anyif" else None

    def step_any(st, r):
        if st[1] or (p is not None and not p(r)):
            return
        v = x(r)
        if v is not None:
            st[0] = v
            st[1] = True

    return (lambda: [None, False]), step_any, (lambda st: st[0]), arg_t
