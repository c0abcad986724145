"""Find resources and module calls whose instance keys are list positions.

The hazard (seed 002): `for_each = { for index, sp in local.managed_disks : index => sp }` keys each disk by
its position in a flattened list, so inserting one disk shifts every later key and Terraform plans to destroy
and recreate those disks. `count` over a list has the same problem with integer keys.

Recognising the syntax is not enough (finding 7 in reference/terraform-stable-keys.md): the same shape over
a *map* (`{ for disk, values in var.data_disk_managed_disks : disk => values }`, the AVM VM module) has
stable keys. So the collection is evaluated in every module instance; a sequence (list/tuple) makes the
keys positional, a map/object or a set makes them stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Tree

from refit.terraform.address import format_config_resource
from refit.terraform.config import Config, ModuleInstance, World
from refit.terraform.errors import EvalError
from refit.terraform.evaluate import Env, references
from refit.terraform.hcl import Block, Expr, children, name_of, span
from refit.terraform.values import HclSet, Unknown

# Kinds, from worst to best.
INDEX = "index"  # for_each keyed by list position
COUNT = "count"  # count: integer positions
UNKNOWN = "unknown"  # could not evaluate the collection offline
STABLE = "stable"  # for_each keyed by values, a map, or a set
SINGLE = "single"  # neither count nor for_each


@dataclass
class Repetition:
    address: str  # configuration address: module.disks.azurerm_managed_disk.data / module.disks
    kind: str
    meta: str  # "for_each" | "count" | ""
    expression: str  # the for_each/count source text ("" for single)
    file: str
    line: int
    collection: str = ""  # source text of the iterated collection, when there is one
    collection_type: str = ""  # list | map | set | unknown
    note: str = ""
    resource: tuple[str, str, str] | None = None  # (mode, type, name); None for a module call
    call: str | None = None
    module_dirs: set[str] = field(default_factory=set)

    @property
    def normalized(self) -> str:
        return " ".join(self.expression.split())

    @property
    def hazard(self) -> bool:
        return self.kind in (INDEX, COUNT)

    def as_json(self) -> dict[str, object]:
        return {
            "address": self.address, "kind": self.kind, "meta_argument": self.meta or None,
            "expression": self.normalized or None, "file": self.file or None, "line": self.line or None,
            "collection": " ".join(self.collection.split()) or None,
            "collection_type": self.collection_type or None, "note": self.note or None,
        }


def detect(config: Config, world: World) -> dict[str, Repetition]:
    """Every resource and module call of the configuration, by configuration address, with its kind."""
    found: dict[str, Repetition] = {}
    errors: list[tuple[str, EvalError]] = []
    for mi in world.all_modules(errors):
        cpath = tuple(n for n, _ in mi.path)
        for (mode, rtype, name), block in sorted(mi.definition.resources.items()):
            if mode != "managed":
                continue
            addr = format_config_resource(cpath, mode, rtype, name)
            rep = _classify(config, mi, block, addr)
            rep.resource = (mode, rtype, name)
            _merge(found, rep)
        for name, block in sorted(mi.definition.module_calls.items()):
            addr = ".".join([*(f"module.{m}" for m in cpath), f"module.{name}"])
            rep = _classify(config, mi, block, addr)
            rep.call = name
            _merge(found, rep)
    for addr, err in errors:
        found.setdefault(addr, Repetition(addr, UNKNOWN, "", err.text, err.where, 0, note=err.message()))
    return found


_RANK = {INDEX: 0, COUNT: 1, UNKNOWN: 2, STABLE: 3, SINGLE: 4}


def _merge(found: dict[str, Repetition], rep: Repetition) -> None:
    """A module with several instances is classified once per instance; keep the worst verdict."""
    prev = found.get(rep.address)
    if prev is None or _RANK[rep.kind] < _RANK[prev.kind]:
        found[rep.address] = rep


def _classify(config: Config, mi: ModuleInstance, block: Block, addr: str) -> Repetition:
    fe, ct = block.attrs.get("for_each"), block.attrs.get("count")
    if ct is not None:
        coll = count_collection(ct, config)
        return Repetition(addr, COUNT, "count", ct.text, config.display(ct.file), ct.line,
                          collection=coll.text if coll is not None else "",
                          collection_type="list" if coll is not None else "",
                          note="count keys are list positions: inserting an element shifts every later key")
    if fe is None:
        return Repetition(addr, SINGLE, "", "", config.display(block.file), block.line)
    rep = Repetition(addr, STABLE, "for_each", fe.text, config.display(fe.file), fe.line)
    shape = _for_object(fe, mi)
    if shape is None:
        # Not a for expression: the keys are the map's keys or the set's elements.
        try:
            value = mi.eval(fe)
        except EvalError as e:
            rep.kind, rep.note = UNKNOWN, e.message()
            return rep
        rep.collection_type = _type(value)
        if isinstance(value, Unknown):
            rep.kind, rep.note = UNKNOWN, f"cannot evaluate offline: {value.why}"
        return rep
    _, key_var, coll_node, key_node, origin = shape
    rep.collection = _text(origin, coll_node, config)
    if key_var is None or key_var not in _names(key_node, _intro_names(shape[0])):
        rep.note = "keys come from the element values"
        try:
            coll = _eval_node(mi, origin, coll_node)
            rep.collection_type = _type(coll)
        except EvalError:
            pass
        return rep
    try:
        coll = _eval_node(mi, origin, coll_node)
    except EvalError as e:
        rep.kind, rep.note = UNKNOWN, e.message()
        return rep
    rep.collection_type = _type(coll)
    if isinstance(coll, list):
        rep.kind = INDEX
        rep.note = (f"`{key_var}` is the list position: keys are \"0\", \"1\", ... and shift when an element is "
                    "inserted or removed")
    elif isinstance(coll, Unknown):
        rep.kind, rep.note = UNKNOWN, f"cannot evaluate the collection offline: {coll.why}"
    else:
        rep.note = f"`{key_var}` is a {'map key' if isinstance(coll, dict) else 'set element'}: stable"
    return rep


def _type(v: object) -> str:
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, HclSet):
        return "set"
    if isinstance(v, Unknown):
        return "unknown"
    return type(v).__name__


def _unwrap(node: Tree) -> Tree:
    while isinstance(node, Tree) and node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    return node


def _for_object(fe: Expr, mi: ModuleInstance, depth: int = 0) -> tuple[Tree, str | None, Tree, Tree, Expr] | None:
    """(for node, key variable, collection node, key expression node, Expr it lives in) when the for_each is
    a `{ for ... }` expression, directly or through `local.NAME` (followed up to 8 hops)."""
    node = _unwrap(fe.node)
    if node.data == "for_object_expr":
        parts = children(node)
        intro = children(parts[0])
        names = [name_of(c) for c in intro if c.data == "identifier"]
        coll = next(c for c in intro if c.data != "identifier")
        key_var = names[0] if len(names) == 2 else None
        return node, key_var, coll, parts[1], fe
    refs = references(node)
    if depth < 8 and len(refs) == 1 and refs[0][0] == "local" and _is_plain_ref(node):
        local = mi.definition.locals.get(refs[0][1])
        if local is not None:
            return _for_object(local, mi, depth + 1)
    return None


def _is_plain_ref(node: Tree) -> bool:
    node = _unwrap(node)
    return node.data == "get_attr_expr_term" and _unwrap(children(node)[0]).data == "identifier"


def _names(node: Tree, bound: frozenset[str]) -> set[str]:
    return {r[1] for r in references(node, bound) if r[0] == "name"}


def _intro_names(for_node: Tree) -> frozenset[str]:
    return frozenset(name_of(c) for c in children(children(for_node)[0]) if c.data == "identifier")


def _text(origin: Expr, node: Tree, config: Config) -> str:
    start, end = span(node)
    return config.text(origin.file)[start:end]


def _eval_node(mi: ModuleInstance, origin: Expr, node: Tree) -> object:
    return mi.evaluator.ev(node, Env(origin.file, mi.world.config.text(origin.file)))


def count_collection(ct: Expr, config: Config) -> Expr | None:
    """`count = length(X)` -> X (the list whose positions are the keys), else None."""
    node = _unwrap(ct.node)
    if node.data == "function_call":
        parts = children(node)
        if name_of(parts[0]) == "length" and len(parts) > 1 and parts[1].data == "arguments":
            args = children(parts[1])
            if len(args) == 1:
                start, end = span(args[0])
                text = config.text(ct.file)
                return Expr(args[0], ct.file, text[start:end], args[0].meta.line, start, end)
    return None


def detect_index_keys(root_dir: str, var_files: list[str] | None = None) -> list[Repetition]:
    """Convenience for other commands (doctor): the index-keyed (or count) resources and module calls of a
    configuration, evaluated without a state."""
    from pathlib import Path

    from refit.terraform.state import State

    config = Config(Path(root_dir), [Path(v) for v in var_files or []])
    found = detect(config, World(config, State([], "v4")))
    return [r for r in found.values() if r.hazard]
