"""An ARM template (JSON; Bicep compiles to it: `az bicep build`) with its parameters file -> ARM documents.

What is resolved (refit.arm.template, the expander the platform's deployments use too): parameters
(parameters file, then defaultValue), variables, the expression subset of `refit.arm.armexpr`, resource
`condition`, resource and property `copy` loops, child resources (nested `resources` and `a/b/c` names), symbolic-name templates (`languageVersion` 2.0, resources as an object; `existing`
resources are references, not created), inline nested deployments (`Microsoft.Resources/deployments`
with `properties.template`, inner or outer expression scope). A value refit cannot compute is recorded as
unresolved at its path: the checks that read it report `unknown` (never a false pass or fail).
Linked templates (`templateLink`) and user-defined functions are not followed: noted, and their
resources are absent.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from refit.arm.armexpr import Scope, Unresolvable, is_expression
from refit.arm.errors import UserError
from refit.arm.location import normalize as normalize_location
from refit.arm.template import MISSING, Declared, Template, resource_id
from refit.arm.world import World
from refit.sources.base import Origin, Source, canonical_type

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "template-rg"
_MISSING = MISSING


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
    """Reads a template file into the source's World (refit.arm.template expands it; this records what it
    cannot compute, and where each resource was declared)."""

    def __init__(self, src: Source, path: Path, text: str):
        self.src = src
        self.path = path
        self.text = text
        self.lines = text.splitlines()
        self.counter = 0

    # ---- one template scope (the root, or an inner-scoped nested deployment) -------------------------------
    def run(self, doc: dict[str, Any], values: dict[str, Any], sub: str, rg: str, location: str | None) -> None:
        tpl = Template(doc, values, sub, rg, location)
        if doc.get("functions"):
            self.src.notes.append(f"{self.path}: user-defined functions are not evaluated; values using them are unknown")
        self.declarations(tpl, tpl.declared())

    def declarations(self, tpl: Template, items) -> None:
        for d in items:
            if d.unknown is not None:
                self._unknown_resource(d.decl, d.scope, d.parent, d.unknown, d.symbolic)
            else:
                self.one(tpl, d)

    # ---- resources ------------------------------------------------------------------------------------------
    def one(self, tpl: Template, d: Declared) -> None:
        res, scope, rtype, name = d.decl, d.scope, d.rtype, d.name
        if rtype.lower() == "microsoft.resources/deployments":
            self.nested(tpl, res, scope)
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
                val = tpl.tree(res[key], scope, key, unresolved)
                if val is not _MISSING:
                    doc[key] = val
        if isinstance(doc.get("location"), str):
            doc["location"] = normalize_location(doc["location"])
        if d.condition_unknown:
            unresolved[""] = d.condition_unknown
        self.src.world.add(doc)
        for p, why in unresolved.items():
            self.src.mark(rid, p, why)
        self.src.origins[rid.lower()] = Origin(str(self.path), self._line(res), d.symbolic or str(res.get("name")))

    def nested(self, tpl: Template, res: dict[str, Any], scope: Scope) -> None:
        props = res.get("properties") or {}
        if not isinstance(props.get("template"), dict):
            self.src.notes.append(f"{self.path}: nested deployment '{res.get('name')}' links a template "
                                  "(templateLink) that is not followed")
            return
        sub, rg = scope.subscription_id, scope.resource_group
        try:
            if res.get("subscriptionId"):
                sub = str(tpl.value(res["subscriptionId"], scope))
            if res.get("resourceGroup"):
                rg = str(tpl.value(res["resourceGroup"], scope))
        except Unresolvable as e:
            self.src.notes.append(f"{self.path}: nested deployment '{res.get('name')}' target unknown ({e}); skipped")
            return
        inner_scope = ((props.get("expressionEvaluationOptions") or {}).get("scope") or "outer").lower() == "inner"
        if inner_scope:
            values: dict[str, Any] = {}
            for k, v in (props.get("parameters") or {}).items():
                if isinstance(v, dict) and "value" in v:
                    try:
                        values[k] = {"value": tpl.value(v["value"], scope)}
                    except Unresolvable:
                        continue  # the inner parameter stays unresolved
            self.run(props["template"], values, sub, rg, scope.location if rg == scope.resource_group else None)
        else:
            # Outer scope: the nested template's resources see the parent's parameters and variables.
            outer = Template({**tpl.doc, "resources": props["template"].get("resources") or []}, tpl.values, sub, rg,
                             scope.location)
            outer.scope = dataclasses.replace(scope, subscription_id=sub, resource_group=rg)
            self.declarations(outer, outer.declared())

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


def _make_id(scope: Scope, rtype: str, name: str) -> str:
    return resource_id(scope, rtype, name)
