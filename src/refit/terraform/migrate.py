"""`refit tf migrate-keys`: old configuration + new configuration + state -> moves, proof, artifact.

1. Apply the `moved` blocks the new configuration already declares (re-running refit is idempotent).
2. Detect how every resource and module call is keyed, in both configurations; a repetition whose
   `for_each`/`count` expression changed is *re-keyed*.
3. Map old keys to new keys for every re-keyed repetition, per module instance, parents first (module calls
   before the resources inside them), resources in dependency order (disks before the attachments that
   reference `azurerm_managed_disk.data[each.key].id`), each step seeing the state as moved so far.
4. Prove: apply all moves to a copy of the state and compare with the new configuration (prove.py).
5. Emit the artifact only when the proof holds: nothing is handed out that would destroy a disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lark import Tree

from refit.arm.errors import UserError
from refit.terraform import emit as emitter
from refit.terraform.address import (
    InstanceKey,
    ModulePath,
    ResourceInstance,
    config_path,
    format_config_resource,
    format_module,
    parse_steps,
)
from refit.terraform.config import Config, ModuleInstance, World
from refit.terraform.detect import COUNT, INDEX, SINGLE, Repetition, detect
from refit.terraform.errors import EvalError
from refit.terraform.evaluate import references
from refit.terraform.hcl import Block, children, line_of, name_of, parse_text
from refit.terraform.mapping import (
    STRATEGIES,
    VALUE,
    Match,
    decide,
    identity,
    instance_values,
    key_text,
    one_to_one,
    same_object,
    state_map,
    value_map,
)
from refit.terraform.prove import declared_instances, prove
from refit.terraform.report import Report
from refit.terraform.state import Move, State, StateObject, read_state
from refit.terraform.values import find_unknown


@dataclass
class Options:
    before: Path
    after: Path
    state: Path
    strategy: str = "auto"
    emit: str = "moved"
    var_files: tuple[Path, ...] = ()


def migrate(opts: Options) -> Report:
    if opts.strategy not in STRATEGIES:
        raise UserError(f"--strategy must be one of {', '.join(STRATEGIES)}, not {opts.strategy!r}")
    if opts.emit not in emitter.EMITS:
        raise UserError(f"--emit must be one of {', '.join(emitter.EMITS)}, not {opts.emit!r}")
    before = Config(opts.before, list(opts.var_files))
    after = Config(opts.after, list(opts.var_files))
    state0 = read_state(opts.state)
    report = Report(
        before=str(opts.before), after=str(opts.after),
        state={"path": str(opts.state), "format": state0.format, "terraform_version": state0.terraform_version or None,
               "serial": state0.serial, "lineage": state0.lineage or None, "objects": len(state0.objects)},
        strategy=opts.strategy, emit=opts.emit,
    )

    # 1. moved blocks already in the new configuration
    declared = declared_moves(after, state0, report)
    report.declared_moves = declared
    state1, _, blocked_declared = state0.apply_moves(declared)
    origin = {new.addr: old.addr for old, new in zip(state0.objects, state1.objects, strict=True)}

    # 2. detection
    det_before = detect(before, World(before, state0))
    det_after = detect(after, World(after, state1))
    for addr in sorted(set(det_before) | set(det_after)):
        report.detected.append((det_before.get(addr), det_after.get(addr)))
    rekeyed = {
        a for a in det_before.keys() & det_after.keys()
        if det_before[a].normalized != det_after[a].normalized and SINGLE not in (det_before[a].kind, det_after[a].kind)
    }
    report.rekeyed = sorted(rekeyed)
    for addr, rep in sorted(det_after.items()):
        if rep.kind in (INDEX, COUNT):
            report.problem("warning", "still_positional",
                           f"{addr} is still keyed by list position in the new configuration ({rep.meta} at "
                           f"{rep.file}:{rep.line}): inserting an element will shift its keys", f"{rep.file}:{rep.line}",
                           addr)
    if not rekeyed:
        report.problem("warning", "nothing_rekeyed",
                       "no resource or module call is keyed differently in the new configuration; nothing to move")

    # 3. mapping
    moves = compute_moves(before, after, state0, state1, rekeyed, det_before, opts.strategy, report)
    report.moves = moves
    for rep in det_after.values():
        if rep.address in rekeyed:
            _old_key_references(after, rep, report)

    # 4. proof
    final, _, blocked = state1.apply_moves(moves)
    for old, new in zip(state1.objects, final.objects, strict=True):
        if new.addr != old.addr:
            origin[new.addr] = origin.get(old.addr, old.addr)
    moved_from = {a: o for a, o in origin.items() if a != o}
    for b in blocked_declared + blocked:
        report.problem("error", "blocked",
                       f"{b.move.src_text} could not move to {b.move.dst_text}: {b.occupant} already holds an object. "
                       "Terraform warns \"Unresolved resource instance address changes\" and plans to destroy "
                       f"{b.move.src_text}; remove or move the occupant first (terraform state rm/mv)",
                       address=b.move.src_text)
    report.rows = prove(after, final, moved_from, blocked_declared + blocked, report)

    # 5. artifact
    if opts.emit == "moved":
        _check_moved_blocks(after, final, moves, report)
    if report.ok and moves:
        report.artifact = emitter.render(opts.emit, moves)
    return report


# --- declared moved blocks -----------------------------------------------------------------------------


def declared_moves(config: Config, state: State, report: Report) -> list[Move]:
    """The `moved` blocks of the new configuration as instance moves on this state. A block in a child module
    applies to every instance of that module; an address without a key moves all instances."""
    out: list[Move] = []
    world = World(config, state)
    for mi in world.all_modules():
        for block in mi.definition.moved:
            f, t = block.attrs.get("from"), block.attrs.get("to")
            if f is None or t is None:
                raise UserError(f"{config.where(block.file, block.line)}: a moved block needs both `from` and `to`")
            try:
                src, dst = _endpoint(f.text), _endpoint(t.text)
            except ValueError as e:
                raise UserError(f"{config.where(block.file, block.line)}: invalid moved address: {e}") from None
            out += _expand_declared(mi.path, src, dst, state)
    return out


def _endpoint(text: str) -> tuple[ModulePath, tuple[str, str, str, InstanceKey, bool] | None, bool]:
    """A moved-block address -> (module steps, (mode, type, name, key, has_key) or None for a module,
    whether the address names one instance). Without a key, the address names all instances."""
    path, rest = parse_steps(text)
    if not rest:
        return path, None, text.rstrip().endswith("]")
    mode = "managed"
    names = [v for k, v in rest if k == "name"]
    keys = [v for k, v in rest if k == "key"]
    if names and names[0] == "data":
        mode, names = "data", names[1:]
    if len(names) != 2 or len(keys) > 1:
        raise ValueError(f"{text!r} is not a resource or module address")
    return path, (mode, str(names[0]), str(names[1]), keys[0] if keys else None, bool(keys)), True


def _expand_declared(base: ModulePath, src: Any, dst: Any, state: State) -> list[Move]:
    s_path, s_res, s_key = src
    d_path, d_res, _ = dst
    s_abs, d_abs = base + s_path, base + d_path
    moves: list[Move] = []
    if s_res is None and d_res is None:
        if s_key:
            return [Move(s_abs, d_abs, "declared")]
        name = s_abs[-1][0]
        keys = {o.addr.module[len(s_abs) - 1][1] for o in state.objects
                if len(o.addr.module) >= len(s_abs) and o.addr.module[: len(s_abs) - 1] == s_abs[:-1]
                and o.addr.module[len(s_abs) - 1][0] == name}
        return [Move((*s_abs[:-1], (name, k)), (*d_abs[:-1], (d_abs[-1][0], k)), "declared") for k in sorted(keys, key=str)]
    if s_res is None or d_res is None:
        return []
    mode, rtype, rname, key, has_key = s_res
    dmode, dtype, dname, dkey, _ = d_res
    if has_key:
        return [Move(ResourceInstance(s_abs, mode, rtype, rname, key), ResourceInstance(d_abs, dmode, dtype, dname, dkey),
                     "declared")]
    for o in state.instances_of(s_abs, mode, rtype, rname):
        moves.append(Move(o.addr, ResourceInstance(d_abs, dmode, dtype, dname, o.addr.key), "declared"))
    return moves


# --- mapping -------------------------------------------------------------------------------------------


def compute_moves(
    before: Config, after: Config, state0: State, state1: State, rekeyed: set[str],
    det_before: dict[str, Repetition], strategy: str, report: Report,
) -> list[Move]:
    moves: list[Move] = []
    ws = state1
    world_before = World(before, state0)
    path_map: dict[ModulePath, ModulePath] = {(): ()}
    queue: list[ModulePath] = [()]
    while queue:
        p_after = queue.pop(0)
        mi_a = World(after, ws).module(p_after)
        if mi_a is None:
            continue
        try:
            mi_b = world_before.module(path_map[p_after])
        except EvalError as e:
            report.problem("warning", "unevaluable",
                           f"{format_module(path_map[p_after])}: the old configuration cannot be expanded here, so no "
                           f"value mapping: {e.message()}", e.where)
            mi_b = None
        cpath = config_path(p_after)
        # module calls first: the resources inside a moved module instance live at its new address
        for name in sorted(mi_a.definition.module_calls):
            call_addr = ".".join([*(f"module.{m}" for m in cpath), f"module.{name}"])
            try:
                exp_a = mi_a.call_expansion(name)
            except EvalError:
                continue  # reported by the proof
            chosen: dict[InstanceKey, InstanceKey] = {}
            if call_addr in rekeyed and mi_b is not None and name in mi_b.definition.module_calls:
                step = _map_module_call(after, mi_a, mi_b, name, ws, strategy, report, call_addr)
                if step:
                    ws, _, _ = ws.apply_moves(step)
                    moves += step
                    chosen = {m.dst[-1][1]: m.src[-1][1] for m in step}  # type: ignore[index]
                    mi_a = World(after, ws).module(p_after)
                    assert mi_a is not None
            for key in exp_a.keys:
                child = (*p_after, (name, key))
                path_map[child] = (*path_map[p_after], (name, chosen.get(key, key)))
                queue.append(child)
        if mi_b is None:
            continue
        blocks = [(k, b) for k, b in mi_a.definition.resources.items()
                  if k[0] == "managed" and format_config_resource(cpath, *k) in rekeyed and k in mi_b.definition.resources]
        for key, block in _dependency_order(blocks):
            step = _map_resource(mi_a, mi_b, key, block, mi_b.definition.resources[key], ws, strategy, report)
            if step:
                ws, _, _ = ws.apply_moves(step)
                moves += step
                mi_a = World(after, ws).module(p_after)
                assert mi_a is not None
    return moves


def _dependency_order(blocks: list[tuple[tuple[str, str, str], Block]]) -> list[tuple[tuple[str, str, str], Block]]:
    """Blocks that others reference come first (disks before attachments)."""
    keys = {k for k, _ in blocks}
    deps: dict[tuple[str, str, str], set[tuple[str, str, str]]] = {}
    for k, b in blocks:
        refs = set()
        for e in b.attrs.values():
            for r in references(e.node):
                if r[0] == "resource" and ("managed", r[1], r[2]) in keys and ("managed", r[1], r[2]) != k:
                    refs.add(("managed", r[1], r[2]))
        deps[k] = refs
    out: list[tuple[tuple[str, str, str], Block]] = []
    done: set[tuple[str, str, str]] = set()
    pending = sorted(blocks, key=lambda kb: kb[0])
    while pending:
        ready = [kb for kb in pending if deps[kb[0]] <= done] or pending[:1]  # a cycle: take them in name order
        for kb in ready:
            out.append(kb)
            done.add(kb[0])
            pending.remove(kb)
    return out


def _map_resource(
    mi_a: ModuleInstance, mi_b: ModuleInstance, key: tuple[str, str, str], block_a: Block, block_b: Block,
    ws: State, strategy: str, report: Report,
) -> list[Move]:
    mode, rtype, name = key
    objs = sorted(ws.instances_of(mi_a.path, mode, rtype, name), key=lambda o: _key_order(o.addr.key))
    if not objs:
        return []
    addr = f"{format_module(mi_a.path) + '.' if mi_a.path else ''}{rtype}.{name}"
    try:
        exp_a = mi_a.expansion(mode, rtype, name)
    except EvalError:
        return []  # the proof reports why (duplicate key, unevaluable)
    by_value: dict[InstanceKey, Match] | None = None
    try:
        exp_b = mi_b.expansion(mode, rtype, name)
        old_values = instance_values(mi_b, block_b, exp_b)
        new_values = instance_values(mi_a, block_a, exp_a)
        if old_values is not None and new_values is not None:
            by_value = value_map(old_values, new_values, [o.addr.key for o in objs])
        else:
            report.problem("warning", "no_value_mapping",
                           f"{addr}: value mapping needs for_each or `count = length(LIST)`; only state attributes are used",
                           address=addr)
    except EvalError as e:
        report.problem("warning" if strategy != VALUE else "error", "unevaluable",
                       f"{addr}: the old configuration cannot be evaluated, so no value mapping: {e.message()}",
                       e.where, addr)
    by_state = state_map(mi_a, block_a, exp_a, objs, rtype)
    decisions = decide([o.addr.key for o in objs], by_value, by_state, strategy)
    moves: list[Move] = []
    for d, obj in zip(decisions, objs, strict=True):
        src = obj.addr
        if d.disagreement:
            v, s = d.disagreement
            report.problem(
                "warning", "disagreement",
                f"{src}: value mapping says {key_text(v)}, the state's attributes say {key_text(s)}: the environment "
                "files changed since the last apply, so list positions no longer match the state; "
                f"{_using(strategy)}",
                address=str(src),
            )
        if d.new is None:
            if src.key not in exp_a.each:
                report.problem("error", "unmapped",
                               f"{src}: no new key ({d.note or 'no match'}); Terraform would destroy it",
                               address=str(src))
            continue
        if d.new != src.key:
            moves.append(Move(src, src.with_key(d.new), d.basis))
    return moves


def _map_module_call(
    after: Config, mi_a: ModuleInstance, mi_b: ModuleInstance, name: str, ws: State, strategy: str, report: Report,
    call_addr: str,
) -> list[Move]:
    base = mi_a.path
    n = len(base)
    keys = sorted({o.addr.module[n][1] for o in ws.objects
                   if len(o.addr.module) > n and o.addr.module[:n] == base and o.addr.module[n][0] == name},
                  key=_key_order)
    if not keys:
        return []
    exp_a = mi_a.call_expansion(name)
    block_a, block_b = mi_a.definition.module_calls[name], mi_b.definition.module_calls[name]
    by_value: dict[InstanceKey, Match] | None = None
    try:
        exp_b = mi_b.call_expansion(name)
        old_values, new_values = instance_values(mi_b, block_b, exp_b), instance_values(mi_a, block_a, exp_a)
        if old_values is not None and new_values is not None:
            by_value = value_map(old_values, new_values, keys)
    except EvalError as e:
        report.problem("warning", "unevaluable", f"{call_addr}: no value mapping: {e.message()}", e.where, call_addr)
    by_state = _module_state_map(after, base, name, exp_a.keys, ws, keys)
    decisions = decide(keys, by_value, by_state, strategy)
    moves: list[Move] = []
    for d in decisions:
        src = (*base, (name, d.old))
        if d.disagreement:
            v, s = d.disagreement
            report.problem("warning", "disagreement",
                           f"{format_module(src)}: value mapping says {key_text(v)}, the state's attributes say "
                           f"{key_text(s)}: {_using(strategy)}", address=format_module(src))
        if d.new is None:
            if d.old not in exp_a.each:
                report.problem("error", "unmapped",
                               f"{format_module(src)}: no new key ({d.note or 'no match'}); Terraform would destroy "
                               "everything in it", address=format_module(src))
            continue
        if d.new != d.old:
            moves.append(Move(src, (*base, (name, d.new)), d.basis))
    return moves


def _module_state_map(
    after: Config, base: ModulePath, name: str, new_keys: list[InstanceKey], ws: State, old_keys: list[InstanceKey]
) -> dict[InstanceKey, Match]:
    """Match module instances on the identity of what they contain. Evaluated on a state without the call's
    objects, so that nothing inside a new instance resolves to an old instance's object."""
    n = len(base)

    def in_call(o: StateObject) -> bool:
        return len(o.addr.module) > n and o.addr.module[:n] == base and o.addr.module[n][0] == name

    stripped = ws.with_objects(o for o in ws.objects if not in_call(o))
    world = World(after, stripped)
    signatures: dict[InstanceKey, dict[tuple[Any, ...], list[dict[str, Any]]]] = {}
    declared, _, _ = declared_instances(world)
    for addr, d in declared.items():
        if len(addr.module) > n and addr.module[:n] == base and addr.module[n][0] == name:
            rel = (config_path(addr.module[n + 1:]), addr.mode, addr.type, addr.name)
            # Unknown here means "refers to an object inside the call" (stripped): neutral, not a mismatch.
            ident = {k: v for k, v in identity(d.mi, d.block, d.exp, d.key, addr.type).items()
                     if not isinstance(v, EvalError) and find_unknown(v) is None}
            signatures.setdefault(addr.module[n][1], {}).setdefault(rel, []).append(ident)
    out: dict[InstanceKey, Match] = {}
    for k_o in old_keys:
        objs = [o for o in ws.current() if o.addr.mode == "managed" and len(o.addr.module) > n
                and o.addr.module[:n] == base and o.addr.module[n] == (name, k_o)]
        cands = []
        for k_n in new_keys:
            sig = signatures.get(k_n, {})
            positive, contradicted = 0, False
            for o in objs:
                rel = (config_path(o.addr.module[n + 1:]), o.addr.mode, o.addr.type, o.addr.name)
                results = [same_object(ident, o, o.addr.type) for ident in sig.get(rel, [])]
                if not results:
                    contradicted = True
                    break
                if any(ok and agreed for ok, agreed in results):
                    positive += 1
                elif not any(ok for ok, _ in results):
                    contradicted = True
                    break
            if positive and not contradicted:
                cands.append(k_n)
        out[k_o] = Match(cands, "" if cands else "no new module instance holds objects with the same attributes")
    return one_to_one(out)


