"""The registry's contract and the generated rule pages."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from rulekit import disk, edit, vm

from refit.arm.world import World
from refit.platform.rules import RULES, validate_write
from refit.platform.rules import docs as rule_docs
from refit.platform.rules.registry import ErrorTemplate, rule

ROOT = Path(__file__).resolve().parents[2]


def test_committed_rule_pages_equal_the_generated_ones():
    pages = rule_docs.generate()
    committed = {p.name: p.read_text() for p in (ROOT / "docs" / "rules").glob("*.md")}
    assert sorted(committed) == sorted(pages), "run: python -m refit.platform.rules.docs"
    for name, text in pages.items():
        assert committed[name] == text, f"docs/rules/{name} is stale: run python -m refit.platform.rules.docs"
    assert rule_docs.main(["--check"]) == 0


def test_every_rule_cites_a_reference_row_and_declares_its_answers():
    for r in RULES.values():
        assert r.source.startswith("reference/azure-platform-rules.md"), r.id
        assert r.errors, r.id
        assert r.confidence in ("H", "M", "L"), r.id
        assert r.doc, r.id
        assert set(r.operations) <= {"create", "update", "delete"}, r.id
        assert re.fullmatch(r"[A-Z]+\d+|R-[a-z]+", r.id), r.id


def test_asynchronous_and_planner_only_rules_are_the_ones_the_reference_names():
    assert sorted(r.id for r in RULES.values() if r.asynchronous) == ["D8", "G10"]
    assert sorted(r.id for r in RULES.values() if not r.enforced) == ["U5"]


def test_the_emulator_does_not_enforce_planner_only_rules():
    gen1 = disk("vm1-os", gen="V1")
    old = vm("vm1", power="deallocated")
    new = edit(old, properties__securityProfile={"securityType": "TrustedLaunch"})
    w = World([copy.deepcopy(gen1)])
    assert [v.rule.id for v in validate_write(w, old, new)] == []
    assert [v.rule.id for v in validate_write(w, old, new, include_unenforced=True)] == ["U5"]


def test_a_rule_governs_its_types_and_operations_only():
    calls = []

    @rule("TEST-1", ("Microsoft.Compute/disks", "Microsoft.Compute/snapshots"), "test", "reference/azure-platform-rules.md",
          operations=("delete",), errors=(ErrorTemplate(409, "X", "{n}"),), confidence="L")
    def _probe(world, old, new):
        calls.append((old or new)["type"])
        return [RULES["TEST-1"].errors[0](n="no")]

    try:
        w = World()
        d = disk("d")
        snap = {**disk("s"), "type": "Microsoft.Compute/snapshots"}
        assert validate_write(w, None, d) == []  # create: not governed
        got = validate_write(w, d, None)
        assert [(v.rule.id, v.error.status, v.error.code, v.error.message) for v in got] == [("TEST-1", 409, "X", "no")]
        assert [v.rule.id for v in validate_write(w, snap, None)] == ["TEST-1"]  # case-insensitive type match
        assert calls == ["Microsoft.Compute/disks", "Microsoft.Compute/snapshots"]
    finally:
        del RULES["TEST-1"]


def test_rule_ids_are_unique():
    import pytest

    with pytest.raises(ValueError, match="duplicate rule id S2"):
        rule("S2", "Microsoft.Compute/disks", "again", "x")(lambda w, o, n: [])
