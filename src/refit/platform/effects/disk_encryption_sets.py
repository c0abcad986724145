"""Microsoft.Compute/diskEncryptionSets (DiskRP), minimally: what a confidential VM's customer key needs.

A disk encryption set names a Key Vault key (`activeKey.keyUrl`, `activeKey.sourceVault.id`) and what it is for
(`encryptionType`: EncryptionAtRestWithCustomerKey, EncryptionAtRestWithPlatformAndCustomerKeys, or
ConfidentialVmEncryptedWithCustomerKey for a confidential VM's OS disk and VM guest state; specs DiskRP
DiskEncryptionSetType, DiskEncryptionSet_Create.json). Its managed identity (SystemAssigned) is what Key Vault
grants the key to. The key itself is Key Vault's (data plane): refit does not model the vault, wrapping or
rotation. The value set of encryptionType and the refusals of a set are rules CVM7/CVM8 (rules/confidential.py).
"""

from __future__ import annotations

import uuid

from refit.platform.effects import register
from refit.platform.effects.base import ResourceType
from refit.platform.rules import confidential as cvm

DEFAULT_ENCRYPTION_TYPE = "EncryptionAtRestWithCustomerKey"  # the spec's default when none is given


class DiskEncryptionSetType(ResourceType):
    type = cvm.DES
    # DiskRP answers writes with 202 and both LRO headers, as disks (reference/clients-against-a-local-endpoint.md).
    put_create_status = 202
    put_update_status = 202
    patch_status = 202
    location_header_on_write = True
    readonly_properties = ("provisioningState", "previousKeys", "lastKeyRotationTimestamp", "autoKeyRotationError")

    def server_properties(self):
        return ("provisioningState", "previousKeys")

    def duration(self, cloud, old, new):
        return "disk.update", 0.0  # INFERRED: no key to wrap here, the set is ready at once

    def build(self, cloud, rid, doc, old, call):
        # A set without its key and the value of encryptionType are the catalog's (CVM7).
        p = doc["properties"]
        p.setdefault("encryptionType", (old or {}).get("properties", {}).get("encryptionType")
                     or DEFAULT_ENCRYPTION_TYPE)
        p.setdefault("rotationToLatestKeyVersionEnabled", False)
        p.setdefault("previousKeys", [])
        ident = doc.get("identity") if isinstance(doc.get("identity"), dict) else None
        kept = (old or {}).get("identity") or {}
        if ident and str(ident.get("type") or "").lower().startswith("systemassigned"):
            # Azure gives the set's system identity a service principal (DiskEncryptionSet_Get.json identity).
            ident["principalId"] = kept.get("principalId") or str(uuid.uuid4())
            ident["tenantId"] = kept.get("tenantId") or cloud.tenant_id
        elif ident is None and kept:
            doc["identity"] = kept
        return doc


register(DiskEncryptionSetType())
