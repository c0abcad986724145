"""Microsoft.Storage/storageAccounts: the account itself (what a flow log writes to and a VHD is kept in), none of
its data plane.

Shape as the REST examples show it (specs storage stable StorageAccountCreate.json / StorageAccountGetProperties.json):
`sku.name` and the `sku.tier` it implies (Standard_* / Premium_*), `kind`, and the server-set `provisioningState`,
`creationTime`, `primaryLocation`, `statusOfPrimary` "available" and `primaryEndpoints`, whose hosts are the
account's name under the service's DNS zone (`https://{name}.blob.core.windows.net/`, ...: which services a kind has
follows https://learn.microsoft.com/azure/storage/common/storage-account-overview#types-of-storage-accounts).
A create is accepted with 202 and a Location to poll (the recorded StorageAccounts_Create exchange: "Initial
Response StatusCode: 202"); an update of an existing account and a delete answer at once (200). Names and their
global uniqueness are the catalog's (rules ST1, ST2 in refit.platform.rules.storage).
"""

from __future__ import annotations

from refit.platform.effects import register
from refit.platform.effects.base import ResourceType

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"

# The services each kind serves (storage-account-overview: a general-purpose v2 account has all of them and Data
# Lake Storage (dfs); Storage, v1, has no dfs; BlockBlobStorage is blobs (and dfs); FileStorage is files).
_SERVICES: dict[str, tuple[str, ...]] = {
    "storagev2": ("blob", "dfs", "file", "queue", "table"),
    "storage": ("blob", "file", "queue", "table"),
    "blobstorage": ("blob", "dfs", "table"),
    "blockblobstorage": ("blob", "dfs"),
    "filestorage": ("file",),
}


def endpoints(name: str, kind: str | None) -> dict[str, str]:
    services = _SERVICES.get((kind or "").lower(), _SERVICES["storagev2"])
    return {s: f"https://{name}.{s}.core.windows.net/" for s in services}


def blob_endpoint(doc: dict) -> str | None:
    """The account's blob endpoint as GET shows it (where flow logs and VHDs go)."""
    return endpoints(doc.get("name") or "", doc.get("kind")).get("blob")


def check_name_availability(cloud, body: object) -> dict:
    """POST /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability (StorageAccounts_CheckNameAvailability,
    specs example StorageAccountCheckNameAvailability.json: `nameAvailable`, and when false `reason`
    AccountNameInvalid or AlreadyExists with the `message` a create would answer). The same rules a create is
    refused by (ST1, ST2) decide; `az storage account create` asks first."""
    from refit.platform.rules import RULES

    name = str((body or {}).get("name") or "") if isinstance(body, dict) else ""
    doc = {"id": f"/subscriptions/-/resourceGroups/-/providers/{STORAGE_ACCOUNT}/{name}", "name": name,
           "type": STORAGE_ACCOUNT}
    for rule_id, reason in (("ST1", "AccountNameInvalid"), ("ST2", "AlreadyExists")):
        errs = RULES[rule_id].check(cloud.world, None, doc)
        if errs:
            return {"nameAvailable": False, "reason": reason, "message": errs[0].message}
    return {"nameAvailable": True}


class StorageAccountType(ResourceType):
    type = STORAGE_ACCOUNT
    put_create_status = 202
    location_header_on_write = True
    create_timing = "storage.create"
    update_timing = "storage.update"
    delete_timing = "storage.delete"
    readonly_properties = ("provisioningState", "creationTime", "primaryEndpoints", "primaryLocation",
                           "statusOfPrimary")

    def server_properties(self):
        return ("provisioningState", "creationTime", "primaryLocation", "statusOfPrimary")

    def build(self, cloud, rid, doc, old, call):
        sku = doc.get("sku") if isinstance(doc.get("sku"), dict) else dict((old or {}).get("sku") or {})
        if isinstance(sku.get("name"), str):
            # The tier is the name's prefix (specs: Sku.tier is read-only, "Standard" or "Premium").
            sku["tier"] = "Premium" if sku["name"].lower().startswith("premium") else "Standard"
        doc["sku"] = sku
        if old is not None and not doc.get("kind"):
            doc["kind"] = old.get("kind")
        p = doc["properties"]
        if old is None:
            p["creationTime"] = cloud.now_iso()
            p["primaryLocation"] = doc.get("location")
            p["statusOfPrimary"] = "available"
        if (doc.get("kind") or "").lower() == "storagev2":
            p.setdefault("accessTier", "Hot")  # the default tier of a v2 account (specs: accessTier Hot/Cool/...)
        return doc

    def render(self, cloud, doc, call):
        out = dict(doc)
        out["properties"] = {**doc.get("properties", {}), "primaryEndpoints": endpoints(doc["name"], doc.get("kind"))}
        return out


register(StorageAccountType())
