"""Microsoft.Resources/deployments: ARM's template deployment engine, over the same write path as any PUT.

A deployment at resource-group or subscription scope (https://learn.microsoft.com/rest/api/resources/deployments):

  PUT      the template is checked (rule DEP2), each resource is validated by its provider on a copy of the cloud
           (preflight, DEP5), then the deployment is accepted: 201 with Azure-AsyncOperation, provisioningState
           Accepted (specs deployments/examples/2025-04-01/PutDeploymentResourceGroup.json), and its operation runs
           the resources in dependency order, each through refit.platform.writes.write: every rule of the catalog
           applies to it as to a direct PUT. It is Running while resources deploy; Succeeded with its `outputs`, or
           Failed with DeploymentFailed whose `details` carry each failing resource's own error (DEP6).
  validate the same checks, nothing deployed (PostDeploymentValidateOnResourceGroup.json).
  GET      the deployment; `.../operations` one DeploymentOperation per resource started (models.tsp
           DeploymentOperation); DELETE removes the deployment's record, not its resources.

The template language is refit.arm.template over refit.arm.armexpr (the doctor's evaluator too); this module
adds what only a running deployment knows (reference(), deployment(), resourceGroup() and subscription() of the
real target, uniqueString()) and the order: `dependsOn` (resource ids, `type/name`, names, copy loop names),
a nested child after its parent, and reference() to a template resource by name (ARM's implicit dependency,
https://learn.microsoft.com/azure/azure-resource-manager/templates/resource-dependency#reference-and-list-functions).
Nested `Microsoft.Resources/deployments` with an inline template (inner or outer expression scope) deploy as
deployments of their own. Not modelled: Complete mode, linked templates (DEP3), what-if, cancel, user-defined
functions, extension resources (`scope`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from refit.arm import jsonc, location
from refit.arm.armexpr import Call as ExprCall
from refit.arm.armexpr import ExprSyntaxError, Lit, Unresolvable, is_expression, parse
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.template import SECURE, TYPE_NAMES, Declared, Template, TemplateError, resource_id, truthy
from refit.platform import providers as registrations
from refit.platform import writes
from refit.platform.clock import iso
from refit.platform.cloud import Answer, Call, Cloud, Operation
from refit.platform.effects import handler_for, register
from refit.platform.effects.base import ResourceType
from refit.platform.rules import RULES
from refit.platform.rules.deployments import DEPLOYMENT, TEMPLATE_KINDS

STEP = "deployment.step"
# The resource properties a template may set, as a PUT body takes them.
BODY_KEYS = ("location", "zones", "sku", "tags", "identity", "kind", "plan", "properties", "extendedLocation",
             "managedBy")
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "NoContent", 400: "BadRequest", 403: "Forbidden",
           404: "NotFound", 409: "Conflict", 429: "TooManyRequests", 500: "InternalServerError"}


# ---- the plan: what a template deploys, in which order ---------------------------------------------------------
@dataclass
class Plan:
    tpl: Template
    decls: list[Declared]
    ids: list[str]
    deps: list[list[int]]  # per declared resource, the ones it waits for


class _Runtime:
    """What the template's expressions ask a running deployment (refit.arm.armexpr.Runtime)."""

    def __init__(self, cloud: Cloud, rid: ResourceId, location_: str | None, names: dict[str, str],
                 preflight: bool = False):
        self.cloud, self.rid, self.location, self.names = cloud, rid, location_, names
        self.preflight = preflight  # validating: what the template itself deploys has no runtime state yet

    def reference(self, target: str, api_version: str | None, full: bool) -> Any:
        target_id = target if target.startswith("/") else self.names.get(target.lower())
        if target_id is None:
            raise Unresolvable(f"The template resource '{target}' is not found")
        if self.preflight and id_key(target_id) in {id_key(i) for i in self.names.values()}:
            # ARM's preflight skips a resource that reads a resource of the same template
            # (PostDeploymentValidateOnResourceGroup.json: "NestedDeploymentShortCircuited ... contains a reference()")
            raise Unresolvable(f"reference('{target}') is known only once the deployment runs")
        doc = self.cloud.get(target_id)
        if doc is None:
            t = ResourceId.parse(target_id)
            raise Unresolvable(f"The Resource '{t.type}/{t.name}' under resource group '{t.resource_group}' was not "
                               "found.")
        shown = handler_for(doc["type"]).render(self.cloud, doc, Call("GET", api_version or ""))
        return copy.deepcopy(shown if full else shown.get("properties") or {})

    def deployment(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.rid.name, "properties": {"templateLink": None}}
        if self.location:
            out["location"] = self.location
        return out

    def resource_group(self) -> dict[str, Any]:
        if self.rid.resource_group is None:
            raise Unresolvable("resourceGroup() is not available in a subscription-scope deployment")
        doc = self.cloud.get(ResourceId(self.rid.subscription, self.rid.resource_group)) or {}
        return {"id": f"/subscriptions/{self.rid.subscription}/resourceGroups/{self.rid.resource_group}",
                "name": self.rid.resource_group, "type": "Microsoft.Resources/resourceGroups",
                "location": doc.get("location"), "tags": doc.get("tags") or {},
                "properties": {"provisioningState": "Succeeded"}}

    def providers(self, namespace: str, resource_type: str | None) -> Any:
        """providers(namespace, type): the type's registration (refit.platform.providers)."""
        regs = registrations.resource_types(namespace)
        if resource_type is not None:
            regs = [r for r in regs if r["resourceType"].lower() == resource_type.lower()]
            if not regs:
                raise Unresolvable(f"The resource type '{resource_type}' is not registered in '{namespace}'")
        return regs[0] if resource_type is not None else {"namespace": namespace, "resourceTypes": regs}

    def subscription(self) -> dict[str, Any]:
        s = next((s for s in self.cloud.subscriptions if s["id"].lower() == self.rid.subscription.lower()),
                 {"id": self.rid.subscription})
        return {"id": f"/subscriptions/{s['id']}", "subscriptionId": s["id"], "tenantId": self.cloud.tenant_id,
                "displayName": s.get("displayName") or s["id"]}


