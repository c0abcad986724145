"""ARM templates: one template scope (parameters, variables, the expression scope) and the resources it
declares, expanded (copy loops, conditions, child resources), for the two readers refit has: the doctor's
offline source (refit.sources.arm, which records what it cannot compute and carries on) and the platform's
template deployments (refit.platform.effects.deployments, which computes everything or fails as ARM does).

Template syntax: https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax (parameters with
defaultValue / allowedValues, variables including `copy` loops, resources with `condition`, `copy`, `dependsOn`,
nested child `resources`, symbolic-name templates with `languageVersion` 2.0), and
https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-properties (property copy).
The expressions are refit.arm.armexpr's.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from refit.arm.armexpr import Runtime, Scope, Unresolvable, evaluate_string

MISSING: Any = object()  # a value that could not be computed (dropped from the document)

# ARM's names for the parameter types (the deployment's `parameters` and `outputs` echo them capitalised).
TYPE_NAMES = {"string": "String", "securestring": "SecureString", "int": "Int", "bool": "Bool", "object": "Object",
              "secureobject": "SecureObject", "array": "Array"}
SECURE = ("securestring", "secureobject")


class TemplateError(Exception):
    """A template ARM refuses before deploying anything. `kind` names the refusal (the platform's catalog has
    one rule per kind, with ARM's wording); `fields` fill its message."""

    def __init__(self, kind: str, **fields: Any):
        super().__init__(f"{kind}: {fields}")
        self.kind = kind
        self.fields = fields


@dataclass
class Declared:
    """One resource a template declares, at one copy index: its declaration, the scope its expressions see,
    its full type and name (a nested child's prefixed with its parent's), or why they cannot be computed."""

    decl: dict[str, Any]
    scope: Scope
    symbolic: str | None
    rtype: str
    name: str
    loop: str | None = None  # the copy loop that made it
    parent: tuple[str, str] | None = None  # (type, name) of the resource it is nested in
    unknown: str | None = None  # type or name not computable (offline only)
    condition_unknown: str | None = None  # condition not computable (offline only)
    skipped: bool = False  # its condition is false: declared, not deployed (a dependsOn on it is ignored)


class Template:
    """One template scope: the root template, or a nested deployment's inner-scoped template."""

    def __init__(self, doc: dict[str, Any], values: dict[str, Any], subscription: str, resource_group: str,
                 location: str | None, runtime: Runtime | None = None):
        self.doc = doc
        self.values = values
        self.params_decl: dict[str, Any] = doc.get("parameters") or {}
        self.vars_decl: dict[str, Any] = doc.get("variables") or {}
        self._pcache: dict[str, Any] = {}
        self._vcache: dict[str, Any] = {}
        self._busy: set[str] = set()
        self.scope = Scope(self.parameter, self.variable, subscription, resource_group, location, {}, runtime)

    # ---- parameters and variables ------------------------------------------------------------------
    def declared_parameter(self, name: str) -> str | None:
        return next((k for k in self.params_decl if k.lower() == name.lower()), None)

    def given(self, key: str) -> Any:
        """The value given for a declared parameter (MISSING if none); a Key Vault reference is unresolvable."""
        given = next((val for k, val in self.values.items() if k.lower() == key.lower()), MISSING)
        if given is MISSING:
            return MISSING
        if isinstance(given, dict) and "reference" in given:
            raise Unresolvable(f"parameter '{key}' is a Key Vault reference")
        return given.get("value") if isinstance(given, dict) and "value" in given else given

    def parameter(self, name: str) -> Any:
        key = self.declared_parameter(name)
        if key is None:
            raise Unresolvable(f"parameter '{name}' is not declared")
        if key in self._pcache:
            return self._pcache[key]
        val = self.given(key)
        if val is MISSING:
            if "defaultValue" not in (self.params_decl[key] or {}):
                raise Unresolvable(f"parameter '{key}' has no value (give it in --parameters)")
            if key in self._busy:
                raise Unresolvable(f"parameter '{key}' refers to itself")
            self._busy.add(key)
            try:
                val = self.value(self.params_decl[key]["defaultValue"])
            finally:
                self._busy.discard(key)
        self._pcache[key] = val
        return val

    def variable(self, name: str) -> Any:
        loops = {c.get("name", "").lower(): c for c in self.vars_decl.get("copy") or [] if isinstance(c, dict)}
        key = next((k for k in self.vars_decl if k != "copy" and k.lower() == name.lower()), None)
        if key is None and name.lower() not in loops:
            raise Unresolvable(f"variable '{name}' is not declared")
        cache_key = key or name.lower()
        if cache_key not in self._vcache:
            if cache_key in self._busy:
                raise Unresolvable(f"variable '{name}' refers to itself")
            self._busy.add(cache_key)
            try:
                if key is not None:
                    self._vcache[cache_key] = self.value(self.vars_decl[key])
                else:  # a variable copy loop: `variables.copy[{name, count, input}]`
                    loop = loops[name.lower()]
                    n = int(self.value(loop.get("count", 0)))
                    self._vcache[cache_key] = [self.value(copy.deepcopy(loop.get("input")), self.at(self.scope, loop["name"], i))
                                               for i in range(n)]
            finally:
                self._busy.discard(cache_key)
        return self._vcache[cache_key]

    def check_parameters(self) -> None:
        """ARM's checks of the parameter values before anything deploys: every given parameter is declared,
        every declared one has a value, and a value is one of the allowedValues and of the declared type."""
        unknown = [k for k in self.values if self.declared_parameter(k) is None]
        if unknown:
            raise TemplateError("unknown-parameter", names=", ".join(unknown),
                                declared=", ".join(self.params_decl))
        for key, spec in self.params_decl.items():
            spec = spec or {}
            if self.given(key) is MISSING and "defaultValue" not in spec:
                raise TemplateError("missing-parameter", name=key)
            try:
                val = self.parameter(key)
            except Unresolvable:
                continue  # a default needing the runtime: evaluated (and refused) where it is used
            expected = str(spec.get("type") or "string").lower()
            if not _is_type(val, expected):
                raise TemplateError("parameter-type", name=key, expected=_JTOKEN.get(expected, expected),
                                    actual=_jtoken(val))
            allowed = spec.get("allowedValues")
            if isinstance(allowed, list) and not _allowed(val, allowed):
                raise TemplateError("parameter-not-allowed", name=key, value=_show(val),
                                    allowed=",".join(_show(a) for a in allowed))

    # ---- values --------------------------------------------------------------------------------------
    def at(self, scope: Scope, loop: str, index: int) -> Scope:
        return dataclasses.replace(scope, copy_index={**scope.copy_index, loop: index})

    def value(self, value: Any, scope: Scope | None = None) -> Any:
        """Every expression in a value evaluated, property copy loops expanded; Unresolvable on the first that
        cannot be."""
        return self.tree(value, scope or self.scope, "", None)

    def tree(self, value: Any, scope: Scope, path: str, unresolved: dict[str, str] | None) -> Any:
        """Evaluate a value. With `unresolved` (offline), each sub-value that cannot be computed is recorded at its
        path and dropped (MISSING); without it, the first one raises Unresolvable."""
        if isinstance(value, str):
            try:
                return evaluate_string(value, scope)
            except Unresolvable as e:
                if unresolved is None:
                    raise
                unresolved[path] = str(e)
                return MISSING
        if isinstance(value, list):
            out = []
            for i, v in enumerate(value):
                r = self.tree(v, scope, f"{path}[{i}]", unresolved)
                out.append(None if r is MISSING else r)
            return out
        if isinstance(value, dict):
            value = self.property_copies(value, scope, path, unresolved)
            out_d = {}
            for k, v in value.items():
                r = self.tree(v, scope, f"{path}.{k}" if path else k, unresolved)
                if r is not MISSING:
                    out_d[k] = r
            return out_d
        return value

    def property_copies(self, value: dict[str, Any], scope: Scope, path: str,
                        unresolved: dict[str, str] | None) -> dict[str, Any]:
        """`"copy": [{"name", "count", "input"}]` inside an object: each becomes the array property `name`."""
        loops = value.get("copy")
        if not isinstance(loops, list) or not all(isinstance(c, dict) and "input" in c for c in loops):
            return value
        out = {k: v for k, v in value.items() if k != "copy"}
        for c in loops:
            name = c.get("name") or ""
            where = f"{path}.{name}" if path else name
            try:
                n = int(self.value(c.get("count", 0), scope))
            except (Unresolvable, TypeError, ValueError) as e:
                if unresolved is None:
                    raise Unresolvable(f"copy count of '{name}': {e}") from e
                unresolved[where] = f"copy count: {e}"
                continue
            out[name] = [self.tree(copy.deepcopy(c["input"]), self.at(scope, name, i), f"{where}[{i}]", unresolved)
                         for i in range(n)]
        return out

    def condition(self, res: dict[str, Any], scope: Scope) -> bool:
        return "condition" not in res or truthy(self.value(res["condition"], scope))

    # ---- resources -----------------------------------------------------------------------------------
    def resources(self) -> list[tuple[str | None, dict[str, Any]]]:
        res = self.doc.get("resources") or []
        items = list(res.items()) if isinstance(res, dict) else [(None, r) for r in res]
        return [(s, r) for s, r in items if isinstance(r, dict)]

    def declared(self, include_skipped: bool = False) -> Iterator[Declared]:
        """Every resource the template declares, in template order: copy loops expanded, resources whose
        condition is false left out (or, with `include_skipped`, yielded as `skipped`), nested children after their
        parent (type and name prefixed with the parent's). `existing` resources (symbolic-name templates) are
        references, not declarations."""
        for symbolic, res in self.resources():
            yield from self._expand(res, self.scope, symbolic, None, include_skipped)

    def _expand(self, res: dict[str, Any], scope: Scope, symbolic: str | None,
                parent: tuple[str, str] | None, include_skipped: bool = False) -> Iterator[Declared]:
        if res.get("existing"):
            return
        loop = res.get("copy")
        if isinstance(loop, dict):
            name = loop.get("name") or ""
            try:
                n = int(self.value(loop.get("count", 0), scope))
            except (Unresolvable, TypeError, ValueError) as e:
                yield Declared(res, scope, symbolic, str(res.get("type") or ""), "", name, parent,
                               unknown=f"copy count: {e}")
                return
            for i in range(n):
                yield from self._one(res, self.at(scope, name, i), symbolic, parent, name, include_skipped)
            return
        yield from self._one(res, scope, symbolic, parent, None, include_skipped)

    def _one(self, res: dict[str, Any], scope: Scope, symbolic: str | None, parent: tuple[str, str] | None,
             loop: str | None, include_skipped: bool) -> Iterator[Declared]:
        cond_unknown = None
        skipped = False
        try:
            skipped = not self.condition(res, scope)
            if skipped and not include_skipped:
                return
        except Unresolvable as e:
            cond_unknown = f"condition: {e}"
        try:
            rtype = str(self.value(res.get("type", ""), scope))
            name = str(self.value(res.get("name", ""), scope))
        except Unresolvable as e:
            yield Declared(res, scope, symbolic, str(res.get("type") or ""), "", loop, parent, unknown=f"name: {e}")
            return
        if parent is not None:
            rtype, name = f"{parent[0]}/{rtype}", f"{parent[1]}/{name}"
        yield Declared(res, scope, symbolic, rtype, name, loop, parent, condition_unknown=cond_unknown, skipped=skipped)
        if skipped:
            return  # the children of a resource not deployed are not deployed either
        for child in res.get("resources") or []:
            if isinstance(child, dict):
                # A child declares its type relative to the parent ("extensions") or in full.
                relative = str(child.get("type", "")).count("/") == 0
                yield from self._expand(child, scope, None, (rtype, name) if relative else None, include_skipped)


def resource_id(scope: Scope, rtype: str, name: str) -> str:
    """The id a declared resource gets in its template's target resource group."""
    ns, *types = rtype.split("/")
    names = name.split("/")
    if len(types) != len(names):
        names = (names + ["unnamed"] * len(types))[: len(types)]
    if rtype.lower() == "microsoft.resources/resourcegroups":
        return f"/subscriptions/{scope.subscription_id}/resourceGroups/{name}"
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{scope.subscription_id}/resourceGroups/{scope.resource_group}/providers/{ns}/{tail}"


def truthy(v: Any) -> bool:
    return v.lower() == "true" if isinstance(v, str) else bool(v)


# ---- parameter types, as ARM names them in its refusals ------------------------------------------------------
_JTOKEN = {"string": "String, Uri", "securestring": "String, Uri", "int": "Integer", "bool": "Boolean",
           "object": "Object", "secureobject": "Object", "array": "Array"}


def _jtoken(v: Any) -> str:
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, int):
        return "Integer"
    if isinstance(v, float):
        return "Float"
    if isinstance(v, str):
        return "String"
    if isinstance(v, list):
        return "Array"
    if isinstance(v, dict):
        return "Object"
    return "Null"


def _is_type(v: Any, expected: str) -> bool:
    if expected in ("string", "securestring"):
        return isinstance(v, str)
    if expected == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if expected == "bool":
        return isinstance(v, bool)
    if expected in ("object", "secureobject"):
        return isinstance(v, dict)
    if expected == "array":
        return isinstance(v, list)
    return True


def _allowed(v: Any, allowed: list[Any]) -> bool:
    if isinstance(v, list):  # an array parameter: every element must be allowed
        return all(x in allowed for x in v)
    return v in allowed


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    return str(v)
