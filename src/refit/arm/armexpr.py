"""ARM template expressions: the one evaluator refit has (the doctor reads templates offline with it, the
platform deploys them with it).

Grammar (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions):
a string value that starts with `[` and ends with `]` is an expression (`[[` escapes a literal `[`);
an expression is a function call with string ('...', '' escapes a quote), number, nested call arguments,
then `.property` and `[index]` accessors. Functions that depend on the deployment or on other resources'
runtime state (reference, list*, newGuid, utcNow, uniqueString, guid, environment, deployment...) raise
`Unresolvable` unless the scope carries a `Runtime` (a deployment in progress answers reference(),
deployment(), uniqueString(), the full resourceGroup() and subscription()); offline, the checks that read
the value they feed become `unknown`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Unresolvable(Exception):
    """The value cannot be known before deployment (or refit does not implement the function)."""


class ExprSyntaxError(ValueError):
    pass


# ---- parsing -------------------------------------------------------------------------------------------
@dataclass
class Call:
    name: str
    args: list[Any]


@dataclass
class Access:
    target: Any
    key: Any  # str for .prop, a node for [expr]


@dataclass
class Lit:
    value: Any


def is_expression(s: Any) -> bool:
    return isinstance(s, str) and s.startswith("[") and s.endswith("]") and not s.startswith("[[")


def parse(text: str) -> Any:
    """Parse the inside of `[...]`."""
    toks: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprSyntaxError(f"unexpected character at {pos} in '{text}'")
        kind = m.lastgroup or ""
        toks.append((kind, m.group(kind)))
        pos = m.end()
    node, i = _parse_expr(toks, 0, text)
    if i != len(toks):
        raise ExprSyntaxError(f"unexpected '{toks[i][1]}' in '{text}'")
    return node


def _parse_expr(toks: list[tuple[str, str]], i: int, text: str) -> tuple[Any, int]:
    if i >= len(toks):
        raise ExprSyntaxError(f"unexpected end of '{text}'")
    kind, val = toks[i]
    if kind == "str":
        node: Any = Lit(val[1:-1].replace("''", "'"))
        i += 1
    elif kind == "num":
        node = Lit(float(val) if "." in val else int(val))
        i += 1
    elif kind == "ident":
        # `a.b` from the tokenizer: a function name never has dots; split property access after a call.
        name = val
        i += 1
        if i >= len(toks) or toks[i][1] != "(":
            raise ExprSyntaxError(f"'{name}' is not a function call in '{text}'")
        i += 1
        args = []
        if toks[i][1] != ")":
            while True:
                a, i = _parse_expr(toks, i, text)
                args.append(a)
                if i < len(toks) and toks[i][1] == ",":
                    i += 1
                    continue
                break
        if i >= len(toks) or toks[i][1] != ")":
            raise ExprSyntaxError(f"missing ')' in '{text}'")
        i += 1
        node = Call(name.lower(), args)
    else:
        raise ExprSyntaxError(f"unexpected '{val}' in '{text}'")
    # accessors
    while i < len(toks):
        kind, val = toks[i]
        if kind == "ident" and val.startswith("."):
            for part in val.strip(".").split("."):
                node = Access(node, part)
            i += 1
        elif val == "[":
            k, i = _parse_expr(toks, i + 1, text)
            if i >= len(toks) or toks[i][1] != "]":
                raise ExprSyntaxError(f"missing ']' in '{text}'")
            node = Access(node, k)
            i += 1
        else:
            break
    return node, i


# Accessors after ')' arrive as ".prop" identifiers.
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<ident>\.?[A-Za-z_$][A-Za-z0-9_.$]*)"
                    r"|(?P<punct>[(),\[\]]))")


# ---- evaluation ---------------------------------------------------------------------------------------------
class Runtime(Protocol):
    """What a deployment in progress answers (refit.platform.effects.deployments); offline there is none."""

    def reference(self, target: str, api_version: str | None, full: bool) -> Any: ...
    def deployment(self) -> dict[str, Any]: ...
    def resource_group(self) -> dict[str, Any]: ...
    def subscription(self) -> dict[str, Any]: ...
    def providers(self, namespace: str, resource_type: str | None) -> Any: ...


@dataclass
class Scope:
    """What expressions see: parameter and variable lookups, the deployment target, copy indexes, and the
    deployment's runtime (None offline)."""

    parameter: Callable[[str], Any]
    variable: Callable[[str], Any]
    subscription_id: str
    resource_group: str
    location: str | None  # resourceGroup().location, when known
    copy_index: dict[str, int]
    runtime: Runtime | None = None