def make_plan(cloud: Cloud, rid: ResourceId, request: dict[str, Any], preflight: bool = False) -> Plan:
    """The template of a deployment request, checked as ARM checks it before deploying (rule DEP2)."""
    template = request["template"]
    loc = request.get("location")
    if rid.resource_group is not None:
        loc = (cloud.get(ResourceId(rid.subscription, rid.resource_group)) or {}).get("location")
    names: dict[str, str] = {}
    tpl = Template(template, request.get("parameters") or {}, rid.subscription, rid.resource_group or "", loc,
                   _Runtime(cloud, rid, request.get("location"), names, preflight))
    try:
        if template.get("functions"):
            raise TemplateError("unsupported", what="user-defined functions are not supported by refit's evaluator")
        tpl.check_parameters()
        decls = list(tpl.declared(include_skipped=True))
        for d in decls:
            if d.unknown is not None:
                raise TemplateError("expression", why=d.unknown)
            if d.decl.get("scope"):
                raise TemplateError("unsupported", what=f"The resource '{d.name}' sets 'scope': extension resources "
                                                        "are not supported by refit")
        ids = [_id_of(tpl, d, rid) for d in decls]
        for d, i in zip(decls, ids, strict=True):
            if not d.skipped:
                names.setdefault(d.name.lower(), i)
        deps = [_dependencies(tpl, decls, ids, k) for k in range(len(decls))]
        _no_cycle(decls, deps)
    except TemplateError as e:
        raise RULES["DEP2"].refuse(TEMPLATE_KINDS.index(e.kind), **e.fields) from None
    except Unresolvable as e:
        raise RULES["DEP2"].refuse(TEMPLATE_KINDS.index("expression"), why=str(e)) from None
    return Plan(tpl, decls, ids, deps)


def _id_of(tpl: Template, d: Declared, rid: ResourceId) -> str:
    if d.rtype.lower() == DEPLOYMENT.lower():
        sub = str(tpl.value(d.decl["subscriptionId"], d.scope)) if d.decl.get("subscriptionId") else rid.subscription
        rg = str(tpl.value(d.decl["resourceGroup"], d.scope)) if d.decl.get("resourceGroup") else rid.resource_group
        scope = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
        return f"{scope}/providers/{DEPLOYMENT}/{d.name}"
    if rid.resource_group is None and d.rtype.lower() != "microsoft.resources/resourcegroups":
        raise TemplateError("unsupported", what=f"The resource '{d.name}' of type '{d.rtype}': at subscription scope "
                                                "refit deploys resource groups and nested deployments only")
    return resource_id(d.scope, d.rtype, d.name)


