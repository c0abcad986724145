"""Scalar expressions: AST -> closures `row -> value`, type-checked once against the input schema.

Semantics from https://learn.microsoft.com/kusto/query/ :
- null values (scalar-data-types/null-values): `==` with one null side is false, `!=` true, two nulls
  give null; `where` drops rows whose predicate is null; `and`/`or` are three-valued.
- strings are never null (string data type): a missing dynamic value compared with, or searched as,
  a string behaves as "" -- so `tags.X =~ "true"` is false and `tags.X !endswith_cs "x"` is true when
  the tag is absent.
- string operators (datatypes-string-operators): `has` matches whole terms, a term being a maximal
  run of ASCII letters and digits; operators without `_cs` ignore case.
- comparing or searching a dynamic value against a string uses its string form (tostring()).
"""

from __future__ import annotations

import functools
import json
import math
import re
from datetime import datetime, timedelta

from refit.emulator.kql.errors import SEMANTIC_ERROR, KqlError
from refit.emulator.kql.lexer import Source
from refit.emulator.kql.parser import Between, Binary, Call, Col, Index, InList, Lit, Member, Named, Unary
from refit.emulator.kql.values import hkey, num, output, s, to_datetime, tostr, type_of

NUMERIC = frozenset({"long", "real"})
LOOSE = frozenset({"dynamic", "unknown"})


class C:
    """A compiled expression: fn(row) -> value, its static type, and its value when constant."""

    __slots__ = ("fn", "is_const", "type", "value")

    def __init__(self, fn, type_: str, is_const: bool = False, value: object = None) -> None:
        self.fn = fn
        self.type = type_
        self.is_const = is_const
        self.value = value


def const(value: object, type_: str) -> C:
    return C(lambda r: value, type_, True, value)


class Scope:
    """What an expression may refer to: columns (name -> type), plus context for messages."""

    def __init__(
        self,
        columns: dict[str, str],
        op: str,
        src: Source,
        now: datetime,
        *,
        aggs: list | None = None,
        inner: Scope | None = None,
    ) -> None:
        self.columns = columns
        self.op = op
        self.src = src
        self.now = now
        self.aggs = aggs  # collector: set while compiling summarize aggregations
        self.inner = inner  # the input scope aggregate arguments are compiled in

    def error(self, pos: int, token: str, why: str) -> KqlError:
        return self.src.error(pos, token, why, code=SEMANTIC_ERROR)


def compile_expr(node, sc: Scope) -> C:
    kind = node.__class__
    if kind is Lit:
        return const(node.value, node.type)
    if kind is Col:
        return _column(node, sc)
    if kind is Member or kind is Index:
        return _path(node, sc)
    if kind is Binary:
        return _binary(node, sc)
    if kind is Call:
        return _call(node, sc)
    if kind is Unary:
        operand = compile_expr(node.operand, sc)
        if operand.type not in NUMERIC | LOOSE | {"timespan"}:
            raise sc.error(node.pos, "-", f"'{sc.op}' operator: unary '-' needs a number, not {operand.type}")
        f = operand.fn
        return _fold(C(lambda r: _negate(f(r)), operand.type), operand)
    if kind is InList:
        return _in(node, sc)
    if kind is Between:
        return _between(node, sc)
    if kind is Named:
        raise sc.error(
            node.pos, node.name, f"'{sc.op}' operator: unexpected assignment to '{node.name}' here"
        )
    raise sc.error(getattr(node, "pos", 0), "", f"'{sc.op}' operator: unsupported expression")


def _fold(c: C, *children: C) -> C:
    """Evaluate once when every input is constant (so `x =~ tolower("A")` is as fast as a literal)."""
    if children and all(ch.is_const for ch in children):
        try:
            value = c.fn({})
        except Exception:
            return c
        return C(c.fn, c.type, True, value)
    return c


# ---------------------------------------------------------------- names


def _column(node: Col, sc: Scope) -> C:
    t = sc.columns.get(node.name)
    if t is None:
        if sc.inner is not None and node.name in sc.inner.columns:
            raise sc.error(
                node.pos,
                node.name,
                f"'summarize' operator: column '{node.name}' must be used inside an aggregation such as take_any({node.name})",
            )
        raise sc.error(
            node.pos,
            node.name,
            f"'{sc.op}' operator: Failed to resolve scalar expression named '{node.name}'",
        )
    name = node.name
    return C(lambda r: r.get(name), t)


