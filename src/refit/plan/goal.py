"""Goals: desired property values per resource, as dotted paths into the ARM document.

    goals:
      - resource: /subscriptions/<sub>/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-app
        properties:
          properties.virtualMachineProfile.securityProfile.securityType: TrustedLaunch

Any property can be a goal without new code. A goal naming a resource that does not exist asks for it
to be created with those properties (the planner fills what the rules require: zone, security type).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key
from refit.arm.paths import get_path


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource: str
    properties: dict[str, Any] = Field(min_length=1)

    @field_validator("resource")
    @classmethod
    def _rid(cls, v: str) -> str:
        try:
            rid = ResourceId.parse(v)
        except ArmError as e:
            raise ValueError(e.message) from e
        if rid.namespace is None:
            raise ValueError("a goal names a resource (…/providers/…), not a subscription or resource group")
        return str(rid)


class GoalSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    goals: list[Goal] = Field(min_length=1)

    def for_resource(self, rid: str) -> Goal | None:
        return next((g for g in self.goals if id_key(g.resource) == id_key(rid)), None)


def read_yaml(path: Path) -> Any:
    """A goal file's YAML (or JSON) document; a missing file or bad YAML is a user error."""
    if not path.is_file():
        raise UserError(f"goal file '{path}' does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise UserError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from e


def load(path: Path) -> GoalSet:
    return parse(read_yaml(path), str(path))


def parse(data: Any, source: str = "goal") -> GoalSet:
    try:
        return GoalSet.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise UserError(f"{source}: {where}: {err['msg']} (a goal file is 'goals: [{{resource: ID, properties: "
                        "{{path: value}}}}]')") from e


def from_sets(resource: str, sets: list[str]) -> GoalSet:
    """`refit plan --resource ID --set PATH=VALUE ...` builds the same goal."""
    props: dict[str, Any] = {}
    for s in sets:
        path, eq, value = s.partition("=")
        if not eq or not path.strip():
            raise UserError(f"--set takes PATH=VALUE, e.g. properties.securityProfile.securityType=TrustedLaunch; not '{s}'")
        v: Any = value
        if value.strip().lower() in ("true", "false"):
            v = value.strip().lower() == "true"
        elif value.strip().lstrip("-").isdigit():
            v = int(value)
        elif value.strip() in ("null", "~"):
            v = None
        elif value.strip()[:1] in ("[", "{"):  # a list or an object (zones=["2"]), written as JSON
            try:
                v = json.loads(value)
            except ValueError as e:
                raise UserError(f"--set {path.strip()}: '{value}' is not valid JSON ({e.msg}); write a list as "
                                '["2"] and an object as {"name": "value"}') from None
        props[path.strip()] = v
    return parse({"goals": [{"resource": resource, "properties": props}]}, "--set")


def equal(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and isinstance(actual, str):
        if wanted.startswith("/subscriptions/") or wanted.startswith("/Subscriptions/"):
            return id_key(actual) == id_key(wanted)
        return actual == wanted
    if wanted is None:
        return actual is None
    if wanted == "Standard" and actual is None:
        return True  # older API versions represent Standard as null (rules 1a)
    return actual == wanted


def unmet(doc: dict[str, Any] | None, goal: Goal) -> dict[str, Any]:
    if doc is None:
        return dict(goal.properties)
    return {p: v for p, v in goal.properties.items() if not equal(get_path(doc, p), v)}
