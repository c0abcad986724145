"""Scenarios: YAML files that put the emulator in a known state (`refit emulator seed NAME|FILE`).

A scenario lists ARM documents in creation order. Strings may hold `{expressions}` over the scenario's
parameters (and `i`, the index of a `repeat`ed entry): `vm-{i:02d}`, `{zones[i % len(zones)]}`. A
string that is exactly one expression keeps the expression's type (`capacity: "{vms}"` is a number).
Every document goes through the same resource handlers and rule catalog as a PUT, then is completed at
once (resources start in their final state); `when: "{expr}"` skips an entry when false; `refit:` on an entry sets emulator-private state, e.g.
`refit: {power: deallocated}` for a VM. `existing: true` seeds a resource Azure already holds although it would no
longer create it (an NSG flow log, whose creation Azure blocks since June 2025, rule FL1): the document is checked as
an update of itself, so every rule an unchanged existing resource must keep still applies, and only the rules of a
create (FL1, a name's uniqueness) do not.
"""

from __future__ import annotations

import ast
import copy
import operator
import re
from importlib import resources as ilr
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId
from refit.emulator.core import Emulator
from refit.platform import apis
from refit.platform.cloud import Call, Cloud, Operation

LATEST_API = apis.COMPUTE


class ScenarioError(UserError):
    """A scenario that cannot be loaded: a user error (one line, exit 2)."""


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    subscriptions: list[dict[str, str]] = Field(default_factory=list)
    timing: dict[str, float] = Field(default_factory=dict)
    health: dict[str, Any] = Field(default_factory=dict)  # the health model (health.py), issue 4
    # Entra device objects already in the tenant (refit.platform.directory), e.g. a deleted VM's leftover: Graph's
    # fields (displayName; id, deviceId, registrationDateTime... default as a join sets them). Seeded first, so
    # that the resources' AADLoginForWindows joins meet them.
    devices: list[dict[str, Any]] = Field(default_factory=list)
    resources: list[dict[str, Any]]


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in (ilr.files("refit.emulator") / "scenarios").iterdir() if p.name.endswith(".yaml"))


def load(name_or_file: str) -> Scenario:
    if not name_or_file:
        raise ScenarioError(f"name a scenario ({', '.join(builtin_names())}) or a YAML file")
    path = Path(name_or_file)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file '{name_or_file}' does not exist")
        return parse(path.read_text(), source=str(path))
    res = ilr.files("refit.emulator") / "scenarios" / f"{name_or_file}.yaml"
    if not res.is_file():
        raise ScenarioError(f"unknown scenario '{name_or_file}': built-in ones are {', '.join(builtin_names())}; "
                            "or give the path of a .yaml file")
    return parse(res.read_text(), source=name_or_file)


def parse(text: str, source: str = "scenario") -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(f"{source}: not valid YAML: {str(e).splitlines()[0]}") from e
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a YAML mapping with 'name' and 'resources'")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ScenarioError(f"{source}: {where}: {err['msg']}") from e


# ---- templating ------------------------------------------------------------------------------------
_EXPR = re.compile(r"\{([^{}]+)\}")
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Div: operator.truediv, ast.Mod: operator.mod}
_FUNCS = {"len": len, "str": str, "int": int, "min": min, "max": max, "range": range}


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ScenarioError(f"unknown parameter '{node.id}' (known: {', '.join(sorted(env))})")
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _BIN[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, env)
    if isinstance(node, ast.Subscript):
        return _eval(node.value, env)[_eval(node.slice, env)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords:
        return _FUNCS[node.func.id](*(_eval(a, env) for a in node.args))
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        a, b = _eval(node.left, env), _eval(node.comparators[0], env)
        ops = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.Gt: operator.gt,
               ast.LtE: operator.le, ast.GtE: operator.ge}
        if type(node.ops[0]) in ops:
            return ops[type(node.ops[0])](a, b)
    raise ScenarioError(f"unsupported expression: {ast.unparse(node)}")


def _expr(text: str, env: dict[str, Any]) -> Any:
    expr, _, spec = text.partition(":")
    try:
        val = _eval(ast.parse(expr.strip(), mode="eval"), env)
    except SyntaxError as e:
        raise ScenarioError(f"bad expression '{{{text}}}'") from e
    except (KeyError, IndexError, TypeError, ZeroDivisionError) as e:
        raise ScenarioError(f"expression '{{{text}}}' failed: {e}") from e
    return format(val, spec) if spec else val


def render(obj: Any, env: dict[str, Any]) -> Any:
    if isinstance(obj, str):
        m = _EXPR.fullmatch(obj)
        if m:
            return _expr(m.group(1), env)
        return _EXPR.sub(lambda mm: str(_expr(mm.group(1), env)), obj)
    if isinstance(obj, list):
        return [render(x, env) for x in obj]
    if isinstance(obj, dict):
        return {render(k, env): render(v, env) for k, v in obj.items()}
    return obj


# ---- applying ----------------------------------------------------------------------------------------
def seed(emu: Emulator, sc: Scenario, params: dict[str, Any], reset: bool = True) -> dict[str, Any]:
    """Load a scenario all or nothing: it is first built in a throwaway copy of the cloud (empty when
    `reset`), so a scenario that fails (a bad parameter, a resource the catalog refuses) leaves the
    emulator exactly as it was; only then is it applied for real."""
    with emu.lock:
        trial = Cloud(time_scale=emu.clock.scale) if reset else emu.fork()
        trial.clock = copy.copy(emu.clock)
        if reset:
            trial.settings = copy.deepcopy(emu.settings)
            trial.reset()
        apply(trial, sc, params)
        if reset:
            emu.reset()
        return apply(emu, sc, params)