_NO_KEY = object()


def _path(node, sc: Scope) -> C:
    steps: list = []
    while node.__class__ is Member or node.__class__ is Index:
        if node.__class__ is Member:
            steps.append(node.key)
        else:
            ic = compile_expr(node.index, sc)
            if ic.is_const:
                v = ic.value
                steps.append(v if v.__class__ in (int, str) else _NO_KEY)
            else:
                steps.append(ic)
        node = node.base
    steps.reverse()
    base = compile_expr(node, sc)
    if base.type not in LOOSE:
        who = node.name if node.__class__ is Col else "the expression"
        raise sc.error(
            node.pos,
            who,
            f"'{sc.op}' operator: {who} is of type {base.type}, not dynamic, so it has no properties (use parse_json() on JSON text)",
        )
    if base.is_const and base.value is None:
        return const(None, "dynamic")
    static = all(st.__class__ is not C for st in steps)
    bf = base.fn
    if static and all(st.__class__ is str for st in steps) and node.__class__ is Col:
        col = node.name
        if len(steps) == 1:
            key = steps[0]

            def f1(r):
                v = r.get(col)
                return v.get(key) if v.__class__ is dict else None

            return C(f1, "dynamic")
        keys = tuple(steps)

        def fk(r):
            v = r.get(col)
            for k in keys:
                if v.__class__ is not dict:
                    return None
                v = v.get(k)
            return v

        return C(fk, "dynamic")
    frozen = tuple(steps)

    def fg(r):
        v = bf(r)
        for st in frozen:
            if st.__class__ is C:
                st = st.fn(r)
            t = v.__class__
            if t is dict:
                v = v.get(st) if st.__class__ is str else None
            elif t is list and st.__class__ is int:
                try:
                    v = v[st]
                except IndexError:
                    return None
            else:
                return None
        return v

    return _fold(C(fg, "dynamic"), base)


def result_name(node) -> str | None:
    """The column name Kusto gives an unnamed expression (Kusto.Language Binder.GetExpressionResultName):
    a column keeps its name, `a.b['c']` becomes a_b_c, conversion functions take their argument's name."""
    kind = node.__class__
    if kind is Col:
        return node.name
    if kind is Named:
        return node.name
    if kind is Member or kind is Index:
        if kind is Member:
            right = node.key
        else:
            right = str(node.index.value) if node.index.__class__ is Lit and node.index.type == "long" else ""
        left = result_name(node.base)
        return f"{left}_{right}" if left else right
    if kind is Call and node.name in FIRST_ARG_NAMED and node.args:
        return result_name(node.args[0])
    return None


# ResultNameKind.FirstArgument in Kusto.Language's function table.
FIRST_ARG_NAMED = frozenset(
    {
        "tostring",
        "toint",
        "tolong",
        "todouble",
        "toreal",
        "tobool",
        "toboolean",
        "todatetime",
        "todecimal",
        "totimespan",
        "toguid",
        "split",
        "bin",
        "floor",
    }
)


# ---------------------------------------------------------------- operators


def _binary(node: Binary, sc: Scope) -> C:
    op = node.op
    if op == "and" or op == "or":
        return _logical(node, sc)
    left = compile_expr(node.left, sc)
    right = compile_expr(node.right, sc)
    if op in ("+", "-", "*", "/", "%"):
        return _arith(node, left, right, sc)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return _compare(node, left, right, sc)
    if op in ("=~", "!~"):
        return _fold(_string_eq(op == "!~", left, right), left, right)
    if op == "matches regex":
        return _fold(_regex(node, left, right, sc), left, right)
    return _fold(_string_op(op, left, right), left, right)


def _logical(node: Binary, sc: Scope) -> C:
    left = compile_expr(node.left, sc)
    right = compile_expr(node.right, sc)
    for side, c in (("left", left), ("right", right)):
        if c.type not in ("bool",) and c.type not in LOOSE:
            raise sc.error(
                node.pos, node.op, f"'{sc.op}' operator: the {side} side of '{node.op}' is {c.type}, not bool"
            )
    lf, rf = left.fn, right.fn
    if node.op == "and":

        def f(r):
            a = lf(r)
            if a is False:
                return False
            b = rf(r)
            if b is False:
                return False
            return True if (a is True and b is True) else None

    else:

        def f(r):
            a = lf(r)
            if a is True:
                return True
            b = rf(r)
            if b is True:
                return True
            return False if (a is False and b is False) else None

    return _fold(C(f, "bool"), left, right)


