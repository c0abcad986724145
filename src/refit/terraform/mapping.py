"""Old instance key -> new instance key, two independent ways, unique matches only.

- **value**: the old instance and the new one have equal `each.value` (for `count`, the list element at that
  position). Right for a pure refactor; wrong when the environment files changed since the last apply,
  because then the positions computed from today's files are not the positions recorded in the state
  (pitfall 4 in reference/terraform-stable-keys.md).
- **state**: the object recorded in the state and the new instance agree on every replacement-forcing
  attribute (schema.TABLE), evaluated from the new configuration: disk `name`, attachment `lun` +
  `virtual_machine_id` + `managed_disk_id`... This does not depend on list order. It is the same
  one-to-one attribute-equality idea as tfautomv (`pkg/engine`), done offline.
- **auto**: state where it finds a unique match, value otherwise; every disagreement between the two is
  reported (the value mapping is then wrong, and the report says so).
A match counts only if it is one-to-one: an old key with several candidates, or a new key claimed twice, is
reported as ambiguous and not moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refit.terraform.address import InstanceKey, format_key
from refit.terraform.config import META_ARGS, Expansion, ModuleInstance, lifecycle_ignored
from refit.terraform.detect import count_collection
from refit.terraform.errors import EvalError
from refit.terraform.hcl import Block
from refit.terraform.schema import NotComparable, normalize, rules_for
from refit.terraform.state import StateObject
from refit.terraform.values import Unknown, equal

VALUE, STATE, AUTO = "value", "state", "auto"
STRATEGIES = (AUTO, VALUE, STATE)


@dataclass
class Match:
    """For one old key: the candidate new keys found by one strategy."""

    candidates: list[InstanceKey]
    note: str = ""
    contested: bool = False  # the only candidate is also the only candidate of another old key

    @property
    def unique(self) -> InstanceKey | None:
        return self.candidates[0] if len(self.candidates) == 1 and not self.contested else None


@dataclass
class Decision:
    old: InstanceKey
    new: InstanceKey | None
    basis: str  # value | state | value+state | "" (no decision)
    note: str = ""
    disagreement: tuple[InstanceKey, InstanceKey] | None = None  # (value says, state says)


def key_text(k: InstanceKey) -> str:
    return format_key(k) if k is not None else "(no key)"


# --- values ----------------------------------------------------------------------------------------------


def instance_values(mi: ModuleInstance, block: Block, exp: Expansion) -> dict[InstanceKey, Any] | None:
    """key -> the value that identifies the instance in the configuration: each.value for for_each, the list
    element for `count = length(LIST)`. None when there is no such value (count = 3)."""
    if exp.kind == "for_each":
        return dict(exp.each)
    if exp.kind == "count":
        ct = block.attrs["count"]
        coll = count_collection(ct, mi.world.config)
        if coll is None:
            return None
        value = mi.eval(coll)
        if not isinstance(value, list):
            return None
        return {i: value[i] for i in exp.keys if isinstance(i, int) and i < len(value)}
    return {None: None}


def value_map(old: dict[InstanceKey, Any], new: dict[InstanceKey, Any], keys: list[InstanceKey]) -> dict[InstanceKey, Match]:
    out: dict[InstanceKey, Match] = {}
    for k in keys:
        if k not in old:
            out[k] = Match([], "not declared by the old configuration (evaluated today)")
            continue
        out[k] = Match([n for n, v in new.items() if equal(old[k], v)])
    return one_to_one(out)


def one_to_one(matches: dict[InstanceKey, Match]) -> dict[InstanceKey, Match]:
    """A new key claimed by two old keys is ambiguous for both."""
    claims: dict[InstanceKey, list[InstanceKey]] = {}
    for old, m in matches.items():
        if m.unique is not None:
            claims.setdefault(m.unique, []).append(old)
    for new, olds in claims.items():
        if len(olds) > 1:
            for old in olds:
                others = ", ".join(key_text(o) for o in olds if o != old)
                matches[old] = Match([new], f"{key_text(new)} also matches {others}", contested=True)
    return matches


# --- identity (state strategy) ---------------------------------------------------------------------------


def identity(mi: ModuleInstance, block: Block, exp: Expansion, key: InstanceKey, rtype: str) -> dict[str, Any]:
    """The attributes that identify an object, as the new configuration evaluates them for instance `key`.
    Values are Unknown, an EvalError, or plain values."""
    each, count = mi.instance_env(exp, key)
    ignored = lifecycle_ignored(block)
    out: dict[str, Any] = {}
    if ignored == "all":
        return out
    rules = rules_for(rtype)
    names: list[str]
    if rules is not None:
        names = list(rules.identity)
    else:
        names = [n for n in block.attrs if n not in META_ARGS and n not in ("provider", "count", "for_each")]
    for name in names:
        if name in ignored:
            continue
        rule = rules.attrs[name] if rules else None
        if name in block.attrs:
            try:
                out[name] = mi.eval(block.attrs[name], each=each, count=count)
            except EvalError as e:
                out[name] = e
        elif rule is not None and not rule.computed:
            out[name] = rule.default
    if rules is None:  # generic types: only known scalars say anything about identity
        out = {k: v for k, v in out.items() if isinstance(v, str | int | float | bool) and v is not None}
    return out


def same_object(ident: dict[str, Any], obj: StateObject, rtype: str) -> tuple[bool, int]:
    """(no attribute contradicts, how many attributes agreed). Unknown or unevaluable values contradict:
    refit does not match on what it cannot see."""
    rules = rules_for(rtype)
    agreed = 0
    for name, value in ident.items():
        if name not in obj.attributes:
            continue
        if isinstance(value, EvalError | Unknown):
            return False, agreed
        kind = rules.attrs[name].kind if rules and name in rules.attrs else "string"
        try:
            if normalize(kind, value) != normalize(kind, obj.attributes[name]):
                return False, agreed
        except NotComparable:
            return False, agreed
        agreed += 1
    return True, agreed


def state_map(
    mi: ModuleInstance, block: Block, exp: Expansion, objects: list[StateObject], rtype: str
) -> dict[InstanceKey, Match]:
    idents = {k: identity(mi, block, exp, k, rtype) for k in exp.keys}
    out: dict[InstanceKey, Match] = {}
    for obj in objects:
        cands = []
        for k, ident in idents.items():
            ok, agreed = same_object(ident, obj, rtype)
            if ok and agreed:
                cands.append(k)
        note = "" if cands else "no new instance has the same replacement-forcing attributes"
        out[obj.addr.key] = Match(cands, note)
    return one_to_one(out)


# --- combining -----------------------------------------------------------------------------------------


def decide(
    keys: list[InstanceKey],
    by_value: dict[InstanceKey, Match] | None,
    by_state: dict[InstanceKey, Match] | None,
    strategy: str,
) -> list[Decision]:
    out: list[Decision] = []
    for k in keys:
        v = by_value.get(k) if by_value is not None else None
        s = by_state.get(k) if by_state is not None else None
        vu = v.unique if v else None
        su = s.unique if s else None
        disagree = (vu, su) if vu is not None and su is not None and vu != su else None
        if strategy == VALUE:
            out.append(_single(k, v, VALUE))
            out[-1].disagreement = disagree
        elif strategy == STATE:
            out.append(_single(k, s, STATE))
            out[-1].disagreement = disagree
        elif su is not None:
            if vu is not None and vu != su:
                out.append(Decision(k, su, STATE, "value mapping disagrees", disagreement=(vu, su)))
            else:
                out.append(Decision(k, su, "value+state" if vu == su else STATE))
        elif vu is not None:
            why = s.note if s and s.note else ("ambiguous by state" if s and s.candidates else "")
            out.append(Decision(k, vu, VALUE, f"state attributes: {why}" if why else ""))
        else:
            notes = [f"{name}: {m.note or _cands(m)}" for name, m in (("value", v), ("state", s)) if m is not None]
            out.append(Decision(k, None, "", "; ".join(notes)))
    # Final one-to-one check across the combined decisions.
    seen: dict[InstanceKey, Decision] = {}
    for d in out:
        if d.new is None:
            continue
        if d.new in seen:
            other = seen[d.new]
            for x in (d, other):
                x.note = f"both {key_text(other.old)} and {key_text(d.old)} map to {key_text(d.new)}"
                x.new, x.basis = None, ""
        else:
            seen[d.new] = d
    return out


def _single(k: InstanceKey, m: Match | None, basis: str) -> Decision:
    if m is None:
        return Decision(k, None, "", f"{basis} mapping unavailable")
    if m.unique is not None:
        return Decision(k, m.unique, basis)
    return Decision(k, None, "", m.note or _cands(m))


def _cands(m: Match) -> str:
    if not m.candidates:
        return "no match"
    return "ambiguous: " + ", ".join(key_text(c) for c in dict.fromkeys(m.candidates))
