"""Parse Terraform modules with python-hcl2's Lark parse tree, keeping exact source positions.

Why the raw Lark tree (`hcl2.parses_to_tree`) and not `hcl2.load`: the dict form re-serialises expressions
(whitespace collapsed, no line numbers: `SerializationOptions.with_meta` is a no-op in 8.1.x), while every
Lark node carries `meta.start_pos/end_pos/line`, so refit can (1) name any expression it cannot evaluate by
file:line and exact text, and (2) splice a rewrite into the file touching nothing else (`rekey.py`).
Grammar: python-hcl2 8.x `hcl2/hcl2.lark` (pinned `python-hcl2>=8,<9` in pyproject: 7.x builds a different tree).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from refit.arm.errors import UserError


@dataclass
class Expr:
    """One expression in a file: the Lark node plus where it is and what it says."""

    node: Tree
    file: Path
    text: str  # exact source text (trailing newlines/comments excluded)
    line: int
    start: int  # character offsets into the file's text
    end: int

    def where(self, root: Path | None = None) -> str:
        return f"{display_path(self.file, root)}:{self.line}"


@dataclass
class Block:
    type: str
    labels: list[str]
    attrs: dict[str, Expr]
    blocks: list[Block]
    file: Path
    line: int
    node: Tree
    start: int = 0
    end: int = 0


@dataclass
class ModuleDef:
    """One module directory (Terraform's `configs.Module`): the blocks refit needs, by kind."""

    dir: Path
    texts: dict[Path, str] = field(default_factory=dict)
    variables: dict[str, Block] = field(default_factory=dict)
    locals: dict[str, Expr] = field(default_factory=dict)
    resources: dict[tuple[str, str, str], Block] = field(default_factory=dict)  # (mode, type, name)
    module_calls: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)
    moved: list[Block] = field(default_factory=list)


def display_path(p: Path, root: Path | None = None) -> str:
    if root is not None:
        try:
            return str(p.resolve().relative_to(root.resolve().parent))
        except ValueError:
            pass
    return str(p)


# --- tree helpers -----------------------------------------------------------------------------------


def is_nl(node: object) -> bool:
    return isinstance(node, Tree) and node.data == "new_line_or_comment"


def children(node: Tree) -> list[Tree]:
    """Sub-trees that carry meaning: no tokens, no newlines/comments."""
    return [c for c in node.children if isinstance(c, Tree) and not is_nl(c)]


def tokens(node: Tree) -> list[Token]:
    return [c for c in node.children if isinstance(c, Token)]


def span(node: Tree | Token) -> tuple[int, int]:
    """(start, end) character offsets, excluding trailing new_line_or_comment children (the grammar folds
    the newline after an expression into the expression's node, so `meta.end_pos` may include it)."""
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    start = node.meta.start_pos
    parts = [c for c in node.children if not is_nl(c)]
    if not parts:
        return start, node.meta.end_pos
    return start, span(parts[-1])[1]


def line_of(node: Tree | Token) -> int:
    return node.line if isinstance(node, Token) else node.meta.line


def name_of(node: Tree | Token) -> str:
    """The text of an identifier / keyword / literal_value node (block types, attribute names, labels)."""
    if isinstance(node, Token):
        return str(node)
    if node.data in ("identifier", "keyword", "literal_value"):
        return str(node.children[0])
    if node.data == "string":
        return string_literal(node)
    raise ValueError(f"not a name: {node.data}")


def string_literal(node: Tree) -> str:
    """A quoted string without interpolation (block labels)."""
    parts = []
    for part in node.children:
        if isinstance(part, Tree) and part.data == "string_part":
            inner = part.children[0]
            if isinstance(inner, Token):
                parts.append(unescape(str(inner)))
            else:
                raise ValueError("labels cannot contain interpolation")
    return "".join(parts)