def _kind(op: str, lt: str, rt: str, sc: Scope, pos: int) -> str:
    if lt == "dynamic" and rt == "dynamic":
        raise sc.error(
            pos,
            op,
            f"'{sc.op}' operator: Cannot compare values of types dynamic and dynamic. Try adding explicit casts such as tostring()",
        )
    known = [t for t in (lt, rt) if t not in LOOSE]
    if not known:
        return "generic"
    a, b = known[0], known[-1]
    if a == b:
        return "numeric" if a in NUMERIC else a
    if a in NUMERIC and b in NUMERIC:
        return "numeric"
    raise sc.error(
        pos, op, f"'{sc.op}' operator: Cannot compare values of types {a} and {b}. Try adding explicit casts"
    )


def _null_eq(a: object, b: object, negate: bool) -> bool | None:
    # one side null: == is false, != is true; both null: null (null-values doc)
    if a is None and b is None:
        return None
    return negate


def generic_eq(a: object, b: object) -> bool | None:
    if a is None or b is None:
        return _null_eq(a, b, False)
    ta, tb = a.__class__, b.__class__
    if ta is str or tb is str:
        return tostr(a) == tostr(b)
    if ta in (int, float) and tb in (int, float):
        return a == b
    return hkey(a) == hkey(b)


def _coerce(kind: str):
    if kind == "numeric":
        return num
    if kind == "datetime":
        return to_datetime
    if kind == "timespan":
        return lambda v: v if v.__class__ is timedelta else None
    if kind == "bool":
        return lambda v: v if v.__class__ is bool else None
    return None


def _compare(node: Binary, left: C, right: C, sc: Scope) -> C:
    op = node.op
    kind = _kind(op, left.type, right.type, sc, node.pos)
    lf, rf = left.fn, right.fn
    if kind == "string":
        if right.is_const:
            cv = s(right.value)
            if op == "==":
                return _fold(C(lambda r: s(lf(r)) == cv, "bool"), left, right)
            if op == "!=":
                return _fold(C(lambda r: s(lf(r)) != cv, "bool"), left, right)
        cmp = _ORDER[op]
        return _fold(C(lambda r: cmp(s(lf(r)), s(rf(r))), "bool"), left, right)
    if kind == "generic":
        if op in ("==", "!="):
            neg = op == "!="

            def fe(r):
                v = generic_eq(lf(r), rf(r))
                return v if v is None or not neg else not v

            return _fold(C(fe, "bool"), left, right)
        cmp = _ORDER[op]

        def fo(r):
            a, b = lf(r), rf(r)
            if a is None or b is None:
                return None
            ka, kb = _order_class(a), _order_class(b)
            return cmp(a, b) if ka == kb and ka is not None else None

        return _fold(C(fo, "bool"), left, right)
    co = _coerce(kind)
    cmp = _ORDER[op]
    if op in ("==", "!="):
        neg = op == "!="

        def fq(r):
            a, b = co(lf(r)), co(rf(r))
            if a is None or b is None:
                return _null_eq(a, b, neg)
            return (a != b) if neg else (a == b)

        return _fold(C(fq, "bool"), left, right)

    def fc(r):
        a, b = co(lf(r)), co(rf(r))
        if a is None or b is None:
            return None
        return cmp(a, b)

    return _fold(C(fc, "bool"), left, right)


def _order_class(v: object) -> str | None:
    t = v.__class__
    if t is int or t is float:
        return "n"
    if t is str:
        return "s"
    if t is datetime:
        return "d"
    if t is timedelta:
        return "t"
    return None


_ORDER = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _string_eq(neg: bool, left: C, right: C) -> C:
    lf, rf = left.fn, right.fn
    if right.is_const:
        cv = s(right.value).lower()

        def eq(r):
            v = lf(r)
            return (v if v.__class__ is str else tostr(v)).lower() == cv  # s() inlined: hottest path

        if neg:
            return C(lambda r: not eq(r), "bool")
        return C(eq, "bool")
    if neg:
        return C(lambda r: s(lf(r)).lower() != s(rf(r)).lower(), "bool")
    return C(lambda r: s(lf(r)).lower() == s(rf(r)).lower(), "bool")


