"""Azure RBAC as the platform evaluates it: role definitions (the built-in ones refit needs and custom ones), role
assignments at any scope, and `allowed(cloud, principal, action, scope)`.

What Azure does (https://learn.microsoft.com/azure/role-based-access-control/overview, "How Azure RBAC determines if
a user has access to a resource"; .../role-definitions, "Actions", "NotActions", "Wildcard permissions"):
- a role assignment applies at its scope and every scope below it ("Scope ... levels: management group, subscription,
  resource group, resource; ... inherited by child scopes");
- a role's effective permissions are its `actions` minus its `notActions`; a principal's are the union over its
  assignments ("Azure RBAC is an additive model");
- an action pattern may use `*` as a wildcard: `*` (everything), `Microsoft.Compute/*` (everything of a provider),
  `*/read` (every read), `Microsoft.Compute/virtualMachines/*` (every operation of a type). Matching is
  case-insensitive (actions are compared ignoring case: role definitions list `Microsoft.Authorization/*/Delete`
  next to `.../write`). A `*` inside a pattern matches any characters, `/` included (INFERRED: the pages above show
  wildcards only at an end or between segments, e.g. `Microsoft.ManagedIdentity/userAssignedIdentities/*/read`).
- deny assignments and ABAC conditions: not modelled.

The built-in roles are Azure's documents as `az role definition list` returns them (MicrosoftDocs/azure-docs
articles/role-based-access-control/built-in-roles/privileged.md: Owner 8e3af657-..., Contributor b24988ac-...;
general.md: Reader acdd72a7-...; identity.md: Managed Identity Operator f1a07417-..., the role Image Builder needs on
the identities it attaches to its build VM: https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json
"User-assigned identity for the Image Builder Build VM"). Image Builder's own least-privilege set is a custom role
(https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-permissions-cli, "Allow VM Image Builder to
distribute images": images/write, images/read, images/delete, galleries/read, galleries/images/read,
galleries/images/versions/read, galleries/images/versions/write); `IMAGE_BUILDER_ACTIONS` lists it.

Nothing here refuses a request: the effects (refit.platform.effects.authorization) do, through the catalog.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from refit.arm.ids import id_key

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION = "Microsoft.Authorization/roleDefinitions"
IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
PROVIDER = "/providers/Microsoft.Authorization/roleDefinitions/"

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"

# (roleName, description, actions, notActions), as the built-in-roles pages above give them.
BUILT_IN: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    OWNER: ("Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
            ("*",), ()),
    CONTRIBUTOR: ("Contributor", "Grants full access to manage all resources, but does not allow you to assign roles "
                  "in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.", ("*",), (
                      "Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                      "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
                      "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
                      "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
                      "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                      "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action")),
    READER: ("Reader", "View all resources, but does not allow you to make any changes.", ("*/read",), ()),
    MANAGED_IDENTITY_OPERATOR: ("Managed Identity Operator", "Read and Assign User Assigned Identity", (
        "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
        "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.Authorization/*/read",
        "Microsoft.Insights/alertRules/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
        "Microsoft.Resources/deployments/*", "Microsoft.Support/*"), ()),
}

# Image Builder's documented least-privilege actions to distribute to a managed image or a gallery (page above).
IMAGE_BUILDER_ACTIONS = (
    "Microsoft.Compute/images/write", "Microsoft.Compute/images/read", "Microsoft.Compute/images/delete",
    "Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read", "Microsoft.Compute/galleries/images/versions/write")


# ---- role definitions ---------------------------------------------------------------------------------------------
def definition_guid(role_definition_id: str) -> str:
    """The GUID a role definition id ends with (`/subscriptions/{s}/providers/Microsoft.Authorization/
    roleDefinitions/{guid}`, the tenant-level `/providers/...` form, or the bare GUID)."""
    return str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()


def built_in_document(guid: str, subscription: str | None) -> dict[str, Any] | None:
    """A built-in role as GET returns it at a subscription (`id` under the subscription; properties as the
    built-in-roles pages show them; `roleType` is the 2022-04-01 name of the older `type` property)."""
    entry = BUILT_IN.get(guid.lower())
    if entry is None:
        return None
    name, description, actions, not_actions = entry
    prefix = f"/subscriptions/{subscription}" if subscription else ""
    return {"id": f"{prefix}{PROVIDER}{guid.lower()}", "name": guid.lower(), "type": ROLE_DEFINITION,
            "properties": {"roleName": name, "type": "BuiltInRole", "description": description,
                           "assignableScopes": ["/"],
                           "permissions": [{"actions": list(actions), "notActions": list(not_actions),
                                            "dataActions": [], "notDataActions": []}]}}


def find_definition(world, role_definition_id: str) -> dict[str, Any] | None:
    """The role definition an assignment names: a built-in role, or a custom one (a stored document) by its GUID."""
    guid = definition_guid(role_definition_id)
    if not guid:
        return None
    doc = built_in_document(guid, None)
    if doc is not None:
        return doc
    return next((d for d in world.of_type(ROLE_DEFINITION) if str(d.get("name", "")).lower() == guid), None)


def permissions(world, role_definition_id: str) -> list[tuple[list[str], list[str]]]:
    """[(actions, notActions)] of a role definition, one pair per permission block ([] for an unknown role)."""
    doc = find_definition(world, role_definition_id)
    out = []
    for p in ((doc or {}).get("properties") or {}).get("permissions") or []:
        if isinstance(p, dict):
            out.append(([str(a) for a in p.get("actions") or [] if isinstance(a, str)],
                        [str(a) for a in p.get("notActions") or [] if isinstance(a, str)]))
    return out


# ---- evaluation ----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.IGNORECASE)


def matches(pattern: str, action: str) -> bool:
    """Whether an action pattern of a role definition (wildcards `*`) covers an operation, ignoring case."""
    return bool(_pattern(pattern).match(action))


def covers(actions: list[str], not_actions: list[str], action: str) -> bool:
    """One permission block: the action is in `actions` and not in `notActions`."""
    return any(matches(a, action) for a in actions) and not any(matches(n, action) for n in not_actions)


def in_scope(assignment_scope: str, scope: str) -> bool:
    """Whether an assignment at `assignment_scope` applies at `scope` (the same scope or one below it)."""
    a = id_key(assignment_scope or "/")
    s = id_key(scope or "/")
    return a in ("", "/") or s == a or s.startswith(a + "/")


def assignments_of(world, principal_id: str) -> list[dict[str, Any]]:
    p = str(principal_id or "").lower()
    return [d for d in world.of_type(ROLE_ASSIGNMENT)
            if str(((d.get("properties") or {}).get("principalId")) or "").lower() == p]


def allowed(cloud, principal_id: str, action: str, scope: str) -> bool:
    """Whether `principal_id` may perform `action` at `scope`: some role assigned to it at the scope or one of its
    ancestors covers the action (its actions, minus its notActions)."""
    world = cloud.world
    for ra in assignments_of(world, principal_id):
        props = ra.get("properties") or {}
        if not in_scope(str(props.get("scope") or scope_of(ra["id"])), scope):
            continue
        if any(covers(acts, nots, action) for acts, nots in permissions(world, str(props.get("roleDefinitionId", "")))):
            return True
    return False


def scope_of(assignment_id: str) -> str:
    """The scope an assignment (or custom role definition) id hangs off: everything before its last
    `/providers/Microsoft.Authorization/`."""
    low = assignment_id.lower()
    cut = low.rfind("/providers/microsoft.authorization/")
    return assignment_id[:cut] if cut > 0 else "/"


def denied_message(client_id: str, object_id: str, action: str, scope: str) -> str:
    """ARM's AuthorizationFailed text (403): Azure/azure-cli#16674 ('The client {} with object id {} does not have
    authorization to perform action 'Microsoft.Compute/galleries/images/read' over scope '...' or the scope is
    invalid. If access was recently granted, please refresh your credentials.'); the Image Builder troubleshooting
    page quotes it for its own identity ('Authorization error occurs with creating a disk')."""
    return (f"The client '{client_id}' with object id '{object_id}' does not have authorization to perform action "
            f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh "
            "your credentials.")


__all__ = ["BUILT_IN", "CONTRIBUTOR", "IMAGE_BUILDER_ACTIONS", "MANAGED_IDENTITY_OPERATOR", "OWNER", "READER",
           "allowed", "built_in_document", "covers", "denied_message", "find_definition", "in_scope", "matches",
           "permissions", "scope_of"]