def unescape(chars: str) -> str:
    """HCL quoted-template literal escapes (hclsyntax spec "Template Literals")."""
    out, i = [], 0
    simple = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(chars):
        ch = chars[i]
        if ch == "\\" and i + 1 < len(chars):
            nxt = chars[i + 1]
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "u":
                out.append(chr(int(chars[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "U":
                out.append(chr(int(chars[i + 2 : i + 10], 16)))
                i += 10
                continue
        out.append(ch)
        i += 1
    return "".join(out)


# --- parsing ---------------------------------------------------------------------------------------


def parse_text(text: str, file: Path) -> Tree:
    try:
        return hcl2.parses_to_tree(text)
    except UnexpectedInput as e:
        raise UserError(
            f"{file}:{e.line}:{e.column}: cannot parse HCL ({type(e).__name__}); fix the syntax (run `terraform validate`)"
        ) from None
    except LarkError as e:
        raise UserError(f"{file}: cannot parse HCL: {str(e).splitlines()[0]}") from None


def _expr(node: Tree, file: Path, text: str) -> Expr:
    start, end = span(node)
    return Expr(node, file, text[start:end], line_of(node), start, end)


def _block(node: Tree, file: Path, text: str) -> Block:
    parts = [c for c in node.children if not is_nl(c)]
    type_name = name_of(parts[0])
    labels: list[str] = []
    body: Tree | None = None
    for part in parts[1:]:
        if isinstance(part, Tree) and part.data == "body":
            body = part
            break
        if isinstance(part, Tree):
            labels.append(name_of(part))
    assert body is not None
    attrs, blocks = _body(body, file, text)
    start, end = span(node)
    return Block(type_name, labels, attrs, blocks, file, line_of(node), node, start, end)


def _body(body: Tree, file: Path, text: str) -> tuple[dict[str, Expr], list[Block]]:
    attrs: dict[str, Expr] = {}
    blocks: list[Block] = []
    for item in children(body):
        if item.data == "attribute":
            name_node, value = children(item)[0], children(item)[-1]
            name = name_of(name_node)
            if name in attrs:
                raise UserError(
                    f"{file}:{line_of(item)}: attribute {name!r} is set twice (Terraform: Attribute redefined); remove one"
                )
            attrs[name] = _expr(value, file, text)
        elif item.data == "block":
            blocks.append(_block(item, file, text))
    return attrs, blocks


def parse_file(file: Path, text: str | None = None) -> tuple[str, dict[str, Expr], list[Block]]:
    if text is None:
        try:
            # newline="": keep CRLF, so that offsets match the file's characters (rekey splices at them)
            with open(file, encoding="utf-8", newline="") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"{file}: cannot read ({e})") from None
    tree = parse_text(text, file)
    body = children(tree)[0]
    attrs, blocks = _body(body, file, text)
    return text, attrs, blocks


def parse_expression(source: str, origin: str = "<expression>") -> Tree:
    """Parse one expression (a --key argument, a heredoc interpolation) into its Lark node."""
    try:
        tree = hcl2.parses_to_tree(f"__refit__ = {source}\n")
    except (UnexpectedInput, LarkError):
        raise UserError(f"{origin}: {source!r} is not a valid HCL expression") from None
    body = children(tree)[0]
    items = children(body)
    if len(items) != 1 or items[0].data != "attribute":
        raise UserError(f"{origin}: {source!r} is not a single HCL expression")
    return children(items[0])[-1]


# Files refit refuses rather than half-reads (Terraform/OpenTofu would merge them; refit does not).
_UNSUPPORTED = (
    ("*.tf.json", "JSON configuration syntax"),
    ("*.tofu", "OpenTofu .tofu files (they override .tf files of the same name)"),
    ("*.tofu.json", "OpenTofu JSON configuration"),
    ("override.tf", "override files"),
    ("*_override.tf", "override files"),
)


def load_module(directory: Path) -> ModuleDef:
    """Read every `*.tf` file of one module directory (not recursive, like Terraform)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory}: not a directory; give the Terraform module (root) directory")
    for pattern, what in _UNSUPPORTED:
        found = sorted(directory.glob(pattern))
        if found:
            raise UserError(f"{found[0]}: refit does not read {what}; convert it to .tf or move it out of {directory}")
    files = sorted(directory.glob("*.tf"))
    if not files:
        raise UserError(f"{directory}: no .tf files; give a Terraform module directory")
    mod = ModuleDef(dir=directory)
    for f in files:
        text, attrs, blocks = parse_file(f)
        mod.texts[f] = text
        if attrs:
            name, first = next(iter(attrs.items()))
            raise UserError(f"{first.where()}: unexpected top-level attribute {name!r} in a .tf file")
        for b in blocks:
            _collect(mod, b)
    return mod


def _collect(mod: ModuleDef, b: Block) -> None:
    where = f"{b.file}:{b.line}"
    if b.type == "variable" and len(b.labels) == 1:
        _unique(mod.variables, b.labels[0], b, f"{where}: duplicate variable {b.labels[0]!r}")
    elif b.type == "locals":
        for name, e in b.attrs.items():
            _unique(mod.locals, name, e, f"{e.where()}: duplicate local value {name!r}")
    elif b.type in ("resource", "data") and len(b.labels) == 2:
        mode = "managed" if b.type == "resource" else "data"
        key = (mode, b.labels[0], b.labels[1])
        _unique(mod.resources, key, b, f"{where}: duplicate {b.type} {b.labels[0]}.{b.labels[1]}")
    elif b.type == "module" and len(b.labels) == 1:
        _unique(mod.module_calls, b.labels[0], b, f"{where}: duplicate module call {b.labels[0]!r}")
    elif b.type == "output" and len(b.labels) == 1:
        _unique(mod.outputs, b.labels[0], b, f"{where}: duplicate output {b.labels[0]!r}")
    elif b.type == "moved":
        mod.moved.append(b)


def _unique(d: dict, key: object, value: object, message: str) -> None:
    if key in d:
        raise UserError(message + " (Terraform refuses duplicates); remove one")
    d[key] = value


# --- module sources --------------------------------------------------------------------------------


def local_source(call: Block) -> str | None:
    """The `source` of a module call when it is a literal string."""
    src = call.attrs.get("source")
    if src is None:
        return None
    node = children(src.node)[0] if src.node.data == "expr_term" else src.node
    if isinstance(node, Tree) and node.data == "string":
        try:
            return string_literal(node)
        except ValueError:
            return None
    return None


def resolve_module_dir(root_dir: Path, parent_dir: Path, call: Block, key_path: tuple[str, ...]) -> Path:
    """Where a module call's code is: a local path (`./x`, `../x`), or what `terraform init` recorded in
    `.terraform/modules/modules.json` (`{"Modules": [{"Key": "a.b", "Dir": ...}]}`, Terraform's
    `internal/initwd` manifest) for registry/git sources."""
    src = local_source(call)
    where = f"{call.file}:{call.line}"
    if src is None:
        raise UserError(f"{where}: module {call.labels[0]!r} has no literal `source`; refit needs it to read the module")
    if src.startswith(("./", "../", ".\\", "..\\")):
        d = (parent_dir / src).resolve()
        if not d.is_dir():
            raise UserError(f"{where}: module source {src!r} is not a directory ({d})")
        return d
    manifest = root_dir / ".terraform" / "modules" / "modules.json"
    if manifest.is_file():
        try:
            entries = json.loads(manifest.read_text(encoding="utf-8")).get("Modules", [])
        except (json.JSONDecodeError, AttributeError):
            entries = []
        key = ".".join(key_path)
        for entry in entries:
            if isinstance(entry, dict) and entry.get("Key") == key and entry.get("Dir"):
                d = (root_dir / entry["Dir"]).resolve()
                if d.is_dir():
                    return d
    raise UserError(
        f"{where}: module {call.labels[0]!r} source {src!r} is not a local path and is not installed in "
        f"{manifest}: run `terraform init` (or `terraform get`) in {root_dir} first"
    )
