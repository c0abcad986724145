"""Read Terraform state in the formats Terraform writes, and move objects the way Terraform does.

Accepted inputs (anything else is a one-line user error):
- a v4 state file / `terraform state pull` output: `{"version": 4, "resources": [...]}`, structs in
  hashicorp/terraform `internal/states/statefile/version4.go` (`stateV4`, `resourceStateV4`,
  `instanceObjectStateV4`). `module` is a module *instance* string (`module.disks["neu"]`), parsed like
  `addrs.ParseModuleInstanceStr`; `index_key` is absent (no key), a JSON number (count) or a string
  (for_each); `deposed` marks create_before_destroy leftovers; `status: "tainted"`.
- `terraform show -json` of a state: `{"format_version": "1.0", "values": {"root_module": {"resources": [],
  "child_modules": [...]}}}`, structs in `internal/command/jsonstate/state.go`; each resource carries its
  absolute `address`, `index`, `values`, `tainted`, `deposed_key`. An empty state is `{"format_version": ...}`.

Moves follow `internal/refactoring/move_execute.go` (`ApplyMoves`): a move whose source has no object is
ignored silently; a move whose destination already holds an object is *blocked*, the source object stays at
its old address, and Terraform warns "Unresolved resource instance address changes ... Terraform has
planned to destroy these objects".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from refit.arm.errors import UserError
from refit.terraform.address import (
    ModulePath,
    ResourceInstance,
    format_module,
    parse_module_instance,
    parse_resource_instance,
)


@dataclass(frozen=True)
class StateObject:
    addr: ResourceInstance
    attributes: dict[str, Any]
    deposed: str | None = None  # create_before_destroy leftover; Terraform deletes it on the next apply
    tainted: bool = False


@dataclass(frozen=True)
class Move:
    """One move: of a resource instance (`src`/`dst` ResourceInstance) or a module instance (ModulePath)."""

    src: ResourceInstance | ModulePath
    dst: ResourceInstance | ModulePath
    basis: str = ""  # how refit derived it: value, state, value+state, declared (an existing moved block)

    @property
    def is_module(self) -> bool:
        return not isinstance(self.src, ResourceInstance)

    @property
    def src_text(self) -> str:
        return address_text(self.src)

    @property
    def dst_text(self) -> str:
        return address_text(self.dst)

    @property
    def resource_type(self) -> str | None:
        return self.src.type if isinstance(self.src, ResourceInstance) else None


def address_text(a: ResourceInstance | ModulePath) -> str:
    return str(a) if isinstance(a, ResourceInstance) else format_module(a)


@dataclass(frozen=True)
class Blocked:
    move: Move
    occupant: str  # the address that already holds an object


@dataclass
class State:
    objects: list[StateObject]
    format: str  # "v4" | "show-json"
    terraform_version: str = ""
    serial: int | None = None
    lineage: str = ""
    source: str = ""
    _current: dict[ResourceInstance, StateObject] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._current = {o.addr: o for o in self.objects if o.deposed is None}

    def get(self, addr: ResourceInstance) -> StateObject | None:
        return self._current.get(addr)

    def current(self) -> list[StateObject]:
        return [o for o in self.objects if o.deposed is None]

    def managed(self) -> list[StateObject]:
        return [o for o in self.objects if o.addr.mode == "managed"]

    def instances_of(self, module: ModulePath, mode: str, rtype: str, name: str) -> list[StateObject]:
        return [o for o in self.current() if o.addr.resource == (module, mode, rtype, name)]

    def under(self, prefix: ModulePath) -> list[StateObject]:
        n = len(prefix)
        return [o for o in self.objects if o.addr.module[:n] == prefix]

    def module_paths(self) -> set[ModulePath]:
        return {o.addr.module for o in self.objects}

    def with_objects(self, objects: Iterable[StateObject]) -> State:
        return State(list(objects), self.format, self.terraform_version, self.serial, self.lineage, self.source)

    # moves -------------------------------------------------------------------------------------------

    def apply_moves(self, moves: list[Move]) -> tuple[State, list[Move], list[Blocked]]:
        """Apply moves as one step (module moves before resource moves), like `ApplyMoves`.

        Moves are simultaneous: a destination held by an object that is itself moving away is free (this is
        what a `state mv` sequence through temporary keys achieves; see emit.state_mv_order)."""
        objects = list(self.objects)
        applied: list[Move] = []
        blocked: list[Blocked] = []
        module_moves = sorted((m for m in moves if m.is_module), key=lambda m: len(m.src))  # type: ignore[arg-type]
        resource_moves = [m for m in moves if not m.is_module]

        # Module instances.
        if module_moves:
            sources = [m.src for m in module_moves]
            objects, done, stuck = _move_modules(objects, module_moves, sources)
            applied += done
            blocked += stuck

        # Resource instances.
        if resource_moves:
            leaving = {m.src for m in resource_moves if any(o.addr == m.src for o in objects)}
            occupied = {o.addr for o in objects}
            taken: set[ResourceInstance] = set()
            plan: dict[ResourceInstance, ResourceInstance] = {}
            for m in resource_moves:
                src, dst = m.src, m.dst
                assert isinstance(src, ResourceInstance) and isinstance(dst, ResourceInstance)
                if src not in occupied:
                    continue  # nothing at `from`: Terraform ignores the statement
                if (dst in occupied and dst not in leaving) or dst in taken:
                    blocked.append(Blocked(m, str(dst)))
                    continue
                taken.add(dst)
                plan[src] = dst
                applied.append(m)
            objects = [replace(o, addr=plan[o.addr]) if o.addr in plan else o for o in objects]
        return self.with_objects(objects), applied, blocked


def _move_modules(
    objects: list[StateObject], moves: list[Move], sources: list[Any]
) -> tuple[list[StateObject], list[Move], list[Blocked]]:
    applied: list[Move] = []
    blocked: list[Blocked] = []
    remap: dict[ModulePath, ModulePath] = {}
    taken: set[ModulePath] = set()

    def under(path: ModulePath, prefix: ModulePath) -> bool:
        return path[: len(prefix)] == prefix

    for m in moves:
        src, dst = m.src, m.dst
        assert not isinstance(src, ResourceInstance) and not isinstance(dst, ResourceInstance)
        if not any(under(o.addr.module, src) for o in objects):
            continue
        occupant = next(
            (o for o in objects if under(o.addr.module, dst) and not any(under(o.addr.module, s) for s in sources)),
            None,
        )
        if occupant is not None or dst in taken:
            blocked.append(Blocked(m, format_module(dst) if occupant is None else str(occupant.addr)))
            continue
        taken.add(dst)
        remap[src] = dst
        applied.append(m)
    out = []
    for o in objects:
        for src, dst in remap.items():
            if under(o.addr.module, src):
                o = replace(o, addr=o.addr.with_module(dst + o.addr.module[len(src):]))
                break
        out.append(o)
    return out, applied, blocked


# --- reading ----------------------------------------------------------------------------------------


def read_state(path: Path) -> State:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such state file; give `terraform state pull > state.json` output") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read the state file ({e})") from None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise UserError(
            f"{path}: not JSON (line {e.lineno}): give a v4 state (`terraform state pull`) or `terraform show -json`"
        ) from None
    state = parse_state(doc, str(path))
    state.source = str(path)
    return state


def parse_state(doc: Any, origin: str = "state") -> State:
    if not isinstance(doc, dict):
        raise UserError(f"{origin}: not a Terraform state (a JSON object is expected)")
    if "encrypted_data" in doc and "encryption_version" in doc:
        raise UserError(f"{origin}: an OpenTofu encrypted state; give `tofu state pull` output instead (it is decrypted)")
    if "planned_values" in doc or "resource_changes" in doc or "prior_state" in doc:
        raise UserError(
            f"{origin}: a plan, not a state; give `terraform state pull` output or `terraform show -json` without a plan file"
        )
    if ("version" in doc and "resources" in doc) or doc.get("version") == 4:
        version = doc.get("version")
        if version != 4:
            raise UserError(
                f"{origin}: state format version {version!r} is not supported (refit reads version 4, written by "
                "Terraform >= 0.12 and OpenTofu); run `terraform state pull` with a current Terraform"
            )
        return _read_v4(doc, origin)
    if "version" in doc and isinstance(doc.get("version"), int):
        raise UserError(
            f"{origin}: state format version {doc['version']} (Terraform < 0.12) is not supported; upgrade the state "
            "with Terraform >= 0.12 and give `terraform state pull` output"
        )
    if "format_version" in doc:
        return _read_show_json(doc, origin)
    raise UserError(
        f"{origin}: not a Terraform state (no `version` or `format_version`); give `terraform state pull` output "
        "or `terraform show -json`"
    )


def _req(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    v = d.get(key)
    if not isinstance(v, kind):
        raise UserError(f"{where}: `{key}` is missing or not a {getattr(kind, '__name__', kind)}; the state file is damaged")
    return v


def _norm_attrs(v: Any) -> Any:
    # JSON numbers that are whole come back as int already; floats that are whole are made int so that
    # 64 (state) and 64 (config) compare equal.
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: _norm_attrs(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm_attrs(x) for x in v]
    return v


def _key(raw: Any, where: str) -> Any:
    # version4.go: float64 -> IntKey, string -> StringKey, nil -> NoKey, anything else is an error.
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise UserError(f"{where}: invalid instance key {raw!r}; the state file is damaged")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        return raw
    raise UserError(f"{where}: invalid instance key {raw!r}; the state file is damaged")


def _read_v4(doc: dict[str, Any], origin: str) -> State:
    objects: list[StateObject] = []
    resources = doc.get("resources") or []
    if not isinstance(resources, list):
        raise UserError(f"{origin}: `resources` is not a list; the state file is damaged")
    for i, r in enumerate(resources):
        where = f"{origin}: resources[{i}]"
        if not isinstance(r, dict):
            raise UserError(f"{where}: not an object; the state file is damaged")
        mode = _req(r, "mode", str, where)
        if mode not in ("managed", "data"):
            raise UserError(f"{where}: invalid resource mode {mode!r}; the state file is damaged")
        rtype, name = _req(r, "type", str, where), _req(r, "name", str, where)
        module = parse_module_instance(r.get("module") or "")
        for j, inst in enumerate(r.get("instances") or []):
            iwhere = f"{where}.instances[{j}]"
            if not isinstance(inst, dict):
                raise UserError(f"{iwhere}: not an object; the state file is damaged")
            key = _key(inst.get("index_key"), iwhere)
            if "attributes" in inst and isinstance(inst["attributes"], dict):
                attrs = _norm_attrs(inst["attributes"])
            elif isinstance(inst.get("attributes_flat"), dict):
                # Pre-0.12 flatmap: only top-level scalars are usable ("a.b" / "a.%" keys are nested parts).
                attrs = {k: v for k, v in inst["attributes_flat"].items() if "." not in k}
            else:
                attrs = {}
            status = inst.get("status") or ""
            if status not in ("", "tainted"):
                raise UserError(f"{iwhere}: invalid status {status!r}; the state file is damaged")
            objects.append(
                StateObject(
                    ResourceInstance(module, mode, rtype, name, key),
                    attrs,
                    deposed=inst.get("deposed") or None,
                    tainted=status == "tainted",
                )
            )
    serial = doc.get("serial")
    return State(
        objects, "v4", str(doc.get("terraform_version") or ""), serial if isinstance(serial, int) else None,
        str(doc.get("lineage") or ""),
    )


def _read_show_json(doc: dict[str, Any], origin: str) -> State:
    objects: list[StateObject] = []
    values = doc.get("values")
    if values is None:
        return State([], "show-json", str(doc.get("terraform_version") or ""))
    if not isinstance(values, dict):
        raise UserError(f"{origin}: `values` is not an object; not `terraform show -json` output")

    def walk(mod: dict[str, Any], where: str) -> None:
        for i, r in enumerate(mod.get("resources") or []):
            rwhere = f"{where}.resources[{i}]"
            if not isinstance(r, dict):
                raise UserError(f"{rwhere}: not an object")
            addr_text = _req(r, "address", str, rwhere)
            addr = parse_resource_instance(addr_text)
            mode = r.get("mode", addr.mode)
            key = _key(r.get("index"), rwhere) if "index" in r else None
            if (mode, r.get("type", addr.type), r.get("name", addr.name), key) != (addr.mode, addr.type, addr.name, addr.key):
                raise UserError(f"{rwhere}: address {addr_text!r} does not match its mode/type/name/index")
            objects.append(
                StateObject(addr, _norm_attrs(r.get("values") or {}), deposed=r.get("deposed_key") or None,
                            tainted=bool(r.get("tainted")))
            )
        for j, child in enumerate(mod.get("child_modules") or []):
            walk(child, f"{where}.child_modules[{j}]")

    root = values.get("root_module") or {}
    walk(root, f"{origin}: values.root_module")
    return State(objects, "show-json", str(doc.get("terraform_version") or ""))
