"""Values of the offline evaluator: plain Python for what cty knows, plus Unknown and sets.

Mapping from cty (github.com/zclconf/go-cty) to Python:
  null -> None, bool -> bool, number -> int (whole) / float, string -> str,
  list / tuple -> list, map / object -> dict, set -> HclSet, unknown -> Unknown.
Lists and tuples (and maps and objects) are not told apart: for what refit evaluates the difference that
matters is "sequence or mapping", which decides whether a `for` yields index keys (finding 7 in
reference/terraform-stable-keys.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any


class Unknown:
    """A value Terraform only knows at apply time (or refit cannot know offline), with the reason.

    Two Unknowns are equal when they come from the same place: `vm_id` of the same VM compares equal on
    both sides of a refactor, which is what value mapping needs."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.why == self.why

    def __hash__(self) -> int:
        return hash(("unknown", self.why))

    def __repr__(self) -> str:
        return f"(unknown: {self.why})"


class Replaced(Unknown):
    """The attributes of an object Terraform is about to replace: computed ones (its `id`) are known only
    after apply, so a replacement-forcing attribute that refers to it forces a replacement too."""

    __slots__ = ("address",)

    def __init__(self, address: str) -> None:
        super().__init__(f"{address} is replaced, so its attributes are known only after apply")
        self.address = address


class HclSet:
    """A cty set. Iteration order follows cty: strings lexically, numbers numerically, anything else by
    its JSON text (cty's order for those is an implementation detail; refit never derives positions
    from a set, see pitfall 2 in the reference)."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        unique: list[Any] = []
        for it in items:
            if not any(equal(it, u) for u in unique):
                unique.append(it)
        self.items = tuple(sorted(unique, key=_set_order))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HclSet) and len(self.items) == len(other.items) and all(
            equal(a, b) for a, b in zip(self.items, other.items, strict=True)
        )

    def __hash__(self) -> int:
        return hash(("set", len(self.items)))

    def __repr__(self) -> str:
        return f"toset({list(self.items)!r})"


def _set_order(v: Any) -> tuple[int, Any]:
    if isinstance(v, str):
        return (1, v)
    if isinstance(v, bool):
        return (2, int(v))
    if isinstance(v, int | float):
        return (0, v)
    return (3, json.dumps(plain(v), sort_keys=True, default=str))


def is_unknown(v: Any) -> bool:
    return isinstance(v, Unknown)


def find_unknown(v: Any) -> Unknown | None:
    """The first Unknown anywhere inside v."""
    if isinstance(v, Unknown):
        return v
    if isinstance(v, dict):
        for x in v.values():
            u = find_unknown(x)
            if u:
                return u
    elif isinstance(v, list | HclSet):
        for x in v:
            u = find_unknown(x)
            if u:
                return u
    return None


def norm_number(v: int | float) -> int | float:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**63:
        return int(v)
    return v



def as_number(v: Any) -> int | float | None:
    """Terraform's number conversion: numbers as they are, numeric strings parsed, anything else None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return norm_number(float(v))
            except ValueError:
                return None
    return None

def equal(a: Any, b: Any) -> bool:
    """cty equality (`==`): type-sensitive (1 != "1"), deep, numbers by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    return a == b


def number_text(v: int | float) -> str:
    """How cty prints a number in a template or tostring(): no trailing .0, no exponent for whole numbers."""
    v = norm_number(v)
    if isinstance(v, int):
        return str(v)
    if math.isinf(v) or math.isnan(v):
        raise ValueError("not a finite number")
    text = repr(v)
    if "e" in text:
        text = f"{v:.17f}".rstrip("0").rstrip(".")
    return text


def type_name(v: Any) -> str:
    """The Terraform type name used in error messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "tuple"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, HclSet):
        return "set"
    if isinstance(v, Unknown):
        return "unknown"
    return type(v).__name__


def plain(v: Any) -> Any:
    """JSON-able form of a value (sets become sorted lists, Unknown a marker string) for reports."""
    if isinstance(v, Unknown):
        return f"(known after apply: {v.why})"
    if isinstance(v, HclSet):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, float):
        return norm_number(v)
    return v


def short(v: Any, limit: int = 80) -> str:
    """A one-line rendering of a value for tables. Long strings keep their end: the end of an Azure id is
    the part that differs."""
    if isinstance(v, Unknown):
        return f"(known after apply: {v.why})"
    if isinstance(v, str):
        text = json.dumps(v)
        return text if len(text) <= limit else '"…' + text[-(limit - 2):]
    text = json.dumps(plain(v), sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
