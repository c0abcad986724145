"""Nothing the platform refuses is anonymous: every refusal is raised through the rule catalog.

The platform package builds an ArmError only in the catalog (refit.platform.rules.registry: an ErrorTemplate,
`Rule.refuse`, `rebuild`); the effects and the generic ARM flows raise `RULES[id].refuse(...)` (or the
`required` / `invalid` helpers over it) and the emulator's wire raises its own rules the same way. These
tests read the source (AST), so a new `raise ArmError(...)` in a provider fails here before it can reach a
plan as "blocked by ?"; and every such refusal of the catalog is raised somewhere (no dead entries).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from refit.arm.errors import ArmError
from refit.emulator.core import Emulator, WireRequest
from refit.platform.rules import RULES
from refit.platform.rules.common import INVALID_ENUM, REQUIRED

SRC = Path(__file__).resolve().parents[2] / "src" / "refit"
PLATFORM = SRC / "platform"
CATALOG = PLATFORM / "rules" / "registry.py"  # the one place an ArmError is built from a template
RAISERS = [*sorted((PLATFORM / "effects").glob("*.py")), PLATFORM / "writes.py", PLATFORM / "cloud.py",
           PLATFORM / "directory.py"]  # the tenant's directory: Microsoft Graph's answers
WIRE = sorted((SRC / "emulator").glob("*.py"))


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def _called(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _rule_ids(path: Path) -> list[tuple[str, int, str]]:
    """(rule id, line, how) for every `RULES["X"]` and `required("X", ...)` / `invalid("X", ...)` in a file."""
    out = []
    for node in ast.walk(_tree(path)):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "RULES"
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            out.append((node.slice.value, node.lineno, "RULES"))
        elif (isinstance(node, ast.Call) and _called(node) in ("required", "invalid") and node.args
              and isinstance(node.args[0], ast.Constant)):
            out.append((node.args[0].value, node.lineno, _called(node)))
    return out


def test_no_armerror_is_built_in_the_platform_outside_the_catalog():
    offenders = []
    for path in sorted(PLATFORM.rglob("*.py")):
        if path == CATALOG:
            continue
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call) or _called(node) not in ("ArmError", "ErrorTemplate"):
                continue
            if _called(node) == "ErrorTemplate" and path.parent.name == "rules":
                continue  # the catalog's modules declare their answers
            offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert offenders == []


def test_the_effects_call_no_error_template_directly():
    """An ErrorTemplate called by an effect (a constant in CAPITALS) would build an answer without its rule id."""
    offenders = []
    for path in RAISERS:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = _called(node)
                if name.isupper() and len(name) > 1:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert offenders == []


def test_every_rule_the_effects_and_the_wire_raise_exists_where_its_stage_says():
    seen: dict[str, set[str]] = {"effects": set(), "wire": set()}
    for where, files, stages in (("effects", RAISERS, {"request", "operation"}), ("wire", WIRE, {"wire"})):
        for path in files:
            for rule_id, line, how in _rule_ids(path):
                assert rule_id in RULES, f"{path.name}:{line}: no rule {rule_id}"
                r = RULES[rule_id]
                # ARM11 is a validator the Tags resource asks directly (Rule.check); ARM16 claims refit.arm's answer.
                assert r.stage in stages or rule_id == "ARM11", f"{path.name}:{line}: {rule_id} is stage {r.stage}"
                if how == "required":
                    assert r.errors[0] == REQUIRED, f"{path.name}:{line}: {rule_id} does not answer 'required'"
                if how == "invalid":
                    assert r.errors[0] == INVALID_ENUM, f"{path.name}:{line}: {rule_id} does not answer 'invalid'"
                seen[where].add(rule_id)
    assert seen["effects"] - {"ARM11"} == {r.id for r in RULES.values() if r.stage in ("request", "operation")}
    assert seen["wire"] == {r.id for r in RULES.values() if r.stage == "wire"}


@pytest.mark.parametrize(("api_version", "arm_type", "rule", "code"), [
    (None, "Microsoft.Resources/subscriptions", "ARM13", "MissingApiVersionParameter"),
    ("yesterday", "Microsoft.Compute/virtualMachines", "ARM14", "InvalidApiVersionParameter"),
    ("2099-01-01", "Microsoft.Resources/subscriptions", "ARM14", "InvalidApiVersionParameter"),
    ("2099-01-01", "Microsoft.Compute/virtualMachines", "ARM15", "NoRegisteredProviderFound"),
])
def test_the_wire_raises_its_rules_through_the_catalog(api_version, arm_type, rule, code):
    emu = Emulator()
    query = {"api-version": api_version} if api_version else {}
    with pytest.raises(ArmError) as e:
        emu.check_api_version(WireRequest("GET", "/subscriptions/x", query, None, "https://127.0.0.1"), arm_type)
    assert (e.value.status, e.value.code, e.value.rule) == (400, code, rule)
    # The wire sends Azure's answer only: the rule id is refit's.
    assert "rule" not in e.value.body()["error"]