_TERM = "A-Za-z0-9"


@functools.lru_cache(maxsize=512)
def _term_regex(needle: str, prefix: bool, suffix: bool, cs: bool) -> re.Pattern:
    # has: needle bounded by non-alphanumerics on both sides; hasprefix: at a term start; hassuffix: at a term end.
    pat = re.escape(needle)
    if prefix and needle[:1].isascii() and needle[:1].isalnum():
        pat = f"(?<![{_TERM}])" + pat
    if suffix and needle[-1:].isascii() and needle[-1:].isalnum():
        pat = pat + f"(?![{_TERM}])"
    return re.compile(pat, 0 if cs else re.IGNORECASE)


def _string_test(base: str, needle: str):
    """(haystack, needle) -> bool for the positive, case-sensitive-or-not operator."""
    cs = base.endswith("_cs")
    name = base[:-3] if cs else base
    if name == "contains":
        return (lambda a, b: b in a) if cs else (lambda a, b: b.lower() in a.lower())
    if name == "startswith":
        return (lambda a, b: a.startswith(b)) if cs else (lambda a, b: a.lower().startswith(b.lower()))
    if name == "endswith":
        return (lambda a, b: a.endswith(b)) if cs else (lambda a, b: a.lower().endswith(b.lower()))
    prefix = name in ("has", "hasprefix")
    suffix = name in ("has", "hassuffix")
    return lambda a, b: _term_regex(b, prefix, suffix, cs).search(a) is not None


def _string_op(op: str, left: C, right: C) -> C:
    neg = op.startswith("!")
    base = op[1:] if neg else op
    lf, rf = left.fn, right.fn
    if right.is_const:
        needle = s(right.value)
        cs = base.endswith("_cs")
        name = base[:-3] if cs else base
        if name in ("has", "hasprefix", "hassuffix"):
            search = _term_regex(needle, name != "hassuffix", name != "hasprefix", cs).search
            test = lambda a: search(a) is not None  # noqa: E731
        elif name == "contains":
            low = needle.lower()
            test = (lambda a: needle in a) if cs else (lambda a: low in a.lower())
        elif name == "startswith":
            low = needle.lower()
            test = (lambda a: a.startswith(needle)) if cs else (lambda a: a.lower().startswith(low))
        else:
            low = needle.lower()
            test = (lambda a: a.endswith(needle)) if cs else (lambda a: a.lower().endswith(low))
        if neg:
            return C(lambda r: not test(s(lf(r))), "bool")
        return C(lambda r: test(s(lf(r))), "bool")
    test2 = _string_test(base, "")
    if neg:
        return C(lambda r: not test2(s(lf(r)), s(rf(r))), "bool")
    return C(lambda r: test2(s(lf(r)), s(rf(r))), "bool")


@functools.lru_cache(maxsize=256)
def _compile_regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _regex(node: Binary, left: C, right: C, sc: Scope) -> C:
    lf, rf = left.fn, right.fn
    if right.is_const:
        try:
            rx = _compile_regex(s(right.value))
        except re.error as exc:
            raise sc.error(
                node.pos,
                "matches regex",
                f"'{sc.op}' operator: invalid regular expression {s(right.value)!r}: {exc}",
            ) from None
        return C(lambda r: rx.search(s(lf(r))) is not None, "bool")

    def f(r):
        try:
            return _compile_regex(s(rf(r))).search(s(lf(r))) is not None
        except re.error:
            return None

    return C(f, "bool")


