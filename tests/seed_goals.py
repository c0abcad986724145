"""Goal files the tests hand to `refit plan`, as users write them."""

from __future__ import annotations

from pathlib import Path


def seed_000_app_tl(session, path: Path) -> Path:
    """Seed 000's goal (the `deadlock` scenario): vmss-app to Trusted Launch on the `app-tl` definition."""
    base = f"/subscriptions/{session.subscription}/resourceGroups/rg-app/providers/Microsoft.Compute"
    path.write_text(f"goals:\n  - resource: {base}/virtualMachineScaleSets/vmss-app\n    properties:\n"
                    "      properties.virtualMachineProfile.securityProfile.securityType: TrustedLaunch\n"
                    "      properties.virtualMachineProfile.storageProfile.imageReference.id: "
                    f"{base}/galleries/galProd/images/app-tl\n")
    return path
