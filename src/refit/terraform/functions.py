"""Terraform built-in functions that disk/VM modules use, evaluated offline.

Behaviour follows Terraform's function docs (https://developer.hashicorp.com/terraform/language/functions)
and their implementations (hashicorp/terraform `internal/lang/funcs`, zclconf/go-cty `function/stdlib`).
Anything not here is refused by name (`Unsupported`), never approximated. `try` and `can` are not here:
they need their arguments unevaluated, so the evaluator implements them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from refit.terraform.errors import InvalidExpression, Unsupported
from refit.terraform.values import HclSet, Unknown, as_number, equal, norm_number, number_text, type_name


@dataclass
class FunctionContext:
    base_dir: Path  # Terraform resolves relative file() paths against the working directory (the root module)
    render_template: Callable[[str, dict[str, Any], str], Any]  # (text, vars, origin) -> value


Fn = Callable[[list[Any], FunctionContext], Any]
FUNCTIONS: dict[str, Fn] = {}

# Non-deterministic or environment-dependent: the value at plan time is not knowable offline.
UNKNOWABLE = {"timestamp", "uuid", "bcrypt", "plantimestamp", "abspath", "pathexpand"}


def fn(name: str, *, unknown_passthrough: bool = True) -> Callable[[Fn], Fn]:
    def register(f: Fn) -> Fn:
        def wrapper(args: list[Any], fc: FunctionContext) -> Any:
            if unknown_passthrough:
                for a in args:
                    if isinstance(a, Unknown):
                        return a
            return f(args, fc)

        FUNCTIONS[name] = wrapper
        return wrapper

    return register


def bad(name: str, detail: str) -> InvalidExpression:
    return InvalidExpression("Invalid function argument", f"{name}(): {detail}")


def arity(name: str, args: list[Any], lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(args) <= hi:
        raise InvalidExpression("Not enough function arguments" if len(args) < lo else "Too many function arguments",
                                f"{name}() takes {lo if hi == lo else f'{lo} to {hi}'} arguments")


def seq(name: str, v: Any) -> list[Any]:
    if isinstance(v, list):
        return v
    if isinstance(v, HclSet):
        return list(v)
    raise bad(name, f"a list or set is required, got {type_name(v)}")


def mapping(name: str, v: Any) -> dict[str, Any]:
    if isinstance(v, dict):
        return v
    raise bad(name, f"a map or object is required, got {type_name(v)}")


def to_str(name: str, v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return number_text(v)
    raise bad(name, f"a string is required, got {type_name(v)}")


def to_num(name: str, v: Any) -> int | float:
    if isinstance(v, bool):
        raise bad(name, "a number is required, got bool")
    n = as_number(v)
    if n is not None:
        return n
    raise bad(name, f"a number is required, got {type_name(v)}")


def to_int(name: str, v: Any) -> int:
    n = to_num(name, v)
    if isinstance(n, float) and not n.is_integer():
        raise bad(name, f"a whole number is required, got {n}")
    return int(n)


# --- collections ----------------------------------------------------------------------------------


@fn("flatten")
def _flatten(args: list[Any], fc: FunctionContext) -> Any:
    arity("flatten", args, 1)

    def walk(v: list[Any], out: list[Any]) -> Unknown | None:
        for item in v:
            if isinstance(item, Unknown):
                return item  # cannot tell whether it is a list: the whole result is unknown
            if isinstance(item, list | HclSet):
                u = walk(list(item), out)
                if u:
                    return u
            else:
                out.append(item)
        return None

    out: list[Any] = []
    u = walk(seq("flatten", args[0]), out)
    return u if u else out


@fn("length")
def _length(args: list[Any], fc: FunctionContext) -> Any:
    arity("length", args, 1)
    v = args[0]
    if isinstance(v, list | dict | HclSet | str):
        return len(v)
    raise bad("length", f"a collection or string is required, got {type_name(v)}")


@fn("lookup")
def _lookup(args: list[Any], fc: FunctionContext) -> Any:
    arity("lookup", args, 2, 3)
    m, key = mapping("lookup", args[0]), to_str("lookup", args[1])
    if key in m:
        return m[key]
    if len(args) == 3:
        return args[2]
    raise bad("lookup", f"the given key {key!r} does not exist in the map")


@fn("merge")
def _merge(args: list[Any], fc: FunctionContext) -> Any:
    out: dict[str, Any] = {}
    for a in args:
        if a is None:
            continue  # merge() ignores null arguments
        out.update(mapping("merge", a))
    return out


@fn("keys")
def _keys(args: list[Any], fc: FunctionContext) -> Any:
    arity("keys", args, 1)
    return sorted(mapping("keys", args[0]))


@fn("values")
def _values(args: list[Any], fc: FunctionContext) -> Any:
    arity("values", args, 1)
    m = mapping("values", args[0])
    return [m[k] for k in sorted(m)]


@fn("concat")
def _concat(args: list[Any], fc: FunctionContext) -> Any:
    out: list[Any] = []
    for a in args:
        out.extend(seq("concat", a))
    return out


@fn("distinct")
def _distinct(args: list[Any], fc: FunctionContext) -> Any:
    arity("distinct", args, 1)
    out: list[Any] = []
    for v in seq("distinct", args[0]):
        if not any(equal(v, o) for o in out):
            out.append(v)
    return out


@fn("toset")
def _toset(args: list[Any], fc: FunctionContext) -> Any:
    arity("toset", args, 1)
    items = seq("toset", args[0])
    for v in items:
        if isinstance(v, Unknown):
            return v
    return HclSet(items)


@fn("tolist")
def _tolist(args: list[Any], fc: FunctionContext) -> Any:
    arity("tolist", args, 1)
    return None if args[0] is None else list(seq("tolist", args[0]))


@fn("tomap")
def _tomap(args: list[Any], fc: FunctionContext) -> Any:
    arity("tomap", args, 1)
    return None if args[0] is None else dict(mapping("tomap", args[0]))


@fn("tostring")
def _tostring(args: list[Any], fc: FunctionContext) -> Any:
    arity("tostring", args, 1)
    return None if args[0] is None else to_str("tostring", args[0])


@fn("tonumber")
def _tonumber(args: list[Any], fc: FunctionContext) -> Any:
    arity("tonumber", args, 1)
    return None if args[0] is None else to_num("tonumber", args[0])


@fn("tobool")
def _tobool(args: list[Any], fc: FunctionContext) -> Any:
    arity("tobool", args, 1)
    v = args[0]
    if v is None or isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise bad("tobool", f"a bool is required, got {type_name(v)}")


@fn("contains")
def _contains(args: list[Any], fc: FunctionContext) -> Any:
    arity("contains", args, 2)
    return any(equal(v, args[1]) for v in seq("contains", args[0]))


@fn("index")
def _index(args: list[Any], fc: FunctionContext) -> Any:
    arity("index", args, 2)
    for i, v in enumerate(seq("index", args[0])):
        if equal(v, args[1]):
            return i
    raise bad("index", "item not found")


@fn("element")
def _element(args: list[Any], fc: FunctionContext) -> Any:
    arity("element", args, 2)
    items = seq("element", args[0])
    if not items:
        raise bad("element", "cannot use element function with an empty list")
    i = to_int("element", args[1])
    if i < 0:
        raise bad("element", "cannot use element function with a negative index")
    return items[i % len(items)]


@fn("range")
def _range(args: list[Any], fc: FunctionContext) -> Any:
    arity("range", args, 1, 3)
    nums = [to_num("range", a) for a in args]
    start, stop, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) == 3 else 1)
    if step == 0:
        raise bad("range", "step must not be zero")
    out, v = [], start
    while (v < stop) if step > 0 else (v > stop):
        out.append(norm_number(v))
        v += step
        if len(out) > 1024:
            raise bad("range", "more than 1024 elements")
    return out


@fn("zipmap")
def _zipmap(args: list[Any], fc: FunctionContext) -> Any:
    arity("zipmap", args, 2)
    ks, vs = seq("zipmap", args[0]), seq("zipmap", args[1])
    if len(ks) != len(vs):
        raise bad("zipmap", "number of keys and values must match")
    return {to_str("zipmap", k): v for k, v in zip(ks, vs, strict=True)}


@fn("coalesce")
def _coalesce(args: list[Any], fc: FunctionContext) -> Any:
    for a in args:
        if a is not None and a != "":
            return a
    raise bad("coalesce", "no non-null, non-empty-string arguments")


@fn("coalescelist")
def _coalescelist(args: list[Any], fc: FunctionContext) -> Any:
    for a in args:
        if a:
            return seq("coalescelist", a)
    raise bad("coalescelist", "no non-null arguments")


@fn("compact")
def _compact(args: list[Any], fc: FunctionContext) -> Any:
    arity("compact", args, 1)
    return [v for v in seq("compact", args[0]) if v is not None and v != ""]


@fn("slice")
def _slice(args: list[Any], fc: FunctionContext) -> Any:
    arity("slice", args, 3)
    items = seq("slice", args[0])
    a, b = to_int("slice", args[1]), to_int("slice", args[2])
    if not (0 <= a <= b <= len(items)):
        raise bad("slice", f"invalid range [{a}:{b}] for a list of {len(items)}")
    return items[a:b]


@fn("reverse")
def _reverse(args: list[Any], fc: FunctionContext) -> Any:
    arity("reverse", args, 1)
    return list(reversed(seq("reverse", args[0])))


@fn("sort")
def _sort(args: list[Any], fc: FunctionContext) -> Any:
    arity("sort", args, 1)
    return sorted(to_str("sort", v) for v in seq("sort", args[0]))


@fn("one")
def _one(args: list[Any], fc: FunctionContext) -> Any:
    arity("one", args, 1)
    if args[0] is None:
        return None
    items = seq("one", args[0])
    if len(items) > 1:
        raise bad("one", "must be a list, set, or tuple value with either zero or one elements")
    return items[0] if items else None


@fn("chunklist")
def _chunklist(args: list[Any], fc: FunctionContext) -> Any:
    arity("chunklist", args, 2)
    items, size = seq("chunklist", args[0]), to_int("chunklist", args[1])
    if size <= 0:
        return [items]
    return [items[i : i + size] for i in range(0, len(items), size)]


@fn("setproduct")
def _setproduct(args: list[Any], fc: FunctionContext) -> Any:
    lists = [seq("setproduct", a) for a in args]
    out: list[list[Any]] = [[]]
    for items in lists:
        out = [[*prefix, v] for prefix in out for v in items]
    if any(isinstance(a, HclSet) for a in args):
        return HclSet(out)
    return out


@fn("setunion")
def _setunion(args: list[Any], fc: FunctionContext) -> Any:
    return HclSet([v for a in args for v in seq("setunion", a)])


@fn("setintersection")
def _setintersection(args: list[Any], fc: FunctionContext) -> Any:
    sets = [seq("setintersection", a) for a in args]
    first = sets[0] if sets else []
    return HclSet([v for v in first if all(any(equal(v, o) for o in s) for s in sets[1:])])


@fn("sum")
def _sum(args: list[Any], fc: FunctionContext) -> Any:
    arity("sum", args, 1)
    return norm_number(sum(to_num("sum", v) for v in seq("sum", args[0])))


@fn("min")
def _min(args: list[Any], fc: FunctionContext) -> Any:
    return min(to_num("min", a) for a in args)


@fn("max")
def _max(args: list[Any], fc: FunctionContext) -> Any:
    return max(to_num("max", a) for a in args)


@fn("abs")
def _abs(args: list[Any], fc: FunctionContext) -> Any:
    return abs(to_num("abs", args[0]))


@fn("ceil")
def _ceil(args: list[Any], fc: FunctionContext) -> Any:
    return math.ceil(to_num("ceil", args[0]))


@fn("floor")
def _floor(args: list[Any], fc: FunctionContext) -> Any:
    return math.floor(to_num("floor", args[0]))


@fn("parseint")
def _parseint(args: list[Any], fc: FunctionContext) -> Any:
    arity("parseint", args, 2)
    try:
        return int(to_str("parseint", args[0]), to_int("parseint", args[1]))
    except ValueError:
        raise bad("parseint", f"cannot parse {args[0]!r}") from None


@fn("alltrue")
def _alltrue(args: list[Any], fc: FunctionContext) -> Any:
    return all(v is True or v == "true" for v in seq("alltrue", args[0]))


@fn("anytrue")
def _anytrue(args: list[Any], fc: FunctionContext) -> Any:
    return any(v is True or v == "true" for v in seq("anytrue", args[0]))


# --- strings --------------------------------------------------------------------------------------

_VERB = re.compile(r"%(?P<flags>[-+# 0]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<verb>[a-zA-Z%])")


def _format(name: str, fmt: str, args: list[Any]) -> str:
    """cty `stdlib.Format`: Go-style verbs %s %d %v %q %f %t %%, with flags, width and precision."""
    out, i, pos = [], 0, 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        verb, flags, width, prec = m.group("verb"), m.group("flags"), m.group("width"), m.group("prec")
        if verb == "%":
            out.append("%")
            continue
        if i >= len(args):
            raise bad(name, f"not enough arguments for format string {fmt!r}")
        v = args[i]
        i += 1
        if verb in ("s", "v"):
            text = json.dumps(v, separators=(",", ":")) if isinstance(v, dict | list) else to_str(name, v)
            if prec:
                text = text[: int(prec)]
        elif verb == "q":
            text = json.dumps(to_str(name, v))
        elif verb == "d":
            n = to_int(name, v)
            text = f"{n:+d}" if "+" in flags else str(n)
        elif verb in ("f", "e", "g"):
            text = format(float(to_num(name, v)), f".{prec or 6}{verb}")
        elif verb == "t":
            if not isinstance(v, bool):
                raise bad(name, "%t requires a bool")
            text = "true" if v else "false"
        else:
            raise Unsupported("Unsupported format verb", f"{name}(): %{verb} is not evaluated offline by refit")
        if width and len(text) < int(width):
            pad = int(width) - len(text)
            if "-" in flags:
                text = text + " " * pad
            elif "0" in flags and verb in ("d", "f", "e", "g"):
                sign = text[0] if text[:1] in "+-" else ""
                text = sign + "0" * pad + text[len(sign) :]
            else:
                text = " " * pad + text
        out.append(text)
    out.append(fmt[pos:])
    if i < len(args):
        raise bad(name, f"too many arguments for format string {fmt!r}")
    return "".join(out)


@fn("format")
def _fmt(args: list[Any], fc: FunctionContext) -> Any:
    if not args:
        raise bad("format", "format string required")
    return _format("format", to_str("format", args[0]), args[1:])


@fn("formatlist")
def _formatlist(args: list[Any], fc: FunctionContext) -> Any:
    fmt = to_str("formatlist", args[0])
    lists = [a for a in args[1:] if isinstance(a, list)]
    n = len(lists[0]) if lists else 1
    if any(len(x) != n for x in lists):
        raise bad("formatlist", "all list arguments must have the same length")
    return [_format("formatlist", fmt, [a[i] if isinstance(a, list) else a for a in args[1:]]) for i in range(n)]


@fn("join")
def _join(args: list[Any], fc: FunctionContext) -> Any:
    sep = to_str("join", args[0])
    items: list[str] = []
    for a in args[1:]:
        for v in seq("join", a):
            if isinstance(v, Unknown):
                return v
            items.append(to_str("join", v))
    return sep.join(items)


@fn("split")
def _split(args: list[Any], fc: FunctionContext) -> Any:
    arity("split", args, 2)
    return to_str("split", args[1]).split(to_str("split", args[0]))


def _str1(name: str, f: Callable[[str], Any]) -> None:
    @fn(name)
    def _impl(args: list[Any], fc: FunctionContext) -> Any:
        arity(name, args, 1)
        return f(to_str(name, args[0]))


_str1("lower", str.lower)
_str1("upper", str.upper)
_str1("trimspace", str.strip)
_str1("strrev", lambda s: s[::-1])
_str1("chomp", lambda s: re.sub(r"(\r\n|\n|\r)+$", "", s))
_str1("title", lambda s: re.sub(r"\b[a-z]", lambda m: m.group(0).upper(), s))
_str1("basename", lambda s: Path(s).name)
_str1("dirname", lambda s: str(Path(s).parent))
_str1("base64encode", lambda s: base64.b64encode(s.encode()).decode())
_str1("md5", lambda s: hashlib.md5(s.encode()).hexdigest())
_str1("sha1", lambda s: hashlib.sha1(s.encode()).hexdigest())
_str1("sha256", lambda s: hashlib.sha256(s.encode()).hexdigest())


@fn("base64decode")
def _b64d(args: list[Any], fc: FunctionContext) -> Any:
    try:
        return base64.b64decode(to_str("base64decode", args[0]), validate=True).decode()
    except ValueError:
        raise bad("base64decode", "invalid base64 data") from None


def _str2(name: str, f: Callable[[str, str], Any]) -> None:
    @fn(name)
    def _impl(args: list[Any], fc: FunctionContext) -> Any:
        arity(name, args, 2)
        return f(to_str(name, args[0]), to_str(name, args[1]))


_str2("trim", lambda s, cut: s.strip(cut))
_str2("trimprefix", lambda s, p: s[len(p):] if p and s.startswith(p) else s)
_str2("trimsuffix", lambda s, p: s[: -len(p)] if p and s.endswith(p) else s)
_str2("startswith", lambda s, p: s.startswith(p))
_str2("endswith", lambda s, p: s.endswith(p))
_str2("strcontains", lambda s, p: p in s)


@fn("replace")
def _replace(args: list[Any], fc: FunctionContext) -> Any:
    arity("replace", args, 3)
    s, sub, rep = (to_str("replace", a) for a in args)
    if len(sub) > 1 and sub.startswith("/") and sub.endswith("/"):
        raise Unsupported("Unsupported function", "replace() with a regular expression is not evaluated offline "
                          "(Go RE2 syntax differs from Python's)")
    return s.replace(sub, rep)


@fn("substr")
def _substr(args: list[Any], fc: FunctionContext) -> Any:
    arity("substr", args, 3)
    s, off, length = to_str("substr", args[0]), to_int("substr", args[1]), to_int("substr", args[2])
    if off < 0:
        off = max(len(s) + off, 0)
    return s[off:] if length < 0 else s[off : off + length]


# --- encoding and files ---------------------------------------------------------------------------


def _from_json(v: Any) -> Any:
    if isinstance(v, float):
        return norm_number(v)
    if isinstance(v, dict):
        return {k: _from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    return v


@fn("jsondecode")
def _jsondecode(args: list[Any], fc: FunctionContext) -> Any:
    arity("jsondecode", args, 1)
    try:
        return _from_json(json.loads(to_str("jsondecode", args[0])))
    except json.JSONDecodeError as e:
        raise bad("jsondecode", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


def _to_json(v: Any) -> Any:
    if isinstance(v, HclSet):
        return [_to_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_to_json(x) for x in v]
    return v


@fn("jsonencode")
def _jsonencode(args: list[Any], fc: FunctionContext) -> Any:
    arity("jsonencode", args, 1)
    from refit.terraform.values import find_unknown

    u = find_unknown(args[0])
    if u:
        return u
    # cty's JSON encoding: object attributes sorted, compact, and Go's HTML-safe escaping of <, >, &.
    text = json.dumps(_to_json(args[0]), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 core-schema booleans: Terraform's yamldecode (go-yaml/ctyyaml) reads `yes`/`no`/`on`/`off`
    as strings, PyYAML (YAML 1.1) as booleans. INFERRED: only booleans are adjusted here."""


_Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@fn("yamldecode")
def _yamldecode(args: list[Any], fc: FunctionContext) -> Any:
    arity("yamldecode", args, 1)
    try:
        return _from_json(yaml.load(to_str("yamldecode", args[0]), Loader=_Yaml12Loader))
    except yaml.YAMLError as e:
        raise bad("yamldecode", f"invalid YAML: {str(e).splitlines()[0]}") from None


def _path(fc: FunctionContext, name: str, v: Any) -> Path:
    p = Path(to_str(name, v))
    return p if p.is_absolute() else fc.base_dir / p


@fn("file")
def _file(args: list[Any], fc: FunctionContext) -> Any:
    arity("file", args, 1)
    p = _path(fc, "file", args[0])
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise bad("file", f"no file exists at {p}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad("file", f"cannot read {p}: {e}") from None


@fn("fileexists")
def _fileexists(args: list[Any], fc: FunctionContext) -> Any:
    arity("fileexists", args, 1)
    return _path(fc, "fileexists", args[0]).is_file()


@fn("templatefile")
def _templatefile(args: list[Any], fc: FunctionContext) -> Any:
    arity("templatefile", args, 2)
    p = _path(fc, "templatefile", args[0])
    try:
        text = p.read_text(encoding="utf-8")
    except OSError:
        raise bad("templatefile", f"no file exists at {p}") from None
    return fc.render_template(text, mapping("templatefile", args[1]), str(p))


def call(name: str, args: list[Any], fc: FunctionContext) -> Any:
    if name in UNKNOWABLE:
        return Unknown(f"{name}() is only known when Terraform runs")
    f = FUNCTIONS.get(name)
    if f is None:
        raise Unsupported("Unsupported function", f"{name}() is not evaluated offline by refit")
    return f(args, fc)
