"""The VM sizes Azure offers (Microsoft.Compute/skus): the one table of size facts in refit.

What a size can do, as the Resource SKUs API reports it (specs ComputeRP Skus/stable/2021-07-01
ListAvailableResourceSkus.json: `capabilities` as name/value strings, `locationInfo` with zones): vCPUs, memory,
the Hyper-V generations it boots (HyperVGenerations), its CPU architecture (CpuArchitectureType x64 / Arm64),
whether it refuses Trusted Launch (TrustedLaunchDisabled), its confidential computing type, whether it takes a
capacity reservation. The rule catalog (sizes, S1, S7, S12, C12), the planner and the doctor read sizes here
and nowhere else; the emulator serves `skus`, `vmSizes` and `usages` from it.

The series and their sizes follow the size pages of https://learn.microsoft.com/azure/virtual-machines/sizes/overview
(one page per series, cited per row). Which generations each series boots is the pages' "VM Generation Support"
line (https://learn.microsoft.com/azure/virtual-machines/generation-2); Trusted Launch support the list in
https://learn.microsoft.com/azure/virtual-machines/trusted-launch#virtual-machines-sizes (the FAQ's example of a
Gen2 size without it is Standard_NC12s_v3). Data disk and NIC counts per size are INFERRED from the common
pattern of the pages (2 disks per vCPU up to 32; 2/4/8 NICs by size), not copied per size. Every size is offered
in every region refit knows, in all of a zonal region's zones (INFERRED: real availability varies by region).
Retired series (G, H, NC/NV v1) are not in the table: Azure refuses them as it refuses any unknown size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from refit.platform import regions

DOCS = "https://learn.microsoft.com/azure/virtual-machines/sizes"


@dataclass(frozen=True)
class VmSize:
    name: str  # Standard_D2s_v5
    tier: str  # Standard | Basic
    size: str  # D2s_v5
    family: str  # the quota family (usages): standardDSv5Family
    vcpus: int
    memory_gb: float
    architecture: str  # x64 | Arm64
    generations: tuple[str, ...]  # ("V1", "V2")
    trusted_launch: bool  # False: the SKU reports TrustedLaunchDisabled=True
    confidential: str | None  # SNP | TDX (ConfidentialComputingType) for confidential VM sizes
    premium_io: bool
    capacity_reservation: bool
    resource_disk_mb: int
    vcpus_per_core: int

    @property
    def max_data_disks(self) -> int:
        return min(2 * self.vcpus, 64 if self.family.startswith("standardMS") else 32)

    @property
    def max_nics(self) -> int:
        return 2 if self.vcpus <= 2 else 4 if self.vcpus <= 8 else 8

    @property
    def memory_mb(self) -> int:
        return int(self.memory_gb * 1024)


@dataclass(frozen=True)
class _Series:
    family: str
    pattern: str  # "Standard_D{n}s_v5"; or explicit sizes below
    vcpus: tuple[int, ...] = ()
    gib_per_vcpu: float = 4.0
    architecture: str = "x64"
    generations: tuple[str, ...] = ("V1", "V2")
    trusted_launch: bool = True
    confidential: str | None = None
    premium_io: bool = True
    capacity_reservation: bool = True
    temp_gib_per_vcpu: float = 0.0  # the local temporary disk ("d" sizes)
    page: str = ""
    explicit: tuple[tuple[str, int, float], ...] = ()  # (size name, vCPUs, GiB) for irregular series


_V5 = (2, 4, 8, 16, 32, 48, 64, 96)
_GEN2 = ("V2",)
_GEN1 = ("V1",)

SERIES: tuple[_Series, ...] = (
    # ---- general purpose, x64 ---------------------------------------------------------------------------------
    _Series("standardDSv5Family", "Standard_D{n}s_v5", _V5, page="general-purpose/dsv5-series"),
    _Series("standardDv5Family", "Standard_D{n}_v5", _V5, premium_io=False, page="general-purpose/dv5-series"),
    _Series("standardDDSv5Family", "Standard_D{n}ds_v5", _V5, temp_gib_per_vcpu=37.5, page="general-purpose/ddsv5-series"),
    _Series("standardDASv5Family", "Standard_D{n}as_v5", _V5, page="general-purpose/dasv5-series"),
    _Series("standardDADSv5Family", "Standard_D{n}ads_v5", _V5, temp_gib_per_vcpu=37.5,
            page="general-purpose/dadsv5-series"),
    _Series("standardDSv3Family", "Standard_D{n}s_v3", (2, 4, 8, 16, 32, 48, 64), temp_gib_per_vcpu=8,
            page="general-purpose/dsv3-series"),
    # v6: NVMe, Generation 2 only ("VM Generation Support: Generation 2").
    _Series("standardDSv6Family", "Standard_D{n}s_v6", (*_V5, 128), generations=_GEN2, page="general-purpose/dsv6-series"),
    _Series("standardDASv6Family", "Standard_D{n}as_v6", _V5, generations=_GEN2, page="general-purpose/dasv6-series"),
    _Series("standardDADSv6Family", "Standard_D{n}ads_v6", _V5, generations=_GEN2, temp_gib_per_vcpu=55,
            page="general-purpose/dadsv6-series"),
    _Series("standardDSv2Family", "", explicit=(("Standard_DS1_v2", 1, 3.5), ("Standard_DS2_v2", 2, 7),
                                                ("Standard_DS3_v2", 4, 14), ("Standard_DS4_v2", 8, 28),
                                                ("Standard_DS5_v2", 16, 56)),
            temp_gib_per_vcpu=7, page="general-purpose/dsv2-series"),
    _Series("standardDv2Family", "", explicit=(("Standard_D1_v2", 1, 3.5), ("Standard_D2_v2", 2, 7),
                                               ("Standard_D3_v2", 4, 14), ("Standard_D4_v2", 8, 28),
                                               ("Standard_D5_v2", 16, 56)),
            premium_io=False, temp_gib_per_vcpu=50, page="general-purpose/dv2-series"),
    _Series("standardBSFamily", "", explicit=(("Standard_B1ls", 1, 0.5), ("Standard_B1s", 1, 1), ("Standard_B1ms", 1, 2),
                                              ("Standard_B2s", 2, 4), ("Standard_B2ms", 2, 8), ("Standard_B4ms", 4, 16),
                                              ("Standard_B8ms", 8, 32), ("Standard_B12ms", 12, 48),
                                              ("Standard_B16ms", 16, 64), ("Standard_B20ms", 20, 80)),
            temp_gib_per_vcpu=4, page="general-purpose/bv1-series"),
    # Av2 and Av1 boot Generation 1 only, and so take no Trusted Launch; Av1 (and Basic A) take no capacity
    # reservation (rule C12; azure-cli#18943 captures it for Standard_A0).
    _Series("standardAv2Family", "", explicit=(("Standard_A1_v2", 1, 2), ("Standard_A2_v2", 2, 4), ("Standard_A4_v2", 4, 8),
                                               ("Standard_A8_v2", 8, 16), ("Standard_A2m_v2", 2, 16),
                                               ("Standard_A4m_v2", 4, 32), ("Standard_A8m_v2", 8, 64)),
            generations=_GEN1, trusted_launch=False, premium_io=False, temp_gib_per_vcpu=10,
            page="general-purpose/av2-series"),
    _Series("standardA0_A7Family", "", explicit=(("Standard_A0", 1, 0.75), ("Standard_A1", 1, 1.75), ("Standard_A2", 2, 3.5),
                                                 ("Standard_A3", 4, 7), ("Standard_A4", 8, 14), ("Standard_A5", 2, 14),
                                                 ("Standard_A6", 4, 28), ("Standard_A7", 8, 56)),
            generations=_GEN1, trusted_launch=False, premium_io=False, capacity_reservation=False,
            temp_gib_per_vcpu=20, page="general-purpose/av1-series"),
    _Series("basicAFamily", "", explicit=(("Basic_A0", 1, 0.75), ("Basic_A1", 1, 1.75), ("Basic_A2", 2, 3.5),
                                          ("Basic_A3", 4, 7), ("Basic_A4", 8, 14)),
            generations=_GEN1, trusted_launch=False, premium_io=False, capacity_reservation=False,
            temp_gib_per_vcpu=20, page="general-purpose/av1-series"),
    # ---- memory and compute optimised, x64 --------------------------------------------------------------------
    _Series("standardESv5Family", "Standard_E{n}s_v5", (2, 4, 8, 16, 20, 32, 48, 64, 96), gib_per_vcpu=8,
            page="memory-optimized/esv5-series"),
    _Series("standardEASv5Family", "Standard_E{n}as_v5", (2, 4, 8, 16, 20, 32, 48, 64, 96), gib_per_vcpu=8,
            page="memory-optimized/easv5-series"),
    _Series("standardFSv2Family", "Standard_F{n}s_v2", (2, 4, 8, 16, 32, 48, 64, 72), gib_per_vcpu=2,
            temp_gib_per_vcpu=8, page="compute-optimized/fsv2-series"),
    _Series("standardMSFamily", "", explicit=(("Standard_M8ms", 8, 218.75), ("Standard_M16ms", 16, 437.5),
                                              ("Standard_M32ms", 32, 875), ("Standard_M64ms", 64, 1750),
                                              ("Standard_M128ms", 128, 3800)),
            trusted_launch=False, temp_gib_per_vcpu=32, page="memory-optimized/m-series"),
    _Series("standardMSv2Family", "", explicit=(("Standard_M208ms_v2", 208, 5700), ("Standard_M416ms_v2", 416, 11400)),
            generations=_GEN2, trusted_launch=False, temp_gib_per_vcpu=20, page="memory-optimized/mv2-series"),
    _Series("standardNCSv3Family", "", explicit=(("Standard_NC6s_v3", 6, 112), ("Standard_NC12s_v3", 12, 224),
                                                 ("Standard_NC24s_v3", 24, 448), ("Standard_NC24rs_v3", 24, 448)),
            trusted_launch=False, temp_gib_per_vcpu=56, page="gpu-accelerated/ncv3-series"),
    # ---- Arm64: Ampere Altra (v5) and Azure Cobalt 100 (v6); Generation 2 only -------------------------------
    _Series("standardDPSv5Family", "Standard_D{n}ps_v5", (2, 4, 8, 16, 32, 48, 64), architecture="Arm64",
            generations=_GEN2, page="general-purpose/dpsv5-series"),
    _Series("standardDPDSv5Family", "Standard_D{n}pds_v5", (2, 4, 8, 16, 32, 48, 64), architecture="Arm64",
            generations=_GEN2, temp_gib_per_vcpu=37.5, page="general-purpose/dpdsv5-series"),
    _Series("standardDPLSv5Family", "Standard_D{n}pls_v5", (2, 4, 8, 16, 32, 48, 64), gib_per_vcpu=2,
            architecture="Arm64", generations=_GEN2, page="general-purpose/dplsv5-series"),
    _Series("standardEPSv5Family", "Standard_E{n}ps_v5", (2, 4, 8, 16, 20, 32), gib_per_vcpu=8, architecture="Arm64",
            generations=_GEN2, page="memory-optimized/epsv5-series"),
    _Series("standardDPSv6Family", "Standard_D{n}ps_v6", _V5, architecture="Arm64", generations=_GEN2,
            page="general-purpose/dpsv6-series"),
    _Series("standardDPDSv6Family", "Standard_D{n}pds_v6", _V5, architecture="Arm64", generations=_GEN2,
            temp_gib_per_vcpu=55, page="general-purpose/dpdsv6-series"),
    _Series("standardDPLSv6Family", "Standard_D{n}pls_v6", _V5, gib_per_vcpu=2, architecture="Arm64",
            generations=_GEN2, page="general-purpose/dplsv6-series"),
    _Series("standardEPSv6Family", "Standard_E{n}ps_v6", _V5, gib_per_vcpu=8, architecture="Arm64", generations=_GEN2,
            page="memory-optimized/epsv6-series"),
    _Series("standardBpsv2Family", "", explicit=(("Standard_B2pts_v2", 2, 1), ("Standard_B2pls_v2", 2, 4),
                                                 ("Standard_B2ps_v2", 2, 8), ("Standard_B4pls_v2", 4, 8),
                                                 ("Standard_B4ps_v2", 4, 16)),
            architecture="Arm64", generations=_GEN2, page="general-purpose/bpsv2-series"),
    # ---- confidential VMs: AMD SEV-SNP (a) and Intel TDX (e); Generation 2 only ------------------------------
    _Series("standardDCASv5Family", "Standard_DC{n}as_v5", _V5, confidential="SNP", generations=_GEN2,
            page="general-purpose/dcasv5-series"),
    _Series("standardDCADSv5Family", "Standard_DC{n}ads_v5", _V5, confidential="SNP", generations=_GEN2,
            temp_gib_per_vcpu=37.5, page="general-purpose/dcadsv5-series"),
    _Series("standardECASv5Family", "Standard_EC{n}as_v5", (2, 4, 8, 16, 20, 32, 48, 64, 96), gib_per_vcpu=8,
            confidential="SNP", generations=_GEN2, page="memory-optimized/ecasv5-series"),
    _Series("standardDCESv5Family", "Standard_DC{n}es_v5", _V5, confidential="TDX", generations=_GEN2,
            page="general-purpose/dcesv5-series"),
    _Series("standardDCEDSv5Family", "Standard_DC{n}eds_v5", _V5, confidential="TDX", generations=_GEN2,
            temp_gib_per_vcpu=37.5, page="general-purpose/dcedsv5-series"),
    _Series("standardNCCadsH100v5Family", "", explicit=(("Standard_NCC40ads_H100_v5", 40, 320),), confidential="SNP",
            generations=_GEN2, temp_gib_per_vcpu=20, page="gpu-accelerated/nccadsh100v5-series"),
)


def _sizes(s: _Series) -> list[VmSize]:
    rows = list(s.explicit) or [(s.pattern.format(n=n), n, n * s.gib_per_vcpu) for n in s.vcpus]
    out = []
    for name, vcpus, gib in rows:
        tier, _, short = name.partition("_")
        out.append(VmSize(name=name, tier=tier, size=short, family=s.family, vcpus=vcpus, memory_gb=gib,
                          architecture=s.architecture, generations=s.generations, trusted_launch=s.trusted_launch,
                          confidential=s.confidential, premium_io=s.premium_io,
                          capacity_reservation=s.capacity_reservation,
                          resource_disk_mb=int(vcpus * s.temp_gib_per_vcpu * 1024),
                          vcpus_per_core=1 if s.architecture == "Arm64" or vcpus == 1 else 2))
    return out


@cache
def _table() -> dict[str, VmSize]:
    return {sz.name.lower(): sz for s in SERIES for sz in _sizes(s)}


def all_sizes() -> list[VmSize]:
    return list(_table().values())


def find(name: str | None) -> VmSize | None:
    """The size of that name (Azure compares size names without regard to case), None if Azure has none."""
    return _table().get((name or "").lower()) if isinstance(name, str) else None


def offered(name: str | None, region: str | None) -> VmSize | None:
    """The size, if Azure offers it in that region (every known size in every known region: see above)."""
    sz = find(name)
    return sz if sz is not None and region is not None and regions.known(region) else None


def sizes_in(region: str) -> list[VmSize]:
    return all_sizes() if regions.known(region) else []


def family_display(family: str) -> str:
    """The quota family's display name, as `usages` shows it: standardDSv5Family -> 'Standard DSv5 Family vCPUs'
    (INFERRED from the usages pattern of `az vm list-usage`)."""
    core = family[len("standard"):] if family.startswith("standard") else family[len("basic"):]
    tier = "Standard" if family.startswith("standard") else "Basic"
    core = core[: -len("Family")] if core.endswith("Family") else core
    return f"{tier} {core} Family vCPUs"


def capabilities(sz: VmSize) -> list[dict[str, str]]:
    """The size's capabilities, as name/value strings in the order the REST example lists them."""
    caps = [
        ("MaxResourceVolumeMB", str(sz.resource_disk_mb)),
        ("OSVhdSizeMB", "1047552"),
        ("vCPUs", str(sz.vcpus)),
        ("MemoryPreservingMaintenanceSupported", "True"),
        ("HyperVGenerations", ",".join(sz.generations)),
        ("MemoryGB", _num(sz.memory_gb)),
        ("MaxDataDiskCount", str(sz.max_data_disks)),
        ("CpuArchitectureType", sz.architecture),
        ("LowPriorityCapable", "True" if sz.tier == "Standard" else "False"),
        ("PremiumIO", str(sz.premium_io)),
        ("VMDeploymentTypes", "IaaS"),
        ("vCPUsAvailable", str(sz.vcpus)),
        ("vCPUsPerCore", str(sz.vcpus_per_core)),
        ("EphemeralOSDiskSupported", str(sz.resource_disk_mb > 0 and sz.premium_io)),
        ("EncryptionAtHostSupported", str(sz.premium_io)),
        ("CapacityReservationSupported", str(sz.capacity_reservation)),
        ("AcceleratedNetworkingEnabled", str(sz.vcpus >= 2 and sz.tier == "Standard")),
        ("RdmaEnabled", "True" if sz.name.endswith("rs_v3") else "False"),
        ("MaxNetworkInterfaces", str(sz.max_nics)),
    ]
    if not sz.trusted_launch:
        caps.append(("TrustedLaunchDisabled", "True"))
    if sz.confidential:
        caps.append(("ConfidentialComputingType", sz.confidential))
    return [{"name": n, "value": v} for n, v in caps]


def resource_sku(sz: VmSize, region: str) -> dict[str, object]:
    """One entry of `GET /subscriptions/{s}/providers/Microsoft.Compute/skus` (ResourceSku)."""
    zones = ["1", "2", "3"] if regions.has_zones(region) else []
    return {"resourceType": "virtualMachines", "name": sz.name, "tier": sz.tier, "size": sz.size, "family": sz.family,
            "locations": [region], "locationInfo": [{"location": region, "zones": zones, "zoneDetails": []}],
            "capabilities": capabilities(sz), "restrictions": []}


def vm_size(sz: VmSize) -> dict[str, object]:
    """One entry of `GET .../locations/{l}/vmSizes` (VirtualMachineSize; `az vm list-sizes`)."""
    return {"name": sz.name, "numberOfCores": sz.vcpus, "osDiskSizeInMB": 1047552,
            "resourceDiskSizeInMB": sz.resource_disk_mb, "memoryInMB": sz.memory_mb,
            "maxDataDiskCount": sz.max_data_disks}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
