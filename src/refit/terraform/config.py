"""A root module with its child modules, evaluated against one state: module instances, variables,
locals, `for_each`/`count` expansion and resource references.

One `Config` is parsed once; a `World` evaluates it against one state view (before the moves, after the
moves...). Expansion follows Terraform:
- `for_each` takes a map/object (keys are the instance keys) or a set of strings (each.key == each.value);
  a list is an error ("must be a map, or set of strings, and you have provided a value of type tuple");
- `count` takes a whole number, keys 0..n-1;
- module call arguments are evaluated in the caller with the call instance's each/count and become the
  child's `var.*`, converted to the variable's type (`optional()` defaults applied);
- root variables come from variable defaults, `terraform.tfvars`, `terraform.tfvars.json`,
  `*.auto.tfvars(.json)` in lexical order, then `--var-file` files in the order given (Terraform's
  precedence, https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence).
References to other resources read the attributes recorded in the state (`id` of an existing VM); an
instance not in the state is unknown ("known after apply"); data sources are unknown (read at plan time).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refit.arm.errors import UserError
from refit.terraform import functions
from refit.terraform.address import InstanceKey, ModulePath, ResourceInstance, format_module
from refit.terraform.errors import EvalError, InvalidExpression, Unsupported
from refit.terraform.evaluate import Env, Evaluator
from refit.terraform.hcl import Block, Expr, ModuleDef, children, load_module, parse_file, resolve_module_dir
from refit.terraform.state import State
from refit.terraform.typeexpr import ANY, ConversionError, convert, parse_type
from refit.terraform.values import HclSet, Replaced, Unknown, find_unknown, number_text, type_name

META_ARGS = {"source", "version", "for_each", "count", "providers", "depends_on"}


class Config:
    """The parsed configuration rooted at one directory (`terraform init` not needed for local modules)."""

    def __init__(self, root_dir: Path, var_files: list[Path] | None = None) -> None:
        self.root_dir = Path(root_dir).resolve()
        self._defs: dict[Path, ModuleDef] = {}
        self.root = self.module_def(self.root_dir)
        self.root_values, self.var_sources = _root_values(self.root_dir, var_files or [])

    def module_def(self, directory: Path) -> ModuleDef:
        directory = Path(directory).resolve()
        if directory not in self._defs:
            self._defs[directory] = load_module(directory)
        return self._defs[directory]

    def module_defs(self) -> list[ModuleDef]:
        """Every module directory read so far (the root and the child modules that were expanded)."""
        return list(self._defs.values())

    def child_def(self, parent: ModuleDef, call: Block, key_path: tuple[str, ...]) -> ModuleDef:
        return self.module_def(resolve_module_dir(self.root_dir, parent.dir, call, key_path))

    def text(self, file: Path) -> str:
        for d in self._defs.values():
            if file in d.texts:
                return d.texts[file]
        return Path(file).read_text(encoding="utf-8")

    def where(self, file: Path, line: int) -> str:
        return f"{self.display(file)}:{line}"

    def display(self, file: Path) -> str:
        try:
            return str(Path(file).resolve().relative_to(self.root_dir.parent))
        except ValueError:
            return str(file)


def _root_values(root: Path, var_files: list[Path]) -> tuple[dict[str, tuple[Any, str]], list[str]]:
    """Root variable values with where each came from (a tfvars file)."""
    files = []
    for name in ("terraform.tfvars", "terraform.tfvars.json"):
        if (root / name).is_file():
            files.append(root / name)
    files += sorted(p for p in root.iterdir() if p.name.endswith((".auto.tfvars", ".auto.tfvars.json")))
    for vf in var_files:
        p = Path(vf)
        if not p.is_file():
            raise UserError(f"--var-file {vf}: no such file")
        files.append(p)
    values: dict[str, tuple[Any, str]] = {}
    for f in files:
        for name, value in _read_tfvars(f).items():
            values[name] = (value, str(f))
    return values, [str(f) for f in files]


class _Literal:
    """Evaluates tfvars and optional() defaults: literals only, no references (as Terraform)."""

    fc = functions.FunctionContext(Path("."), lambda *_: Unknown("template"))

    def _no(self, *args: Any) -> Any:
        raise InvalidExpression("Variables not allowed", "tfvars values and type defaults cannot use references")

    def where(self, file: Path, line: int) -> str:
        return f"{file}:{line}"

    var = local = path_value = resource = resource_instance = resource_single = module_call = _no


def _read_tfvars(path: Path) -> dict[str, Any]:
    if path.name.endswith(".json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise UserError(f"{path}: not valid JSON (line {e.lineno}): fix the variables file") from None
        if not isinstance(doc, dict):
            raise UserError(f"{path}: a JSON variables file must be an object")
        return {k: functions._from_json(v) for k, v in doc.items()}
    text, attrs, blocks = parse_file(path)
    if blocks:
        raise UserError(f"{path}:{blocks[0].line}: blocks are not allowed in a variables file")
    ev = Evaluator(_Literal())  # type: ignore[arg-type]
    out = {}
    for name, e in attrs.items():
        try:
            out[name] = ev.eval(e, text)
        except EvalError as err:
            raise UserError(f"{e.where()}: cannot read variable {name!r}: {err.summary}: {err.detail}") from None
    return out


@dataclass
class Expansion:
    """How a resource block or module call repeats in one module instance."""

    kind: str  # "single" | "count" | "for_each"
    each: dict[InstanceKey, Any]  # key -> each.value (for_each), key -> None (count), None -> None (single)

    @property
    def keys(self) -> list[InstanceKey]:
        return list(self.each)


class World:
    """A Config evaluated against one state."""

    def __init__(self, config: Config, state: State, replaced: set[ResourceInstance] | None = None) -> None:
        self.config = config
        self.state = state
        self.replaced = replaced or set()  # objects the proof found replaced: their attributes become unknown
        self._modules: dict[ModulePath, ModuleInstance] = {}
        self.root = ModuleInstance(self, (), config.root, None, None, None)
        self._modules[()] = self.root

    def module(self, path: ModulePath) -> ModuleInstance | None:
        """The module instance at `path` if the configuration declares it (expanding calls on the way)."""
        if path in self._modules:
            return self._modules[path]
        parent = self.module(path[:-1])
        if parent is None:
            return None
        name, key = path[-1]
        return parent.child(name, key)

    def all_modules(self, errors: list[tuple[str, EvalError]] | None = None) -> list[ModuleInstance]:
        """Every declared module instance, parents first. Calls whose expansion fails are reported in
        `errors` as (call address, error) and skipped."""
        out: list[ModuleInstance] = []
        todo = [self.root]
        while todo:
            mi = todo.pop(0)
            out.append(mi)
            for name in sorted(mi.definition.module_calls):
                try:
                    exp = mi.call_expansion(name)
                except EvalError as e:
                    if errors is not None:
                        errors.append((mi.call_address(name), e))
                    continue
                for key in exp.keys:
                    child = mi.child(name, key)
                    if child is not None:
                        todo.append(child)
        return out


@dataclass(eq=False)
class ModuleInstance:
    world: World
    path: ModulePath
    definition: ModuleDef
    parent: ModuleInstance | None
    call: Block | None
    each: tuple[Any, Any] | None
    count: int | None = None
    _vars: dict[str, Any] = field(default_factory=dict)
    _locals: dict[str, Any] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)
    _expansions: dict[tuple[str, ...], Expansion | EvalError] = field(default_factory=dict)
    _children: dict[tuple[str, InstanceKey], ModuleInstance | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.evaluator = Evaluator(self)
        cfg = self.world.config
        self.fc = functions.FunctionContext(cfg.root_dir, self._render_template)

    # --- Scope -------------------------------------------------------------------------------------------

    def var(self, name: str) -> Any:
        if name in self._vars:
            return self._vars[name]
        decl = self.definition.variables.get(name)
        if decl is None:
            raise InvalidExpression("Reference to undeclared input variable",
                                    f"an input variable named {name!r} has not been declared in {self.definition.dir}")
        value = self._var_value(name, decl)
        self._vars[name] = value
        return value

    def _var_value(self, name: str, decl: Block) -> Any:
        vtype = self._var_type(decl)
        given: Any = _MISSING
        origin = ""
        if self.call is not None:
            arg = self.call.attrs.get(name)
            if arg is not None:
                assert self.parent is not None
                given = self.parent.eval(arg, each=self.each, count=self.count)
                origin = f"{self.world.config.where(arg.file, arg.line)} (module {self.call.labels[0]!r})"
        elif name in self.world.config.root_values:
            given, origin = self.world.config.root_values[name]
        if given is _MISSING or (given is None and _nullable(decl) is False):
            default = decl.attrs.get("default")
            if default is not None:
                given = self._literal(default)
                origin = self.world.config.where(default.file, default.line)
            elif self.call is not None:
                raise InvalidExpression("Missing required argument",
                                        f"the argument {name!r} is required by module {self.call.labels[0]!r} "
                                        "but was not set")
            else:
                return Unknown(f"var.{name} has no value: give it in a .tfvars file or with --var-file")
        try:
            return convert(given, vtype)
        except ConversionError as e:
            raise InvalidExpression("Invalid value for input variable",
                                    f"var.{name} (from {origin}): {e}") from None

    def _var_type(self, decl: Block) -> Any:
        t = decl.attrs.get("type")
        if t is None:
            return ANY
        try:
            return parse_type(t.node, lambda node: self._literal_node(node, t))
        except ConversionError as e:
            raise Unsupported("Unsupported type constraint", f"{self.world.config.where(t.file, t.line)}: {e}") from None

    def _literal(self, e: Expr) -> Any:
        return Evaluator(_Literal()).eval(e, self.world.config.text(e.file))  # type: ignore[arg-type]

    def _literal_node(self, node: Any, e: Expr) -> Any:
        return Evaluator(_Literal()).ev(node, Env(e.file, self.world.config.text(e.file)))  # type: ignore[arg-type]

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        e = self.definition.locals.get(name)
        if e is None:
            raise InvalidExpression("Reference to undeclared local value",
                                    f"a local value named {name!r} has not been declared in {self.definition.dir}")
        if name in self._evaluating:
            raise InvalidExpression("Cycle in local values", f"local.{name} refers to itself")
        self._evaluating.add(name)
        try:
            value = self.eval(e)
        finally:
            self._evaluating.discard(name)
        self._locals[name] = value
        return value

    def path_value(self, attr: str) -> Any:
        root = self.world.config.root_dir
        if attr == "module":
            rel = os.path.relpath(self.definition.dir, root)
            return Path(rel).as_posix()
        if attr == "root":
            return "."
        if attr == "cwd":
            return str(root)
        raise InvalidExpression("Invalid \"path\" attribute", f"path.{attr}: only path.module, path.root, path.cwd exist")

    def resource(self, mode: str, rtype: str, name: str) -> Any:
        exp = self.expansion(mode, rtype, name)
        if exp.kind == "single":
            return self.resource_instance(mode, rtype, name, None)
        if exp.kind == "count":
            return [self._instance_value(mode, rtype, name, k) for k in exp.keys]
        return {k: self._instance_value(mode, rtype, name, k) for k in exp.keys}

    def resource_single(self, mode: str, rtype: str, name: str) -> Any:
        exp = self.expansion(mode, rtype, name)
        if exp.kind != "single":
            raise InvalidExpression("Missing resource instance key",
                                    f"{rtype}.{name} has {exp.kind}, so its attributes must be accessed on a specific "
                                    f"instance, e.g. {rtype}.{name}[{'0' if exp.kind == 'count' else 'each.key'}]")
        return self._instance_value(mode, rtype, name, None)

    def resource_instance(self, mode: str, rtype: str, name: str, key: Any) -> Any:
        block = self._resource_block(mode, rtype, name)
        try:
            exp = self.expansion(mode, rtype, name)
        except Unsupported:
            exp = None  # keys unknown offline: read the state without checking the key
        if exp is not None:
            if exp.kind == "single":
                raise InvalidExpression("Unexpected resource instance key",
                                        f"{rtype}.{name} has neither count nor for_each; remove the index")
            k = _coerce_key(key, exp.kind)
            if k not in exp.each:
                raise InvalidExpression("Invalid index",
                                        f"the given key does not identify an instance of {rtype}.{name} "
                                        f"(declared at {self.world.config.where(block.file, block.line)})")
        else:
            k = key
        return self._instance_value(mode, rtype, name, k)

    def _instance_value(self, mode: str, rtype: str, name: str, key: InstanceKey) -> Any:
        addr = ResourceInstance(self.path, mode, rtype, name, key)
        if mode == "data":
            return Unknown(f"{addr} (data sources are read when Terraform plans)")
        obj = self.world.state.get(addr)
        if obj is None:
            return Unknown(f"{addr} is not in the state (known after apply)")
        if addr in self.world.replaced:
            return Replaced(str(addr))
        return obj.attributes

    def _resource_block(self, mode: str, rtype: str, name: str) -> Block:
        block = self.definition.resources.get((mode, rtype, name))
        if block is None:
            what = "data source" if mode == "data" else "resource"
            raise InvalidExpression(f"Reference to undeclared {what}",
                                    f"a {what} {rtype}.{name} has not been declared in {self.definition.dir}")
        return block

    def module_call(self, name: str) -> Any:
        if name not in self.definition.module_calls:
            raise InvalidExpression("Reference to undeclared module",
                                    f"no module call named {name!r} is declared in {self.definition.dir}")
        exp = self.call_expansion(name)

        def outputs(key: InstanceKey) -> Any:
            child = self.child(name, key)
            if child is None:
                return Unknown(f"module.{name}")
            return {o: child.eval(b.attrs["value"]) for o, b in child.definition.outputs.items() if "value" in b.attrs}

        if exp.kind == "single":
            return outputs(None)
        if exp.kind == "count":
            return [outputs(k) for k in exp.keys]
        return {k: outputs(k) for k in exp.keys}

    def where(self, file: Path, line: int) -> str:
        return self.world.config.where(file, line)

    # --- evaluation -------------------------------------------------------------------------------------

    def eval(self, e: Expr, each: tuple[Any, Any] | None = None, count: int | None = None) -> Any:
        return self.evaluator.eval(e, self.world.config.text(e.file), each=each, count=count)

    def _render_template(self, text: str, variables: dict[str, Any], origin: str) -> Any:
        env = Env(Path(origin), text, dict(variables))
        return self.evaluator.render_text(text, env, origin)

    # --- expansion -----------------------------------------------------------------------------------

    def expansion(self, mode: str, rtype: str, name: str) -> Expansion:
        block = self._resource_block(mode, rtype, name)
        return self._expand(("resource", mode, rtype, name), block)

    def call_expansion(self, name: str) -> Expansion:
        return self._expand(("module", name), self.definition.module_calls[name])

    def _expand(self, cache_key: tuple[str, ...], block: Block) -> Expansion:
        cached = self._expansions.get(cache_key)
        if isinstance(cached, EvalError):
            raise cached
        if cached is not None:
            return cached
        try:
            exp = self._compute_expansion(block)
        except EvalError as e:
            self._expansions[cache_key] = e
            raise
        self._expansions[cache_key] = exp
        return exp

    def _compute_expansion(self, block: Block) -> Expansion:
        fe, ct = block.attrs.get("for_each"), block.attrs.get("count")
        cfg = self.world.config
        if fe is not None and ct is not None:
            raise InvalidExpression("Invalid combination of \"count\" and \"for_each\"",
                                    "count and for_each cannot both be set", cfg.where(block.file, block.line))
        if fe is not None:
            return Expansion("for_each", for_each_map(self.eval(fe), cfg.where(fe.file, fe.line), fe.text))
        if ct is not None:
            n = self.eval(ct)
            where = cfg.where(ct.file, ct.line)
            if isinstance(n, Unknown):
                raise Unsupported("Cannot evaluate count offline", n.why, where, ct.text)
            if isinstance(n, bool) or not isinstance(n, int | float) or n < 0 or int(n) != n:
                raise InvalidExpression("Invalid count argument",
                                        f"count must be a non-negative whole number, not {n!r}", where, ct.text)
            return Expansion("count", {i: None for i in range(int(n))})
        return Expansion("single", {None: None})

    def child(self, name: str, key: InstanceKey) -> ModuleInstance | None:
        ck = (name, key)
        if ck in self._children:
            return self._children[ck]
        call = self.definition.module_calls.get(name)
        result: ModuleInstance | None = None
        if call is not None:
            exp = self.call_expansion(name)
            if key in exp.each:
                key_path = (*tuple(n for n, _ in self.path), name)
                child_def = self.world.config.child_def(self.definition, call, key_path)
                each = (key, exp.each[key]) if exp.kind == "for_each" else None
                count = key if exp.kind == "count" else None
                result = ModuleInstance(self.world, (*self.path, (name, key)), child_def, self, call, each,
                                        count if isinstance(count, int) else None)
                self.world._modules[result.path] = result
        self._children[ck] = result
        return result

    def call_address(self, name: str) -> str:
        prefix = format_module(self.path)
        return f"{prefix}.module.{name}" if prefix else f"module.{name}"

    def instance_env(self, exp: Expansion, key: InstanceKey) -> tuple[tuple[Any, Any] | None, int | None]:
        if exp.kind == "for_each":
            return (key, exp.each[key]), None
        if exp.kind == "count":
            return None, key if isinstance(key, int) else None
        return None, None


_MISSING = object()


def _nullable(decl: Block) -> bool | None:
    n = decl.attrs.get("nullable")
    if n is None:
        return None
    return n.text.strip() != "false"


def _coerce_key(key: Any, kind: str) -> InstanceKey:
    """An index expression's value as an instance key (count: number, for_each: string)."""
    if kind == "count":
        if isinstance(key, str) and key.lstrip("-").isdigit():
            return int(key)
        if isinstance(key, float) and key.is_integer():
            return int(key)
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float):
        return number_text(key)
    return key