RUNTIME = {"reference", "newguid", "utcnow", "uniquestring", "guid", "environment", "deployment", "tenant",
           "managementgroup", "pickzones", "providers", "listkeys", "listsecrets", "listaccountsas",
           "listservicesas", "list", "managementgroupresourceid", "tenantresourceid", "datetimeadd",
           "datetimefromepoch", "datetimetoepoch", "loadtextcontent", "loadfileasbase64", "loadjsoncontent"}


def evaluate_string(s: str, scope: Scope) -> Any:
    if s.startswith("[["):
        return s[1:]
    if not is_expression(s):
        return s
    try:
        node = parse(s[1:-1])
    except ExprSyntaxError as e:
        raise Unresolvable(f"cannot parse {s}: {e}") from e
    return _eval(node, scope)


def _eval(node: Any, sc: Scope) -> Any:
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Access):
        target = _eval(node.target, sc)
        key = node.key if isinstance(node.key, str) else _eval(node.key, sc)
        if isinstance(target, dict):
            if isinstance(key, str):
                for k, v in target.items():
                    if k.lower() == key.lower():
                        if v is _UNKNOWN_LOCATION:
                            raise Unresolvable("resourceGroup().location: the target resource group's region "
                                               "(give it with --location)")
                        return v
            raise Unresolvable(f"property '{key}' not found")
        if isinstance(target, list | str) and isinstance(key, int):
            try:
                return target[key]
            except IndexError as e:
                raise Unresolvable(f"index {key} out of range") from e
        raise Unresolvable(f"cannot access '{key}'")
    assert isinstance(node, Call)
    name = node.name
    if sc.runtime is not None and name in AT_DEPLOYMENT:
        fn = AT_DEPLOYMENT[name]
        args = [_eval(a, sc) for a in node.args]
        try:
            return fn(sc, *args)
        except Unresolvable:
            raise
        except (TypeError, ValueError, KeyError, IndexError) as e:
            raise Unresolvable(f"{name}() failed: {e}") from e
    if name in RUNTIME or name.startswith("list"):
        raise Unresolvable(f"{name}() is only known at deployment")
    if name == "if":  # lazy
        if len(node.args) != 3:
            raise Unresolvable("if() takes 3 arguments")
        return _eval(node.args[1] if _truthy(_eval(node.args[0], sc)) else node.args[2], sc)
    args = [_eval(a, sc) for a in node.args]
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise Unresolvable(f"{name}() is not supported by refit")
    try:
        return fn(sc, *args)
    except Unresolvable:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError) as e:
        raise Unresolvable(f"{name}() failed: {e}") from e


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v)


def _str(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, dict | list):
        return json.dumps(v, separators=(",", ":"))
    return "" if v is None else str(v)


def _format(sc: Scope, fmt: str, *args: Any) -> str:
    def rep(m: re.Match[str]) -> str:
        val = args[int(m.group(1))]
        spec = m.group(2) or ""
        if spec[:1] in ("D", "d") and isinstance(val, int):  # .NET "D2": zero-padded integer
            return str(val).zfill(int(spec[1:] or 0))
        return _str(val)

    return re.sub(r"\{(\d+)(?::([^}]*))?\}", rep, fmt)


def _resource_id(sc: Scope, *args: Any) -> str:
    args_s = [str(a) for a in args]
    idx = next((i for i, a in enumerate(args_s) if "/" in a and "." in a.split("/")[0]), None)
    if idx is None:
        raise Unresolvable("resourceId() needs a resource type")
    sub, rg = sc.subscription_id, sc.resource_group
    if idx == 1:
        rg = args_s[0]
    elif idx == 2:
        sub, rg = args_s[0], args_s[1]
    rtype, names = args_s[idx], args_s[idx + 1:]
    ns, *types = rtype.split("/")
    if len(types) != len(names):
        raise Unresolvable(f"resourceId('{rtype}') needs {len(types)} names")
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{tail}"


def _subscription_resource_id(sc: Scope, *args: Any) -> str:
    args_s = [str(a) for a in args]
    sub = sc.subscription_id
    if args_s and "/" not in args_s[0]:
        sub, args_s = args_s[0], args_s[1:]
    ns, *types = args_s[0].split("/")
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, args_s[1:], strict=True))
    return f"/subscriptions/{sub}/providers/{ns}/{tail}"


def _extension_resource_id(sc: Scope, scope_id: str, rtype: str, *names: Any) -> str:
    ns, *types = rtype.split("/")
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"{scope_id.rstrip('/')}/providers/{ns}/{tail}"