def _in(node: InList, sc: Scope) -> C:
    left = compile_expr(node.left, sc)
    items = [compile_expr(it, sc) for it in node.items]
    op = node.op
    lf = left.fn
    if op in ("has_any", "has_all"):
        needles = [it for it in items]
        want_all = op == "has_all"

        def fh(r):
            hay = s(lf(r))
            found = (
                _term_regex(s(n), True, True, False).search(hay) is not None for n in _flatten(r, needles)
            )
            return all(found) if want_all else any(found)

        return _fold(C(fh, "bool"), left, *items)
    neg = op.startswith("!")
    ci = op.endswith("~")
    if all(it.is_const for it in items):
        values = _flatten(None, items)
        if (
            ci
            or left.type == "string"
            or (left.type in LOOSE and values and all(v.__class__ is str for v in values))
        ):
            if ci:
                bag = frozenset(s(v).lower() for v in values)
                test = lambda v: s(v).lower() in bag  # noqa: E731
            else:
                bag = frozenset(s(v) for v in values)
                test = lambda v: s(v) in bag  # noqa: E731
        elif left.type in NUMERIC or (
            left.type in LOOSE and values and all(num(v) is not None for v in values)
        ):
            nums = frozenset(n for n in (num(v) for v in values) if n is not None)

            def test(v):
                n = num(v)
                return n is not None and n in nums

        else:
            test = lambda v: any(generic_eq(v, x) is True for x in values)  # noqa: E731
        if neg:
            return _fold(C(lambda r: not test(lf(r)), "bool"), left, *items)
        return _fold(C(lambda r: test(lf(r)), "bool"), left, *items)

    def fr(r):
        v = lf(r)
        values = _flatten(r, items)
        if ci:
            low = s(v).lower()
            hit = any(s(x).lower() == low for x in values)
        else:
            hit = any(generic_eq(v, x) is True for x in values)
        return not hit if neg else hit

    return C(fr, "bool")


def _flatten(row, items: list[C]) -> list:
    out: list = []
    for it in items:
        v = it.value if it.is_const else it.fn(row)
        if v.__class__ is list:
            out.extend(v)
        else:
            out.append(v)
    return out


def _between(node: Between, sc: Scope) -> C:
    left = compile_expr(node.left, sc)
    low = compile_expr(node.low, sc)
    high = compile_expr(node.high, sc)
    kind = _kind("between", left.type, low.type, sc, node.pos)
    co = _coerce(kind) or (lambda v: v if _order_class(v) else None)
    lf, lo, hi = left.fn, low.fn, high.fn
    neg = node.negated

    def f(r):
        v, a, b = co(lf(r)), co(lo(r)), co(hi(r))
        if v is None or a is None or b is None:
            return None
        try:
            inside = a <= v <= b
        except TypeError:
            return None
        return not inside if neg else inside

    return _fold(C(f, "bool"), left, low, high)


def _arith_type(op: str, lt: str, rt: str, sc: Scope, pos: int) -> str:
    if lt in LOOSE or rt in LOOSE:
        return "unknown"
    if lt in NUMERIC and rt in NUMERIC:
        return "long" if lt == rt == "long" else "real"
    pair = (lt, rt)
    table = {
        ("datetime", "timespan"): {"+": "datetime", "-": "datetime"},
        ("timespan", "datetime"): {"+": "datetime"},
        ("datetime", "datetime"): {"-": "timespan"},
        ("timespan", "timespan"): {"+": "timespan", "-": "timespan", "/": "real"},
        ("timespan", "long"): {"*": "timespan", "/": "timespan"},
        ("timespan", "real"): {"*": "timespan", "/": "timespan"},
        ("long", "timespan"): {"*": "timespan"},
        ("real", "timespan"): {"*": "timespan"},
    }
    result = table.get(pair, {}).get(op)
    if result is None:
        hint = "; use strcat() to join strings" if "string" in pair and op == "+" else ""
        raise sc.error(pos, op, f"'{sc.op}' operator: '{op}' cannot be applied to {lt} and {rt}{hint}")
    return result


def arith(op: str, a: object, b: object) -> object:
    if a is None or b is None:
        return None
    ta, tb = a.__class__, b.__class__
    if ta is bool or tb is bool or ta is str or tb is str or ta in (dict, list) or tb in (dict, list):
        return None
    try:
        if op == "+":
            return a + b  # type: ignore[operator]
        if op == "-":
            return a - b  # type: ignore[operator]
        if op == "*":
            return a * b  # type: ignore[operator]
        if op == "/":
            if ta is int and tb is int:
                if b == 0:
                    return None
                q = abs(a) // abs(b)  # type: ignore[arg-type]
                return q if (a >= 0) == (b >= 0) else -q  # type: ignore[operator]  # truncates toward zero, as C#
            if tb in (int, float) and b == 0:
                if ta in (int, float):
                    return math.nan if a == 0 else math.copysign(math.inf, a)  # type: ignore[arg-type]
                return None
            return a / b  # type: ignore[operator]
        if op == "%":
            if ta is int and tb is int:
                if b == 0:
                    return None
                m = abs(a) % abs(b)  # type: ignore[arg-type]
                return m if a >= 0 else -m  # type: ignore[operator]  # sign of the dividend, as C#
            return math.fmod(a, b)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return None


