"""Variable type constraints (`type = map(object({...}))`) and the conversions Terraform applies.

Why refit cares: a variable declared `set(string)` iterates in lexical order while the same value as a list
keeps file order, and `optional(T, default)` fills in attributes that end up in `each.value`. Both change
the old key -> value map. Semantics follow HCL `ext/typeexpr` and cty `convert` (hashicorp/hcl,
zclconf/go-cty); Terraform doc: https://developer.hashicorp.com/terraform/language/expressions/type-constraints
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lark import Tree

from refit.terraform.hcl import children, name_of
from refit.terraform.values import HclSet, Unknown, number_text, type_name


class ConversionError(ValueError):
    pass


@dataclass(frozen=True)
class Attr:
    type: Any
    optional: bool = False
    has_default: bool = False
    default: Any = None


# A type is ("string",) | ("number",) | ("bool",) | ("any",) | ("list"|"set"|"map", elem)
#   | ("object", {name: Attr}) | ("tuple", [elem...])
ANY = ("any",)
PRIMITIVES = {"string", "number", "bool", "any"}


def parse_type(node: Tree, eval_const: Callable[[Tree], Any]) -> Any:
    """A type constraint expression (Lark node) -> type. `eval_const` evaluates optional() defaults."""
    while isinstance(node, Tree) and node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    if node.data == "identifier":
        name = name_of(node)
        if name in PRIMITIVES:
            return (name,)
        raise ConversionError(f"unknown type {name!r}")
    if node.data == "function_call":
        parts = children(node)
        fname = name_of(parts[0])
        args = children(parts[1]) if len(parts) > 1 else []
        if fname in ("list", "set", "map") and len(args) == 1:
            return (fname, parse_type(args[0], eval_const))
        if fname == "tuple" and len(args) == 1:
            inner = _unwrap(args[0])
            if inner.data != "tuple":
                raise ConversionError("tuple() takes a list of types")
            return ("tuple", [parse_type(e, eval_const) for e in children(inner)])
        if fname == "object" and len(args) == 1:
            inner = _unwrap(args[0])
            if inner.data != "object":
                raise ConversionError("object() takes an object of attribute types")
            attrs: dict[str, Attr] = {}
            for elem in children(inner):
                key_node, value_node = children(elem)[0], children(elem)[-1]
                key = name_of(_unwrap(children(key_node)[0]))
                attrs[key] = _attr(value_node, eval_const)
            return ("object", attrs)
    raise ConversionError(f"unsupported type constraint ({node.data})")


def _unwrap(node: Tree) -> Tree:
    while isinstance(node, Tree) and node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    return node


def _attr(node: Tree, eval_const: Callable[[Tree], Any]) -> Attr:
    inner = _unwrap(node)
    if inner.data == "function_call" and name_of(children(inner)[0]) == "optional":
        args = children(children(inner)[1])
        t = parse_type(args[0], eval_const)
        if len(args) == 2:
            return Attr(t, optional=True, has_default=True, default=convert(eval_const(args[1]), t))
        return Attr(t, optional=True)
    return Attr(parse_type(node, eval_const))


def convert(value: Any, t: Any) -> Any:
    """cty `convert.Convert` for the shapes variables use; raises ConversionError like Terraform's
    "Invalid value for input variable"."""
    if isinstance(value, Unknown) or t == ANY:
        return value
    kind = t[0]
    if value is None:
        return None
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return number_text(value)
        raise ConversionError(f"string required, got {type_name(value)}")
    if kind == "number":
        if isinstance(value, bool):
            raise ConversionError("number required, got bool")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                try:
                    return float(value)
                except ValueError:
                    raise ConversionError(f"a number is required, got {value!r}") from None
        raise ConversionError(f"number required, got {type_name(value)}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ConversionError(f"bool required, got {type_name(value)}")
    if kind in ("list", "set"):
        if not isinstance(value, list | HclSet):
            raise ConversionError(f"{kind} required, got {type_name(value)}")
        items = [convert(v, t[1]) for v in value]
        return HclSet(items) if kind == "set" else items
    if kind == "map":
        if not isinstance(value, dict):
            raise ConversionError(f"map required, got {type_name(value)}")
        return {k: convert(v, t[1]) for k, v in value.items()}
    if kind == "tuple":
        if not isinstance(value, list) or len(value) != len(t[1]):
            raise ConversionError(f"tuple of {len(t[1])} elements required")
        return [convert(v, et) for v, et in zip(value, t[1], strict=True)]
    if kind == "object":
        if not isinstance(value, dict):
            raise ConversionError(f"object required, got {type_name(value)}")
        out: dict[str, Any] = {}
        for name, attr in t[1].items():
            if name in value and value[name] is not None:
                out[name] = convert(value[name], attr.type)
            elif attr.optional:
                out[name] = attr.default if attr.has_default else None
            elif name in value:
                out[name] = None
            else:
                raise ConversionError(f"attribute {name!r} is required")
        return out
    raise ConversionError(f"unsupported type {kind}")
