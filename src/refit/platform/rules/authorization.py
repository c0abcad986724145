"""Azure RBAC: role assignments and role definitions (Microsoft.Authorization, family RBAC).

A role assignment names a role definition that exists (RBAC1) and a principal (RBAC4); its name identifies it and
its principal, role and scope never change (RBAC2); one principal holds a role at a scope once (RBAC3); a custom
role is deleted after its assignments (RBAC5); reading what does not exist is RBAC1 (a definition) and RBAC6 (an
assignment). The
evaluation of assignments (which actions a principal may perform where) is refit.platform.authorization.
"""

from __future__ import annotations

from refit.platform.rules.registry import ErrorTemplate, refusal

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION = "Microsoft.Authorization/roleDefinitions"

refusal("RBAC1", ROLE_ASSIGNMENT, "A role assignment names a role definition that exists",
        "INFERRED: the status (400) of a role assignment PUT that names an unknown role. The code and wording are "
        "Azure's as its clients match them (Azure PowerShell's RoleDefinitionTests.ps1: 'RoleDefinitionDoesNotExist: "
        "The specified role definition with ID '85E460B3-...' does not exist.'; a GET of the definition answers it "
        "with 404, terraform's RoleDefinitionsClient#Get capture)",
        doc="""`properties.roleDefinitionId` names a built-in role or a custom role definition that exists (by the
        GUID its id ends with); a GET of a role definition that does not exist answers the same, with 404.""",
        errors=(ErrorTemplate(400, "RoleDefinitionDoesNotExist",
                              "The specified role definition with ID '{id}' does not exist."),
                ErrorTemplate(404, "RoleDefinitionDoesNotExist",
                              "The specified role definition with ID '{id}' does not exist.")),
        operations=("create", "read"), confidence="M")

refusal("RBAC2", ROLE_ASSIGNMENT, "A role assignment's principal, role and scope cannot change",
        "https://learn.microsoft.com/azure/role-based-access-control/troubleshooting ('ARM template role assignment "
        "returns BadRequest status': 'Tenant ID, application ID, principal ID, and scope are not allowed to be "
        "updated. (code: RoleAssignmentUpdateNotPermitted)'; 'You also can't change the properties of an existing "
        "role assignment')",
        doc="""A PUT to an existing role assignment's name with another principal, role or scope is refused: the
        name is taken. Delete the assignment, or use another name (a `guid()` of scope, principal and role).""",
        errors=(ErrorTemplate(400, "RoleAssignmentUpdateNotPermitted",
                              "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."),),
        operations=("update",), confidence="H")

refusal("RBAC3", ROLE_ASSIGNMENT, "A principal holds a role at a scope once",
        "hashicorp/terraform-provider-azurerm#28557 (Status=409 Code=\"RoleAssignmentExists\" Message=\"The role "
        "assignment already exists.\"); hashicorp/terraform-provider-azurerm#28694 ('API responds a 409 conflict error "
        "when create a new role assignment with the same trio but different name')",
        doc="""A new role assignment (another name) with the principal, role definition and scope of an existing
        one is refused with 409.""",
        errors=(ErrorTemplate(409, "RoleAssignmentExists", "The role assignment already exists."),),
        operations=("create",), confidence="H")

refusal("RBAC4", ROLE_ASSIGNMENT, "A role assignment names a principal",
        "https://learn.microsoft.com/azure/role-based-access-control/troubleshooting ('Assigning a role to a new "
        "principal sometimes fails': PrincipalNotFound, the message quoted). INFERRED: answering a principalId that "
        "is absent or not a GUID with it (the emulator knows no directory: any GUID is a principal) and the status 400",
        doc="""`properties.principalId` is the object id (a GUID) of a user, group, service principal or managed
        identity.""",
        errors=(ErrorTemplate(400, "PrincipalNotFound",
                              "Principal {principal} does not exist in the directory {tenant}. Check that you have the "
                              "correct principal ID. If you are creating this principal and then immediately assigning "
                              "a role, this error might be related to a replication delay. In this case, set the role "
                              "assignment principalType property to a value, such as ServicePrincipal, User, or Group.  "
                              "See https://aka.ms/docs-principaltype"),),
        operations=("create",), confidence="M")

refusal("RBAC5", ROLE_DEFINITION, "A custom role is deleted after the role assignments that use it",
        "https://learn.microsoft.com/azure/role-based-access-control/troubleshooting ('Unable to delete a custom role': "
        "'There are existing role assignments referencing role (code: RoleDefinitionHasAssignments)'). The status "
        "(409) and the trailing period are INFERRED",
        doc="""A DELETE of a custom role definition that a role assignment still names is refused; remove the
        assignments first.""",
        errors=(ErrorTemplate(409, "RoleDefinitionHasAssignments",
                              "There are existing role assignments referencing role."),),
        operations=("delete",), confidence="M")

refusal("RBAC6", ROLE_ASSIGNMENT, "A role assignment that does not exist is not found",
        "INFERRED: the message. The code RoleAssignmentNotFound (404) is the one clients of Azure retry on "
        "(Terraform ALZ modules' retry lists: error_message_regex ['AuthorizationFailed', 'ResourceNotFound', "
        "'RoleAssignmentNotFound'] for policy role assignments)",
        doc="""A GET of a role assignment name that no assignment has at that scope answers 404.""",
        errors=(ErrorTemplate(404, "RoleAssignmentNotFound", "The role assignment '{name}' is not found."),),
        operations=("read",), confidence="L")
