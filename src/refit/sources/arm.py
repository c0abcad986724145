"""An ARM template (JSON; Bicep compiles to it: `az bicep build`) with its parameters file -> ARM documents.

What is resolved: parameters (parameters file, then defaultValue), variables, the expression subset of
`armexpr`, resource `condition`, resource and property `copy` loops, child resources (nested `resources`
and `a/b/c` names), symbolic-name templates (`languageVersion` 2.0, resources as an object; `existing`
resources are references, not created), inline nested deployments (`Microsoft.Resources/deployments`
with `properties.template`, inner or outer expression scope). A value refit cannot compute is recorded as
unresolved at its path: the checks that read it report `unknown` (never a false pass or fail).
Linked templates (`templateLink`) and user-defined functions are not followed: noted, and their
resources are absent.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from refit.arm.errors import UserError
from refit.arm.location import normalize as normalize_location
from refit.arm.world import World
from refit.sources.armexpr import Scope, Unresolvable, evaluate_string, is_expression
from refit.sources.base import Origin, Source, canonical_type

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "template-rg"
_MISSING = object()


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise UserError(f"{what} '{path}' does not exist")
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise UserError(f"{path}: not valid JSON ({e}); for Bicep run `az bicep build --file main.bicep` first") from e


def load(template: Path, parameters: Path | None = None, subscription: str | None = None,
         resource_group: str | None = None, location: str | None = None) -> Source:
    doc = _read_json(template, "template")
    if not isinstance(doc, dict) or "resources" not in doc:
        raise UserError(f"{template}: not an ARM template (no 'resources'); for Bicep run `az bicep build` first")
    values: dict[str, Any] = {}
    if parameters is not None:
        p = _read_json(parameters, "parameters file")
        if not isinstance(p, dict):
            raise UserError(f"{parameters}: expected a parameters file ({{\"parameters\": {{\"name\": {{\"value\": ...}}}}}})")
        values = p.get("parameters", p) if isinstance(p.get("parameters", p), dict) else {}
    src = Source("arm", f"template {template}" + (f" with {parameters}" if parameters else ""), World())
    loader = _Template(src, template, template.read_text())
    loader.run(doc, values, subscription or DEFAULT_SUBSCRIPTION, resource_group or DEFAULT_RESOURCE_GROUP,
               normalize_location(location) if location else None)
    if not location:
        src.notes.append("resourceGroup().location is unknown (pass --location to resolve it)")
    return src


class _Template:
    def __init__(self, src: Source, path: Path, text: str):
        self.src = src
        self.path = path
        self.text = text
        self.lines = text.splitlines()
        self.counter = 0

    # ---- one template scope (the root, or an inner-scoped nested deployment) -------------------------------
    def run(self, doc: dict[str, Any], values: dict[str, Any], sub: str, rg: str, location: str | None) -> None:
        params_decl = doc.get("parameters") or {}
        vars_decl = doc.get("variables") or {}
        pcache: dict[str, Any] = {}
        vcache: dict[str, Any] = {}
        busy: set[str] = set()

        def parameter(name: str) -> Any:
            key = next((k for k in params_decl if k.lower() == name.lower()), None)
            if key is None:
                raise Unresolvable(f"parameter '{name}' is not declared")
            if key in pcache:
                return pcache[key]
            given = next((val for k, val in values.items() if k.lower() == key.lower()), _MISSING)
            if given is not _MISSING:
                if isinstance(given, dict) and "reference" in given:
                    raise Unresolvable(f"parameter '{key}' is a Key Vault reference")
                val = given.get("value") if isinstance(given, dict) and "value" in given else given
            elif "defaultValue" in (params_decl[key] or {}):
                if key in busy:
                    raise Unresolvable(f"parameter '{key}' refers to itself")
                busy.add(key)
                try:
                    val = self.resolve_value(params_decl[key]["defaultValue"], scope)
                finally:
                    busy.discard(key)
            else:
                raise Unresolvable(f"parameter '{key}' has no value (give it in --parameters)")
            pcache[key] = val
            return val

        def variable(name: str) -> Any:
            key = next((k for k in vars_decl if k.lower() == name.lower()), None)
            if key is None:
                raise Unresolvable(f"variable '{name}' is not declared")
            if key not in vcache:
                if key in busy:
                    raise Unresolvable(f"variable '{key}' refers to itself")
                busy.add(key)
                try:
                    vcache[key] = self.resolve_value(vars_decl[key], scope)
                finally:
                    busy.discard(key)
            return vcache[key]

        scope = Scope(parameter, variable, sub, rg, location, {})
        if doc.get("functions"):
            self.src.notes.append(f"{self.path}: user-defined functions are not evaluated; values using them are unknown")
        resources = doc.get("resources") or []
        items = list(resources.items()) if isinstance(resources, dict) else [(None, r) for r in resources]
        for symbolic, res in items:
            if isinstance(res, dict):
                self.resource(res, scope, symbolic, parent=None)

    # ---- values ---------------------------------------------------------------------------------------
    def resolve_value(self, value: Any, scope: Scope) -> Any:
        """Evaluate every expression in a value; raises Unresolvable on the first that cannot be."""
        if isinstance(value, str):
            return evaluate_string(value, scope)
        if isinstance(value, list):
            return [self.resolve_value(v, scope) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve_value(v, scope) for k, v in value.items()}
        return value

    def resolve_tree(self, value: Any, scope: Scope, path: str, unresolved: dict[str, str]) -> Any:
        """Evaluate a value, recording each unresolvable sub-value at its path (and dropping it)."""
        if isinstance(value, str):
            try:
                return evaluate_string(value, scope)
            except Unresolvable as e:
                unresolved[path] = str(e)
                return _MISSING
        if isinstance(value, list):
            out = []
            for i, v in enumerate(value):
                r = self.resolve_tree(v, scope, f"{path}[{i}]", unresolved)
                out.append(None if r is _MISSING else r)
            return out
        if isinstance(value, dict):
            value = self.property_copies(value, scope, path, unresolved)
            out_d = {}
            for k, v in value.items():
                r = self.resolve_tree(v, scope, f"{path}.{k}" if path else k, unresolved)
                if r is not _MISSING:
                    out_d[k] = r
            return out_d
        return value

    def property_copies(self, value: dict[str, Any], scope: Scope, path: str,
                        unresolved: dict[str, str]) -> dict[str, Any]:
        loops = value.get("copy")
        if not isinstance(loops, list) or not all(isinstance(c, dict) and "input" in c for c in loops):
            return value
        out = {k: v for k, v in value.items() if k != "copy"}
        for c in loops:
            name = c.get("name") or ""
            where = f"{path}.{name}" if path else name
            try:
                n = int(self.resolve_value(c.get("count", 0), scope))
            except (Unresolvable, TypeError, ValueError) as e:
                unresolved[where] = f"copy count: {e}"
                continue
            items = []
            for i in range(n):
                inner = Scope(scope.parameter, scope.variable, scope.subscription_id, scope.resource_group,
                              scope.location, {**scope.copy_index, name: i})
                items.append(self.resolve_tree(copy.deepcopy(c["input"]), inner, f"{where}[{i}]", unresolved))
            out[name] = items
        return out

    # ---- resources ------------------------------------------------------------------------------------------
    def resource(self, res: dict[str, Any], scope: Scope, symbolic: str | None,
                 parent: tuple[str, str] | None) -> None:
        if res.get("existing"):
            return
        loop = res.get("copy")
        if isinstance(loop, dict):
            name = loop.get("name") or ""
            try:
                n = int(self.resolve_value(loop.get("count", 0), scope))
            except (Unresolvable, TypeError, ValueError) as e:
                self._unknown_resource(res, scope, parent, f"copy count: {e}", symbolic)
                return
            for i in range(n):
                inner = Scope(scope.parameter, scope.variable, scope.subscription_id, scope.resource_group,
                              scope.location, {**scope.copy_index, name: i})
                self.one(res, inner, symbolic, parent)
            return
        self.one(res, scope, symbolic, parent)

    def one(self, res: dict[str, Any], scope: Scope, symbolic: str | None, parent: tuple[str, str] | None) -> None:
        cond_whole = None
        if "condition" in res:
            try:
                if not _truthy(self.resolve_value(res["condition"], scope)):
                    return
            except Unresolvable as e:
                cond_whole = f"condition: {e}"
        try:
            rtype = str(self.resolve_value(res.get("type", ""), scope))
            name = str(self.resolve_value(res.get("name", ""), scope))
        except Unresolvable as e:
            self._unknown_resource(res, scope, parent, f"name: {e}", symbolic)
            return
        if parent is not None:
            rtype = f"{parent[0]}/{rtype}"
            name = f"{parent[1]}/{name}"
        if rtype.lower() == "microsoft.resources/deployments":
            self.nested(res, scope)
            return
        if res.get("scope"):
            self.src.notes.append(f"{self.path}: extension resource {rtype} '{name}' (scope) not checked")
            return
        rid = _make_id(scope, rtype, name)
        unresolved: dict[str, str] = {}
        doc: dict[str, Any] = {"id": rid, "name": name.split("/")[-1], "type": canonical_type(rtype)}
        for key in ("location", "zones", "sku", "tags", "identity", "kind", "plan", "properties", "extendedLocation",
                    "managedBy"):
            if key in res:
                val = self.resolve_tree(res[key], scope, key, unresolved)
                if val is not _MISSING:
                    doc[key] = val
        if isinstance(doc.get("location"), str):
            doc["location"] = normalize_location(doc["location"])
        if cond_whole:
            unresolved[""] = cond_whole
        self.src.world.add(doc)
        for p, why in unresolved.items():
            self.src.mark(rid, p, why)
        self.src.origins[rid.lower()] = Origin(str(self.path), self._line(res), symbolic or str(res.get("name")))
        for child in res.get("resources") or []:
            if isinstance(child, dict):
                ctype = str(child.get("type", ""))
                # a child declares its type relative to the parent ("extensions") or in full
                rel = ctype.count("/") == 0
                self.resource(child, scope, None, (rtype, name) if rel else None)

    def nested(self, res: dict[str, Any], scope: Scope) -> None:
        props = res.get("properties") or {}
        if not isinstance(props.get("template"), dict):
            self.src.notes.append(f"{self.path}: nested deployment '{res.get('name')}' links a template "
                                  "(templateLink) that is not followed")
            return
        sub, rg = scope.subscription_id, scope.resource_group
        try:
            if res.get("subscriptionId"):
                sub = str(self.resolve_value(res["subscriptionId"], scope))
            if res.get("resourceGroup"):
                rg = str(self.resolve_value(res["resourceGroup"], scope))
        except Unresolvable as e:
            self.src.notes.append(f"{self.path}: nested deployment '{res.get('name')}' target unknown ({e}); skipped")
            return
        inner_scope = ((props.get("expressionEvaluationOptions") or {}).get("scope") or "outer").lower() == "inner"
        if inner_scope:
            values: dict[str, Any] = {}
            for k, v in (props.get("parameters") or {}).items():
                if isinstance(v, dict) and "value" in v:
                    try:
                        values[k] = {"value": self.resolve_value(v["value"], scope)}
                    except Unresolvable:
                        continue  # the inner parameter stays unresolved
            self.run(props["template"], values, sub, rg, scope.location if rg == scope.resource_group else None)
        else:
            outer = Scope(scope.parameter, scope.variable, sub, rg, scope.location, scope.copy_index)
            for r in props["template"].get("resources") or []:
                if isinstance(r, dict):
                    self.resource(r, outer, None, None)

    def _unknown_resource(self, res: dict[str, Any], scope: Scope, parent: tuple[str, str] | None, why: str,
                          symbolic: str | None) -> None:
        rtype = str(res.get("type") or "")
        if is_expression(rtype) or not rtype:
            self.src.notes.append(f"{self.path}: a resource of unknown type was skipped ({why})")
            return
        if parent is not None:
            rtype = f"{parent[0]}/{rtype}"
        self.counter += 1
        segs = rtype.count("/")
        name = "/".join(f"unresolved-{self.counter}" for _ in range(segs))
        rid = _make_id(scope, rtype, name)
        self.src.world.add({"id": rid, "name": name.split("/")[-1], "type": canonical_type(rtype)})
        self.src.mark(rid, "", why)
        self.src.origins[rid.lower()] = Origin(str(self.path), self._line(res), symbolic or str(res.get("name")))

    def _line(self, res: dict[str, Any]) -> int | None:
        raw = res.get("name")
        if not isinstance(raw, str):
            return None
        needle = re.compile(r'"name"\s*:\s*' + re.escape(json.dumps(raw)))
        for i, line in enumerate(self.lines, 1):
            if needle.search(line):
                return i
        return None


def _truthy(v: Any) -> bool:
    return v.lower() == "true" if isinstance(v, str) else bool(v)


def _make_id(scope: Scope, rtype: str, name: str) -> str:
    ns, *types = rtype.split("/")
    names = name.split("/")
    if len(types) != len(names):
        names = (names + ["unnamed"] * len(types))[: len(types)]
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    if rtype.lower() == "microsoft.resources/resourcegroups":
        return f"/subscriptions/{scope.subscription_id}/resourceGroups/{name}"
    return f"/subscriptions/{scope.subscription_id}/resourceGroups/{scope.resource_group}/providers/{ns}/{tail}"