def _dependencies(tpl: Template, decls: list[Declared], ids: list[str], k: int) -> list[int]:
    d = decls[k]
    out: list[int] = []
    if d.parent is not None:
        out += [j for j, o in enumerate(decls) if (o.rtype.lower(), o.name.lower()) == (d.parent[0].lower(),
                                                                                       d.parent[1].lower())]
    for raw in d.decl.get("dependsOn") or []:
        target = str(tpl.value(raw, d.scope))
        found = _match(decls, ids, target)
        if not found:
            raise TemplateError("dependency-missing", resource=target)
        out += found
    for name in _referenced_names(d.decl):
        out += [j for j, o in enumerate(decls) if o.name.lower() == name.lower() and not o.skipped]
    return sorted({j for j in out if j != k and not decls[j].skipped})


def _match(decls: list[Declared], ids: list[str], target: str) -> list[int]:
    """The declared resources a dependsOn entry names: a resource id, `Namespace/type/name[/type/name]`, a name,
    a copy loop or a symbolic name."""
    t = target.lower()
    if t.startswith("/"):
        return [j for j, i in enumerate(ids) if id_key(i) == id_key(target)]
    if "/" in t:
        ns, *rest = target.split("/")
        rtype = "/".join([ns, *rest[0::2]]).lower()
        name = "/".join(rest[1::2]).lower()
        return [j for j, d in enumerate(decls) if d.rtype.lower() == rtype and d.name.lower() == name]
    return [j for j, d in enumerate(decls) if t in ((d.loop or "").lower(), (d.symbolic or "").lower(), d.name.lower())]


def _referenced_names(value: Any) -> list[str]:
    """Names of resources a value reads with reference('name', ...) (a literal name, not an id)."""
    out: list[str] = []
    if isinstance(value, dict):
        for v in value.values():
            out += _referenced_names(v)
    elif isinstance(value, list):
        for v in value:
            out += _referenced_names(v)
    elif is_expression(value):
        with contextlib.suppress(ExprSyntaxError):  # a syntax error is the evaluation's answer, later
            _walk(parse(value[1:-1]), out)
    return out


def _walk(node: Any, out: list[str]) -> None:
    if isinstance(node, ExprCall):
        first = node.args[0] if node.args else None
        if (node.name == "reference" and isinstance(first, Lit) and isinstance(first.value, str)
                and not first.value.startswith("/")):
            out.append(first.value)
        for a in node.args:
            _walk(a, out)
    elif hasattr(node, "target"):
        _walk(node.target, out)
        if not isinstance(node.key, str):
            _walk(node.key, out)


def _no_cycle(decls: list[Declared], deps: list[list[int]]) -> None:
    state = [0] * len(decls)  # 0 new, 1 on the path, 2 done

    def visit(k: int) -> None:
        state[k] = 1
        for j in deps[k]:
            if state[j] == 1:
                raise TemplateError("circular", resource=f"{decls[j].rtype}/{decls[j].name}")
            if state[j] == 0:
                visit(j)
        state[k] = 2

    for k in range(len(decls)):
        if state[k] == 0:
            visit(k)


def _order(plan: Plan) -> list[int]:
    done: set[int] = set()
    out: list[int] = []
    while len(out) < len(plan.decls):
        for k in range(len(plan.decls)):
            if k not in done and all(j in done for j in plan.deps[k]):
                done.add(k)
                out.append(k)
    return out


def body_of(plan: Plan, k: int) -> tuple[dict[str, Any], str]:
    """The PUT body and api-version of a declared resource, its expressions evaluated now (Unresolvable if one
    reads what is not there yet)."""
    d = plan.decls[k]
    body = {key: plan.tpl.value(d.decl[key], d.scope) for key in BODY_KEYS if key in d.decl}
    return body, str(plan.tpl.value(d.decl.get("apiVersion") or "", d.scope))


