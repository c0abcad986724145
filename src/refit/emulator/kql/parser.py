"""Recursive-descent parser: query text -> AST (tabular operators over scalar expressions).

Grammar and precedence follow https://learn.microsoft.com/kusto/query/ (operator pages cited where the
syntax has options). Keywords are case-sensitive, as in Kusto: `where`, not `WHERE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from refit.emulator.kql.errors import NOT_SUPPORTED
from refit.emulator.kql.lexer import TS_UNITS, Source, Tok, tokenize

# ---------------------------------------------------------------- expression nodes


@dataclass(frozen=True, slots=True)
class Lit:
    value: object
    type: str  # string | long | real | bool | datetime | timespan | dynamic
    pos: int


@dataclass(frozen=True, slots=True)
class Col:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Member:
    """base.key or base['key'] (a constant string selector)."""

    base: object
    key: str
    pos: int


@dataclass(frozen=True, slots=True)
class Index:
    """base[expr] with a non-string-literal selector (array index or computed key)."""

    base: object
    index: object
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: object
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: object
    right: object
    pos: int


@dataclass(frozen=True, slots=True)
class InList:
    op: str  # in | !in | in~ | !in~ | has_any | has_all
    left: object
    items: tuple
    pos: int


@dataclass(frozen=True, slots=True)
class Between:
    negated: bool
    left: object
    low: object
    high: object
    pos: int


@dataclass(frozen=True, slots=True)
class Named:
    name: str
    expr: object
    pos: int


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: object
    desc: bool
    nulls_first: bool


# ---------------------------------------------------------------- tabular operators


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # where | project | extend | ... (the keyword, sort/order -> sort, limit -> take)
    pos: int
    args: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Query:
    table: str
    table_pos: int
    ops: tuple
    source: Source


STRING_OPS = frozenset(
    {
        "contains", "!contains", "contains_cs", "!contains_cs",
        "has", "!has", "has_cs", "!has_cs",
        "hasprefix", "!hasprefix", "hasprefix_cs", "!hasprefix_cs",
        "hassuffix", "!hassuffix", "hassuffix_cs", "!hassuffix_cs",
        "startswith", "!startswith", "startswith_cs", "!startswith_cs",
        "endswith", "!endswith", "endswith_cs", "!endswith_cs",
    }
)  # fmt: skip
COMPARE_OPS = frozenset({"==", "!=", "=~", "!~", "<", "<=", ">", ">="})
IN_OPS = frozenset({"in", "!in", "in~", "!in~"})

SUPPORTED_OPERATORS = (
    "where", "filter", "project", "project-away", "project-keep", "project-rename", "extend",
    "order", "sort", "take", "limit", "top", "summarize", "count", "distinct", "mv-expand",
    "join", "union", "parse",
)  # fmt: skip
# Every other tabular operator Kusto has: recognised so the error says "not supported", not "syntax".
OTHER_OPERATORS = frozenset(
    {
        "parse-where", "parse-kv", "project-reorder", "mv-apply",
        "make-series", "top-nested", "top-hitters", "sample", "sample-distinct", "render", "serialize",
        "as", "evaluate", "lookup", "facet", "fork", "getschema", "invoke", "partition", "range",
        "reduce", "scan", "search", "find", "print", "datatable", "externaldata", "consume", "let",
        "set", "declare", "alias", "pattern", "restrict", "materialize", "macro-expand", "graph-match",
    }
)  # fmt: skip
OPERATOR_WORDS = frozenset(SUPPORTED_OPERATORS) | OTHER_OPERATORS

_BOOL_WORDS = {"true": True, "false": False, "True": True, "False": False, "TRUE": True, "FALSE": False}
_TYPE_NAMES = {
    "bool": "bool", "boolean": "bool", "int": "long", "long": "long", "real": "real", "double": "real",
    "decimal": "real", "string": "string", "dynamic": "dynamic", "datetime": "datetime", "date": "datetime",
    "timespan": "timespan", "time": "timespan", "guid": "string",
}  # fmt: skip
DEFAULT_TABLE = "Resources"
_KEYWORDS = (
    frozenset(
        {
            "and",
            "or",
            "by",
            "asc",
            "desc",
            "nulls",
            "first",
            "last",
            "in",
            "between",
            "contains",
            "has",
            "startswith",
            "endswith",
            "matches",
            "regex",
        }
    )
    | STRING_OPS
)


class Parser:
    def __init__(self, text: str) -> None:
        self.src = Source(text)
        self.toks = tokenize(self.src)
        self.i = 0

    # ------------------------------------------------------------ helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def text_of(self, tok: Tok) -> str:
        return self.src.text[tok.start : tok.end]

    def fail(self, why: str, tok: Tok | None = None):
        tok = tok or self.tok
        if tok.kind == "bad":  # a token the lexer could not read: say why
            why = str(tok.value)
        return self.src.error(tok.start, self.text_of(tok), why)

    def is_op(self, value: str) -> bool:
        return self.tok.kind == "op" and self.tok.value == value

    def is_word(self, value: str) -> bool:
        return self.tok.kind == "id" and self.tok.value == value

    def expect_op(self, value: str, why: str | None = None) -> Tok:
        if not self.is_op(value):
            raise self.fail(why or f"expected '{value}'")
        tok = self.tok
        self.i += 1
        return tok

    def expect_word(self, value: str, why: str | None = None) -> Tok:
        if not self.is_word(value):
            raise self.fail(why or f"expected '{value}'")
        tok = self.tok
        self.i += 1
        return tok

    def name(self, why: str) -> tuple[str, int]:
        tok = self.tok
        if tok.kind == "id":
            self.i += 1
            return str(tok.value), tok.start
        if (
            self.is_op("[")
            and self.peek().kind == "str"
            and self.peek(2).kind == "op"
            and self.peek(2).value == "]"
        ):
            # ['column name']: https://learn.microsoft.com/kusto/query/schema-entities/entity-names
            self.i += 3
            return str(self.toks[self.i - 2].value), tok.start
        raise self.fail(why)

    # ------------------------------------------------------------ query
    def parse_query(self) -> Query:
        tok = self.tok
        if tok.kind == "eof":
            raise self.fail("the query is empty; start with a table name such as Resources")
        if tok.kind == "id" and tok.value == "let":
            raise self.src.error(
                tok.start,
                "let",
                "'let' statements are not supported by refit's Resource Graph emulator",
                code=NOT_SUPPORTED,
            )
        ops: list[Op] = []
        if tok.kind == "id" and tok.value == "union":
            # `union A, B` starts a query with its legs as the input (no table before it).
            table, table_pos = "", tok.start
            self.i += 1
            ops.append(self.union(tok.start, lead=True))
        elif tok.kind == "id" and tok.value in OPERATOR_WORDS:
            # Resource Graph runs a query that starts with an operator against Resources
            # (https://learn.microsoft.com/azure/governance/resource-graph/concepts/query-language).
            table, table_pos = DEFAULT_TABLE, tok.start
            ops.append(self.operator())
        elif tok.kind == "id" or self.is_op("["):
            table, table_pos = self.name("expected a table name")
        else:
            raise self.fail("expected a table name such as Resources, or a tabular operator such as where")
        while self.is_op("|"):
            self.i += 1
            ops.append(self.operator())
        while self.is_op(";"):
            self.i += 1
        if self.tok.kind != "eof":
            tok = self.tok
            why = "expected '|' before the next tabular operator, or the end of the query"
            if tok.kind == "op" and tok.value == "=":
                why = "'=' only names a column; compare with '==' (or '=~' to ignore case)"
            elif tok.kind == "id" and str(tok.value).lower() in _KEYWORDS and tok.value not in _KEYWORDS:
                why = f"keywords are case-sensitive: did you mean '{str(tok.value).lower()}'?"
            raise self.fail(why)
        return Query(table, table_pos, tuple(ops), self.src)

    def operator(self) -> Op:
        tok = self.tok
        if tok.kind != "id":
            raise self.fail("expected a tabular operator such as where, project, extend, summarize")
        word = str(tok.value)
        if word in OTHER_OPERATORS:
            raise self.src.error(
                tok.start,
                word,
                f"the '{word}' operator is not supported by refit's Resource Graph emulator "
                f"(supported: {', '.join(SUPPORTED_OPERATORS)})",
                code=NOT_SUPPORTED,
            )
        if word not in SUPPORTED_OPERATORS:
            hint = (
                f" (keywords are case-sensitive: did you mean '{word.lower()}'?)"
                if word.lower() in OPERATOR_WORDS
                else ""
            )
            raise self.fail(f"'{word}' is not a tabular operator{hint}")
        self.i += 1
        pos = tok.start
        if word in ("where", "filter"):
            return Op("where", pos, {"expr": self.expr()})
        if word in ("project", "extend"):
            return Op(word, pos, {"items": self.named_list()})
        if word in ("project-away", "project-keep"):
            return Op(word, pos, {"patterns": self.pattern_list()})
        if word == "project-rename":
            pairs = []
            while True:
                new, _ = self.name("expected NewName = ExistingName")
                self.expect_op("=", "expected '=' in project-rename NewName = ExistingName")
                old, opos = self.name("expected the existing column name after '='")
                pairs.append((new, old, opos))
                if not self.is_op(","):
                    break
                self.i += 1
            return Op(word, pos, {"pairs": pairs})
        if word in ("order", "sort"):
            self.expect_word("by", f"expected 'by' after '{word}'")
            keys = [self.sort_key()]
            while self.is_op(","):
                self.i += 1
                keys.append(self.sort_key())
            return Op("sort", pos, {"keys": keys})
        if word in ("take", "limit"):
            return Op("take", pos, {"count": self.expr()})
        if word == "top":
            count = self.expr()
            self.expect_word("by", "expected 'by' after the number of rows in 'top'")
            return Op("top", pos, {"count": count, "keys": [self.sort_key()]})
        if word == "summarize":
            aggs = [] if self.is_word("by") or self.at_end() else self.named_list()
            groups = []
            if self.is_word("by"):
                self.i += 1
                groups = self.named_list()
            if not aggs and not groups:
                raise self.fail("'summarize' needs an aggregation such as count() or a 'by' clause")
            return Op("summarize", pos, {"aggs": aggs, "groups": groups})
        if word == "count":
            return Op("count", pos)
        if word == "join":
            return self.join(pos)
        if word == "union":
            return self.union(pos, lead=False)
        if word == "parse":
            return self.parse_op(pos)
        if word == "distinct":
            if self.is_op("*"):
                self.i += 1
                return Op("distinct", pos, {"items": None})
            return Op("distinct", pos, {"items": self.named_list()})
        return self.mv_expand(pos)

    def at_end(self) -> bool:
        return self.tok.kind == "eof" or self.is_op("|") or self.is_op(")")

    # ------------------------------------------------------------ join, union, parse
    def options(self, allowed: tuple[str, ...]) -> dict[str, tuple[str, int]]:
        """`name=value` options before an operator's arguments (kind=inner, withsource=T, hint.strategy=...):
        name -> (value, position of the value); a hint.* option -> (value, position of its name)."""
        out: dict[str, tuple[str, int]] = {}
        while self.tok.kind == "id":
            start, j = self.i, self.i
            key_pos = self.tok.start
            key = str(self.tok.value)
            # hint.strategy: a dotted option name
            while self.toks[j + 1].kind == "op" and self.toks[j + 1].value == "." and self.toks[j + 2].kind == "id":
                j += 2
                key += "." + str(self.toks[j].value)
            if not (self.toks[j + 1].kind == "op" and self.toks[j + 1].value == "="):
                self.i = start
                break
            if key not in allowed and not key.startswith("hint."):
                break
            self.i = j + 2
            value, vpos = self.name(f"expected a value after '{key}='")
            out[key] = (value, key_pos if key.startswith("hint.") else vpos)
        return out

    def tabular(self) -> Query:
        """A join's right side or a union leg: a table name, or a query in parentheses."""
        if self.is_op("("):
            self.i += 1
            table, table_pos = self.name("expected a table name such as Resources or ResourceContainers")
            ops = []
            while self.is_op("|"):
                self.i += 1
                ops.append(self.operator())
            self.expect_op(")", "expected '|' or ')' to close the query in parentheses")
            return Query(table, table_pos, tuple(ops), self.src)
        table, table_pos = self.name("expected a table name, or a query in parentheses")
        return Query(table, table_pos, (), self.src)

    def join(self, pos: int) -> Op:
        # https://learn.microsoft.com/kusto/query/join-operator: join [kind=K] [hint.*=...] Right on Keys
        opts = self.options(("kind",))
        right = self.tabular()
        self.expect_word("on", "expected 'on' and the columns to join on")
        keys = [self.join_key()]
        while self.is_op(",") or self.is_word("and"):
            self.i += 1
            keys.append(self.join_key())
        return Op("join", pos, {"kind": opts.get("kind"), "hints": [(k, p) for k, (_, p) in opts.items()
                                                                    if k.startswith("hint.")],
                                "right": right, "keys": keys})

    def join_key(self) -> tuple[str, str, int]:
        """`col` (the same name on both sides) or `$left.a == $right.b` -> (left column, right column, pos)."""
        tok = self.tok
        if tok.kind == "id" and tok.value in ("$left", "$right"):
            sides = {}
            for i in range(2):
                side = self.tok
                if not (side.kind == "id" and side.value in ("$left", "$right")):
                    raise self.fail("expected $left.column or $right.column")
                self.i += 1
                self.expect_op(".", f"expected '.' after {side.value}")
                name, _ = self.name("expected a column name")
                sides[side.value] = name
                if i == 0:
                    self.expect_op("==", "expected '==' between $left.column and $right.column")
            if len(sides) != 2:
                raise self.fail("a join condition compares $left.column with $right.column", tok)
            return sides["$left"], sides["$right"], tok.start
        name, npos = self.name("expected a column name to join on, or $left.column == $right.column")
        return name, name, npos

    def union(self, pos: int, lead: bool) -> Op:
        # https://learn.microsoft.com/kusto/query/union-operator: union [kind=inner|outer] [withsource=C] T, ...
        opts = self.options(("kind", "withsource", "isfuzzy"))
        legs = [self.tabular()]
        while self.is_op(","):
            self.i += 1
            legs.append(self.tabular())
        kind, kpos = opts.get("kind", ("outer", pos))
        if kind not in ("inner", "outer"):
            raise self.src.error(kpos, kind, "union kind must be 'inner' or 'outer'")
        source = opts.get("withsource")
        return Op("union", pos, {"kind": kind, "withsource": source[0] if source else None, "legs": legs,
                                 "lead": lead, "fuzzy": "isfuzzy" in opts})

    def parse_op(self, pos: int) -> Op:
        # https://learn.microsoft.com/kusto/query/parse-operator: parse [kind=simple|regex|relaxed] Expr with Pattern
        opts = self.options(("kind", "flags"))
        kind, kpos = opts.get("kind", ("simple", pos))
        if kind not in ("simple", "regex", "relaxed"):
            raise self.src.error(kpos, kind, "parse kind must be 'simple', 'regex' or 'relaxed'")
        source = self.expr()
        self.expect_word("with", "expected 'with' and the pattern to parse")
        pattern: list[tuple] = []
        while not self.at_end():
            tok = self.tok
            if self.is_op("*"):
                self.i += 1
                pattern.append(("*",))
            elif tok.kind == "str":
                self.i += 1
                pattern.append(("text", str(tok.value)))
            elif tok.kind == "id" or self.is_op("["):
                name, npos = self.name("expected a column name")
                ctype = "string"
                if self.is_op(":"):
                    self.i += 1
                    tname, tpos = self.name("expected a type name after ':'")
                    if tname not in _TYPE_NAMES:
                        raise self.src.error(tpos, tname, f"'{tname}' is not a scalar type name")
                    ctype = _TYPE_NAMES[tname]
                pattern.append(("column", name, ctype, npos))
            else:
                raise self.fail("expected a string, a column name or '*' in the parse pattern")
        if not any(p[0] == "column" for p in pattern):
            raise self.fail("the parse pattern names no column to extract")
        return Op("parse", pos, {"kind": kind, "source": source, "pattern": pattern})

    def named_list(self) -> list:
        items = [self.named()]
        while self.is_op(","):
            self.i += 1
            items.append(self.named())
        return items

    def named(self):
        tok = self.tok
        nxt = self.peek()
        if tok.kind == "id" and nxt.kind == "op" and nxt.value == "=":
            self.i += 2
            return Named(str(tok.value), self.expr(), tok.start)
        if (
            self.is_op("[")
            and self.peek().kind == "str"
            and self.peek(2).kind == "op"
            and self.peek(2).value == "]"
        ):
            after = self.peek(3)
            if after.kind == "op" and after.value == "=":
                self.i += 4
                return Named(str(self.toks[self.i - 3].value), self.expr(), tok.start)
        return self.expr()

    def pattern_list(self) -> list:
        """Column names with * wildcards (project-away / project-keep)."""
        out = []
        while True:
            start = self.tok
            if self.is_op("[") and self.peek().kind == "str":
                name, _ = self.name("expected a column name")
                out.append((name, start.start))
            else:
                parts = []
                end = None
                while (self.tok.kind == "id" or self.is_op("*")) and (end is None or self.tok.start == end):
                    parts.append(str(self.tok.value))
                    end = self.tok.end
                    self.i += 1
                if not parts:
                    raise self.fail("expected a column name or a wildcard such as prop*")
                out.append(("".join(parts), start.start))
            if not self.is_op(","):
                return out
            self.i += 1

    def sort_key(self) -> SortKey:
        expr = self.expr()
        desc = True  # Kusto's default order is descending (sort operator docs)
        if self.is_word("asc") or self.is_word("desc"):
            desc = self.tok.value == "desc"
            self.i += 1
        # Default: nulls first when ascending, nulls last when descending (sort operator docs).
        nulls_first = not desc
        if self.is_word("nulls"):
            self.i += 1
            if not (self.is_word("first") or self.is_word("last")):
                raise self.fail("expected 'first' or 'last' after 'nulls'")
            nulls_first = self.tok.value == "first"
            self.i += 1
        return SortKey(expr, desc, nulls_first)

    def mv_expand(self, pos: int) -> Op:
        # https://learn.microsoft.com/kusto/query/mv-expand-operator
        bag_as_array = False
        itemindex = None
        while self.tok.kind == "id" and self.peek().kind == "op" and self.peek().value == "=" and self.tok.value in (
            "bagexpansion", "kind", "with_itemindex",
        ):  # fmt: skip
            key = self.tok.value
            self.i += 2
            value, _ = self.name(f"expected a value after '{key}='")
            if key == "with_itemindex":
                itemindex = value
            elif value in ("bag", "array"):
                bag_as_array = value == "array"
            else:
                raise self.fail(f"'{key}' must be 'bag' or 'array'", self.toks[self.i - 1])
        items = []
        while True:
            item = self.named()
            to_type = None
            if self.is_word("to"):
                self.i += 1
                self.expect_word("typeof", "expected 'typeof(' after 'to'")
                self.expect_op("(")
                tname, tpos = self.name("expected a type name")
                if tname not in _TYPE_NAMES:
                    raise self.src.error(tpos, tname, f"'{tname}' is not a scalar type name")
                to_type = _TYPE_NAMES[tname]
                self.expect_op(")")
            items.append((item, to_type))
            if not self.is_op(","):
                break
            self.i += 1
        limit = None
        if self.is_word("limit"):
            self.i += 1
            limit = self.expr()
        return Op(
            "mv-expand",
            pos,
            {"items": items, "itemindex": itemindex, "bag_as_array": bag_as_array, "limit": limit},
        )

    # ------------------------------------------------------------ scalar expressions
    def expr(self):
        return self.or_expr()

    def or_expr(self):
        left = self.and_expr()
        while self.is_word("or"):
            pos = self.tok.start
            self.i += 1
            left = Binary("or", left, self.and_expr(), pos)
        return left

    def and_expr(self):
        left = self.comparison()
        while self.is_word("and"):
            pos = self.tok.start
            self.i += 1
            left = Binary("and", left, self.comparison(), pos)
        return left

    def comparison(self):
        left = self.additive()
        while True:
            tok = self.tok
            op = tok.value if tok.kind in ("op", "id") else None
            if (op in COMPARE_OPS and tok.kind == "op") or op in STRING_OPS:
                self.i += 1
                left = Binary(str(op), left, self.additive(), tok.start)
            elif op in IN_OPS or (tok.kind == "id" and op in ("has_any", "has_all")):
                self.i += 1
                left = InList(str(op), left, self.paren_list(str(op)), tok.start)
            elif op == "matches" and tok.kind == "id":
                self.i += 1
                self.expect_word("regex", "expected 'regex' after 'matches'")
                left = Binary("matches regex", left, self.additive(), tok.start)
            elif op in ("between", "!between"):
                self.i += 1
                self.expect_op("(", f"expected '(' after '{op}'")
                low = self.additive()
                self.expect_op("..", "expected '..' between the bounds, as in between (1 .. 10)")
                high = self.additive()
                self.expect_op(")")
                left = Between(op == "!between", left, low, high, tok.start)
            else:
                return left

    def paren_list(self, op: str) -> tuple:
        self.expect_op("(", f"expected '(' and a list of values after '{op}'")
        items = [self.expr()]
        while self.is_op(","):
            self.i += 1
            items.append(self.expr())
        self.expect_op(")", "expected ',' or ')' in the list")
        return tuple(items)

    def additive(self):
        left = self.multiplicative()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            tok = self.tok
            self.i += 1
            left = Binary(str(tok.value), left, self.multiplicative(), tok.start)
        return left

    def multiplicative(self):
        left = self.unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/", "%"):
            tok = self.tok
            self.i += 1
            left = Binary(str(tok.value), left, self.unary(), tok.start)
        return left

    def unary(self):
        if self.tok.kind == "op" and self.tok.value in ("-", "+"):
            tok = self.tok
            self.i += 1
            operand = self.unary()
            if tok.value == "+":
                return operand
            if isinstance(operand, Lit) and operand.type in ("long", "real", "timespan"):
                return Lit(-operand.value, operand.type, tok.start)  # type: ignore[operator]
            return Unary("-", operand, tok.start)
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while True:
            if self.is_op("."):
                self.i += 1
                tok = self.tok
                if tok.kind == "id":
                    self.i += 1
                    node = Member(node, str(tok.value), tok.start)
                elif self.is_op("["):
                    node = self.bracket(node)
                else:
                    raise self.fail("expected a property name after '.'")
            elif self.is_op("["):
                node = self.bracket(node)
            else:
                return node

    def bracket(self, base):
        open_tok = self.expect_op("[")
        index = self.expr()
        self.expect_op("]", "expected ']'")
        if isinstance(index, Lit) and index.type == "string":
            return Member(base, str(index.value), open_tok.start)
        return Index(base, index, open_tok.start)

    def primary(self):
        tok = self.tok
        if tok.kind == "num":
            self.i += 1
            return Lit(tok.value, "real" if isinstance(tok.value, float) else "long", tok.start)
        if tok.kind == "str":
            self.i += 1
            return Lit(tok.value, "string", tok.start)
        if tok.kind == "ts":
            self.i += 1
            return Lit(tok.value, "timespan", tok.start)
        if tok.kind == "raw":
            self.i += 1
            return self.raw_literal(tok)
        if self.is_op("("):
            self.i += 1
            inner = self.expr()
            self.expect_op(")", "expected ')'")
            return inner
        if self.is_op("["):
            name, pos = self.name("expected ['column name']")
            return Col(name, pos)
        if tok.kind != "id":
            raise self.fail("expected a value, a column name or a function call")
        word = str(tok.value)
        if word in _BOOL_WORDS:
            self.i += 1
            return Lit(_BOOL_WORDS[word], "bool", tok.start)
        nxt = self.peek()
        if nxt.kind == "op" and nxt.value == "(":
            if word == "dynamic":
                self.i += 2
                value = self.json_value()
                self.expect_op(")", "expected ')' to close dynamic(")
                return Lit(value, "dynamic", tok.start)
            if word in _TYPE_NAMES:
                typed = self.typed_literal(word)
                if typed is not None:
                    return typed
            self.i += 2
            args = []
            if not self.is_op(")"):
                args.append(self.named_arg())
                while self.is_op(","):
                    self.i += 1
                    args.append(self.named_arg())
            self.expect_op(")", f"expected ',' or ')' in the arguments of {word}()")
            return Call(word, tuple(args), tok.start)
        self.i += 1
        return Col(word, tok.start)

    def named_arg(self):
        if self.is_op("*"):
            # arg_max(x, *) / arg_min(x, *): every column; anywhere else the binder refuses the '*' column.
            tok = self.tok
            self.i += 1
            return Col("*", tok.start)
        return self.expr()

    def typed_literal(self, word: str):
        """int(null), long(5), real(1.5), bool(true), string(null)... or None when it is not one."""
        save = self.i
        self.i += 2
        tok = self.tok
        neg = False
        if self.is_op("-") and self.peek().kind == "num":
            neg = True
            self.i += 1
            tok = self.tok
        close = self.peek()
        if not (close.kind == "op" and close.value == ")"):
            self.i = save
            return None
        kind = _TYPE_NAMES[word]
        value: object
        if tok.kind == "id" and tok.value == "null":
            value = "" if kind == "string" else None
        elif tok.kind == "num" and kind in ("long", "real"):
            value = int(tok.value) if kind == "long" else float(tok.value)  # type: ignore[arg-type]
            value = -value if neg else value  # type: ignore[operator]
        elif tok.kind == "id" and tok.value in _BOOL_WORDS and kind == "bool":
            value = _BOOL_WORDS[str(tok.value)]
        elif tok.kind == "str" and kind == "string":
            value = tok.value
        else:
            self.i = save
            return None
        self.i += 2
        return Lit(value, kind, tok.start)

    def raw_literal(self, tok: Tok) -> Lit:
        word, raw = tok.value  # type: ignore[misc]
        if raw == "null":
            return Lit(None, "datetime" if word == "datetime" else "timespan", tok.start)
        if word == "datetime":
            parsed = parse_datetime(raw)
            if parsed is None:
                raise self.src.error(tok.start, self.text_of(tok), f"'{raw}' is not a datetime")
            return Lit(parsed, "datetime", tok.start)
        span = parse_timespan(raw)
        if span is None:
            raise self.src.error(tok.start, self.text_of(tok), f"'{raw}' is not a timespan")
        return Lit(span, "timespan", tok.start)

    def json_value(self):
        """The body of dynamic(...): JSON, with Kusto's leniency for unquoted keys."""
        tok = self.tok
        if tok.kind == "str":
            self.i += 1
            return tok.value
        if tok.kind == "num":
            self.i += 1
            return tok.value
        if self.is_op("-") and self.peek().kind == "num":
            self.i += 2
            return -self.toks[self.i - 1].value  # type: ignore[operator]
        if tok.kind == "id" and tok.value == "null":
            self.i += 1
            return None
        if tok.kind == "id" and tok.value in _BOOL_WORDS:
            self.i += 1
            return _BOOL_WORDS[str(tok.value)]
        if self.is_op("["):
            self.i += 1
            out = []
            if not self.is_op("]"):
                out.append(self.json_value())
                while self.is_op(","):
                    self.i += 1
                    out.append(self.json_value())
            self.expect_op("]", "expected ',' or ']' in the dynamic array")
            return out
        if self.is_op("{"):
            self.i += 1
            bag: dict = {}
            if not self.is_op("}"):
                while True:
                    key_tok = self.tok
                    if key_tok.kind not in ("str", "id"):
                        raise self.fail("expected a property name in the dynamic bag")
                    self.i += 1
                    self.expect_op(":", "expected ':' after the property name")
                    bag[str(key_tok.value)] = self.json_value()
                    if not self.is_op(","):
                        break
                    self.i += 1
            self.expect_op("}", "expected ',' or '}' in the dynamic bag")
            return bag
        raise self.fail("expected a JSON value inside dynamic(...)")


