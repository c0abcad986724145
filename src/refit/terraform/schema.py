"""Which attribute changes force Terraform to replace a disk or an attachment: a curated table.

Why curated: `terraform providers schema -json` exposes required/optional/computed/sensitive but **not**
ForceNew nor defaults (hashicorp/terraform `internal/command/jsonprovider/attribute.go`), so refit cannot
read them from the provider. The rows below are taken from the azurerm provider's SDKv2 schemas and docs:

- azurerm_managed_disk: hashicorp/terraform-provider-azurerm
  `internal/services/compute/managed_disk_resource.go` (`resourceManagedDisk().Schema`; `location` and
  `resource_group_name` are `commonschema.Location()` / `commonschema.ResourceGroupName()`, both ForceNew;
  `zone` is `commonschema.ZoneSingleOptionalForceNew()`; `edge_zone` is `EdgeZoneOptionalForceNew()`) and
  `website/docs/r/managed_disk.html.markdown` ("Changing this forces a new resource to be created";
  `disk_size_gb`: "The size can only be increased").
- azurerm_virtual_machine_data_disk_attachment: `internal/services/compute/virtual_machine_data_disk_attachment_resource.go`
  (managed_disk_id, virtual_machine_id, lun, create_option are ForceNew; create_option defaults to "Attach";
  managed_disk_id, caching and create_option suppress case differences) and
  `website/docs/r/virtual_machine_data_disk_attachment.html.markdown`.

Comparison rules (SDKv2 behaviour): an unset Optional attribute is stored as its zero value ("" / 0 / false),
so null compares equal to the zero value; an Optional+Computed attribute absent from the configuration
keeps whatever is in the state (no diff); `location` is normalised ("West Europe" == "westeurope",
`location.Normalize`); attributes with `suppress.CaseDifference` compare case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refit.arm import location
from refit.terraform.values import Unknown, number_text


@dataclass(frozen=True)
class AttrRule:
    name: str
    kind: str  # string | ci (case-insensitive string) | location | int | bool | map
    force_new: bool
    computed: bool = False  # Optional+Computed: absent from config = no change
    default: Any = None  # SDKv2 Default, used when the attribute is absent from config
    shrink_blocked: bool = False  # a smaller value cannot be applied (disk_size_gb)


@dataclass(frozen=True)
class ResourceRules:
    type: str
    attrs: dict[str, AttrRule]
    source: str
    identity: tuple[str, ...] = field(default=())  # what the state strategy matches on (ForceNew attributes)

    def force_new(self) -> list[AttrRule]:
        return [a for a in self.attrs.values() if a.force_new]


def _rules(rtype: str, source: str, rows: list[AttrRule]) -> ResourceRules:
    attrs = {r.name: r for r in rows}
    return ResourceRules(rtype, attrs, source, tuple(r.name for r in rows if r.force_new))


_DISK_SRC = ("azurerm internal/services/compute/managed_disk_resource.go; "
             "docs website/docs/r/managed_disk.html.markdown")
_ATTACH_SRC = ("azurerm internal/services/compute/virtual_machine_data_disk_attachment_resource.go; "
               "docs website/docs/r/virtual_machine_data_disk_attachment.html.markdown")

TABLE: dict[str, ResourceRules] = {
    "azurerm_managed_disk": _rules("azurerm_managed_disk", _DISK_SRC, [
        AttrRule("name", "string", True),
        AttrRule("resource_group_name", "string", True),
        AttrRule("location", "location", True),
        AttrRule("zone", "string", True),
        AttrRule("create_option", "string", True),
        AttrRule("edge_zone", "location", True),
        AttrRule("logical_sector_size", "int", True, computed=True),
        AttrRule("source_uri", "string", True, computed=True),
        AttrRule("source_resource_id", "string", True),
        AttrRule("storage_account_id", "string", True),
        AttrRule("image_reference_id", "string", True),
        AttrRule("gallery_image_reference_id", "string", True),
        AttrRule("upload_size_bytes", "int", True),
        AttrRule("hyper_v_generation", "string", True),
        AttrRule("security_type", "string", True),
        AttrRule("secure_vm_disk_encryption_set_id", "string", True),
        AttrRule("trusted_launch_enabled", "bool", True),
        AttrRule("performance_plus_enabled", "bool", True, default=False),
        # In place (an update, never a destroy):
        AttrRule("disk_size_gb", "int", False, computed=True, shrink_blocked=True),
        AttrRule("storage_account_type", "ci", False),
        AttrRule("tier", "string", False, computed=True),
        AttrRule("disk_iops_read_write", "int", False, computed=True),
        AttrRule("disk_mbps_read_write", "int", False, computed=True),
        AttrRule("max_shares", "int", False, computed=True),
        AttrRule("network_access_policy", "string", False),
        AttrRule("public_network_access_enabled", "bool", False, default=True),
        AttrRule("on_demand_bursting_enabled", "bool", False),
        AttrRule("disk_encryption_set_id", "ci", False),
        AttrRule("disk_access_id", "ci", False),
        AttrRule("os_type", "string", False),
        AttrRule("tags", "map", False),
    ]),
    "azurerm_virtual_machine_data_disk_attachment": _rules("azurerm_virtual_machine_data_disk_attachment", _ATTACH_SRC, [
        AttrRule("managed_disk_id", "ci", True),
        AttrRule("virtual_machine_id", "string", True),
        AttrRule("lun", "int", True),
        AttrRule("create_option", "ci", True, default="Attach"),
        AttrRule("caching", "ci", False),
        AttrRule("write_accelerator_enabled", "bool", False, default=False),
    ]),
}


def rules_for(rtype: str) -> ResourceRules | None:
    return TABLE.get(rtype)


class NotComparable(ValueError):
    pass


def normalize(kind: str, v: Any) -> Any:
    """The value as the provider compares it. Unknown passes through (it is never equal to anything)."""
    if isinstance(v, Unknown):
        return v
    if kind in ("string", "ci", "location"):
        if v is None:
            s = ""
        elif isinstance(v, bool):
            s = "true" if v else "false"
        elif isinstance(v, int | float):
            s = number_text(v)
        elif isinstance(v, str):
            s = v
        else:
            raise NotComparable(f"a string is expected, got {v!r}")
        if kind == "ci":
            return s.lower()
        if kind == "location":
            return location.normalize(s)  # go-azure-helpers location.Normalize
        return s
    if kind == "int":
        if v is None:
            return 0
        if isinstance(v, bool):
            raise NotComparable("a number is expected, got a bool")
        if isinstance(v, int | float):
            return v
        if isinstance(v, str):
            try:
                return int(v)
            except ValueError:
                raise NotComparable(f"a number is expected, got {v!r}") from None
        raise NotComparable(f"a number is expected, got {v!r}")
    if kind == "bool":
        if v is None:
            return False
        if isinstance(v, bool):
            return v
        if v in ("true", "false"):
            return v == "true"
        raise NotComparable(f"a bool is expected, got {v!r}")
    if kind == "map":
        if v is None:
            return {}
        if isinstance(v, dict):
            return {k: normalize("string", x) for k, x in v.items()}
        raise NotComparable(f"a map is expected, got {v!r}")
    raise NotComparable(f"unknown kind {kind}")