# ---- the request -------------------------------------------------------------------------------------------
def tracking_id(cloud: Cloud) -> str:
    """The tracking id ARM quotes in a refusal: a fresh GUID (from the cloud's seeded generator, so that a
    simulation answers the same twice)."""
    bits = cloud.rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4 (RFC 4122)
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # the RFC 4122 variant
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _request(cloud: Cloud, rid: ResourceId, body: Any) -> dict[str, Any]:
    """The deployment request as the engine keeps it (rules DEP1, DEP3)."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise RULES["DEP1"].refuse(0, name="properties", path="")
    props = body["properties"]
    mode = props.get("mode")
    if mode is None:
        raise RULES["DEP1"].refuse(0, name="mode", path="properties")
    if str(mode).lower() != "incremental":
        raise RULES["DEP1"].refuse(1, mode=mode)
    link = props.get("templateLink")
    if isinstance(link, dict) and (link.get("uri") or link.get("id")):
        raise RULES["DEP3"].refuse(uri=link.get("uri") or link.get("id"), tracking=tracking_id(cloud))
    # The template and the parameters are a JSON object or a well-formed JSON string (models.tsp
    # DeploymentProperties), read as ARM reads JSON (comments allowed).
    template, params = _json(props.get("template")), _json(props.get("parameters") or {})
    if not isinstance(template, dict):
        raise RULES["DEP1"].refuse(0, name="template", path="properties")
    if not isinstance(params, dict):
        raise RULES["DEP1"].refuse(0, name="parameters", path="properties")
    req = {"template": template, "parameters": params, "mode": "Incremental"}
    if body.get("location"):
        req["location"] = location.normalize(str(body["location"]))
    if isinstance(body.get("tags"), dict):
        req["tags"] = body["tags"]
    return req


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return jsonc.loads(value)
        except ValueError:
            return None
    return value


def preflight(cloud: Cloud, rid: ResourceId, request: dict[str, Any]) -> list[str]:
    """Each resource whose properties evaluate now, written in dependency order on a copy of the cloud; the ids
    validated. A synchronous refusal refuses the deployment (DEP5), with the providers' errors inside."""
    sim = cloud.fork()
    plan = make_plan(sim, rid, request, preflight=True)
    errors: list[dict[str, Any]] = []
    validated: list[str] = []
    for k in _order(plan):
        d = plan.decls[k]
        if d.skipped or d.rtype.lower() == DEPLOYMENT.lower():
            continue  # a nested deployment validates when it runs
        try:
            body, api = body_of(plan, k)
        except Unresolvable:
            continue  # reads another resource's runtime state: ARM skips it too
        try:
            writes.write(sim, ResourceId.parse(plan.ids[k]), Call("PUT", api, body))
            validated.append(plan.ids[k])
        except ArmError as e:
            errors.append(e.body()["error"])
    if errors:
        inner = RULES["DEP5"].refuse(1)
        inner.details = errors
        err = RULES["DEP5"].refuse(0, name=rid.name, tracking=tracking_id(cloud))
        err.details = [inner.body()["error"]]
        raise err
    return validated


def create(cloud: Cloud, rid: ResourceId, call: Call, check: bool = True) -> Answer:
    """PUT of a deployment: checked, validated (`check`; a nested deployment is not validated again), accepted."""
    request = _request(cloud, rid, call.body)
    old = cloud.get(rid)
    running = cloud.busy(rid)
    if running is not None:
        started = datetime.fromtimestamp(running.start, UTC)
        raise RULES["DEP4"].refuse(name=rid.name, started=_dotnet(started), expires=_dotnet(started + timedelta(days=7)))
    plan = make_plan(cloud, rid, request)
    if check:
        preflight(cloud, rid, request)
    now = cloud.now()
    doc: dict[str, Any] = {"id": str(rid), "name": rid.name, "type": DEPLOYMENT}
    if request.get("location"):
        doc["location"] = request["location"]
    if request.get("tags"):
        doc["tags"] = request["tags"]
    doc["properties"] = {
        "templateHash": _hash(request["template"]),
        "parameters": _parameters(plan.tpl),
        "mode": "Incremental",
        "provisioningState": "Accepted",
        "timestamp": iso(now),
        "duration": "PT0S",
        "correlationId": str(uuid.uuid4()),
        "providers": _providers(plan),
        "dependencies": _dependency_list(plan),
    }
    entries = [{"state": "skipped" if d.skipped else "pending"} for d in plan.decls]
    cloud.save(doc, {"request": request, "entries": entries, "started": now})
    op = cloud.begin(str(rid), "put", "deployment", cloud.timing[STEP], request.get("location") or "",
                     call.api_version, {"old": old is not None}, namespace="Microsoft.Resources")
    return Answer(201 if old is None else 200, copy.deepcopy(doc), op)


