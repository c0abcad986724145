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


# Azure's region pairs, the default secondary (DR) region of a region: the "Azure paired regions" table of
# https://learn.microsoft.com/azure/reliability/cross-region-replication-azure (ARM shows the same fact as
# `metadata.pairedRegion` of GET /subscriptions/{id}/locations, `az account list-locations`). Most pairs go both
# ways; West US 3 -> East US and Brazil South -> South Central US are one-way (their partner's pair is another
# region). A region missing here has no pair (nonpaired regions rely on zones; the DR region is the operator's
# choice). Some partners (Canada East, France South, ...) are not regions refit's emulator serves.
# The US, Europe, UK, Asia, Japan, Korea, India, Australia, Canada and Brazil pairs are in every published version
# of the table (e.g. the 2018 copy at azurecloud.expert/2018/01/08/azure-paired-regions, build5nines.com's on the
# one-way Brazil South pair); the pairs of the newer regions (West US 3, France, Germany, Sweden, Switzerland,
# Norway) are INFERRED from the current Learn table, which the search corpus did not hold in full.
PAIRS: dict[str, str] = {
    "eastus": "westus", "westus": "eastus",
    "eastus2": "centralus", "centralus": "eastus2",
    "northcentralus": "southcentralus", "southcentralus": "northcentralus",
    "westus2": "westcentralus", "westcentralus": "westus2",
    "westus3": "eastus",
    "canadacentral": "canadaeast", "canadaeast": "canadacentral",
    "brazilsouth": "southcentralus",
    "northeurope": "westeurope", "westeurope": "northeurope",
    "uksouth": "ukwest", "ukwest": "uksouth",
    "francecentral": "francesouth", "francesouth": "francecentral",
    "germanywestcentral": "germanynorth", "germanynorth": "germanywestcentral",
    "swedencentral": "swedensouth", "swedensouth": "swedencentral",
    "switzerlandnorth": "switzerlandwest", "switzerlandwest": "switzerlandnorth",
    "norwayeast": "norwaywest", "norwaywest": "norwayeast",
    "southeastasia": "eastasia", "eastasia": "southeastasia",
    "japaneast": "japanwest", "japanwest": "japaneast",
    "koreacentral": "koreasouth", "koreasouth": "koreacentral",
    "centralindia": "southindia", "southindia": "centralindia",
    "australiaeast": "australiasoutheast", "australiasoutheast": "australiaeast",
}


def paired(name: str) -> str | None:
    """The region's pair (its default DR region), None for a nonpaired region."""
    return PAIRS.get(normalize(name))
