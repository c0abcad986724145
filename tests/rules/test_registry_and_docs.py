"""The registry's contract and the generated rule pages."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from rulekit import disk, edit, vm

from refit.arm.errors import ArmError
from refit.arm.world import World
from refit.platform.rules import RULES, validate_write
from refit.platform.rules import docs as rule_docs
from refit.platform.rules.registry import ErrorTemplate, refusal, rule

ROOT = Path(__file__).resolve().parents[2]


def test_committed_rule_pages_equal_the_generated_ones():
    pages = rule_docs.generate()
    committed = {p.name: p.read_text() for p in (ROOT / "docs" / "rules").glob("*.md")}
    assert sorted(committed) == sorted(pages), "run: python -m refit.platform.rules.docs"
    for name, text in pages.items():
        assert committed[name] == text, f"docs/rules/{name} is stale: run python -m refit.platform.rules.docs"
    assert rule_docs.main(["--check"]) == 0


# A source names where the answer comes from: a reference row, a Microsoft page, the REST specs, a public issue
# (owner/repo#N), or says INFERRED where nothing public gives it.
_CITATION = re.compile(r"reference/azure-platform-rules\.md|https://learn\.microsoft\.com/|\bspecs |"
                       r"\b[\w.-]+/[\w.-]+#\d+|^INFERRED: ")


def test_every_rule_cites_its_source_and_declares_its_answers():
    for r in RULES.values():
        assert _CITATION.search(r.source), r.id
        assert r.errors, r.id
        assert r.confidence in ("H", "M", "L"), r.id
        assert r.doc, r.id
        assert set(r.operations) <= {"create", "update", "delete", "read", "action"}, r.id
        assert re.fullmatch(r"[A-Z]+\d+|R-[a-z]+", r.id), r.id
        # A validator is checked over documents; every other rule is raised where its stage says.
        assert (r.validate is not None) == (r.stage == "validator"), r.id
        assert r.stage in ("validator", "request", "operation", "wire"), r.id


def test_asynchronous_planner_only_and_wire_rules_are_the_ones_the_sources_name():
    # D8, G10: the reference; VM7: hashicorp/terraform-provider-azurerm#15513 (StatusCode=0); A1, A2: reference A5;
    # DEP6: a deployment fails through its operation (MicrosoftDocs/azure-docs#107757); M24: a rolling upgrade ends
    # Faulted (virtual-machine-scale-sets-automatic-upgrade); ARM19: an operation the platform itself fails; AIB8: an
    # Image Builder run whose build fails (Azure/azure-powershell#24244: the run's operation Failed, PackerBuildFailed);
    # EXT1: an extension the guest fails (VMExtensionProvisioningError, kubernetes-sigs/cluster-api-provider-azure#5367).
    assert sorted(r.id for r in RULES.values() if r.asynchronous) == ["A1", "A2", "AIB8", "ARM19", "D8", "DEP6", "EXT1",
                                                                    "G10", "M24", "VM7"]
    assert sorted(r.id for r in RULES.values() if r.stage == "operation") == ["A1", "A2", "AIB8", "ARM19", "DEP6",
                                                                             "EXT1", "M24"]
    assert sorted(r.id for r in RULES.values() if not r.enforced) == ["U5"]
    # GRAPH2: Microsoft Graph's $filter on devices, parsed by the emulator's wire (refit.emulator.msgraph)
    assert sorted(r.id for r in RULES.values() if r.stage == "wire") == ["ARM13", "ARM14", "ARM15", "ARM17", "ARM18",
                                                                        "GRAPH2"]


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
    with pytest.raises(ValueError, match="duplicate rule id S2"):
        rule("S2", "Microsoft.Compute/disks", "again", "x")(lambda w, o, n: [])
    with pytest.raises(ValueError, match="duplicate rule id VM1"):
        refusal("VM1", "Microsoft.Compute/virtualMachines", "again", "x", doc="x", errors=(), confidence="L")


def test_a_refusal_carries_its_rule_and_keeps_azures_wire_answer():
    """`Rule.refuse` is how the effects raise; the rule id rides on the ArmError but never on the wire."""
    e = RULES["VM1"].refuse(path="hardwareProfile.vmSize", target="hardwareProfile.vmSize")
    assert (e.status, e.code, e.message, e.target, e.rule) == (
        400, "InvalidParameter", "Required parameter 'hardwareProfile.vmSize' is missing (null).",
        "hardwareProfile.vmSize", "VM1")
    assert e.body() == {"error": {"code": "InvalidParameter", "target": "hardwareProfile.vmSize",
                                  "message": "Required parameter 'hardwareProfile.vmSize' is missing (null)."}}
    assert e == ArmError(400, "InvalidParameter", "Required parameter 'hardwareProfile.vmSize' is missing (null).",
                         "hardwareProfile.vmSize")  # the rule id is not part of the answer
    assert RULES["I3"].refuse(2).message == "Either 'sourceVirtualMachine' or 'storageProfile.osDisk' is required."


def test_a_rule_claims_only_answers_it_declares():
    from refit.arm.ids import ResourceId

    with pytest.raises(ArmError) as bad:
        ResourceId.parse("/not/an/id")
    assert RULES["ARM16"].claim(bad.value).rule == "ARM16"
    with pytest.raises(ValueError, match="does not answer"):
        RULES["ARM1"].claim(ArmError(400, "InvalidResourceId", "x"))


def test_validate_write_names_the_rule_on_every_answer():
    old = disk("d")
    got = validate_write(World(), old, edit(old, properties__diskSizeGB=1))
    assert [(v.rule.id, v.error.rule, v.error.code) for v in got] == [("D16", "D16", "BadRequest")]
    with pytest.raises(ValueError, match="has no validator"):
        RULES["VM1"].check(World(), None, None)