def validate(cloud: Cloud, rid: ResourceId, call: Call) -> Answer:
    """POST .../validate: 200 with what would deploy, or the refusal (DEP1-DEP3, DEP5)."""
    request = _request(cloud, rid, call.body)
    plan = make_plan(cloud, rid, request)
    validated = preflight(cloud, rid, request)
    body = {"id": str(rid), "name": rid.name, "type": DEPLOYMENT, "properties": {
        "templateHash": _hash(request["template"]), "parameters": _parameters(plan.tpl), "mode": "Incremental",
        "provisioningState": "Succeeded", "timestamp": cloud.now_iso(), "duration": "PT0S",
        "correlationId": str(uuid.uuid4()), "providers": _providers(plan), "dependencies": _dependency_list(plan),
        "validatedResources": [{"id": i} for i in validated]}}
    return Answer(200, body)


# ---- running ---------------------------------------------------------------------------------------------------
def advance(cloud: Cloud, op: Operation) -> None:
    """The deployment's operation is due: take in the writes that finished, start the ones now ready, and finish
    or carry the operation on to the next write's end."""
    doc = cloud.get(op.resource_id)
    if doc is None:
        return
    rid = ResourceId.parse(doc["id"])
    priv = cloud.priv(rid)
    plan = make_plan(cloud, rid, priv["request"])
    entries: list[dict[str, Any]] = priv["entries"]
    now = cloud.now()
    doc["properties"]["provisioningState"] = "Running"
    for e in entries:
        if e["state"] == "running":
            _take_in(cloud, e, now)
    started = True
    while started:  # a write that completes at once may make others ready
        started = False
        for k, e in enumerate(entries):
            if e["state"] != "pending":
                continue
            states = {entries[j]["state"] for j in plan.deps[k]}
            if states & {"failed", "blocked"}:
                e["state"] = "blocked"  # depends on a failed resource: never deployed
            elif states <= {"succeeded", "skipped"}:
                _start(cloud, plan, k, e, now)
                started = True
    running = [cloud.ops.get(e["op"]) for e in entries if e["state"] == "running"]
    if running:
        ends = [o.end for o in running if o is not None]
        op.end = max(min(ends, default=now), now) + cloud.timing[STEP]
        cloud.save(doc)
        return
    _finish(cloud, doc, plan, entries, now)


def _take_in(cloud: Cloud, e: dict[str, Any], now: float) -> None:
    child = cloud.ops.get(e["op"])
    if child is not None and child.status == "InProgress":
        return
    e["end"] = child.end if child is not None else now
    if child is not None and child.status == "Failed":
        e["state"] = "failed"
        e["status_code"] = REASONS.get(int(child.data.get("http_status", 409)), "Conflict")
        # Accepted, then its operation failed: ResourceDeploymentFailure around the provider's (or the nested
        # deployment's) error.
        err = RULES["DEP6"].refuse(1, target=e["id"])
        err.details = [child.error or {}]
        e["error"] = err.body()["error"]
    else:
        e["state"] = "succeeded"


def _start(cloud: Cloud, plan: Plan, k: int, e: dict[str, Any], now: float) -> None:
    d = plan.decls[k]
    e.update({"id": plan.ids[k], "start": now, "operation_id": uuid.uuid4().hex[:16].upper(),
              "tracking": str(uuid.uuid4())})
    try:
        rid = ResourceId.parse(plan.ids[k])
        if d.rtype.lower() == DEPLOYMENT.lower():  # its template's expressions are its own to evaluate
            e["api"] = str(plan.tpl.value(d.decl.get("apiVersion") or "", d.scope))
            answer = create(cloud, rid, Call("PUT", e["api"], _nested_request(plan, d)), check=False)
        else:
            body, e["api"] = body_of(plan, k)
            answer = writes.write(cloud, rid, Call("PUT", e["api"], body))
    except Unresolvable as ex:
        err = RULES["DEP2"].refuse(TEMPLATE_KINDS.index("expression"), why=str(ex))
        _failed(e, err, now)
        return
    except ArmError as ex:
        _failed(e, ex, now)
        return
    e["status_code"] = REASONS.get(answer.status, str(answer.status))
    if answer.op is not None:
        e["state"], e["op"] = "running", answer.op.id
    else:
        e["state"], e["end"] = "succeeded", now