def for_each_map(value: Any, where: str, text: str) -> dict[InstanceKey, Any]:
    """Validate a for_each value like Terraform (`internal/terraform/eval_for_each.go`) and return key -> each.value."""
    if isinstance(value, Unknown):
        raise Unsupported("Cannot evaluate for_each offline", value.why, where, text)
    if value is None:
        raise InvalidExpression("Invalid for_each argument", "the given \"for_each\" argument value is null",
                                where, text)
    if isinstance(value, dict):
        return {k: value[k] for k in sorted(value)}  # instances are ordered by key, as in the state
    if isinstance(value, HclSet):
        u = find_unknown(list(value))
        if u:
            raise Unsupported("Cannot evaluate for_each offline", u.why, where, text)
        out: dict[InstanceKey, Any] = {}
        for v in value:
            if not isinstance(v, str):
                raise InvalidExpression("Invalid for_each set argument",
                                        f"the given \"for_each\" argument value is unsuitable: \"for_each\" supports "
                                        f"sets of strings, but you have provided a set containing type {type_name(v)}",
                                        where, text)
            out[v] = v
        return out
    raise InvalidExpression(
        "Invalid for_each argument",
        "the given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of "
        f"strings, and you have provided a value of type {type_name(value)}",
        where, text,
    )


def children_of(block: Block, kind: str) -> list[Block]:
    return [b for b in block.blocks if b.type == kind]


def lifecycle_ignored(block: Block) -> set[str] | str:
    """Top-level attribute names in `lifecycle { ignore_changes = [...] }`, or "all"."""
    out: set[str] = set()
    for lc in children_of(block, "lifecycle"):
        ic = lc.attrs.get("ignore_changes")
        if ic is None:
            continue
        if ic.text.strip() == "all":
            return "all"
        node = ic.node
        while node.data == "expr_term" and len(children(node)) == 1:
            node = children(node)[0]
        if node.data == "tuple":
            for item in children(node):
                first = item
                while first.data != "identifier" and children(first):
                    first = children(first)[0]
                if first.data == "identifier":
                    out.add(str(first.children[0]))
    return out