def _arith(node: Binary, left: C, right: C, sc: Scope) -> C:
    op = node.op
    t = _arith_type(op, left.type, right.type, sc, node.pos)
    lf, rf = left.fn, right.fn
    return _fold(C(lambda r: arith(op, lf(r), rf(r)), t), left, right)


def _negate(v: object) -> object:
    t = v.__class__
    if t is int or t is float or t is timedelta:
        return -v  # type: ignore[operator]
    return None


# ---------------------------------------------------------------- functions


def _call(node: Call, sc: Scope) -> C:
    name = node.name
    if name in AGGREGATE_NAMES:
        if sc.aggs is None:
            raise sc.error(
                node.pos,
                name,
                f"'{sc.op}' operator: the aggregation function '{name}' can only be used in 'summarize'",
            )
        # the one import cycle: aggregates compile their arguments with compile_expr
        from refit.emulator.kql.aggregates import register

        return register(node, sc)
    spec = FUNCTIONS.get(name)
    if spec is None:
        hint = (
            f" (function names are case-sensitive: did you mean '{name.lower()}'?)"
            if name.lower() in FUNCTIONS
            else ""
        )
        raise sc.error(node.pos, name, f"'{sc.op}' operator: Unknown function: '{name}'{hint}")
    lo, hi, build = spec
    if not lo <= len(node.args) <= hi:
        want = f"{lo}" if lo == hi else f"{lo} to {hi}"
        raise sc.error(
            node.pos, name, f"'{sc.op}' operator: {name}() expects {want} argument(s), got {len(node.args)}"
        )
    args = [compile_expr(a, sc) for a in node.args]
    c = build(args, sc, node)
    if name == "now" or name == "ago":
        return c
    return _fold(c, *args) if args else c


def _common(types: list[str]) -> str:
    known = {t for t in types if t != "unknown"}
    if len(known) == 1:
        return known.pop()
    if known and known <= NUMERIC:
        return "real"
    return "unknown"


def _one(f, t: str):
    def build(args, sc, node):
        a = args[0].fn
        return C(lambda r: f(a(r)), t)

    return build


def _isempty(v: object) -> bool:
    return v is None or v == ""


def _tolong(v: object) -> int | None:
    t = v.__class__
    if t is int:
        return v  # type: ignore[return-value]
    if t is bool:
        return int(v)  # type: ignore[arg-type]
    if t is float:
        return int(v) if math.isfinite(v) else None  # type: ignore[arg-type]
    if t is str:
        try:
            return int(v.strip())  # type: ignore[attr-defined]
        except ValueError:
            try:
                f = float(v)  # type: ignore[arg-type]
            except ValueError:
                return None
            return int(f) if math.isfinite(f) else None
    return None


def _toreal(v: object) -> float | None:
    t = v.__class__
    if t is float:
        return v  # type: ignore[return-value]
    if t is int or t is bool:
        return float(v)  # type: ignore[arg-type]
    if t is str:
        try:
            return float(v)  # type: ignore[arg-type]
        except ValueError:
            return None
    return None


def _tobool(v: object) -> bool | None:
    t = v.__class__
    if t is bool:
        return v  # type: ignore[return-value]
    if t is int or t is float:
        return v != 0
    if t is str:
        low = v.strip().lower()  # type: ignore[attr-defined]
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
    return None


def _parse_json(v: object) -> object:
    # parse_json: valid JSON text is parsed; other text stays a dynamic string; dynamic stays as is.
    if v.__class__ is str:
        try:
            return json.loads(v)  # type: ignore[arg-type]
        except ValueError:
            return v
    return v


def _substring(args, sc, node):
    src, start = args[0].fn, args[1].fn
    length = args[2].fn if len(args) > 2 else None

    def f(r):
        text = s(src(r))
        st = num(start(r))
        if st is None:
            return ""
        st = max(int(st), 0)
        if length is None:
            return text[st:]
        n = num(length(r))
        if n is None:
            return text[st:]
        return text[st : st + max(int(n), 0)]

    return C(f, "string")