def _failed(e: dict[str, Any], err: ArmError, now: float) -> None:
    # A write the provider refused: its own error, as ARM puts it in the deployment's details.
    e.update({"state": "failed", "end": now, "error": err.body()["error"],
              "status_code": REASONS.get(err.status, str(err.status))})


def _nested_request(plan: Plan, d: Declared) -> dict[str, Any]:
    """A nested deployment's own request: an inner-scoped template with its parameters evaluated here, or an
    outer-scoped one that sees this template's parameters and variables."""
    raw = d.decl.get("properties") or {}
    inner = str((raw.get("expressionEvaluationOptions") or {}).get("scope") or "outer").lower() == "inner"
    template = raw.get("template") if isinstance(raw.get("template"), dict) else None
    props: dict[str, Any] = {"mode": plan.tpl.value(raw.get("mode") or "Incremental", d.scope)}
    if template is None:
        props["templateLink"] = raw.get("templateLink")
    elif inner:
        props["template"] = template
        props["parameters"] = {k: {"value": plan.tpl.value(v["value"], d.scope)}
                               for k, v in (raw.get("parameters") or {}).items() if isinstance(v, dict) and "value" in v}
    else:
        outer = plan.tpl.doc
        props["template"] = {"parameters": outer.get("parameters") or {}, "variables": outer.get("variables") or {},
                             "resources": template.get("resources") or [], "outputs": template.get("outputs") or {}}
        props["parameters"] = plan.tpl.values
    return {"properties": props}


def _finish(cloud: Cloud, doc: dict[str, Any], plan: Plan, entries: list[dict[str, Any]], now: float) -> None:
    p = doc["properties"]
    priv = cloud.priv(doc["id"])
    p["duration"] = _duration(now - priv["started"])
    p["timestamp"] = iso(now)
    p["outputResources"] = [{"id": e["id"]} for e in entries if e["state"] == "succeeded"]
    failed = [e for e in entries if e["state"] == "failed"]
    err: ArmError | None = None
    if not failed:
        try:
            p["outputs"] = _outputs(plan)
        except Unresolvable as ex:
            err = RULES["DEP2"].refuse(TEMPLATE_KINDS.index("expression"), why=str(ex))
    else:
        err = RULES["DEP6"].refuse(0, target=doc["id"])
        err.details = [e["error"] for e in failed]
    p["provisioningState"] = "Failed" if err is not None else "Succeeded"
    if err is not None:
        p["error"] = err.body()["error"]
    cloud.save(doc)
    if err is not None:
        raise err  # the operation fails with it (Cloud.fail)


def _outputs(plan: Plan) -> dict[str, Any]:
    out = {}
    for name, spec in (plan.tpl.doc.get("outputs") or {}).items():
        spec = spec or {}
        if "condition" in spec and not truthy(plan.tpl.value(spec["condition"])):
            continue
        loop = spec.get("copy")
        if isinstance(loop, dict):
            n = int(plan.tpl.value(loop.get("count", 0)))
            value: Any = [plan.tpl.value(copy.deepcopy(loop.get("input")), plan.tpl.at(plan.tpl.scope, "", i))
                          for i in range(n)]
        else:
            value = plan.tpl.value(spec.get("value"))
        t = str(spec.get("type") or "string")
        out[name] = {"type": TYPE_NAMES.get(t.lower(), t), "value": value}
    return out