def _using(strategy: str) -> str:
    if strategy == VALUE:
        return "using the value mapping as asked (--strategy value): the proof shows what that does"
    return "using the state"


def _key_order(k: InstanceKey) -> tuple[int, Any]:
    return (0, k) if isinstance(k, int) else (1, str(k))


# --- checks --------------------------------------------------------------------------------------------


def _check_moved_blocks(after: Config, final: State, moves: list[Move], report: Report) -> None:
    """Terraform rejects moved blocks whose `from` is still declared ("Moved object still exists") and
    chains moves whose destination is another's source: neither does what the mapping means."""
    for m in emitter.overlapping(moves):
        report.problem("error", "moved_invalid",
                       f"{m.src_text} is both a source and a destination: as moved blocks Terraform would chain "
                       "these moves; use --emit state-mv-sh or state-mv-pwsh (refit routes them through temporary "
                       "keys)", address=m.src_text)
    world = World(after, final)
    declared, _, _ = declared_instances(world)
    for m in moves:
        if isinstance(m.src, ResourceInstance):
            still = m.src in declared
        else:
            try:
                still = world.module(m.src) is not None
            except EvalError:
                still = False  # the call cannot be expanded: the proof already reports it
        if still:
            report.problem("error", "moved_invalid",
                           f"Moved object still exists: {m.src_text} is still declared by the new configuration, so "
                           "Terraform rejects a moved block from it; use --emit state-mv-sh or state-mv-pwsh",
                           address=m.src_text)


