"""Resource provider registrations: what `GET /subscriptions/{s}/providers[/{namespace}]` says of each namespace the
platform serves, its types, their published api-versions (refit.platform.apis) and their locations.

Shape as ARM answers it (Providers_Get, https://learn.microsoft.com/rest/api/resources/providers/get: `id`,
`namespace`, `registrationState`, `registrationPolicy`, `resourceTypes[]`; a type's `resourceType`, `locations` as
display names, `apiVersions` newest first and `capabilities` "SupportsTags, SupportsLocation" or "None", as
provider output quoted in Azure/azure-powershell#14845 and Azure/azure-rest-api-specs#27695 shows them). Every provider is Registered (INFERRED: the emulator's subscriptions
are registered for all it serves).
"""

from __future__ import annotations

from typing import Any

from refit.platform import apis, regions

# The types served by routes of their own rather than by a resource handler (refit.platform.effects).
_ROUTED = ("Microsoft.Compute/skus", "Microsoft.Compute/locations", "Microsoft.ResourceGraph/resources")
# ARM's own types (Microsoft.Resources), served by ARM itself in every location.
_ARM_TYPES = ("resourceGroups", "deployments", "tags", "subscriptions", "resources", "providers", "locations",
              "tenants")


def served_types() -> list[str]:
    """Every type served outside Microsoft.Resources, in Azure's casing."""
    from refit.platform.effects import all_types

    out = {t.lower(): t for t in all_types() if not apis.arm_own(t)}
    out.update({t.lower(): t for t in _ROUTED})
    return sorted(out.values(), key=str.lower)


def namespaces() -> list[str]:
    return sorted({t.split("/", 1)[0] for t in served_types()} | {"Microsoft.Resources"}, key=str.lower)


def resource_types(namespace: str) -> list[dict[str, Any]]:
    """The `resourceTypes` of a namespace's registration ([] for one the platform does not serve)."""
    if namespace.lower() == apis.ARM_NAMESPACE:
        names = list(_ARM_TYPES)
        versions = list(reversed(apis.ARM_OWN))
        return [{"resourceType": n, "locations": [], "apiVersions": versions, "capabilities": "None"} for n in names]
    everywhere = [display for display, _ in regions.REGIONS.values()]
    out = []
    for t in served_types():
        ns, _, rest = t.partition("/")
        if ns.lower() == namespace.lower():
            out.append({"resourceType": rest, "locations": everywhere,
                        "apiVersions": list(reversed(apis.published(t))),
                        "capabilities": "SupportsTags, SupportsLocation" if "/" not in rest else "None"})
    return out


def registration(subscription: str, namespace: str) -> dict[str, Any] | None:
    """The provider document of a namespace, or None when the platform serves nothing of it."""
    types = resource_types(namespace)
    if not types:
        return None
    ns = next((n for n in namespaces() if n.lower() == namespace.lower()), namespace)
    return {"id": f"/subscriptions/{subscription}/providers/{ns}", "namespace": ns,
            "registrationState": "Registered", "registrationPolicy": "RegistrationRequired", "resourceTypes": types}
