"""A request as Azure reads it before any effect does: the body deserialised against its type's REST spec
and, on create, the resource's name against Azure's naming rules (refit.platform.rules.schema decides;
this module raises the rule's answer, as the effects raise every refusal of stage "request")."""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId
from refit.platform.rules import RULES, schema


def _answer(p: schema.Problem) -> ArmError:
    # Each rule named as it is raised (tests/rules/test_catalog_mechanism.py finds the raisers by name).
    if p.rule == "ARM5":
        return RULES["ARM5"].refuse(p.which, **p.fields)
    if p.rule == "IN1":
        return RULES["IN1"].refuse(p.which, **p.fields)
    if p.rule == "IN2":
        return RULES["IN2"].refuse(p.which, **p.fields)
    return RULES["IN3"].refuse(p.which, **p.fields)


def check_write(rid: ResourceId, body: Any, creating: bool) -> None:
    """A PUT or PATCH of `rid`: the name (when the write creates the resource), then the body."""
    p = schema.name_problem(rid.type, rid.name) if creating else None
    p = p or schema.body_problem(rid.type, body)
    if p is not None:
        raise _answer(p)
    schema.canonical(rid.type, body)


def check_tags(tags: dict[str, Any]) -> None:
    """The tags of a Tags resource at a scope (`properties.tags`): every value a string."""
    p = schema.tags_problem(tags)
    if p is not None:
        raise _answer(p)
