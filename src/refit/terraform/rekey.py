"""`refit tf rekey`: rewrite one `for_each` (or `count = length(LIST)`) to a stable key, touching nothing else.

The rewrite is a splice at python-hcl2's source positions: the bytes before and after the replaced spans are
copied unchanged, so comments, alignment and line endings elsewhere in the file survive.

- `for_each = { for index, sp in LIST : index => sp }` + `--key '"${sp.vm}-${sp.data_disk.lun}"'`
  -> `for_each = { for sp in LIST : "${sp.vm}-${sp.data_disk.lun}" => sp }` (the position variable is dropped
  when nothing else uses it).
- `count = length(LIST)` + `--as sp --key ...` -> `for_each = { for sp in LIST : KEY => sp }`, and inside the
  block `LIST[count.index]` becomes `each.value` and `OTHER_RESOURCE[count.index]` becomes
  `OTHER_RESOURCE[each.key]` (that resource must be re-keyed with the same key); any other use of
  `count.index` is refused with its file:line.
The key must be known at plan time, so it may use the iteration variable, `var.*` and `local.*` only; using the
list position again (`index`) is refused, since that is the instability being removed. `each.value` in the key
is the element being keyed (what the resource's own `each.value` becomes), so it is written as the iteration
variable (`each.value.vm` -> `sp.vm`): a key can be given without knowing the for expression's variable name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from lark import Tree

from refit.arm.errors import UserError
from refit.terraform.address import parse_config_address
from refit.terraform.config import Config
from refit.terraform.evaluate import references
from refit.terraform.hcl import (
    Block,
    ModuleDef,
    children,
    line_of,
    name_of,
    parse_expression,
    parse_text,
    span,
)


@dataclass
class Rekey:
    file: Path
    line: int
    address: str
    before: str  # the rewritten construct, as it was
    after: str  # and as it becomes
    original: str
    updated: str
    notes: list[str] = field(default_factory=list)

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.original.splitlines(keepends=True), self.updated.splitlines(keepends=True),
            fromfile=f"a/{self.file.name}", tofile=f"b/{self.file.name}",
        ))

    def as_json(self, written: bool) -> dict[str, object]:
        return {"file": str(self.file), "line": self.line, "address": self.address, "before": self.before,
                "after": self.after, "diff": self.diff(), "written": written, "notes": self.notes}


def plan_rekey(directory: Path, address: str, key: str, as_name: str | None = None) -> Rekey:
    target = parse_config_address(address)
    config = Config(Path(directory))
    mod = config.root
    for i, name in enumerate(target.module):
        call = mod.module_calls.get(name)
        if call is None:
            raise UserError(f"{address}: no module call {name!r} in {mod.dir}; the address does not exist")
        mod = config.child_def(mod, call, target.module[: i + 1])
    if target.type is None:
        block = mod.module_calls.get(target.name or "")
        what = f"module call {target.name!r}"
    else:
        block = mod.resources.get((target.mode or "managed", target.type, target.name or ""))
        what = f"resource {target.type}.{target.name}"
    if block is None:
        known = sorted(f"{t}.{n}" for (m, t, n) in mod.resources if m == "managed")
        raise UserError(f"{address}: no {what} in {mod.dir} (declared: {', '.join(known) or 'none'}); "
                        "the address does not exist")
    key_node = parse_expression(key.strip(), "--key")
    text = _raw_text(block.file)
    if "for_each" in block.attrs:
        if as_name:
            raise UserError("--as is only for count: a for_each keeps its own iteration variable")
        return _rekey_for_each(config, mod, block, address, key.strip(), key_node, text)
    if "count" in block.attrs:
        name = as_name or "item"
        key = _each_as(key.strip(), key_node, name, None, config.where(block.file, block.line))
        return _rekey_count(config, block, address, key, parse_expression(key, "--key"), name, text)
    raise UserError(f"{address} ({config.where(block.file, block.line)}) has neither for_each nor count: nothing to re-key")


def write(r: Rekey) -> None:
    with open(r.file, "w", encoding="utf-8", newline="") as f:
        f.write(r.updated)


def _raw_text(file: Path) -> str:
    # newline="" keeps CRLF as is: offsets then match the bytes that are written back
    with open(file, encoding="utf-8", newline="") as f:
        return f.read()


def _unwrap(node: Tree) -> Tree:
    while isinstance(node, Tree) and node.data == "expr_term" and len(children(node)) == 1:
        node = children(node)[0]
    return node


def _attribute_node(text: str, block: Block, name: str) -> Tree:
    tree = parse_text(text, block.file)
    for node in tree.iter_subtrees():
        if node.data == "block" and span(node)[0] == block.start:
            body = next(c for c in children(node) if c.data == "body")
            for item in children(body):
                if item.data == "attribute" and name_of(children(item)[0]) == name:
                    return item
    raise UserError(f"{block.file}:{block.line}: cannot locate `{name}` in the block")


def _check_key(key_node: Tree, allowed: set[str], position: str | None, where: str) -> None:
    refs = references(key_node, frozenset(allowed | ({position} if position else set())))
    for ref in refs:
        kind = ref[0]
        if kind == "name":
            if position is not None and ref[1] == position:
                raise UserError(f"--key uses `{position}`, the list position ({where}): that is the unstable key "
                                "being removed; build the key from the element's values")
            if ref[1] not in allowed:
                raise UserError(f"--key refers to `{ref[1]}`, but the iteration variable is "
                                f"`{' or '.join(sorted(allowed))}` ({where}): write the key in terms of it")
        elif kind == "resource":
            raise UserError(f"--key refers to `{ref[1]}.{ref[2]}`: `{ref[1]}` is not the iteration variable "
                            f"`{' or '.join(sorted(allowed))}` ({where}), and resource attributes are not known at "
                            "plan time; write the key in terms of the iteration variable")
        elif kind not in ("var", "local", "path"):
            raise UserError(f"--key refers to {'.'.join(ref)}: a key must be known at plan time, so it may use the "
                            "iteration variable, var.* and local.* only")
    if not any(r[0] == "name" for r in refs):
        raise UserError(f"--key does not use the iteration variable `{' or '.join(sorted(allowed))}`: every instance "
                        "would get the same key")


def _rekey_for_each(config: Config, mod: ModuleDef, block: Block, address: str, key: str, key_node: Tree,
                    text: str) -> Rekey:
    attr = block.attrs["for_each"]
    where = config.where(attr.file, attr.line)
    node = _unwrap(_find_same(text, block, "for_each"))
    if node.data != "for_object_expr":
        raise UserError(f"{where}: for_each is `{' '.join(attr.text.split())}`, not a `{{ for ... }}` expression; "
                        "refit rewrites only for expressions: change it by hand")
    if any(getattr(t, "type", "") == "ELLIPSIS" for t in node.children):
        raise UserError(f"{where}: the for expression groups values (`...`); re-keying it would change each.value")
    parts = children(node)
    intro = parts[0]
    idents = [c for c in children(intro) if c.data == "identifier"]
    value_var = name_of(idents[-1])
    position = name_of(idents[0]) if len(idents) == 2 else None
    key_expr, value_expr = parts[1], parts[2]
    vs, ve = span(value_expr)
    element = value_var if _is_name(value_expr, value_var) else f"({' '.join(text[vs:ve].split())})"
    key = _each_as(key, key_node, element, position, where)
    key_node = parse_expression(key, "--key")
    _check_key(key_node, {value_var}, position, where)
    cond = parts[3] if len(parts) > 3 and parts[3].data == "for_cond" else None
    still_used = position is not None and any(
        r == ("name", position) for n in (value_expr, cond) if n is not None for r in references(n))
    edits: list[tuple[int, int, str]] = []
    if position is not None and not still_used:
        edits.append((span(idents[0])[0], span(idents[1])[1], value_var))
    ks, ke = span(key_expr)
    edits.append((ks, ke, key))
    start, end = span(node)
    updated = _splice(text, edits)
    new_for = _splice(text[start:end], [(s - start, e - start, r) for s, e, r in edits])
    notes = _literal_reference_notes(config, mod, block)
    return _result(block, address, text[start:end], new_for, text, updated, notes, attr.line)


_EXPR_OFFSET = len("__refit__ = ")  # parse_expression parses `__refit__ = KEY`: spans start after this


def _is_name(node: Tree, name: str) -> bool:
    node = _unwrap(node)
    return isinstance(node, Tree) and node.data == "identifier" and name_of(node) == name


def _each_as(key: str, key_node: Tree, element: str, position: str | None, where: str) -> str:
    """The key with `each.value` written as the element the for expression keys (`element`: its iteration
    variable, or its value expression in parentheses). `each.key` is the list position being removed."""
    edits: list[tuple[int, int, str]] = []
    for node in key_node.iter_subtrees():
        if node.data != "get_attr_expr_term" or not _is_name(children(node)[0], "each"):
            continue
        attr = name_of(children(children(node)[1])[0])
        if attr != "value":
            pos = f" (`{position}`)" if position else ""
            raise UserError(f"--key uses `each.{attr}`, the list position{pos} ({where}): that is the unstable key "
                            f"being removed; build the key from the element's values, e.g. "
                            f"--key '\"${{{element}.vm}}-${{{element}.lun}}\"'")
        s, e = span(node)
        edits.append((s - _EXPR_OFFSET, e - _EXPR_OFFSET, element))
    if not edits and any(r == ("each",) for r in references(key_node)):
        raise UserError(f"--key uses `each` without `.value` ({where}): the element is `{element}`; write the key "
                        f"from its values, e.g. --key '\"${{{element}.vm}}-${{{element}.lun}}\"'")
    return _splice(key, edits)


def _find_same(text: str, block: Block, name: str) -> Tree:
    return children(_attribute_node(text, block, name))[-1]


def _rekey_count(config: Config, block: Block, address: str, key: str, key_node: Tree, as_name: str,
                 text: str) -> Rekey:
    attr_node = _attribute_node(text, block, "count")
    count_expr = _unwrap(children(attr_node)[-1])
    where = config.where(block.file, line_of(attr_node))
    if count_expr.data != "function_call" or name_of(children(count_expr)[0]) != "length" \
            or len(children(count_expr)) < 2 or len(children(children(count_expr)[1])) != 1:
        raise UserError(f"{where}: count is `{' '.join(block.attrs['count'].text.split())}`; refit rewrites only "
                        "`count = length(LIST)` (the list whose positions are the keys)")
    coll = children(children(count_expr)[1])[0]
    cs, ce = span(coll)
    coll_text = text[cs:ce]
    _check_key(key_node, {as_name}, None, where)
    edits: list[tuple[int, int, str]] = []
    notes: list[str] = []
    bad: list[str] = []
    handled: set[int] = set()
    tree = parse_text(text, block.file)
    block_node = next(n for n in tree.iter_subtrees() if n.data == "block" and span(n)[0] == block.start)
    norm = " ".join(coll_text.split())
    for node in block_node.iter_subtrees_topdown():
        if node.data != "index_expr_term":
            continue
        base, idx = children(node)
        if idx.data != "braces_index" or not _is_count_index(children(idx)[0]):
            continue
        handled.add(id(_unwrap(children(idx)[0])))
        bs, be = span(base)
        base_text = " ".join(text[bs:be].split())
        if base_text == norm:
            s, e = span(node)
            edits.append((s, e, "each.value"))
        elif _is_resource_ref(base):
            s, e = span(idx)
            edits.append((s, e, "[each.key]"))
            notes.append(f"{config.where(block.file, line_of(node))}: {base_text}[count.index] became "
                         f"{base_text}[each.key]: re-key {base_text} with the same key")
        else:
            bad.append(f"{config.where(block.file, line_of(node))}: {text[span(node)[0]:span(node)[1]]}")
    for node in block_node.iter_subtrees():
        if _is_count_index(node) and id(_unwrap(node)) not in handled and node.data == "get_attr_expr_term":
            bad.append(f"{config.where(block.file, line_of(node))}: count.index")
    if bad:
        raise UserError(f"count.index is used where refit cannot replace it ({'; '.join(sorted(set(bad))[:3])}): "
                        "rewrite those uses with each.key/each.value by hand, then re-run")
    new_attr = f"for_each = {{ for {as_name} in {coll_text} : {key} => {as_name} }}"
    a_start, a_end = span(attr_node)
    edits.append((a_start, a_end, new_attr))
    updated = _splice(text, edits)
    notes += _literal_reference_notes(config, None, block)
    return _result(block, address, text[a_start:a_end], new_attr, text, updated, notes, line_of(attr_node))


def _is_count_index(node: Tree) -> bool:
    node = _unwrap(node)
    if not isinstance(node, Tree) or node.data != "get_attr_expr_term":
        return False
    base, attr = children(node)
    base = _unwrap(base)
    return base.data == "identifier" and name_of(base) == "count" and name_of(children(attr)[0]) == "index"


def _is_resource_ref(node: Tree) -> bool:
    node = _unwrap(node)
    if node.data != "get_attr_expr_term":
        return False
    base = _unwrap(children(node)[0])
    return base.data == "identifier" and name_of(base) not in ("var", "local", "module", "data", "each", "count", "path")


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = text
    for s, e, r in sorted(edits, key=lambda x: x[0], reverse=True):
        out = out[:s] + r + out[e:]
    return out


def _result(block: Block, address: str, before: str, after: str, original: str, updated: str, notes: list[str],
            line: int) -> Rekey:
    parse_text(updated, block.file)  # the rewrite must still be valid HCL
    return Rekey(block.file, line, address, before, after, original, updated, notes)


def _literal_reference_notes(config: Config, mod: ModuleDef | None, block: Block) -> list[str]:
    """Literal-key references to the re-keyed resource elsewhere in its module (pitfall 8)."""
    if block.type != "resource":
        return []
    target = f"{block.labels[0]}.{block.labels[1]}"
    notes = []
    module_dir = block.file.parent
    for f in sorted(module_dir.glob("*.tf")):
        text = _raw_text(f)
        for node in parse_text(text, f).iter_subtrees():
            if node.data != "index_expr_term":
                continue
            base, idx = children(node)
            inner = _unwrap(children(idx)[0]) if idx.data == "braces_index" else None
            if inner is None or inner.data not in ("int_lit", "string") or \
                    (inner.data == "string" and "${" in text[span(inner)[0]:span(inner)[1]]):
                continue
            bs, be = span(base)
            if " ".join(text[bs:be].split()) == target:
                notes.append(f"{config.where(f, line_of(node))}: {text[span(node)[0]:span(node)[1]]} uses a literal "
                             "key; update it to the new key")
    return notes
