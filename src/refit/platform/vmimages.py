"""The platform (Marketplace) images refit knows: the one table of platform image facts.

What `GET .../locations/{l}/publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions/{v}` answers
(VirtualMachineImage, specs ComputeRP virtualMachineImageExamples/VirtualMachineImage_Get_MaximumSet_Gen.json):
the OS, the Hyper-V generation, the CPU architecture and the `features` az reads to default a VM's security type
(azure-cli vm/_validators.py trusted_launch_set_default: a Gen2 image whose SecurityType feature is
TrustedLaunchSupported or TrustedLaunchAndConfidentialVmSupported gets `--security-type TrustedLaunch`).

The rows are the images behind the aliases az knows (azure-cli vm/_alias.py, and the current alias document
https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json:
Ubuntu2204 = Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2, Ubuntu2404 = Canonical:ubuntu-24_04-lts:server,
Win2022Datacenter = MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2, Debian11 =
Debian:debian-11:11-backports-gen2), their Gen1 and Arm64 siblings (the publishers' SKU naming: `-gen1`, `-arm64`,
`22_04-lts` for the Gen1 jammy image) and Debian 12 (Debian:debian-12:12-gen2). INFERRED: the SecurityType of the
Arm64 images (Standard: refit knows no public statement that they support Trusted Launch) and the version numbers
(the publishers' numbering scheme; the builds themselves are refit's). Every image is offered in every region.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformImage:
    publisher: str
    offer: str
    sku: str
    os_type: str  # Linux | Windows
    generation: str  # V1 | V2
    architecture: str  # x64 | Arm64
    security_type: str  # the SecurityType feature: Standard | TrustedLaunchSupported | TrustedLaunchAndConfidentialVmSupported
    versions: tuple[str, ...]  # oldest first
    size_gb: int

    @property
    def urn(self) -> str:
        return f"{self.publisher}:{self.offer}:{self.sku}"

    def features(self) -> list[dict[str, str]]:
        out = []
        if self.security_type != "Standard":
            out.append({"name": "SecurityType", "value": self.security_type})
        out += [{"name": "IsAcceleratedNetworkSupported", "value": "True"},
                {"name": "DiskControllerTypes", "value": "SCSI, NVMe" if self.generation == "V2" else "SCSI"}]
        if self.os_type == "Linux":
            out.append({"name": "IsHibernateSupported", "value": "True"})
        return out


_JAMMY = ("22.04.202609230", "22.04.202610210", "22.04.202611180")
_NOBLE = ("24.04.202609240", "24.04.202610220", "24.04.202611190")
_BOOKWORM = ("0.20260912.2232", "0.20261017.2267", "0.20261114.2299")
_BULLSEYE = ("0.20260912.2232", "0.20261114.2299")
_WS2022 = ("20348.3807.260910", "20348.3932.261008", "20348.4052.261112")

TL = "TrustedLaunchSupported"
TL_CVM = "TrustedLaunchAndConfidentialVmSupported"

IMAGES: tuple[PlatformImage, ...] = (
    PlatformImage("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "Linux", "V1", "x64", "Standard", _JAMMY, 30),
    PlatformImage("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "Linux", "V2", "x64", TL, _JAMMY, 30),
    PlatformImage("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-arm64", "Linux", "V2", "Arm64", "Standard",
                  _JAMMY, 30),
    PlatformImage("Canonical", "0001-com-ubuntu-confidential-vm-jammy", "22_04-lts-cvm", "Linux", "V2", "x64", TL_CVM,
                  _JAMMY, 30),
    PlatformImage("Canonical", "ubuntu-24_04-lts", "server", "Linux", "V2", "x64", TL_CVM, _NOBLE, 30),
    PlatformImage("Canonical", "ubuntu-24_04-lts", "server-gen1", "Linux", "V1", "x64", "Standard", _NOBLE, 30),
    PlatformImage("Canonical", "ubuntu-24_04-lts", "server-arm64", "Linux", "V2", "Arm64", "Standard", _NOBLE, 30),
    PlatformImage("Debian", "debian-12", "12", "Linux", "V1", "x64", "Standard", _BOOKWORM, 30),
    PlatformImage("Debian", "debian-12", "12-gen2", "Linux", "V2", "x64", TL, _BOOKWORM, 30),
    PlatformImage("Debian", "debian-12", "12-arm64", "Linux", "V2", "Arm64", "Standard", _BOOKWORM, 30),
    PlatformImage("Debian", "debian-11", "11-backports-gen2", "Linux", "V2", "x64", TL, _BULLSEYE, 30),
    PlatformImage("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter", "Windows", "V1", "x64", "Standard",
                  _WS2022, 127),
    PlatformImage("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2", "Windows", "V2", "x64", TL, _WS2022,
                  127),
    PlatformImage("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "Windows", "V2", "x64",
                  TL, _WS2022, 127),
)


def _key(*parts: str) -> tuple[str, ...]:
    return tuple(p.lower() for p in parts)


_BY_URN = {_key(i.publisher, i.offer, i.sku): i for i in IMAGES}


def find(publisher: str, offer: str, sku: str) -> PlatformImage | None:
    """The image of that publisher, offer and SKU (Azure compares them without regard to case)."""
    return _BY_URN.get(_key(publisher or "", offer or "", sku or ""))


def trusted_launch_sibling(publisher: str, offer: str, sku: str) -> PlatformImage | None:
    """The Gen2, Trusted Launch capable SKU of the same publisher and offer (and CPU architecture) as a platform
    image, for a scale set to take Trusted Launch in place: "Update the OS Image reference to Gen2-Trusted launch
    supported OS image ... OS Image SKU ... should be from same OS Image Publisher and Offer" (acd
    trusted-launch-existing-vmss.md, CLI and PowerShell step 2). The image itself when it is one already; of
    several, the table's first (INFERRED: the docs name no preference)."""
    me = find(publisher, offer, sku)
    if me is None:
        return None
    for img in IMAGES:
        if (_key(img.publisher, img.offer) == _key(me.publisher, me.offer) and img.architecture == me.architecture
                and img.generation == "V2" and img.security_type in (TL, TL_CVM)):
            return img
    return None


def publishers() -> list[str]:
    return sorted({i.publisher for i in IMAGES}, key=str.lower)


def offers(publisher: str) -> list[str]:
    return sorted({i.offer for i in IMAGES if i.publisher.lower() == publisher.lower()}, key=str.lower)


def skus(publisher: str, offer: str) -> list[PlatformImage]:
    return [i for i in IMAGES if _key(i.publisher, i.offer) == _key(publisher, offer)]


def latest(image: PlatformImage) -> str:
    return image.versions[-1]


def has_version(image: PlatformImage, version: str) -> bool:
    return version.lower() == "latest" or version in image.versions
