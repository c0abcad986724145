"""The offline evaluator: the subset of HCL that disk/VM modules use, over python-hcl2's Lark tree.

Rules followed (hashicorp/hcl `hclsyntax/spec.md`, Terraform "Expressions" docs):
- `for` over a list/tuple yields (index, element); over a map/object yields (key, value) in **lexical key
  order**; over a set yields (element, element) in set order. `{ for i, v in LIST : i => v }` therefore
  produces the *string* keys "0", "1", ... (object keys are converted to string, hclsyntax
  expression.go `convert.Convert(keyRaw, cty.String)`), and duplicates are an error ("Duplicate object key").
- A template that is exactly one interpolation (`"${x}"`) returns x unconverted.
- Unknown values propagate; `try`/`can` catch only errors Terraform itself would raise.
Everything outside the subset raises `Unsupported` naming file:line and the expression.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lark import Token, Tree

from refit.terraform import functions
from refit.terraform.errors import EvalError, InvalidExpression, Unsupported
from refit.terraform.hcl import (
    Expr,
    children,
    is_nl,
    line_of,
    name_of,
    parse_expression,
    span,
    tokens,
    unescape,
)
from refit.terraform.values import (
    HclSet,
    Unknown,
    as_number,
    equal,
    find_unknown,
    norm_number,
    number_text,
    type_name,
)


class Scope(Protocol):
    """What an expression can refer to: one module instance (see config.ModuleInstance)."""

    fc: functions.FunctionContext

    def var(self, name: str) -> Any: ...
    def local(self, name: str) -> Any: ...
    def path_value(self, attr: str) -> Any: ...
    def resource(self, mode: str, rtype: str, name: str) -> Any: ...
    def resource_instance(self, mode: str, rtype: str, name: str, key: Any) -> Any: ...
    def resource_single(self, mode: str, rtype: str, name: str) -> Any: ...
    def module_call(self, name: str) -> Any: ...
    def where(self, file: Path, line: int) -> str: ...


@dataclass
class Env:
    file: Path
    text: str  # the file's text, to quote expressions in errors
    bindings: dict[str, Any] = field(default_factory=dict)
    each: tuple[Any, Any] | None = None
    count: int | None = None

    def bind(self, names: dict[str, Any]) -> Env:
        return Env(self.file, self.text, {**self.bindings, **names}, self.each, self.count)


# --- references ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Namespace:
    """`var`, `local`, `path`, `data.TYPE`... : a reference root that is not a value by itself."""

    kind: str
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceRef:
    """`TYPE.NAME` (or `data.TYPE.NAME`) before indexing: resolved lazily against the state."""

    mode: str
    type: str
    name: str

    def __str__(self) -> str:
        return f"{'data.' if self.mode == 'data' else ''}{self.type}.{self.name}"


NAMESPACES = {"var", "local", "each", "count", "path", "module", "data", "terraform", "self"}


class Evaluator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    # entry points -----------------------------------------------------------------------------------

    def eval(self, expr: Expr, text: str, each: tuple[Any, Any] | None = None, count: int | None = None) -> Any:
        env = Env(expr.file, text, {}, each, count)
        return self.ev(expr.node, env)

    def ev(self, node: Tree | Token, env: Env) -> Any:
        """Evaluate a node to a value (references materialised)."""
        return self._value(self._ev(node, env), node, env)

    # core -----------------------------------------------------------------------------------------

    def _ev(self, node: Tree | Token, env: Env) -> Any:
        try:
            return self._dispatch(node, env)
        except EvalError as e:
            start, end = span(node)
            raise e.located(self.scope.where(env.file, line_of(node)), env.text[start:end]) from None

    def _dispatch(self, node: Tree | Token, env: Env) -> Any:
        if isinstance(node, Token):
            raise Unsupported("Unexpected token", str(node))
        kind = node.data
        handler = getattr(self, f"_n_{kind}", None)
        if handler is None:
            raise Unsupported("Unsupported expression", f"{kind} is not evaluated offline by refit")
        return handler(node, env)

    def _value(self, v: Any, node: Tree | Token, env: Env) -> Any:
        if isinstance(v, ResourceRef):
            return self.scope.resource(v.mode, v.type, v.name)
        if isinstance(v, Namespace):
            start, end = span(node)
            raise InvalidExpression(
                "Invalid reference", f"a reference to {'.'.join((v.kind, *v.parts))} needs an attribute",
                self.scope.where(env.file, line_of(node)), env.text[start:end],
            )
        return v

    # literals and constructors -------------------------------------------------------------------------

    def _n_expr_term(self, node: Tree, env: Env) -> Any:
        parts = children(node)
        if len(parts) != 1:
            raise Unsupported("Unsupported expression", "unexpected expression shape")
        return self._ev(parts[0], env)

    def _n_int_lit(self, node: Tree, env: Env) -> Any:
        return int(str(node.children[0]))

    def _n_float_lit(self, node: Tree, env: Env) -> Any:
        return norm_number(float(str(node.children[0])))

    def _n_literal_value(self, node: Tree, env: Env) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def _n_tuple(self, node: Tree, env: Env) -> Any:
        return [self.ev(c, env) for c in children(node)]

    def _n_object(self, node: Tree, env: Env) -> Any:
        out: dict[str, Any] = {}
        pending_unknown: Unknown | None = None
        for elem in children(node):
            key_node, value_node = children(elem)[0], children(elem)[-1]
            key = self._object_key(key_node, env)
            if isinstance(key, Unknown):
                pending_unknown = key
                continue
            if key in out:
                raise InvalidExpression("Duplicate object attribute", f"attribute {key!r} is set more than once")
            out[key] = self.ev(value_node, env)
        return pending_unknown if pending_unknown else out

    def _object_key(self, key_node: Tree, env: Env) -> Any:
        # A bare name is a literal attribute name; anything else (string, parenthesised) is evaluated.
        inner = children(key_node)
        target = inner[0] if inner else key_node.children[0]
        if isinstance(target, Tree) and target.data == "keyword":
            return name_of(target)
        if isinstance(target, Tree) and target.data == "expr_term":
            sub = children(target)
            if len(sub) == 1 and isinstance(sub[0], Tree) and sub[0].data == "identifier":
                return name_of(sub[0])
        key = self.ev(target, env)
        if isinstance(key, Unknown):
            return key
        return self._key_string(key, "object key")

    @staticmethod
    def _key_string(key: Any, what: str) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, bool):
            return "true" if key else "false"
        if isinstance(key, int | float):
            return number_text(key)
        if key is None:
            raise InvalidExpression("Invalid object key", f"the {what} must not be null")
        raise InvalidExpression("Invalid object key", f"the {what} must be a string, not {type_name(key)}")

    # templates ----------------------------------------------------------------------------------------

    def _n_string(self, node: Tree, env: Env) -> Any:
        parts = [p.children[0] for p in node.children if isinstance(p, Tree) and p.data == "string_part"]
        if len(parts) == 1 and isinstance(parts[0], Tree) and parts[0].data == "interpolation":
            return self.ev(children(parts[0])[0], env)  # template unwrapping
        pieces: list[Any] = []
        for p in parts:
            if isinstance(p, Token):
                raw = str(p)
                if p.type == "ESCAPED_INTERPOLATION":
                    pieces.append("${" + raw[3:])
                elif p.type == "ESCAPED_DIRECTIVE":
                    pieces.append("%{" + raw[3:])
                else:
                    pieces.append(unescape(raw))
            elif p.data == "interpolation":
                pieces.append(("expr", children(p)[0]))
            elif p.data in ("template_if_start", "template_else", "template_endif",
                            "template_for_start", "template_endfor"):
                pieces.append(("directive", p))
            else:
                raise Unsupported("Unsupported template", p.data)
        _apply_strip_markers(pieces)
        return self._render(pieces, env)

    def _render(self, pieces: list[Any], env: Env) -> Any:
        """Render literal strings, ("expr", node) and ("directive", node) pieces (%{if}/%{for})."""
        tree, _ = self._template_tree(pieces, 0, None)
        out: list[str] = []
        unknown = self._render_into(tree, env, out)
        return unknown if unknown else "".join(out)

    def _template_tree(self, pieces: list[Any], pos: int, closer: str | None) -> tuple[list[Any], int]:
        items: list[Any] = []
        while pos < len(pieces):
            p = pieces[pos]
            if isinstance(p, tuple) and p[0] == "directive":
                d = p[1]
                if d.data == "template_if_start":
                    then, pos = self._template_tree(pieces, pos + 1, "if")
                    other: list[Any] = []
                    if pos < len(pieces) and pieces[pos][1].data == "template_else":
                        other, pos = self._template_tree(pieces, pos + 1, "else")
                    items.append(("if", children(d)[0], then, other))
                    pos += 1  # endif
                    continue
                if d.data == "template_for_start":
                    body, pos = self._template_tree(pieces, pos + 1, "for")
                    names = [name_of(c) for c in children(d) if c.data == "identifier"]
                    coll = next(c for c in children(d) if c.data != "identifier")
                    items.append(("for", names, coll, body))
                    pos += 1  # endfor
                    continue
                if d.data in ("template_else", "template_endif") and closer in ("if", "else"):
                    return items, pos
                if d.data == "template_endfor" and closer == "for":
                    return items, pos
                raise InvalidExpression("Invalid template directive", f"unexpected {d.data}")
            items.append(p)
            pos += 1
        if closer:
            raise InvalidExpression("Unterminated template directive", f"missing end of %{{{closer}}}")
        return items, pos

    def _render_into(self, items: list[Any], env: Env, out: list[str]) -> Unknown | None:
        for it in items:
            if isinstance(it, str):
                out.append(it)
            elif it[0] == "expr":
                v = self.ev(it[1], env)
                if isinstance(v, Unknown):
                    return v
                out.append(self._interp_text(v))
            elif it[0] == "if":
                c = self._bool(self.ev(it[1], env), "template condition")
                if isinstance(c, Unknown):
                    return c
                u = self._render_into(it[2] if c else it[3], env, out)
                if u:
                    return u
            elif it[0] == "for":
                names, coll, body = it[1], it[2], it[3]
                pairs = self._iterate(self.ev(coll, env))
                if isinstance(pairs, Unknown):
                    return pairs
                for k, v in pairs:
                    bound = {names[0]: v} if len(names) == 1 else {names[0]: k, names[1]: v}
                    u = self._render_into(body, env.bind(bound), out)
                    if u:
                        return u
        return None

    @staticmethod
    def _interp_text(v: Any) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return number_text(v)
        if v is None:
            raise InvalidExpression("Invalid template interpolation value", "the expression result is null")
        raise InvalidExpression("Invalid template interpolation value",
                                f"cannot include a {type_name(v)} in a string template: string required")

    def _n_heredoc_template(self, node: Tree, env: Env) -> Any:
        return self._heredoc(str(node.children[0]), False, node, env)

    def _n_heredoc_template_trim(self, node: Tree, env: Env) -> Any:
        return self._heredoc(str(node.children[0]), True, node, env)

    def _heredoc(self, raw: str, trim: bool, node: Tree, env: Env) -> Any:
        lines = raw.split("\n")
        body_lines = lines[1:-2]  # drop "<<EOT" and the closing marker line (+ final empty piece)
        if trim:
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in body_lines if ln.strip()]
            cut = min(indents) if indents else 0
            body_lines = [ln[cut:] for ln in body_lines]
        body = "\n".join(body_lines) + ("\n" if body_lines else "")
        return self.render_text(body, env, self.scope.where(env.file, line_of(node)))

    def render_text(self, text: str, env: Env, origin: str) -> Any:
        """A template given as raw text (heredoc body, templatefile): `${...}` interpolations only."""
        pieces: list[Any] = []
        i, lit = 0, []
        while i < len(text):
            if text.startswith("$${", i) or text.startswith("%%{", i):
                lit.append(text[i + 1 : i + 3])
                i += 3
                continue
            if text.startswith("%{", i):
                raise Unsupported("Unsupported template", f"{origin}: %{{...}} directives in heredocs/template "
                                  "files are not evaluated offline by refit")
            if text.startswith("${", i):
                end = _matching_brace(text, i + 1)
                if end < 0:
                    raise InvalidExpression("Unterminated template interpolation", origin)
                if lit:
                    pieces.append("".join(lit))
                    lit = []
                pieces.append(("expr", parse_expression(text[i + 2 : end].strip(), origin)))
                i = end + 1
                continue
            lit.append(text[i])
            i += 1
        if lit:
            pieces.append("".join(lit))
        if len(pieces) == 1 and isinstance(pieces[0], tuple):
            return self.ev(pieces[0][1], env)
        return self._render(pieces, env)

    def _n_template_string(self, node: Tree, env: Env) -> Any:
        raise Unsupported("Unsupported template", "escaped-quote template strings are not evaluated offline")

    # references -----------------------------------------------------------------------------------------

    def _n_identifier(self, node: Tree, env: Env) -> Any:
        name = name_of(node)
        if name in env.bindings:
            return env.bindings[name]
        if name in NAMESPACES:
            return Namespace(name)
        return Namespace("resource_type", (name,))

    def _n_get_attr_expr_term(self, node: Tree, env: Env) -> Any:
        base_node, attr_node = children(node)
        base = self._ev(base_node, env)
        return self._get_attr(base, name_of(children(attr_node)[0]), env)

    def _get_attr(self, base: Any, attr: str, env: Env) -> Any:
        if isinstance(base, Namespace):
            return self._namespace_attr(base, attr, env)
        if isinstance(base, ResourceRef):
            single = self.scope.resource_single(base.mode, base.type, base.name)
            return self._get_attr(single, attr, env)
        if isinstance(base, Unknown):
            return base
        if isinstance(base, dict):
            if attr in base:
                v = base[attr]
                return norm_number(v) if isinstance(v, float) else v
            raise InvalidExpression("Unsupported attribute", f"this object does not have an attribute named {attr!r}")
        if base is None:
            raise InvalidExpression("Attempt to get attribute from null value",
                                    f"this value is null, so it does not have any attributes ({attr!r})")
        if isinstance(base, list | HclSet):
            raise InvalidExpression("Unsupported attribute",
                                    f"can't access attribute {attr!r} on a list of objects: index it or use a splat [*]")
        raise InvalidExpression("Unsupported attribute", f"can't access attribute {attr!r} on a {type_name(base)}")

    def _namespace_attr(self, ns: Namespace, attr: str, env: Env) -> Any:
        k = ns.kind
        if k == "var":
            return self.scope.var(attr)
        if k == "local":
            return self.scope.local(attr)
        if k == "path":
            return self.scope.path_value(attr)
        if k == "each":
            if env.each is None:
                raise InvalidExpression("Reference to \"each\" in context without for_each",
                                        "each.key/each.value are only valid in a block with for_each")
            if attr == "key":
                return env.each[0]
            if attr == "value":
                return env.each[1]
            raise InvalidExpression("Invalid \"each\" attribute", f"each.{attr}: only each.key and each.value exist")
        if k == "count":
            if env.count is None:
                raise InvalidExpression("Reference to \"count\" in non-counted context",
                                        "count.index is only valid in a block with count")
            if attr == "index":
                return env.count
            raise InvalidExpression("Invalid \"count\" attribute", f"count.{attr}: only count.index exists")
        if k == "module":
            return self.scope.module_call(attr)
        if k == "terraform":
            if attr == "workspace":
                return Unknown("terraform.workspace (the workspace selected when Terraform runs)")
            raise Unsupported("Unsupported reference", f"terraform.{attr}")
        if k == "self":
            raise Unsupported("Unsupported reference", "self is only valid in provisioners")
        if k == "data":
            if not ns.parts:
                return Namespace("data", (attr,))
            return ResourceRef("data", ns.parts[0], attr)
        if k == "resource_type":
            return ResourceRef("managed", ns.parts[0], attr)
        raise Unsupported("Unsupported reference", ".".join((k, *ns.parts, attr)))

    def _n_index_expr_term(self, node: Tree, env: Env) -> Any:
        base_node, idx_node = children(node)
        base = self._ev(base_node, env)
        key = self._index_key(idx_node, env)
        return self._index(base, key)

    def _index_key(self, idx_node: Tree, env: Env) -> Any:
        if idx_node.data == "short_index":  # legacy `list.0`
            return int(str(tokens(idx_node)[-1]))
        return self.ev(children(idx_node)[0], env)

    def _index(self, base: Any, key: Any) -> Any:
        if isinstance(base, ResourceRef):
            if isinstance(key, Unknown):
                return key
            return self.scope.resource_instance(base.mode, base.type, base.name, key)
        if isinstance(base, Namespace):
            raise InvalidExpression("Invalid reference", f"{base.kind} cannot be indexed")
        if isinstance(base, Unknown):
            return base
        if isinstance(key, Unknown):
            return key
        if base is None:
            raise InvalidExpression("Attempt to index null value", "this value is null, so it does not have any indices")
        if isinstance(base, list):
            i = self._int_index(key)
            if not 0 <= i < len(base):
                raise InvalidExpression("Invalid index", f"the given key ({i}) does not identify an element in this "
                                        f"collection value (length {len(base)})")
            return base[i]
        if isinstance(base, dict):
            k = self._key_string(key, "index")
            if k not in base:
                raise InvalidExpression("Invalid index", f"the given key {k!r} does not identify an element in this "
                                        "collection value")
            return base[k]
        if isinstance(base, HclSet):
            raise InvalidExpression("Invalid index", "elements of a set are identified only by their value and don't "
                                    "have any separate index or key to select with")
        raise InvalidExpression("Invalid index", f"a {type_name(base)} cannot be indexed")

    @staticmethod
    def _int_index(key: Any) -> int:
        if isinstance(key, bool):
            raise InvalidExpression("Invalid index", "a bool cannot index a list")
        if isinstance(key, int):
            return key
        if isinstance(key, float) and key.is_integer():
            return int(key)
        if isinstance(key, str) and re.fullmatch(r"-?\d+", key):
            return int(key)
        raise InvalidExpression("Invalid index", f"a list index must be a whole number, not {key!r}")

    def _n_full_splat_expr_term(self, node: Tree, env: Env) -> Any:
        return self._splat(node, env)

    def _n_attr_splat_expr_term(self, node: Tree, env: Env) -> Any:
        return self._splat(node, env)

    def _splat(self, node: Tree, env: Env) -> Any:
        base_node, splat = children(node)
        base = self.ev(base_node, env)
        steps = children(splat)
        if isinstance(base, Unknown):
            return base
        if base is None:
            return []
        items = list(base) if isinstance(base, list | HclSet) else [base]
        out = []
        for item in items:
            v = item
            for step in steps:
                if step.data == "get_attr":
                    v = self._get_attr(v, name_of(children(step)[0]), env)
                else:
                    v = self._index(v, self._index_key(step, env))
            out.append(v)
        return out

    # operators --------------------------------------------------------------------------------------------

    def _n_conditional(self, node: Tree, env: Env) -> Any:
        cond_node, yes, no = children(node)
        c = self._bool(self.ev(cond_node, env), "condition")
        if isinstance(c, Unknown):
            return c
        return self.ev(yes if c else no, env)

    @staticmethod
    def _bool(v: Any, what: str) -> Any:
        if isinstance(v, bool | Unknown):
            return v
        if v in ("true", "false"):
            return v == "true"
        if v is None:
            raise InvalidExpression("Invalid condition", f"the {what} is null")
        raise InvalidExpression("Incorrect condition type", f"the {what} must be a bool, not {type_name(v)}")

    def _n_unary_op(self, node: Tree, env: Env) -> Any:
        op = str(tokens(node)[0])
        v = self.ev(children(node)[0], env)
        if isinstance(v, Unknown):
            return v
        if op == "!":
            b = self._bool(v, "operand of !")
            return not b
        return -self._num(v, "-")

    @staticmethod
    def _num(v: Any, op: str) -> Any:
        if isinstance(v, bool) or v is None:
            raise InvalidExpression("Invalid operand", f"unsuitable value for operator {op}: a number is required")
        n = as_number(v)
        if n is not None:
            return n
        raise InvalidExpression("Invalid operand", f"unsuitable value for operator {op}: a number is required, "
                                f"got {type_name(v)}")

    def _n_binary_op(self, node: Tree, env: Env) -> Any:
        left_node, term = children(node)
        op_node, right_node = children(term)
        op = str(op_node.children[0]).strip()
        left = self.ev(left_node, env)
        if op in ("&&", "||"):
            lb = self._bool(left, f"left operand of {op}")
            if lb is False and op == "&&":
                return False
            if lb is True and op == "||":
                return True
            rb = self._bool(self.ev(right_node, env), f"right operand of {op}")
            if rb is False and op == "&&":
                return False
            if rb is True and op == "||":
                return True
            return lb if isinstance(lb, Unknown) else rb
        right = self.ev(right_node, env)
        for side in (left, right):
            if isinstance(side, Unknown):
                return side
        if op == "==":
            return equal(left, right)
        if op == "!=":
            return not equal(left, right)
        a, b = self._num(left, op), self._num(right, op)
        if op == "+":
            return norm_number(a + b)
        if op == "-":
            return norm_number(a - b)
        if op == "*":
            return norm_number(a * b)
        if op == "/":
            if b == 0:
                raise InvalidExpression("Zero divisor", "cannot divide by zero")
            return norm_number(a / b)
        if op == "%":
            if b == 0:
                raise InvalidExpression("Zero divisor", "cannot take a modulo by zero")
            # truncated modulo (sign of the dividend). INFERRED: cty's Modulo is taken to truncate like Go's %
            return norm_number(a - b * int(a / b))
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        raise Unsupported("Unsupported operator", op)

    # for expressions ---------------------------------------------------------------------------------------

    @staticmethod
    def _iterate(coll: Any) -> list[tuple[Any, Any]] | Unknown:
        if isinstance(coll, Unknown):
            return coll
        if isinstance(coll, list):
            return list(enumerate(coll))
        if isinstance(coll, dict):
            return [(k, coll[k]) for k in sorted(coll)]  # lexical key order (hclsyntax spec "for Expressions")
        if isinstance(coll, HclSet):
            return [(v, v) for v in coll]
        if coll is None:
            raise InvalidExpression("Iteration over null value", "a null value cannot be used as the collection "
                                    "in a 'for' expression")
        raise InvalidExpression("Iteration over non-iterable value",
                                f"a value of type {type_name(coll)} cannot be used as the collection in a 'for' expression")

    def _for_parts(self, node: Tree) -> tuple[list[str], Tree, list[Tree], Tree | None, bool]:
        parts = children(node)
        intro = parts[0]
        intro_parts = children(intro)
        names = [name_of(c) for c in intro_parts if c.data == "identifier"]
        coll = next(c for c in intro_parts if c.data != "identifier")
        cond = parts[-1] if parts[-1].data == "for_cond" else None
        exprs = [p for p in parts[1:] if p.data != "for_cond"]
        grouping = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in node.children)
        return names, coll, exprs, cond, grouping

    def _n_for_tuple_expr(self, node: Tree, env: Env) -> Any:
        names, coll_node, exprs, cond, _ = self._for_parts(node)
        pairs = self._iterate(self.ev(coll_node, env))
        if isinstance(pairs, Unknown):
            return pairs
        out = []
        for k, v in pairs:
            inner = env.bind({names[0]: v} if len(names) == 1 else {names[0]: k, names[1]: v})
            if cond is not None:
                c = self._bool(self.ev(children(cond)[0], inner), "'for' condition")
                if isinstance(c, Unknown):
                    return c
                if not c:
                    continue
            out.append(self.ev(exprs[0], inner))
        return out

    def _n_for_object_expr(self, node: Tree, env: Env) -> Any:
        names, coll_node, exprs, cond, grouping = self._for_parts(node)
        key_node, value_node = exprs[0], exprs[1]
        pairs = self._iterate(self.ev(coll_node, env))
        if isinstance(pairs, Unknown):
            return pairs
        out: dict[str, Any] = {}
        unknown: Unknown | None = None
        for k, v in pairs:
            inner = env.bind({names[0]: v} if len(names) == 1 else {names[0]: k, names[1]: v})
            if cond is not None:
                c = self._bool(self.ev(children(cond)[0], inner), "'for' condition")
                if isinstance(c, Unknown):
                    return c
                if not c:
                    continue
            key = self.ev(key_node, inner)
            if isinstance(key, Unknown):
                unknown = unknown or key  # an unknown key makes the whole object unknown (hclsyntax)
                continue
            try:
                key = self._key_string(key, "key expression in 'for' expression")
            except EvalError as e:
                start, end = span(key_node)
                raise e.located(self.scope.where(env.file, line_of(key_node)), env.text[start:end]) from None
            value = self.ev(value_node, inner)
            if grouping:
                out.setdefault(key, []).append(value)
            elif key in out:
                start, end = span(key_node)
                raise InvalidExpression(
                    "Duplicate object key",
                    f"Two different items produced the key {json.dumps(key)} in this 'for' expression. If duplicates "
                    "are expected, use the ellipsis (...) after the value expression to enable grouping by key.",
                    self.scope.where(env.file, line_of(key_node)), env.text[start:end],
                )
            else:
                out[key] = value
        return unknown if unknown else out

    # functions ------------------------------------------------------------------------------------------

    def _n_function_call(self, node: Tree, env: Env) -> Any:
        parts = children(node)
        idents = [p for p in parts if p.data == "identifier"]
        if len(idents) > 1:
            raise Unsupported("Unsupported function",
                              f"provider-defined function {'::'.join(name_of(i) for i in idents)}() is not evaluated offline")
        name = name_of(idents[0])
        arg_nodes: list[Tree] = []
        expand = False
        for p in parts:
            if p.data == "arguments":
                arg_nodes = children(p)
                expand = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in p.children)
        if name == "try":
            return self._try(arg_nodes, env)
        if name == "can":
            return self._can(arg_nodes, env)
        args = [self.ev(a, env) for a in arg_nodes]
        if expand:
            last = args.pop() if args else None
            if isinstance(last, Unknown):
                return last
            if not isinstance(last, list | HclSet):
                raise InvalidExpression("Invalid expanding argument value", "the expanding argument (...) must be a list")
            args.extend(last)
        return functions.call(name, args, self.scope.fc)

    def _try(self, arg_nodes: list[Tree], env: Env) -> Any:
        if not arg_nodes:
            raise InvalidExpression("Not enough function arguments", "try() requires at least one argument")
        for a in arg_nodes:
            try:
                v = self.ev(a, env)
            except InvalidExpression:
                continue
            u = find_unknown(v)
            return u if u else v  # hcl ext/tryfunc: a partly unknown result is unknown
        raise InvalidExpression("Error in function call", "Call to function \"try\" failed: no expression succeeded")

    def _can(self, arg_nodes: list[Tree], env: Env) -> Any:
        if len(arg_nodes) != 1:
            raise InvalidExpression("Invalid function arguments", "can() takes exactly one argument")
        try:
            v = self.ev(arg_nodes[0], env)
        except InvalidExpression:
            return False
        u = find_unknown(v)
        return u if u else True

    # misc --------------------------------------------------------------------------------------------------

    def _n_new_line_or_comment(self, node: Tree, env: Env) -> Any:  # pragma: no cover - filtered by children()
        raise Unsupported("Unexpected comment", "")


def _apply_strip_markers(pieces: list[Any]) -> None:
    """`%{~ if x ~}`: a `~` trims the whitespace on that side of the directive (hclsyntax spec)."""
    for i, p in enumerate(pieces):
        if not (isinstance(p, tuple) and p[0] == "directive"):
            continue
        toks = tokens(p[1])
        if len(toks) > 1 and toks[1].type == "STRIP_MARKER" and i > 0 and isinstance(pieces[i - 1], str):
            pieces[i - 1] = pieces[i - 1].rstrip()
        if len(toks) > 1 and toks[-2].type == "STRIP_MARKER" and i + 1 < len(pieces) and isinstance(pieces[i + 1], str):
            pieces[i + 1] = pieces[i + 1].lstrip()


def _matching_brace(text: str, open_pos: int) -> int:
    """Index of the `}` closing the `{` at open_pos, skipping nested braces and quoted strings."""
    depth, i, quote = 0, open_pos, False
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def references(node: Tree | Token, bound: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """Static references in an expression: ("var", "x"), ("local", "y"), ("resource", TYPE, NAME),
    ("data", TYPE, NAME), ("module", NAME), ("each",), ("count",), ("path", ATTR), and ("name", n) for names
    bound by an enclosing `for` (or passed in `bound`). Used for dependency order, by detect to see whether
    a for_each key uses the position variable, and by rekey to check a --key."""
    out: list[tuple[str, ...]] = []

    def walk(n: Tree | Token, scope: frozenset[str]) -> None:
        if not isinstance(n, Tree) or is_nl(n):
            return
        if n.data in ("for_tuple_expr", "for_object_expr"):
            parts = children(n)
            intro = children(parts[0])
            names = frozenset(name_of(c) for c in intro if c.data == "identifier")
            for c in intro:
                if c.data != "identifier":
                    walk(c, scope)
            for c in parts[1:]:
                walk(c, scope | names)
            return
        if n.data == "object_elem_key":
            inner = children(n)
            if inner and inner[0].data == "expr_term" and len(children(inner[0])) == 1 \
                    and children(inner[0])[0].data == "identifier":
                return  # a literal attribute name, not a reference
        if n.data == "function_call":
            for c in children(n):
                if c.data == "arguments":
                    walk(c, scope)
            return
        chain, rest = _chain(n)
        if chain:
            out.append(("name", chain[0]) if chain[0] in scope else _classify(chain))
            for r in rest:
                walk(r, scope)
            return
        for c in n.children:
            walk(c, scope)

    walk(node, bound)
    return out


def _chain(n: Tree) -> tuple[list[str], list[Tree]]:
    """For a traversal (`a.b[x].c`, `a[*].b`): the leading names up to the first index/splat, and the
    sub-expressions inside its indexes (walked separately)."""
    if n.data not in ("identifier", "get_attr_expr_term", "index_expr_term", "full_splat_expr_term",
                      "attr_splat_expr_term"):
        return [], []
    names: list[str] = []
    inner: list[Tree] = []
    cur: Tree = n
    while True:
        if cur.data == "expr_term" and len(children(cur)) == 1:
            cur = children(cur)[0]
        elif cur.data == "get_attr_expr_term":
            base, attr = children(cur)
            names.insert(0, name_of(children(attr)[0]))
            cur = base
        elif cur.data == "index_expr_term":
            base, idx = children(cur)
            inner += children(idx)
            names.clear()  # only what precedes the first index names the object
            cur = base
        elif cur.data in ("full_splat_expr_term", "attr_splat_expr_term"):
            base, splat = children(cur)
            for step in children(splat):
                if step.data != "get_attr":
                    inner += children(step)
            names.clear()
            cur = base
        elif cur.data == "identifier":
            names.insert(0, name_of(cur))
            return names, inner
        else:
            return [], []


def _classify(chain: list[str]) -> tuple[str, ...]:
    head = chain[0]
    if head in ("var", "local", "module", "path", "terraform") and len(chain) > 1:
        return (head, chain[1])
    if head == "data" and len(chain) > 2:
        return ("data", chain[1], chain[2])
    if head in ("each", "count", "self"):
        return (head,)
    if len(chain) > 1 and head not in NAMESPACES:
        return ("resource", head, chain[1])
    return ("name", head)