def _old_key_references(after: Config, rep: Repetition, report: Report) -> None:
    """Other references to the old keys (`azurerm_managed_disk.data[0]`, `module.disks["3"]`) keep pointing
    at old addresses after the move (pitfall 8). moved blocks are skipped: they name old keys on purpose."""
    for mod in after.module_defs():
        if rep.resource is not None and rep.resource not in mod.resources:
            continue
        if rep.call is not None and rep.call not in mod.module_calls:
            continue
        for file, text in mod.texts.items():
            body = children(parse_text(text, file))[0]
            for block in children(body):
                if block.data != "block" or name_of(children(block)[0]) == "moved":
                    continue
                for node, target in _literal_indexes(block):
                    if _matches(rep, target):
                        where = after.where(file, line_of(node))
                        report.problem("warning", "old_key_reference",
                                       f"{where} indexes {target} with a literal key; after the move it must use the "
                                       "new key", where, rep.address)


def _literal_indexes(tree: Tree) -> list[tuple[Tree, str]]:
    out = []
    for node in tree.iter_subtrees():
        if node.data != "index_expr_term":
            continue
        base, idx = children(node)
        if idx.data != "braces_index":
            continue
        inner = children(idx)[0]
        while inner.data == "expr_term" and len(children(inner)) == 1:
            inner = children(inner)[0]
        if inner.data not in ("int_lit", "string") or (inner.data == "string" and any(
                isinstance(p, Tree) and p.data == "string_part" and isinstance(p.children[0], Tree)
                for p in inner.children)):
            continue
        chain = []
        cur = base
        while isinstance(cur, Tree):
            if cur.data == "expr_term" and len(children(cur)) == 1:
                cur = children(cur)[0]
            elif cur.data == "get_attr_expr_term":
                b, a = children(cur)
                chain.insert(0, name_of(children(a)[0]))
                cur = b
            elif cur.data == "identifier":
                chain.insert(0, name_of(cur))
                break
            else:
                chain = []
                break
        if len(chain) == 2:
            out.append((node, ".".join(chain)))
    return out


def _matches(rep: Repetition, target: str) -> bool:
    if rep.resource is not None:
        return target == f"{rep.resource[1]}.{rep.resource[2]}"
    return rep.call is not None and target == f"module.{rep.call}"