def apply(emu: Cloud, sc: Scenario, params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - set(sc.parameters)
    if unknown:
        raise ScenarioError(f"scenario '{sc.name}' has no parameter {', '.join(sorted(unknown))} "
                            f"(it takes: {', '.join(sorted(sc.parameters)) or 'none'})")
    env = {**sc.parameters}
    for k, v in params.items():
        default = sc.parameters[k]
        try:
            env[k] = type(default)(v) if isinstance(default, int | float | str) and not isinstance(default, bool) else v
        except (TypeError, ValueError) as e:
            raise ScenarioError(f"parameter '{k}' must be a {type(default).__name__}, not '{v}'") from e
    env.setdefault("subscription", emu.subscriptions[0]["id"])
    env["sub"] = env["subscription"]
    for s in render(sc.subscriptions, env):
        emu.add_subscription(s["id"], s.get("displayName"))
    if sc.timing:
        try:
            emu.timing.update(sc.timing)
        except ValueError as e:
            raise ScenarioError(str(e)) from e
    if sc.health:
        from refit.platform.effects import health

        try:
            health.configure(emu, render(sc.health, env))
        except health.HealthModelError as e:
            raise ScenarioError(f"health: {e}") from e
    created = 0
    with emu.lock:
        from refit.platform import directory

        for n, dev in enumerate(render(sc.devices, env)):
            if not isinstance(dev, dict) or not isinstance(dev.get("displayName"), str):
                raise ScenarioError(f"devices[{n}] needs a displayName (the hostname the device holds)")
            directory.add(emu, dev)
        for n, entry in enumerate(sc.resources):
            if "when" in entry and not render(entry["when"], env):
                continue
            repeat = render(entry.get("repeat", 1), env) if "repeat" in entry else 1
            if not isinstance(repeat, int) or repeat < 0:
                raise ScenarioError(f"resources[{n}].repeat must be a whole number >= 0")
            for i in range(repeat):
                doc = render({k: v for k, v in entry.items() if k not in ("repeat", "when")}, {**env, "i": i, "n": i + 1})
                private = doc.pop("refit", None) or {}
                existing = doc.pop("existing", False)
                if not isinstance(existing, bool):
                    raise ScenarioError(f"resources[{n}].existing must be true or false")
                try:
                    create_now(emu, doc, private, existing=existing)
                except ArmError as e:
                    raise ScenarioError(f"resources[{n}] ({doc.get('id')}): ({e.code}) {e.message}") from e
                created += 1
        emu.flush()
    return {"scenario": sc.name, "created": created, "resources": len(emu.world)}


def create_now(emu: Cloud, body: dict[str, Any], private: dict[str, Any] | None = None,
               existing: bool = False) -> dict[str, Any]:
    """Create (or update) one resource through its handler and the rule catalog, completed at once. `existing`: the
    resource is one Azure already holds, checked as an unchanged update of itself (not as a create)."""
    from refit.platform.effects import handler_for

    if not isinstance(body.get("id"), str):
        raise ArmError(400, "InvalidParameter", "every scenario resource needs an 'id'")
    rid = ResourceId.parse(body["id"])
    if rid.namespace is None and rid.resource_group is None:
        raise ArmError(400, "InvalidParameter", "subscriptions are declared under 'subscriptions:', not as resources")
    if rid.resource_group is not None and rid.namespace is not None and emu.get(ResourceId(rid.subscription, rid.resource_group)) is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rid.resource_group}' could not be found.")
    if not emu.has_subscription(rid.subscription):
        emu.add_subscription(rid.subscription)
    h = handler_for(rid.type)
    old = emu.get(rid)
    call = Call("PUT", LATEST_API, copy.deepcopy(body))
    new = h.prepare(emu, rid, call.body, old, call)
    sync_err, async_err = emu.validate(new if existing and old is None else old, new)
    if sync_err or async_err:
        raise sync_err or async_err  # type: ignore[misc]
    h.duration(emu, old, new)
    new.setdefault("properties", {})["provisioningState"] = "Succeeded"
    h.accept(emu, old, new, None)
    emu.save(new)
    op = Operation(id="scenario", resource_id=str(rid), kind="put", name="scenario", namespace=rid.namespace or "",
                   region="", start=emu.now(), end=emu.now(), api_version=LATEST_API, data={"old": old})
    h.finish(emu, new, op)
    priv = emu.priv(rid)
    if "replication" in priv:  # versions start fully replicated
        for s in priv["replication"]:
            s["start"] = s["end"] = emu.now()
        h.finish(emu, new, op)
    priv.update(private or {})
    emu.save(new)
    if rid.type.lower() == "microsoft.compute/virtualmachines":
        from refit.platform.effects import disks
        from refit.platform.effects.vm import ALLOCATED, _disk_ids, set_power

        set_power(emu, new, priv.get("power", "running"))
        emu.save(new)
        for did in _disk_ids(new):
            disks.attach(emu, did, new["id"], priv.get("power", "running") in ALLOCATED)
    return new
