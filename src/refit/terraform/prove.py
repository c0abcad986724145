"""The offline proof: apply the moves to a copy of the state, then compare it with the new configuration.

What Terraform would plan for each object, decided from files only:
- an object whose address the new configuration does not declare -> destroy (`node_resource_plan_orphan`);
- a declared instance with no object -> create;
- a declared instance with an object -> replace if a replacement-forcing attribute (schema.TABLE) evaluates
  differently, update if only in-place attributes differ, keep otherwise; a tainted object is replaced;
- an object whose move was blocked (destination already taken) stays at its old address, which the new
  configuration no longer declares: Terraform "has planned to destroy these objects".
What refit cannot evaluate (a for_each over a data source, a name built from an unknown value) is reported
`unverified` with the expression that decided it: never assumed safe.

This is a simulation. Where credentials exist, confirm with `terraform plan -out p && terraform show -json p`
(no `delete` in any disk's `change.actions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refit.terraform.address import ResourceInstance, format_module
from refit.terraform.config import Config, Expansion, ModuleInstance, World, lifecycle_ignored
from refit.terraform.errors import EvalError, InvalidExpression
from refit.terraform.hcl import Block
from refit.terraform.report import (
    BLOCKED,
    CREATE,
    DEPOSED,
    DESTROY,
    KEEP,
    REPLACE,
    UNVERIFIED,
    UPDATE,
    Change,
    Report,
    Row,
)
from refit.terraform.schema import NotComparable, normalize, rules_for
from refit.terraform.state import Blocked, State, StateObject
from refit.terraform.values import Replaced, find_unknown, short


@dataclass
class Declared:
    mi: ModuleInstance
    block: Block
    exp: Expansion
    key: Any


def declared_instances(world: World, report: Report | None = None) -> tuple[
    dict[ResourceInstance, Declared], dict[tuple[Any, ...], EvalError], list[tuple[str, EvalError]]
]:
    """Every managed resource instance the configuration declares; resources and module calls whose
    expansion failed, with the error."""
    call_errors: list[tuple[str, EvalError]] = []
    modules = world.all_modules(call_errors)
    declared: dict[ResourceInstance, Declared] = {}
    failed: dict[tuple[Any, ...], EvalError] = {}
    for mi in modules:
        for (mode, rtype, name), block in sorted(mi.definition.resources.items()):
            if mode != "managed":
                continue
            try:
                exp = mi.expansion(mode, rtype, name)
            except EvalError as e:
                failed[(mi.path, mode, rtype, name)] = e
                continue
            for k in exp.keys:
                declared[ResourceInstance(mi.path, mode, rtype, name, k)] = Declared(mi, block, exp, k)
    return declared, failed, call_errors


def prove(
    config: Config,
    state: State,
    moved_from: dict[ResourceInstance, ResourceInstance],
    blocked: list[Blocked],
    report: Report,
) -> list[Row]:
    """Rows for every object and every declared instance. Replacements cascade: an object whose
    replacement-forcing attribute refers to a replaced object (an attachment's `managed_disk_id` when its
    disk is replaced) is replaced too, so the comparison is repeated until no new replacement appears."""
    replaced: set[ResourceInstance] = set()
    while True:
        rows = _rows(config, state, moved_from, blocked, report, replaced)
        now = {r.instance for r in rows if r.status == REPLACE and r.instance is not None}
        if now <= replaced:
            return rows
        replaced |= now


def _rows(
    config: Config,
    state: State,
    moved_from: dict[ResourceInstance, ResourceInstance],
    blocked: list[Blocked],
    report: Report,
    replaced: set[ResourceInstance],
) -> list[Row]:
    world = World(config, state, replaced)
    declared, failed, call_errors = declared_instances(world)
    for (path, _mode, rtype, name), err in failed.items():
        addr = f"{format_module(path) + '.' if path else ''}{rtype}.{name}"
        kind = "duplicate_key" if err.summary == "Duplicate object key" else "unevaluable"
        report.problem("error", kind, err.message(), err.where, addr)
    for addr, err in call_errors:
        kind = "duplicate_key" if err.summary == "Duplicate object key" else "unevaluable"
        report.problem("error", kind, err.message(), err.where, addr)

    blocked_src = {b.move.src: b for b in blocked if isinstance(b.move.src, ResourceInstance)}
    blocked_mod = [b for b in blocked if not isinstance(b.move.src, ResourceInstance)]
    rows: list[Row] = []
    for obj in state.managed():
        addr = obj.addr
        row = Row(str(addr), addr.type, KEEP, moved_from=str(moved_from[addr]) if addr in moved_from else None,
                  sort_key=_sort_key(addr), instance=addr)
        if obj.deposed:
            row.status = DEPOSED
            row.detail = (f"deposed object {obj.deposed} (a create_before_destroy leftover): Terraform deletes it on "
                          "the next apply whatever the keys")
            report.problem("warning", "deposed", f"{addr} has a deposed object {obj.deposed}", address=str(addr))
        elif addr in blocked_src or any(_under(addr, b.move.src) for b in blocked_mod):
            b = blocked_src.get(addr) or next(b for b in blocked_mod if _under(addr, b.move.src))
            row.status = BLOCKED
            row.detail = (f"could not move to {b.move.dst_text}: {b.occupant} is already in the state; the object "
                          f"stays at {addr}, which the new configuration does not declare, so Terraform would "
                          "destroy it (\"Unresolved resource instance address changes\")")
        elif addr in declared:
            d = declared[addr]
            _compare(row, d, obj)
        else:
            reason = _why_undeclared(addr, failed, call_errors)
            if reason:
                row.status, row.detail = UNVERIFIED, reason
            else:
                row.status = DESTROY
                row.detail = "in the state, not declared by the new configuration: Terraform would destroy it"
        rows.append(row)
    present = {o.addr for o in state.current()}
    for addr in declared:
        if addr not in present:
            rows.append(Row(str(addr), addr.type, CREATE, detail="declared, not in the state: Terraform creates it",
                            sort_key=_sort_key(addr)))
    rows.sort(key=lambda r: r.sort_key)
    return rows


def _under(addr: ResourceInstance, prefix: Any) -> bool:
    return addr.module[: len(prefix)] == prefix


def _why_undeclared(addr: ResourceInstance, failed: dict[tuple[Any, ...], EvalError],
                    call_errors: list[tuple[str, EvalError]]) -> str:
    err = failed.get(addr.resource)
    if err is not None:
        return _cannot(f"{addr.type}.{addr.name}", err)
    text = str(addr)
    for call, e in call_errors:
        if text.startswith(call + ".") or text.startswith(call + "["):
            return _cannot(call, e)
    return ""


def _cannot(what: str, err: EvalError) -> str:
    if isinstance(err, InvalidExpression):
        return f"the new configuration is invalid for {what}, Terraform would fail the same way: {err.message()}"
    return f"the instances of {what} cannot be computed offline: {err.message()}"


def _sort_key(addr: ResourceInstance) -> tuple[Any, ...]:
    k = addr.key
    return (format_module(addr.module), addr.mode, addr.type, addr.name,
            0 if k is None else 1 if isinstance(k, int) else 2, k if k is not None else "")


def _compare(row: Row, d: Declared, obj: StateObject) -> None:
    rules = rules_for(obj.addr.type)
    if obj.tainted:
        row.status = REPLACE
        row.detail = "tainted in the state: Terraform replaces it on the next apply"
        return
    if rules is None:
        row.detail = f"declared; attributes not compared (refit has no replacement table for {obj.addr.type})"
        return
    ignored = lifecycle_ignored(d.block)
    if ignored == "all":
        row.detail = "lifecycle ignore_changes = all: no attribute is compared"
        return
    each, count = d.mi.instance_env(d.exp, d.key)
    unverified: list[str] = []
    shrink: list[str] = []
    for rule in rules.attrs.values():
        if rule.name in ignored or rule.name not in obj.attributes:
            continue
        expr = d.block.attrs.get(rule.name)
        if expr is not None:
            try:
                value = d.mi.eval(expr, each=each, count=count)
            except EvalError as e:
                if rule.force_new:
                    unverified.append(f"{rule.name}: {e.message()}")
                continue
        elif rule.computed or not rule.force_new:
            continue  # absent optional+computed / in-place attribute: no change
        else:
            value = rule.default
        u = find_unknown(value)
        if isinstance(u, Replaced) and rule.force_new:
            row.changes.append(Change(rule.name, obj.attributes[rule.name], u, True))
            continue
        if u is not None:
            if rule.force_new:
                where = d.mi.world.config.where(expr.file, expr.line) if expr is not None else ""
                unverified.append(f"{rule.name} ({where}) is known only at apply time: {u.why}")
            continue
        try:
            new, old = normalize(rule.kind, value), normalize(rule.kind, obj.attributes[rule.name])
        except NotComparable as e:
            if rule.force_new:
                unverified.append(f"{rule.name}: {e}")
            continue
        if new != old:
            row.changes.append(Change(rule.name, obj.attributes[rule.name], value, rule.force_new))
            if rule.shrink_blocked and isinstance(new, int | float) and isinstance(old, int | float) and new < old:
                shrink.append(f"{rule.name} {old} -> {new}: the size can only be increased (azurerm docs)")
    forcing = [c for c in row.changes if c.forces_replacement]
    if forcing:
        row.status = REPLACE
        row.detail = "; ".join(
            f"{c.attribute}: {short(c.state)} -> {short(c.config)}" if not isinstance(c.config, Replaced)
            else f"{c.attribute} refers to {c.config.address}, which is replaced: known only after apply"
            for c in forcing) + " (forces replacement)"
    elif shrink:
        row.status = BLOCKED
        row.detail = "; ".join(shrink)
    elif unverified:
        row.status = UNVERIFIED
        row.detail = "; ".join(unverified)
    elif row.changes:
        row.status = UPDATE
        row.detail = "in place: " + "; ".join(f"{c.attribute}: {short(c.state)} -> {short(c.config)}"
                                             for c in row.changes)
    else:
        row.detail = ""