def parse(text: str) -> Query:
    return Parser(text).parse_query()


# ---------------------------------------------------------------- datetime / timespan text


def parse_datetime(raw: str) -> datetime | None:
    """ISO 8601 (and Kusto's 'yyyy-mm-dd hh:mm') -> aware UTC datetime; Kusto datetimes are UTC."""
    s = raw.strip()
    if not s:
        return None
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    # Python < 3.11 limits fractional digits; Kusto allows 7 (ticks): trim to 6.
    if "." in s:
        head, _, tail = s.partition(".")
        digits = ""
        rest = tail
        while rest and rest[0].isdigit():
            digits += rest[0]
            rest = rest[1:]
        s = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        value = datetime.fromisoformat(s)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timespan(raw: str) -> timedelta | None:
    """'1.02:03:04.5', '02:03:04', '1d', '30m' -> timedelta."""
    s = raw.strip()
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    try:
        if ":" in s:
            days = 0
            if "." in s.split(":")[0]:
                d, _, s = s.partition(".")
                days = int(d)
            parts = s.split(":")
            hours, minutes = int(parts[0]), int(parts[1])
            seconds = float(parts[2]) if len(parts) > 2 else 0.0
            span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        else:
            i = len(s)
            while i > 0 and s[i - 1].isalpha():
                i -= 1
            number, unit = s[:i], s[i:] or "d"
            if unit not in TS_UNITS:
                return None
            span = TS_UNITS[unit] * float(number)
    except (ValueError, IndexError):
        return None
    return -span if neg else span
