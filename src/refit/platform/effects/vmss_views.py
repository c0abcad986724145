"""What a scale set shows of its instances and upgrades: its instance view, `rollingUpgrades/latest` and its OS upgrade
history.

Shapes per the REST spec examples (specs ComputeRP stable 2024-07-01 virtualMachineScaleSetExamples):
VirtualMachineScaleSet_GetInstanceView_MaximumSet_Gen.json (`statuses`, `virtualMachine.statusesSummary[{code,
count}]`, `extensions[{name, statusesSummary}]`, `orchestrationServices[{serviceName, serviceState}]`),
VirtualMachineScaleSetRollingUpgrade_GetLatest_MaximumSet_Gen.json and VirtualMachineScaleSet_GetOSUpgradeHistory_
MaximumSet_Gen.json (rolling.py renders those). A set that never upgraded has no latest upgrade: 404 NotFound (rule
M20; the spec lists only 200 and the default error).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from refit.platform.cloud import Cloud
from refit.platform.effects import health, register, rolling, vmss_instances
from refit.platform.effects.base import ResourceType
from refit.platform.rules import RULES

Doc = dict[str, Any]
HISTORY = 5  # "the last five OS upgrade attempts within the past two months" (automatic-upgrade page)


def instance_view(cloud: Cloud, vmss: Doc) -> Doc:
    from refit.platform.effects import repairs
    from refit.platform.effects.vm import power_state

    t = cloud.now_iso()
    insts = vmss_instances.members(cloud, vmss)
    prov: Counter[str] = Counter()
    for d in insts:
        prov[f"ProvisioningState/{str(d['properties'].get('provisioningState') or 'Succeeded').lower()}"] += 1
        prov[f"PowerState/{power_state(cloud, d['id'])}"] += 1
    state = str(vmss["properties"].get("provisioningState") or "Succeeded")
    view: Doc = {"virtualMachine": {"statusesSummary": [{"code": c, "count": n} for c, n in sorted(prov.items())]},
                 "statuses": [{"code": f"ProvisioningState/{state.lower()}", "level": "Info",
                               "displayStatus": f"Provisioning {state.lower()}", "time": t}]}
    exts: dict[str, Counter[str]] = {}
    for d in insts:
        for e in vmss_instances.extensions_of(cloud, d):
            exts.setdefault(e["name"], Counter())["ProvisioningState/succeeded"] += 1
    if exts:
        view["extensions"] = [{"name": n, "statusesSummary": [{"code": c, "count": k} for c, k in sorted(cnt.items())]}
                              for n, cnt in exts.items()]
    services = repairs.services(cloud, vmss)
    if services:
        view["orchestrationServices"] = services
    return view


def health_summary(cloud: Cloud, vmss: Doc) -> dict[str, int]:
    """How many instances report each health state (None: no Application Health extension)."""
    return dict(Counter(str(health.state(cloud, d)) for d in vmss_instances.members(cloud, vmss)))


def os_upgrade_history(cloud: Cloud, vmss: Doc) -> list[Doc]:
    ups = [u for u in rolling.upgrades(cloud, vmss) if u["kind"] == "os"]
    return [rolling.history_entry(vmss, u) for u in reversed(ups[-HISTORY:])]


class RollingUpgradesType(ResourceType):
    """`{set}/rollingUpgrades/latest`: read-only, computed from the set's upgrades."""

    type = "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"
    needs_location = False
    listed = False

    def view(self, cloud, rid):
        vmss = cloud.get(rid.parent)
        if vmss is None or rid.name.lower() != "latest":
            return None
        u = rolling.latest(cloud, vmss)
        return None if u is None else rolling.status_body(vmss, u)

    def views(self, cloud, parent):
        return []

    def missing(self, rid):
        return RULES["M20"].refuse(name=rid.parent.name if rid.parent else "")

    def own_write(self, cloud, rid, call):
        raise RULES["M23"].refuse(method=call.method)

    own_delete = own_write


register(RollingUpgradesType())