class _UnknownLocation:
    """resourceGroup().location when the deployment target's region was not given (--location)."""


_UNKNOWN_LOCATION = _UnknownLocation()


def _rg(sc: Scope) -> dict[str, Any]:
    return {"name": sc.resource_group, "id": f"/subscriptions/{sc.subscription_id}/resourceGroups/{sc.resource_group}",
            "location": sc.location if sc.location is not None else _UNKNOWN_LOCATION}


def _copy_index(sc: Scope, *args: Any) -> int:
    offset = 0
    loop = None
    for a in args:
        if isinstance(a, int):
            offset = a
        else:
            loop = str(a)
    key = loop or ""
    if key not in sc.copy_index:
        if loop is None and len(sc.copy_index) == 1:
            key = next(iter(sc.copy_index))
        else:
            raise Unresolvable(f"copyIndex({loop or ''}) outside its copy loop")
    return sc.copy_index[key] + offset


def _union(sc: Scope, *args: Any) -> Any:
    if all(isinstance(a, dict) for a in args):
        out: dict[str, Any] = {}
        for a in args:
            out.update(a)
        return out
    out_l: list[Any] = []
    for a in args:
        for x in a:
            if x not in out_l:
                out_l.append(x)
    return out_l


def _concat(sc: Scope, *args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(_str(a) for a in args)


def _contains(sc: Scope, container: Any, item: Any) -> bool:
    if isinstance(container, dict):
        return any(k.lower() == str(item).lower() for k in container)
    if isinstance(container, str):
        return str(item).lower() in container.lower()
    return item in container


def _int(sc: Scope, v: Any) -> int:
    return int(v)


def _bool(sc: Scope, v: Any) -> bool:
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v)


def _equals(sc: Scope, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a == b  # equals() is case-sensitive for strings
    return a == b


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "parameters": lambda sc, n: sc.parameter(n),
    "variables": lambda sc, n: sc.variable(n),
    "concat": _concat,
    "format": _format,
    "tolower": lambda sc, s: str(s).lower(),
    "toupper": lambda sc, s: str(s).upper(),
    "string": lambda sc, v: _str(v),
    "int": _int,
    "bool": _bool,
    "float": lambda sc, v: float(v),
    "json": lambda sc, s: json.loads(s),
    "length": lambda sc, v: len(v),
    "empty": lambda sc, v: v is None or len(v) == 0,
    "contains": _contains,
    "startswith": lambda sc, s, p: str(s).lower().startswith(str(p).lower()),
    "endswith": lambda sc, s, p: str(s).lower().endswith(str(p).lower()),
    "replace": lambda sc, s, a, b: str(s).replace(str(a), str(b)),
    "split": lambda sc, s, d: str(s).split(d) if isinstance(d, str) else re.split("|".join(map(re.escape, d)), s),
    "join": lambda sc, a, d: str(d).join(_str(x) for x in a),
    "substring": lambda sc, s, start, n=None: str(s)[start:] if n is None else str(s)[start:start + n],
    "trim": lambda sc, s: str(s).strip(),
    "padleft": lambda sc, s, n, c=" ": _str(s).rjust(int(n), str(c)),
    "first": lambda sc, v: v[0],
    "last": lambda sc, v: v[-1],
    "take": lambda sc, v, n: v[: int(n)],
    "skip": lambda sc, v, n: v[int(n):],
    "indexof": lambda sc, s, x: str(s).lower().find(str(x).lower()),
    "union": _union,
    "intersection": lambda sc, a, b: [x for x in a if x in b] if isinstance(a, list) else {k: v for k, v in a.items() if b.get(k) == v},
    "createarray": lambda sc, *a: list(a),
    "array": lambda sc, v: v if isinstance(v, list) else [v],
    "createobject": lambda sc, *a: {str(a[i]): a[i + 1] for i in range(0, len(a), 2)},
    "coalesce": lambda sc, *a: next((x for x in a if x is not None), None),
    "equals": _equals,
    "not": lambda sc, v: not _truthy(v),
    "and": lambda sc, *a: all(_truthy(x) for x in a),
    "or": lambda sc, *a: any(_truthy(x) for x in a),
    "less": lambda sc, a, b: a < b,
    "lessorequals": lambda sc, a, b: a <= b,
    "greater": lambda sc, a, b: a > b,
    "greaterorequals": lambda sc, a, b: a >= b,
    "add": lambda sc, a, b: a + b,
    "sub": lambda sc, a, b: a - b,
    "mul": lambda sc, a, b: a * b,
    "div": lambda sc, a, b: a // b,
    "mod": lambda sc, a, b: a % b,
    "min": lambda sc, *a: min(a[0]) if len(a) == 1 else min(a),
    "max": lambda sc, *a: max(a[0]) if len(a) == 1 else max(a),
    "range": lambda sc, start, n: list(range(int(start), int(start) + int(n))),
    "true": lambda sc: True,
    "false": lambda sc: False,
    "null": lambda sc: None,
    "base64": lambda sc, s: base64.b64encode(str(s).encode()).decode(),
    "base64tostring": lambda sc, s: base64.b64decode(str(s)).decode(),
    "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "extensionresourceid": _extension_resource_id,
    "resourcegroup": lambda sc: _rg(sc),
    "subscription": lambda sc: {"subscriptionId": sc.subscription_id, "id": f"/subscriptions/{sc.subscription_id}"},
    "copyindex": _copy_index,
}


