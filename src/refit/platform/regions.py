"""The regions Azure has (the ones refit knows), with availability-zone support.

Zone support per https://learn.microsoft.com/azure/reliability/regions-list (regions with and
without availability zones). Names are the programmatic names ARM uses.
"""

from __future__ import annotations

from refit.arm import location

REGIONS: dict[str, tuple[str, bool]] = {
    # name: (display name, has availability zones)
    "eastus": ("East US", True),
    "eastus2": ("East US 2", True),
    "centralus": ("Central US", True),
    "southcentralus": ("South Central US", True),
    "westus2": ("West US 2", True),
    "westus3": ("West US 3", True),
    "westus": ("West US", False),
    "northcentralus": ("North Central US", False),
    "westcentralus": ("West Central US", False),
    "canadacentral": ("Canada Central", True),
    "brazilsouth": ("Brazil South", True),
    "northeurope": ("North Europe", True),
    "westeurope": ("West Europe", True),
    "uksouth": ("UK South", True),
    "ukwest": ("UK West", False),
    "francecentral": ("France Central", True),
    "germanywestcentral": ("Germany West Central", True),
    "swedencentral": ("Sweden Central", True),
    "switzerlandnorth": ("Switzerland North", True),
    "norwayeast": ("Norway East", True),
    "southeastasia": ("Southeast Asia", True),
    "eastasia": ("East Asia", True),
    "japaneast": ("Japan East", True),
    "japanwest": ("Japan West", True),
    "koreacentral": ("Korea Central", True),
    "centralindia": ("Central India", True),
    "australiaeast": ("Australia East", True),
    "australiasoutheast": ("Australia Southeast", False),
}


normalize = location.normalize  # 'East US' -> 'eastus' (one normaliser: refit.arm.location)


def known(name: str) -> bool:
    return normalize(name) in REGIONS


def has_zones(name: str) -> bool:
    return REGIONS.get(normalize(name), ("", False))[1]


def display_name(name: str) -> str:
    return REGIONS.get(normalize(name), (name, False))[0]
