"""Terraform addresses: module instances, resource instances, their keys, parsed and printed.

Printing follows Terraform exactly, because a `moved` block or a `state mv` argument that differs by one
character from the state's address is silently ignored (moved) or fails (state mv):
- an integer key prints as `[0]` (`addrs.IntKey.String`), a string key as an HCL quoted string
  (`addrs.StringKey.String` -> `toHCLQuotedString`, hashicorp/terraform `internal/addrs/instance_key.go`);
- module instances print as `module.NAME[KEY]` steps joined by dots (`addrs.ModuleInstance.String`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from refit.arm.errors import UserError

# None = no key (single instance), int = count index, str = for_each key.
InstanceKey = int | str | None
# A module instance path: (("disks", "weu"), ("inner", None)) is module.disks["weu"].module.inner.
ModulePath = tuple[tuple[str, InstanceKey], ...]

ROOT: ModulePath = ()


def hcl_quote(s: str) -> str:
    """`toHCLQuotedString` (internal/addrs/instance_key.go): quotes, backslash escapes, `${`/`%{` doubled."""
    out = ['"']
    for i, ch in enumerate(s):
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "$%":
            out.append(ch)
            if s[i + 1 : i + 2] == "{":
                out.append(ch)
        elif not ch.isprintable():
            cp = ord(ch)
            out.append(f"\\u{cp:04x}" if cp < 65536 else f"\\U{cp:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_key(key: InstanceKey) -> str:
    if key is None:
        return ""
    if isinstance(key, bool):  # bool is an int in Python; never a Terraform key
        raise TypeError("a boolean is not an instance key")
    if isinstance(key, int):
        return f"[{key}]"
    return f"[{hcl_quote(key)}]"


def format_module(path: ModulePath) -> str:
    return ".".join(f"module.{name}{format_key(key)}" for name, key in path)


@dataclass(frozen=True, order=True)
class ResourceInstance:
    """An absolute resource instance address (`addrs.AbsResourceInstance`)."""

    module: ModulePath
    mode: str  # "managed" | "data"
    type: str
    name: str
    key: InstanceKey = None

    def __str__(self) -> str:
        local = f"{self.type}.{self.name}{format_key(self.key)}"
        if self.mode == "data":
            local = "data." + local
        prefix = format_module(self.module)
        return f"{prefix}.{local}" if prefix else local

    @property
    def resource(self) -> tuple[ModulePath, str, str, str]:
        """The resource (all instances) this instance belongs to."""
        return (self.module, self.mode, self.type, self.name)

    def with_key(self, key: InstanceKey) -> ResourceInstance:
        return ResourceInstance(self.module, self.mode, self.type, self.name, key)

    def with_module(self, module: ModulePath) -> ResourceInstance:
        return ResourceInstance(module, self.mode, self.type, self.name, self.key)


def config_path(path: ModulePath) -> tuple[str, ...]:
    """The static module path (no keys): what a module *call* is, as opposed to one of its instances."""
    return tuple(name for name, _ in path)


def format_config_resource(cpath: tuple[str, ...], mode: str, rtype: str, name: str) -> str:
    local = f"{'data.' if mode == 'data' else ''}{rtype}.{name}"
    return ".".join([*(f"module.{m}" for m in cpath), local])


# --- parsing -------------------------------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_TOKEN = re.compile(
    r"""
    (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | \[(?P<int>-?[0-9]+)\]
  | \[(?P<str>"(?:[^"\\]|\\.)*")\]
  | (?P<dot>\.)
    """,
    re.VERBOSE,
)


def hcl_unquote(lit: str) -> str:
    """The inverse of `hcl_quote` (HCL quoted-string escapes: \\n \\r \\t \\" \\\\ \\uXXXX \\UXXXXXXXX, $${, %%{)."""
    assert lit[0] == '"' and lit[-1] == '"'
    body = lit[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            simple = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "U":
                out.append(chr(int(body[i + 2 : i + 10], 16)))
                i += 10
                continue
            raise ValueError(f"invalid escape \\{nxt}")
        if ch in "$%" and body[i + 1 : i + 3] == ch + "{":
            out.append(ch + "{")
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, object]]:
    pos, toks = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unexpected {text[pos:pos + 10]!r}")
        if m.group("name"):
            toks.append(("name", m.group("name")))
        elif m.group("int") is not None:
            toks.append(("key", int(m.group("int"))))
        elif m.group("str") is not None:
            toks.append(("key", hcl_unquote(m.group("str"))))
        pos = m.end()
    return toks


def parse_steps(text: str) -> tuple[ModulePath, list[tuple[str, object]]]:
    toks = _tokens(text.strip())
    path: list[tuple[str, InstanceKey]] = []
    i = 0
    while i < len(toks) and toks[i] == ("name", "module"):
        if i + 1 >= len(toks) or toks[i + 1][0] != "name":
            raise ValueError("module. must be followed by a module name")
        name = str(toks[i + 1][1])
        key: InstanceKey = None
        i += 2
        if i < len(toks) and toks[i][0] == "key":
            key = toks[i][1]  # type: ignore[assignment]
            i += 1
        path.append((name, key))
    return tuple(path), toks[i:]


def parse_module_instance(text: str) -> ModulePath:
    """`module.a["x"].module.b[0]` -> path. Empty string is the root module (v4 state omits `module`)."""
    if not text:
        return ROOT
    try:
        path, rest = parse_steps(text)
        if rest:
            raise ValueError("trailing text after module path")
    except ValueError as e:
        raise UserError(f"invalid module address {text!r}: {e}") from None
    return path


def parse_resource_instance(text: str) -> ResourceInstance:
    """An absolute resource instance address, as in `terraform state list` / `show -json` `address`."""
    try:
        path, rest = parse_steps(text)
        mode = "managed"
        if rest[:1] == [("name", "data")]:
            mode, rest = "data", rest[1:]
        if len(rest) < 2 or rest[0][0] != "name" or rest[1][0] != "name":
            raise ValueError("expected TYPE.NAME")
        rtype, name = str(rest[0][1]), str(rest[1][1])
        key: InstanceKey = None
        if len(rest) == 3 and rest[2][0] == "key":
            key = rest[2][1]  # type: ignore[assignment]
        elif len(rest) != 2:
            raise ValueError("trailing text after the resource address")
    except ValueError as e:
        raise UserError(f"invalid resource address {text!r}: {e}") from None
    return ResourceInstance(path, mode, rtype, name, key)


@dataclass(frozen=True)
class ConfigAddress:
    """A configuration address given by a user: `module.disks.azurerm_managed_disk.data` or `module.disks`."""

    module: tuple[str, ...]
    mode: str | None  # None: the address is a module call
    type: str | None
    name: str | None

    def __str__(self) -> str:
        if self.type is None:  # a module call: parent path + call name
            return ".".join(f"module.{m}" for m in (*self.module, self.name))
        return format_config_resource(self.module, self.mode or "managed", self.type, self.name or "")


def parse_config_address(text: str) -> ConfigAddress:
    try:
        path, rest = parse_steps(text)
    except ValueError as e:
        raise UserError(f"invalid address {text!r}: {e}; give e.g. module.disks.azurerm_managed_disk.data") from None
    if any(key is not None for _, key in path) or any(kind == "key" for kind, _ in rest):
        raise UserError(
            f"address {text!r} has instance keys: give the configuration address without keys, "
            "e.g. module.disks.azurerm_managed_disk.data"
        )
    names = [str(v) for _, v in rest]
    if not names:
        if not path:
            raise UserError("empty address: give e.g. azurerm_managed_disk.data or module.disks")
        return ConfigAddress(tuple(n for n, _ in path[:-1]), None, None, path[-1][0])
    mode = "managed"
    if names[0] == "data":
        mode, names = "data", names[1:]
    if len(names) != 2 or not all(re.fullmatch(_NAME, n) for n in names):
        raise UserError(f"invalid address {text!r}: expected [module.NAME.]...TYPE.NAME")
    return ConfigAddress(tuple(n for n, _ in path), mode, names[0], names[1])