def _split(args, sc, node):
    src, delim = args[0].fn, args[1].fn
    idx = args[2].fn if len(args) > 2 else None

    def f(r):
        text, d = s(src(r)), s(delim(r))
        parts = text.split(d) if d else [text]
        if idx is None:
            return parts
        i = num(idx(r))
        if i is None:
            return None
        try:
            return [parts[int(i)]]
        except IndexError:
            return []

    return C(f, "dynamic")


def _iff(args, sc, node):
    if args[0].type not in ("bool",) and args[0].type not in LOOSE:
        raise sc.error(
            node.pos,
            node.name,
            f"'{sc.op}' operator: the condition of {node.name}() must be bool, not {args[0].type}",
        )
    cond, a, b = args[0].fn, args[1].fn, args[2].fn
    return C(lambda r: a(r) if cond(r) is True else b(r), _common([args[1].type, args[2].type]))


def _case(args, sc, node):
    if len(args) % 2 == 0:
        raise sc.error(
            node.pos, "case", f"'{sc.op}' operator: case() takes predicate/value pairs and then an else value"
        )
    pairs = [(args[i].fn, args[i + 1].fn) for i in range(0, len(args) - 1, 2)]
    default = args[-1].fn

    def f(r):
        for p, v in pairs:
            if p(r) is True:
                return v(r)
        return default(r)

    return C(f, _common([args[i].type for i in range(1, len(args), 2)] + [args[-1].type]))


def _coalesce(args, sc, node):
    fns = [a.fn for a in args]

    def f(r):
        for fn in fns:
            v = fn(r)
            if v is not None and v != "":
                return v
        return None

    return C(f, _common([a.type for a in args]))


def _strcat(args, sc, node):
    fns = [a.fn for a in args]
    return C(lambda r: "".join(s(fn(r)) for fn in fns), "string")


def _isnull(neg: bool):
    def build(args, sc, node):
        a = args[0].fn
        if args[0].type == "string":  # strings are never null
            return const(neg, "bool")
        if neg:
            return C(lambda r: a(r) is not None, "bool")
        return C(lambda r: a(r) is None, "bool")

    return build


def _not(args, sc, node):
    a = args[0].fn

    def f(r):
        v = a(r)
        return (not v) if v.__class__ is bool else None

    return C(f, "bool")


def _now(args, sc, node):
    # now() is one value for the whole query (https://learn.microsoft.com/kusto/query/now-function)
    return const(sc.now, "datetime")


def _ago(args, sc, node):
    a = args[0].fn
    now = sc.now
    return C(lambda r: (now - v) if (v := a(r)).__class__ is timedelta else None, "datetime")


def _extract(args, sc, node):
    if not args[0].is_const:
        raise sc.error(
            node.pos, "extract", f"'{sc.op}' operator: extract() needs a constant regular expression"
        )
    try:
        rx = re.compile(s(args[0].value))
    except re.error as exc:
        raise sc.error(
            node.pos, "extract", f"'{sc.op}' operator: invalid regular expression: {exc}"
        ) from None
    group, src = args[1].fn, args[2].fn

    def f(r):
        m = rx.search(s(src(r)))
        g = num(group(r))
        if m is None or g is None:
            return ""
        try:
            return m.group(int(g)) or ""
        except IndexError:
            return ""

    return C(f, "string")