# ---- functions a deployment answers (Scope.runtime) ----------------------------------------------------------
def unique_string(*values: Any) -> str:
    """ARM's uniqueString(): the values joined with '-', hashed to 64 bits, 13 characters of RFC 4648 base32
    (lowercase). Azure does not publish the hash; this is the MurmurHash3-style 64-bit variant public
    reimplementations use, checked against outputs Azure returned (Kingsland.ArmLinter
    ArmFunctions_UniqueString.cs: uniqueString('aaa') = 'zavj67f3en4hc', ('xxx', 'yyy', 'zzz') = 'lghi7k5js7itq')."""
    if not values or not all(isinstance(v, str) for v in values):
        raise Unresolvable("uniqueString() takes one or more strings")
    data = "-".join(values).encode()
    h = _hash64(data)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    # 13 groups of 5 bits, most significant first; the last group has the low 4 bits and a zero.
    return "".join(alphabet[((h << (5 * i)) & _M64) >> 59] for i in range(13))


_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_C1, _C2, _C3, _C4 = 0xAB0E9789, 0x239B961B, 0x85EBCA6B, 0xC2B2AE35


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _mix(x: int) -> int:
    x = ((x ^ (x >> 16)) * _C3) & _M32
    x = ((x ^ (x >> 13)) * _C4) & _M32
    return x ^ (x >> 16)


def _hash64(data: bytes) -> int:
    n = len(data)
    h1 = h2 = 0
    full = n - n % 8
    for i in range(0, full, 8):
        k1 = int.from_bytes(data[i:i + 4], "little")
        k2 = int.from_bytes(data[i + 4:i + 8], "little")
        h1 = (_rotl(h1 ^ (_rotl(k1 * _C2 & _M32, 15) * _C1 & _M32), 19) + h2) & _M32
        h1 = (h1 * 5 + 0x561CCD1B) & _M32
        h2 = (_rotl(h2 ^ (_rotl(k2 * _C1 & _M32, 17) * _C2 & _M32), 13) + h1) & _M32
        h2 = (h2 * 5 + 0x0BCAA747) & _M32
    tail = data[full:]
    if tail:
        h1 ^= _rotl(int.from_bytes(tail[:4], "little") * _C2 & _M32, 15) * _C1 & _M32
        if len(tail) > 4:
            h2 ^= _rotl(int.from_bytes(tail[4:], "little") * _C1 & _M32, 17) * _C2 & _M32
    r0 = (h2 ^ n) & _M32
    r1 = ((h1 ^ n) + r0) & _M32
    r2 = (r0 + r1) & _M32
    r1, r2 = _mix(r1), _mix(r2)
    r1 = (r1 + r2) & _M32
    r2 = (r2 + r1) & _M32
    return (r2 << 32) | r1


def _reference(sc: Scope, target: Any, api_version: Any = None, full: Any = None) -> Any:
    assert sc.runtime is not None
    return sc.runtime.reference(str(target), str(api_version) if api_version else None,
                                str(full or "").lower() == "full")


AT_DEPLOYMENT: dict[str, Callable[..., Any]] = {
    "reference": _reference,
    "uniquestring": lambda sc, *a: unique_string(*a),
    "deployment": lambda sc: sc.runtime.deployment(),
    "resourcegroup": lambda sc: sc.runtime.resource_group(),
    "subscription": lambda sc: sc.runtime.subscription(),
    "tenant": lambda sc: {"tenantId": sc.runtime.subscription().get("tenantId")},
    "providers": lambda sc, ns, rtype=None: sc.runtime.providers(str(ns), str(rtype) if rtype else None),
}