# ---- what GET shows --------------------------------------------------------------------------------------------
def operations(cloud: Cloud, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """GET .../deployments/{name}/operations: one DeploymentOperation per resource the deployment started."""
    out = []
    for e in cloud.priv(doc["id"]).get("entries") or []:
        if "start" not in e:
            continue
        t = ResourceId.parse(e["id"])
        state = {"running": "Running", "succeeded": "Succeeded", "failed": "Failed"}.get(e["state"], "Running")
        props: dict[str, Any] = {
            "provisioningOperation": "Create", "provisioningState": state, "timestamp": iso(e.get("end", e["start"])),
            "duration": _duration(e.get("end", cloud.now()) - e["start"]), "trackingId": e["tracking"],
            "serviceRequestId": e["tracking"], "statusCode": e.get("status_code", "Accepted"),
            "targetResource": {"id": e["id"], "resourceType": t.type, "resourceName": "/".join(n for _, n in t.types),
                               "apiVersion": e.get("api", "")}}
        if e["state"] == "failed":
            props["statusMessage"] = {"status": "Failed", "error": e["error"]}
        out.append({"id": f"{doc['id']}/operations/{e['operation_id']}", "operationId": e["operation_id"],
                    "properties": props})
    return out


def status(op: Operation, cloud: Cloud) -> dict[str, Any]:
    """The deployment's operationStatuses resource: Accepted until its engine first ran, then Running, then the end."""
    if op.status == "InProgress":
        doc = cloud.get(op.resource_id) or {}
        state = (doc.get("properties") or {}).get("provisioningState") or "Accepted"
        return {"status": state if state in ("Accepted", "Running") else "Running"}
    out: dict[str, Any] = {"status": op.status}
    if op.error:
        out["error"] = op.error
    return out


def _parameters(tpl: Template) -> dict[str, Any]:
    out = {}
    for key, spec in tpl.params_decl.items():
        t = str((spec or {}).get("type") or "string")
        entry: dict[str, Any] = {"type": TYPE_NAMES.get(t.lower(), t)}
        if t.lower() not in SECURE:
            with contextlib.suppress(Unresolvable):  # a default only a later step can compute: not echoed
                entry["value"] = tpl.parameter(key)
        out[key] = entry
    return out


def _providers(plan: Plan) -> list[dict[str, Any]]:
    by_ns: dict[str, dict[str, set[str]]] = {}
    for d in plan.decls:
        if d.skipped:
            continue
        ns, _, rest = d.rtype.partition("/")
        loc = d.decl.get("location")
        where = by_ns.setdefault(ns, {}).setdefault(rest, set())
        if isinstance(loc, str) and not is_expression(loc):
            where.add(location.normalize(loc))
        elif plan.tpl.scope.location:
            where.add(plan.tpl.scope.location)
    return [{"namespace": ns, "resourceTypes": [{"resourceType": t, "locations": sorted(locs)}
                                                for t, locs in types.items()]} for ns, types in by_ns.items()]


def _dependency_list(plan: Plan) -> list[dict[str, Any]]:
    def basic(k: int) -> dict[str, str]:
        d = plan.decls[k]
        return {"id": plan.ids[k], "resourceType": d.rtype, "resourceName": d.name}

    return [{"dependsOn": [basic(j) for j in deps], **basic(k)} for k, deps in enumerate(plan.deps) if deps]


def _hash(template: Any) -> str:
    # ARM's templateHash is a decimal number (specs PutDeploymentResourceGroup.json); its algorithm is not public
    # (INFERRED: any stable hash of the template).
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return str(int.from_bytes(digest[:8], "big"))


def _duration(seconds: float) -> str:
    return f"PT{max(0.0, seconds):.7f}".rstrip("0").rstrip(".") + "S"


def _dotnet(t: datetime) -> str:
    """ARM's date in DeploymentActive: '7/2/2018 12:08:13 PM' (microsoft/azure-pipelines-tasks#5320)."""
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


# ---- the resource type -----------------------------------------------------------------------------------------
class DeploymentType(ResourceType):
    """A deployment's document: written by `create`, run by `advance`, deleted as any resource (its record only)."""

    type = DEPLOYMENT
    needs_location = False
    listed = False  # not a resource Resource Graph or `az resource list` shows
    delete_timing = "delete"

    def own_write(self, cloud: Cloud, rid: ResourceId, call: Call) -> Answer | None:
        return create(cloud, rid, call) if call.method == "PUT" else None

    def missing(self, rid: ResourceId) -> ArmError:
        return not_found(rid)

    def complete(self, cloud: Cloud, op: Operation) -> None:
        if op.kind == "put":
            advance(cloud, op)
        else:
            super().complete(cloud, op)

    def sub_get(self, cloud: Cloud, doc: dict[str, Any], name: str, call: Call) -> Any:
        if name.lower() == "operations":
            return {"value": operations(cloud, doc)}
        return None


DEPLOYMENTS = register(DeploymentType())


def not_found(rid: ResourceId) -> ArmError:
    return RULES["DEP7"].refuse(name=rid.name)