def _bin(args, sc, node):
    a, size = args[0].fn, args[1].fn

    def f(r):
        v, b = a(r), size(r)
        if v is None or b is None:
            return None
        if v.__class__ is datetime and b.__class__ is timedelta and b:
            epoch = datetime(1970, 1, 1, tzinfo=v.tzinfo)  # type: ignore[attr-defined]
            return epoch + ((v - epoch) // b) * b  # type: ignore[operator]
        nv, nb = num(v), num(b)
        if nv is None or not nb:
            return None
        return math.floor(nv / nb) * nb

    return C(f, args[0].type)


def _strcat_array(arr: object, delim: object) -> str:
    return s(delim).join(s(x) for x in arr) if arr.__class__ is list else ""  # type: ignore[attr-defined]


def _gettype(v: object) -> str:
    if v is None:
        return "null"
    t = type_of(v)
    if t == "dynamic":
        return "array" if v.__class__ is list else "dictionary"
    return {"long": "long", "real": "real"}.get(t, t)


def _round(args, sc, node):
    a = args[0].fn
    digits = args[1].fn if len(args) > 1 else (lambda r: 0)

    def f(r):
        v, d = num(a(r)), num(digits(r))
        if v is None or d is None:
            return None
        return round(float(v), int(d))

    return C(f, "real")


FUNCTIONS = {
    "isempty": (1, 1, _one(_isempty, "bool")),
    "isnotempty": (1, 1, _one(lambda v: not _isempty(v), "bool")),
    "isnull": (1, 1, _isnull(False)),
    "isnotnull": (1, 1, _isnull(True)),
    "not": (1, 1, _not),
    "tostring": (1, 1, _one(tostr, "string")),
    "toint": (1, 1, _one(_tolong, "long")),
    "tolong": (1, 1, _one(_tolong, "long")),
    "todouble": (1, 1, _one(_toreal, "real")),
    "toreal": (1, 1, _one(_toreal, "real")),
    "todecimal": (1, 1, _one(_toreal, "real")),
    "tobool": (1, 1, _one(_tobool, "bool")),
    "toboolean": (1, 1, _one(_tobool, "bool")),
    "todatetime": (1, 1, _one(to_datetime, "datetime")),
    "todynamic": (1, 1, _one(_parse_json, "dynamic")),
    "parse_json": (1, 1, _one(_parse_json, "dynamic")),
    "parsejson": (1, 1, _one(_parse_json, "dynamic")),
    "tolower": (1, 1, _one(lambda v: s(v).lower(), "string")),
    "toupper": (1, 1, _one(lambda v: s(v).upper(), "string")),
    "strlen": (1, 1, _one(lambda v: len(s(v)), "long")),
    "strcat": (1, 64, _strcat),
    "substring": (2, 3, _substring),
    "split": (2, 3, _split),
    "iff": (3, 3, _iff),
    "iif": (3, 3, _iff),
    "case": (3, 2 * 64 + 1, _case),
    "coalesce": (2, 64, _coalesce),
    "array_length": (1, 1, _one(lambda v: len(v) if v.__class__ is list else None, "long")),  # type: ignore[arg-type]
    "bag_keys": (1, 1, _one(lambda v: list(v) if v.__class__ is dict else None, "dynamic")),  # type: ignore[call-overload]
    "now": (0, 0, _now),
    "ago": (1, 1, _ago),
    "extract": (3, 3, _extract),
    "indexof": (2, 2, lambda a, sc, n: C(lambda r: s(a[0].fn(r)).find(s(a[1].fn(r))), "long")),
    "replace_string": (
        3,
        3,
        lambda a, sc, n: C(lambda r: s(a[0].fn(r)).replace(s(a[1].fn(r)), s(a[2].fn(r))), "string"),
    ),
    "strcat_array": (2, 2, lambda a, sc, n: C(lambda r: _strcat_array(a[0].fn(r), a[1].fn(r)), "string")),
    "pack_array": (1, 64, lambda a, sc, n: C(lambda r: [output(x.fn(r)) for x in a], "dynamic")),
    "gettype": (1, 1, _one(_gettype, "string")),
    "bin": (2, 2, _bin),
    "floor": (2, 2, _bin),
    "round": (1, 2, _round),
    "abs": (1, 1, _one(lambda v: abs(v) if num(v) is not None else None, "unknown")),  # type: ignore[arg-type]
}


def _bag_pack(args, sc, node):
    if len(args) % 2:
        raise sc.error(node.pos, node.name, f"'{sc.op}' operator: {node.name}() takes key/value pairs")
    pairs = [(args[i].fn, args[i + 1].fn) for i in range(0, len(args), 2)]
    return C(lambda r: {s(k(r)): output(v(r)) for k, v in pairs}, "dynamic")


FUNCTIONS["bag_pack"] = (2, 128, _bag_pack)
FUNCTIONS["pack"] = (2, 128, _bag_pack)

AGGREGATE_NAMES = frozenset(
    {
        "count", "countif", "dcount", "dcountif", "sum", "sumif", "min", "max", "avg", "avgif",
        "make_list", "make_list_if", "make_set", "make_set_if", "makelist", "makeset", "any", "take_any",
        "take_anyif", "anyif",
    }
)  # fmt: skip
