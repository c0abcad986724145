"""Microsoft.ManagedIdentity/userAssignedIdentities and Microsoft.Authorization roleDefinitions / roleAssignments.

- A user-assigned identity gets, on create, the `properties.principalId` (its service principal's object id),
  `clientId` and `tenantId` Azure gives it (specs msi ManagedIdentity.json, Identities_CreateOrUpdate example:
  `tenantId`, `principalId`, `clientId`; synchronous 200/201). The emulator keeps a GUID `principalId` / `clientId`
  that a create sends (INFERRED affordance, so that a scenario can name the identity's principal in a role
  assignment; Azure ignores these read-only properties), else makes them.
- Role definitions: the built-in roles refit needs (refit.platform.authorization.BUILT_IN), readable at any scope, and
  custom roles PUT at `{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}` (properties roleName,
  description, permissions, assignableScopes; `type` CustomRole). Synchronous (specs authorization
  RoleDefinitions_CreateOrUpdate: 201).
- Role assignments: PUT at any scope `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}` with
  roleDefinitionId, principalId, principalType (specs authorization 2022-04-01 RoleAssignments_Create: 201; Delete:
  200 with the assignment, 204 when there is none; `scope` is read-only, the scope the id hangs off). Refusals:
  rules RBAC1-RBAC6.
Lists (`{scope}/providers/Microsoft.Authorization/roleAssignments|roleDefinitions`) are `assignments_at` and
`definitions_at`; what a principal may do is refit.platform.authorization.allowed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.platform import authorization as rbac
from refit.platform.cloud import Answer
from refit.platform.effects import register
from refit.platform.effects.base import ResourceType
from refit.platform.rules import RULES

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: Any) -> bool:
    return isinstance(value, str) and bool(_GUID.match(value))


class IdentityType(ResourceType):
    type = rbac.IDENTITY
    create_timing = update_timing = "delete"
    readonly_properties = ("provisioningState", "tenantId")

    def server_properties(self):
        return ("principalId", "clientId", "tenantId")

    def duration(self, cloud, old, new):
        return "delete", 0.0  # synchronous (Identities_CreateOrUpdate answers 200/201 with the identity)

    def build(self, cloud, rid, doc, old, call):
        p = doc["properties"]
        if old is not None:
            for k in self.server_properties():
                p[k] = (old.get("properties") or {}).get(k)
            return doc
        p["tenantId"] = cloud.tenant_id
        p["principalId"] = p["principalId"].lower() if is_guid(p.get("principalId")) else str(uuid.uuid4())
        p["clientId"] = p["clientId"].lower() if is_guid(p.get("clientId")) else str(uuid.uuid4())
        return doc


class RoleDefinitionType(ResourceType):
    type = rbac.ROLE_DEFINITION
    needs_location = False
    listed = False  # not an ARM resource the `resources` lists show (Resource Graph: authorizationresources)
    readonly_properties = ("provisioningState", "createdOn", "updatedOn", "createdBy", "updatedBy")

    def server_properties(self):
        return ("createdOn",)

    def duration(self, cloud, old, new):
        return "delete", 0.0

    def view(self, cloud, rid):
        doc = cloud.get(rid)
        if doc is not None:
            return doc
        return rbac.built_in_document(rid.name, rid.subscription) if rid.subscription else None

    def missing(self, rid):
        return RULES["RBAC1"].refuse(1, id=rid.name)

    def build(self, cloud, rid, doc, old, call):
        p = doc["properties"]
        p["type"] = "CustomRole"
        perms = p.get("permissions")
        p["permissions"] = [
            {k: [a for a in (x.get(k) or []) if isinstance(a, str)] if isinstance(x.get(k), list) else []
             for k in ("actions", "notActions", "dataActions", "notDataActions")}
            for x in (perms if isinstance(perms, list) else []) if isinstance(x, dict)]
        scopes = p.get("assignableScopes")
        p["assignableScopes"] = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [
            rbac.scope_of(str(rid))]  # INFERRED default: the scope it is created at
        p.setdefault("createdOn", cloud.now_iso())
        p["updatedOn"] = cloud.now_iso()
        p.pop("provisioningState", None)
        return doc

    def render(self, cloud, doc, call):
        out = dict(doc)
        out["properties"] = {k: val for k, val in (doc.get("properties") or {}).items() if k != "provisioningState"}
        return out

    def own_delete(self, cloud, rid, call):
        doc = cloud.get(rid)
        if doc is None:
            return Answer(204)
        guid = rid.name.lower()
        if any(rbac.definition_guid(str((a.get("properties") or {}).get("roleDefinitionId", ""))) == guid
               for a in cloud.world.of_type(rbac.ROLE_ASSIGNMENT)):
            raise RULES["RBAC5"].refuse()
        body = self.render(cloud, doc, call)
        cloud.remove(rid)
        return Answer(200, body)


class RoleAssignmentType(ResourceType):
    type = rbac.ROLE_ASSIGNMENT
    needs_location = False
    listed = False
    readonly_properties = ("provisioningState", "scope", "createdOn", "updatedOn", "createdBy", "updatedBy")

    def server_properties(self):
        return ("createdOn",)

    def duration(self, cloud, old, new):
        return "delete", 0.0  # synchronous: 201 with the assignment

    def build(self, cloud, rid, doc, old, call):
        p = doc["properties"]
        scope = rbac.scope_of(str(rid))
        role = p.get("roleDefinitionId")
        principal = p.get("principalId")
        if old is not None:
            op = old.get("properties") or {}
            if (str(principal or "").lower() != str(op.get("principalId") or "").lower()
                    or rbac.definition_guid(str(role or "")) != rbac.definition_guid(str(op.get("roleDefinitionId")))):
                raise RULES["RBAC2"].refuse()
            p["roleDefinitionId"] = op.get("roleDefinitionId")
            p["principalId"] = op.get("principalId")
        else:
            if not isinstance(role, str) or rbac.find_definition(cloud.world, role) is None:
                raise RULES["RBAC1"].refuse(id=rbac.definition_guid(role) if isinstance(role, str) else "")
            if not is_guid(principal):
                raise RULES["RBAC4"].refuse(principal=principal if isinstance(principal, str) else "",
                                            tenant=cloud.tenant_id)
            guid = rbac.definition_guid(role)
            for other in cloud.world.of_type(rbac.ROLE_ASSIGNMENT):
                o = other.get("properties") or {}
                if (id_key(str(o.get("scope") or rbac.scope_of(other["id"]))) == id_key(scope)
                        and str(o.get("principalId", "")).lower() == principal.lower()
                        and rbac.definition_guid(str(o.get("roleDefinitionId", ""))) == guid):
                    raise RULES["RBAC3"].refuse()
            if not role.lower().startswith("/subscriptions/") and rid.subscription:
                # Azure answers with the subscription-level id of the role (RoleAssignments_Get example).
                p["roleDefinitionId"] = f"/subscriptions/{rid.subscription}{rbac.PROVIDER}{guid}"
            p["principalId"] = principal.lower()
        p["principalType"] = p.get("principalType") if isinstance(p.get("principalType"), str) else "User"
        p["scope"] = scope
        p.setdefault("createdOn", cloud.now_iso())
        p["updatedOn"] = cloud.now_iso()
        return doc

    def render(self, cloud, doc, call):
        out = dict(doc)
        out["properties"] = {k: val for k, val in (doc.get("properties") or {}).items() if k != "provisioningState"}
        return out

    def missing(self, rid):
        return RULES["RBAC6"].refuse(name=rid.name)

    def own_delete(self, cloud, rid, call):
        doc = cloud.get(rid)
        if doc is None:
            return Answer(204)
        body = self.render(cloud, doc, call)
        cloud.remove(rid)
        return Answer(200, body)


# ---- lists at a scope ------------------------------------------------------------------------------------------------
_PRINCIPAL_FILTER = re.compile(r"^\s*(?:principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))\s*$", re.IGNORECASE)
_ROLE_NAME_FILTER = re.compile(r"^\s*roleName\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
_TYPE_FILTER = re.compile(r"^\s*type\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


def assignments_at(cloud, scope: str, filter_: str = "") -> list[dict[str, Any]]:
    """RoleAssignments_ListForScope: the assignments at, above or below `scope`; `$filter=atScope()` keeps those at or
    above it, `principalId eq '{id}'` / `assignedTo('{id}')` those of one principal (specs authorization 2022-04-01
    authorization-RoleAssignmentsCalls.json, the `$filter` parameter's description). Other filters are ignored
    (INFERRED)."""
    at_scope = "atscope()" in (filter_ or "").lower()
    principal = None
    for part in re.split(r"\s+and\s+", filter_ or "", flags=re.IGNORECASE):
        m = _PRINCIPAL_FILTER.match(part)
        if m:
            principal = (m.group(1) or m.group(2) or "").lower()
    out = []
    for d in cloud.world.of_type(rbac.ROLE_ASSIGNMENT):
        p = d.get("properties") or {}
        s = str(p.get("scope") or rbac.scope_of(d["id"]))
        above = rbac.in_scope(s, scope)
        below = rbac.in_scope(scope, s)
        if not (above or (below and not at_scope)):
            continue
        if principal is not None and str(p.get("principalId", "")).lower() != principal:
            continue
        out.append(d)
    return out


def definitions_at(cloud, scope: str, filter_: str = "") -> list[dict[str, Any]]:
    """RoleDefinitions_List: the built-in roles and the custom roles assignable at `scope`; `$filter=roleName eq
    '{name}'` or `type eq 'BuiltInRole'|'CustomRole'` (specs authorization RoleDefinitions_List, `$filter`)."""
    name = kind = None
    for part in re.split(r"\s+and\s+", filter_ or "", flags=re.IGNORECASE):
        if m := _ROLE_NAME_FILTER.match(part):
            name = m.group(1).lower()
        elif m := _TYPE_FILTER.match(part):
            kind = m.group(1).lower()
    try:
        sub = ResourceId.parse(scope).subscription if scope.lower().startswith("/subscriptions/") else None
    except ArmError:  # a scope that is not an id: no subscription to name the built-in roles under
        sub = None
    docs = [rbac.built_in_document(g, sub) for g in rbac.BUILT_IN]
    docs += [d for d in cloud.world.of_type(rbac.ROLE_DEFINITION)
             if any(rbac.in_scope(a, scope) or rbac.in_scope(scope, a)
                    for a in (d.get("properties") or {}).get("assignableScopes") or [])]
    out = []
    for d in docs:
        p = (d or {}).get("properties") or {}
        if name is not None and str(p.get("roleName", "")).lower() != name:
            continue
        if kind is not None and str(p.get("type", "")).lower() != kind:
            continue
        out.append(d)
    return out


register(IdentityType())
register(RoleDefinitionType())
register(RoleAssignmentType())
