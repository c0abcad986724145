"""Microsoft.Storage (family ST): what Azure refuses about a storage account's name. A storage account's name is a
DNS label of its own (`{name}.blob.core.windows.net`), so it is checked by the storage RP on create and is unique
across Azure, not within a resource group."""

from __future__ import annotations

import re
from typing import Any

from refit.arm.ids import id_key
from refit.arm.world import World
from refit.platform.rules.registry import ErrorTemplate, rule

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
_NAME = re.compile(r"[a-z0-9]{3,24}")
Doc = dict[str, Any] | None

INVALID_NAME = ErrorTemplate(400, "AccountNameInvalid",
                             "{name} is not a valid storage account name. Storage account name must be between 3 and "
                             "24 characters in length and use numbers and lower-case letters only.", "{name}")
TAKEN = ErrorTemplate(409, "StorageAccountAlreadyTaken", "The storage account named {name} is already taken.",
                      "{name}")


@rule("ST1", STORAGE_ACCOUNT, "A storage account's name is 3-24 lower-case letters and digits",
      "pulumi/templates#274 and Azure/AzureMonitorStarterPacks#171 quote the answer (Code AccountNameInvalid, the "
      "message, Target the name); Azure/azure-sdk-for-java#867: status 400. The rule: "
      "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftstorage",
      errors=(INVALID_NAME,), operations=("create",), confidence="H")
def st1_account_name(world: World, old: Doc, new: Doc) -> list:
    """A new storage account is named with 3 to 24 lower-case letters and digits (no upper case, no hyphen):
    `flowlogs01` is taken, `FlowLogs01` and `flow-logs` are refused."""
    name = (new or {}).get("name") or ""
    return [] if _NAME.fullmatch(name) else [INVALID_NAME(name=name)]


@rule("ST2", STORAGE_ACCOUNT, "A storage account's name is unique across Azure",
      "hashicorp/terraform#11485 and vmware-archive/azure-concourse#7 quote the answer (Status=409 "
      "Code=\"StorageAccountAlreadyTaken\" Message=\"The storage account named accsa is already taken.\"); "
      "OfficeDev/microsoft-teams-apps-timetally#50: Target the name. Uniqueness: "
      "https://learn.microsoft.com/azure/storage/common/storage-account-overview#storage-account-name",
      errors=(TAKEN,), operations=("create",), confidence="H")
def st2_name_taken(world: World, old: Doc, new: Doc) -> list:
    """No two storage accounts anywhere (any subscription, any resource group, any region) have the same name: a
    create with a name another account holds is refused. A PUT of the same account is an update, not a create."""
    name = ((new or {}).get("name") or "").lower()
    me = id_key((new or {}).get("id") or "")
    for d in world.of_type(STORAGE_ACCOUNT):
        if (d.get("name") or "").lower() == name and id_key(d["id"]) != me:
            return [TAKEN(name=new["name"])]
    return []
