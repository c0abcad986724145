"""RF-AIB-003: the Image Builder identity may not publish where the template distributes (seed 001 row 1)."""

from __future__ import annotations

from refit.arm.ids import ResourceId
from refit.checks.context import IMAGE_TEMPLATE
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform import authorization as rbac

# What a SharedImage distribution writes, and what the build reads of a gallery source
# (https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-permissions-cli, "Allow VM Image Builder to
# distribute images").
DISTRIBUTE = ("Microsoft.Compute/galleries/images/versions/write", "Microsoft.Compute/galleries/images/read")
MANAGED = ("Microsoft.Compute/images/write",)


class _World:
    """What `rbac.allowed` reads (a cloud's world)."""

    def __init__(self, world):
        self.world = world


class IdentityCannotDistribute(Check):
    id = "RF-AIB-003"
    title = "Image Builder identity lacks the rights to publish"
    severity = "high"
    resource_types = (IMAGE_TEMPLATE,)
    inputs = ("live",)
    rationale = (
        "Image Builder builds and publishes as the template's user-assigned identity. Without the gallery's "
        "image-version write on the destination, the build runs for its whole length and then fails at "
        "distribution with AuthorizationFailed: the new version never exists and the rollout waiting for it never "
        "starts (seed 001 playbook row 1).")
    recommendation = ("Grant the identity a role that covers Microsoft.Compute/galleries/images/versions/write (and "
                      "images/read) on the gallery's resource group only: a custom role with Image Builder's actions, "
                      "or Contributor scoped to that resource group; never subscription Contributor.")
    fix = Fix(
        az="az role assignment create --assignee-object-id $PRINCIPAL_ID --assignee-principal-type ServicePrincipal "
           "--role Contributor --scope /subscriptions/$SUB/resourceGroups/$RG",
        arm='{"type": "Microsoft.Authorization/roleAssignments", "properties": {"principalId": "<identity '
            'principalId>", "roleDefinitionId": "<a role with galleries/images/versions/write>"}}',
        terraform='resource "azurerm_role_assignment" "aib" {\n  scope                = <gallery resource group id>\n'
                  '  role_definition_name = "Contributor"\n  principal_id         = <identity principal_id>\n}')
    source = ("seed 001 playbook row 1 (build identity lacks rights on the gallery/staging RG); "
              "https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-permissions-cli; "
              "https://learn.microsoft.com/azure/role-based-access-control/overview (assignments inherit down scopes)")
    notes = ("Live state only: role assignments come from Resource Graph's AuthorizationResources, which templates and "
             "Terraform plans do not carry. Deny assignments and conditions are not evaluated.")

    def evaluate(self, ev: Eval):
        identities = list((ev.get("identity") or {}).get("userAssignedIdentities") or {})
        if not identities:
            return None
        world = ev.ctx.world
        ident = world.get(identities[0])
        principal = ((ident or {}).get("properties") or {}).get("principalId")
        if not principal:
            return None  # the identity is not in the input: nothing to evaluate
        missing = []
        for d in ev.get("properties.distribute") or []:
            kind = str((d or {}).get("type") or "")
            if kind == "SharedImage" and d.get("galleryImageId"):
                scope, actions = str(d["galleryImageId"]), DISTRIBUTE
            elif kind == "ManagedImage" and d.get("imageId"):
                scope, actions = str(d["imageId"]), MANAGED
            else:
                continue
            for action in actions:
                if not rbac.allowed(_World(world), principal, action, scope):
                    missing.append(f"{action} over {scope}")
        if missing:
            name = ResourceId.parse(identities[0]).name
            return self.failed(f"identity {name} (principal {principal}) may not perform "
                               f"{'; '.join(missing)}: no role assigned to it covers it, so the build fails at "
                               "distribution with AuthorizationFailed")
        return self.ok()


check = register(IdentityCannotDistribute())
