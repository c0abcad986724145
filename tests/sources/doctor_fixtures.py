"""The `misconfig` scenario written two more ways: as an ARM template (exported the way `az group export`
writes one: child names `a/b/c`, locations and same-group ids as expressions, a parameters file) and as a
Terraform plan JSON (`terraform show -json` shape, azurerm/azapi attributes written by hand)."""

from __future__ import annotations

import copy
import json
from typing import Any

from refit.arm.ids import ResourceId
from refit.emulator import scenario

RG = "rg-misconfig"


def scenario_docs(sub: str) -> list[dict[str, Any]]:
    sc = scenario.load("misconfig")
    env = {**sc.parameters, "sub": sub, "subscription": sub}
    return [scenario.render(e, env) for e in sc.resources]


def _expr_ids(value: Any, sub: str) -> Any:
    """Same-group resource ids -> [resourceId(...)]; 'eastus' -> [parameters('location')]."""
    prefix = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/".lower()
    if isinstance(value, str):
        if value.lower().startswith(prefix):
            rid = ResourceId.parse(value)
            names = ", ".join(f"'{n}'" for _, n in rid.types)
            return f"[resourceId('{rid.type}', {names})]"
        return value
    if isinstance(value, list):
        return [_expr_ids(v, sub) for v in value]
    if isinstance(value, dict):
        return {k: _expr_ids(v, sub) for k, v in value.items()}
    return value


def arm_template(sub: str) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = []
    for d in scenario_docs(sub):
        rid = ResourceId.parse(d["id"])
        if rid.namespace is None:
            continue  # the resource group: the template deploys into it
        body = copy.deepcopy({k: v for k, v in d.items() if k not in ("id", "refit", "existing")})
        body = _expr_ids(body, sub)
        if body.get("location") == "eastus":
            body["location"] = "[parameters('location')]"
        resources.append({"type": rid.type, "apiVersion": "2024-07-01",
                          "name": "/".join(n for _, n in rid.types), **body})
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "parameters": {"location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
                "resources": resources}
    params = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
              "contentVersion": "1.0.0.0", "parameters": {"location": {"value": "eastus"}}}
    return template, params


# ---- Terraform --------------------------------------------------------------------------------------------
class Plan:
    def __init__(self, sub: str):
        self.sub = sub
        self.changes: list[dict[str, Any]] = []
        self.config: list[dict[str, Any]] = []

    def add(self, rtype: str, name: str, values: dict[str, Any], unknown: dict[str, Any] | None = None,
            refs: dict[str, list[str]] | None = None, index: Any = None, provider: str = "hashicorp/azurerm") -> None:
        address = f"{rtype}.{name}" + ("" if index is None else f"[{json.dumps(index)}]")
        rc = {"address": address, "mode": "managed", "type": rtype, "name": name,
              "provider_name": f"registry.terraform.io/{provider}",
              "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": unknown or {"id": True}}}
        if index is not None:
            rc["index"] = index
        self.changes.append(rc)
        if index is None or not any(c["address"] == f"{rtype}.{name}" for c in self.config):
            self.config.append({"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
                                "expressions": {k: {"references": v} for k, v in (refs or {}).items()}})

    def json(self) -> dict[str, Any]:
        return {"format_version": "1.2", "terraform_version": "1.9.5",
                "resource_changes": self.changes,
                "configuration": {"provider_config": {"azurerm": {"name": "azurerm", "expressions": {
                    "subscription_id": {"constant_value": self.sub}}}},
                    "root_module": {"resources": self.config}}}


def tf_plan(sub: str) -> dict[str, Any]:
    p = Plan(sub)
    C = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute"
    N = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Network"
    base = {"resource_group_name": RG, "location": "eastus"}
    p.add("azurerm_resource_group", "rg", {"name": RG, "location": "eastus"})
    p.add("azurerm_shared_image_gallery", "mis", {**base, "name": "galMis"})
    p.add("azurerm_image", "legacy", {**base, "name": "img-legacy", "hyper_v_generation": "V2",
                                      "os_disk": [{"os_type": "Linux", "os_state": "Generalized", "size_gb": 30}]})
    for d, flags in (("app", {"trusted_launch_supported": True}), ("app-std", {}),
                     ("app-excluded", {"trusted_launch_supported": True}), ("app-eol", {"trusted_launch_supported": True})):
        p.add("azurerm_shared_image", d.replace("-", "_"), {
            **base, "name": d, "gallery_name": "galMis", "os_type": "Linux", "hyper_v_generation": "V2",
            "identifier": [{"publisher": "contoso", "offer": "mis", "sku": d}], **flags})

    def version(tfname, defn, ver, regions, replicas=3, storage="Standard_ZRS", exclude=False, eol=None):
        p.add("azurerm_shared_image_version", tfname, {
            **base, "name": ver, "gallery_name": "galMis", "image_name": defn, "managed_image_id": f"{C}/images/img-legacy",
            "exclude_from_latest": exclude, "end_of_life_date": eol,
            "target_region": [{"name": r, "regional_replica_count": replicas, "storage_account_type": storage}
                              for r in regions]})

    version("app_1", "app", "1.0.0", ["eastus", "westus2"])
    version("app_2", "app", "2.0.0", ["eastus"])
    version("std_1", "app-std", "1.0.0", ["eastus"], replicas=1, storage="Standard_LRS")
    version("excluded_1", "app-excluded", "1.0.0", ["eastus"], exclude=True)
    version("eol_1", "app-eol", "1.0.0", ["eastus"], eol="2024-01-31T00:00:00Z")

    def health(version="2.0", **settings):
        s = {"protocol": "http", "port": 8080, "requestPath": "/healthz", "gracePeriod": 900, **settings}
        return {"name": "health", "publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux",
                "type_handler_version": version, "settings": json.dumps({k: v for k, v in s.items() if v is not None})}

    good_rolling = [{"max_batch_instance_percent": 20, "max_unhealthy_instance_percent": 20,
                     "max_unhealthy_upgraded_instance_percent": 20, "pause_time_between_batches": "PT2M",
                     "prioritize_unhealthy_instances_enabled": True}]

    def flex(name, *, location="eastus", zones=("1", "2", "3"), fd=1, instances=3, image=True, tl=True,
             unknown_image=False, **extra):
        vals = {"resource_group_name": RG, "location": location, "name": name, "sku_name": "Standard_D2s_v5",
                "instances": instances, "platform_fault_domain_count": fd, "zones": list(zones),
                "secure_boot_enabled": tl, "vtpm_enabled": tl, **extra}
        unknown = {"id": True}
        refs = {}
        if image is True:
            if unknown_image:  # the definition's id is known only after apply: resolved through the reference
                unknown["source_image_id"] = True
                refs["source_image_id"] = ["azurerm_shared_image.app.id", "azurerm_shared_image.app"]
            else:
                vals["source_image_id"] = f"{C}/galleries/galMis/images/app"
        elif isinstance(image, dict):
            vals["source_image_reference"] = [image]
        p.add("azurerm_orchestrated_virtual_machine_scale_set", name.replace("-", "_"), vals, unknown, refs)

    g2 = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"}
    g1 = {**g2, "sku": "22_04-lts"}
    auto_os = [{"automatic_os_upgrade_enabled": True, "disable_automatic_rollback": False}]
    repair = [{"enabled": True, "grace_period": "PT30M"}]
    flex("vmss-good", upgrade_mode="Rolling", rolling_upgrade_policy=good_rolling, automatic_os_upgrade_policy=auto_os,
         extension=[health()], automatic_instance_repair=repair, unknown_image=True)
    flex("vmss-autoos", upgrade_mode="Rolling", rolling_upgrade_policy=good_rolling,
         automatic_os_upgrade_policy=auto_os, extension=[health("2.0")], automatic_instance_repair=repair)
    for target in ("vmss-good", "vmss-autoos"):  # what azurerm does not expose, set with azapi (RF-VMSS-008's fix)
        p.add("azapi_update_resource", f"rollback_{target.replace('-', '_')}", {
            "type": "Microsoft.Compute/virtualMachineScaleSets@2024-07-01",
            "resource_id": f"{C}/virtualMachineScaleSets/{target}",
            "body": {"properties": {"upgradePolicy": {"rollingUpgradePolicy": {
                "rollbackFailedInstancesOnPolicyBreach": True}}}}}, provider="azure/azapi")
    flex("vmss-grace", extension=[health(gracePeriod=300)])
    flex("vmss-loose", instances=10, upgrade_mode="Rolling", extension=[health()], rolling_upgrade_policy=[
        {"max_batch_instance_percent": 50, "max_unhealthy_instance_percent": 20,
         "max_unhealthy_upgraded_instance_percent": 50, "pause_time_between_batches": "PT0S"}])
    flex("vmss-fd", location="westus", zones=(), fd=2, image=g2)
    flex("vmss-onezone", zones=("1",))
    flex("vmss-spot", priority="Spot", eviction_policy="Deallocate")
    flex("vmss-spotmix", priority="Spot", eviction_policy="Delete",
         priority_mix=[{"base_regular_count": 2, "regular_percentage_above_base": 50}])
    flex("vmss-standard", image=g1, tl=False)
    flex("vmss-probe", extension=[health(requestPath=None)])
    flex("vmss-westus2", location="westus2")
    for name, extra in (("vmss-twohealth", {"extension": [health()], "health_probe_id": f"{N}/loadBalancers/lb-mis/probes/http",
                                            "source_image_id": f"{C}/galleries/galMis/images/app",
                                            "secure_boot_enabled": True, "vtpm_enabled": True}),
                        ("vmss-legacy", {"source_image_id": f"{C}/images/img-legacy"})):
        p.add("azurerm_linux_virtual_machine_scale_set", name.replace("-", "_"), {
            "resource_group_name": RG, "location": "eastus", "name": name, "sku": "Standard_D2s_v5", "instances": 3,
            "zones": ["1", "2", "3"], "upgrade_mode": "Manual", **extra})

    p.add("azurerm_capacity_reservation_group", "ok", {**base, "name": "crg-ok", "zones": ["1", "2", "3"]})
    p.add("azurerm_capacity_reservation_group", "over", {**base, "name": "crg-over", "zones": ["1", "2", "3"]})
    for tfname, group, name, size, zone in (("ok_d2", "crg-ok", "cr-d2-z1", "Standard_D2s_v5", "1"),
                                            ("unused", "crg-ok", "cr-unused", "Standard_D4s_v5", "2"),
                                            ("over_d2", "crg-over", "cr-d2-z1", "Standard_D2s_v5", "1")):
        p.add("azurerm_capacity_reservation", tfname, {
            "name": name, "capacity_reservation_group_id": f"{C}/capacityReservationGroups/{group}", "zone": zone,
            "sku": [{"name": size, "capacity": 1}]})

    def vm(name, *, location="eastus", image=None, tl=True, disk="Premium_LRS", tags=None, crg=None, member=None,
           size="Standard_D2s_v5", zone="1", encryption=None):
        vals = {"resource_group_name": RG, "location": location, "name": name, "size": size, "zone": zone,
                "secure_boot_enabled": tl, "vtpm_enabled": tl, "tags": tags or {},
                "os_disk": [{"name": f"{name}-os", "caching": "ReadWrite", "storage_account_type": disk}]}
        if encryption:  # a confidential VM: azurerm has no security_type, the OS disk's encryption type says it
            vals["os_disk"][0]["security_encryption_type"] = encryption
        if isinstance(image, dict):
            vals["source_image_reference"] = [image]
        else:
            vals["source_image_id"] = image or f"{C}/galleries/galMis/images/app/versions/2.0.0"
        if crg:
            vals["capacity_reservation_group_id"] = f"{C}/capacityReservationGroups/{crg}"
        if member:
            vals["virtual_machine_scale_set_id"] = f"{C}/virtualMachineScaleSets/{member}"
        p.add("azurerm_linux_virtual_machine", name.replace("-", "_"), vals)

    vm("vm-good", tags={"tier": "critical"}, crg="crg-ok")
    vm("vm-std", image=g1, tl=False, disk="StandardSSD_LRS", tags={"tier": "critical"})
    # RF-VM-003: confidential VMs, one on a Standard SSD OS disk.
    cvm_image = {"publisher": "Canonical", "offer": "0001-com-ubuntu-confidential-vm-jammy", "sku": "22_04-lts-cvm",
                 "version": "latest"}
    vm("vm-cvm-std", image=cvm_image, disk="StandardSSD_LRS", size="Standard_DC2as_v5", encryption="VMGuestStateOnly")
    vm("vm-cvm-good", image=cvm_image, size="Standard_DC2as_v5", encryption="DiskWithVMGuestState")
    vm("vm-eol", image=f"{C}/galleries/galMis/images/app-eol/versions/1.0.0")
    vm("vm-pinned-w2", location="westus2", image=f"{C}/galleries/galMis/images/app/versions/1.0.0")
    vm("vm-over-1", crg="crg-over")
    vm("vm-over-2", crg="crg-over")
    vm("vm-autoos-1", member="vmss-autoos")
    # Resiliency (RF-RES-*): app-dr/1.0.0 replicated to westus (eastus's pair) for critical vm-dr, whose reserved
    # Standard_D4s_v5 stands by in westus too; the role=web tier in one zone, role=api in two.
    p.add("azurerm_shared_image", "app_dr", {
        **base, "name": "app-dr", "gallery_name": "galMis", "os_type": "Linux", "hyper_v_generation": "V2",
        "identifier": [{"publisher": "contoso", "offer": "mis", "sku": "app-dr"}], "trusted_launch_supported": True})
    p.add("azurerm_shared_image_version", "app_dr_1", {
        **base, "name": "1.0.0", "gallery_name": "galMis", "image_name": "app-dr",
        "managed_image_id": f"{C}/images/img-legacy", "exclude_from_latest": False, "end_of_life_date": None,
        "target_region": [{"name": "eastus", "regional_replica_count": 3, "storage_account_type": "Standard_ZRS"},
                          {"name": "westus", "regional_replica_count": 3, "storage_account_type": "Standard_LRS"}]})
    p.add("azurerm_capacity_reservation_group", "dr", {**base, "name": "crg-dr", "zones": ["1", "2", "3"]})
    p.add("azurerm_capacity_reservation_group", "dr_westus", {**base, "location": "westus", "name": "crg-dr-westus"})
    for tfname, group, name, zone in (("dr_d4", "crg-dr", "cr-d4-z1", "1"), ("dr_westus_d4", "crg-dr-westus", "cr-d4", None)):
        p.add("azurerm_capacity_reservation", tfname, {
            "name": name, "capacity_reservation_group_id": f"{C}/capacityReservationGroups/{group}", "zone": zone,
            "sku": [{"name": "Standard_D4s_v5", "capacity": 1}]})
    vm("vm-dr", image=f"{C}/galleries/galMis/images/app-dr/versions/1.0.0", tags={"tier": "critical"}, crg="crg-dr",
       size="Standard_D4s_v5")
    for name, zone, role in (("vm-web-1", "1", "web"), ("vm-web-2", "1", "web"), ("vm-api-1", "1", "api"),
                             ("vm-api-2", "2", "api")):
        vm(name, image=g2, tags={"role": role}, zone=zone)
    p.add("azurerm_virtual_machine_extension", "autoos_health", {
        "name": "health", "virtual_machine_id": f"{C}/virtualMachines/vm-autoos-1",
        "publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "type_handler_version": "1.0",
        "settings": json.dumps({"protocol": "http", "port": 8080, "requestPath": "/healthz"})})

    def autoscale(name, target, out_t, in_t, out_cd="PT15M"):
        def rule(direction, op, t, cd):
            return {"metric_trigger": [{"metric_name": "Percentage CPU", "operator": op, "threshold": t,
                                        "metric_resource_id": f"{C}/virtualMachineScaleSets/{target}",
                                        "time_grain": "PT1M", "statistic": "Average", "time_window": "PT5M",
                                        "time_aggregation": "Average"}],
                    "scale_action": [{"direction": direction, "type": "ChangeCount", "value": 1, "cooldown": cd}]}
        p.add("azurerm_monitor_autoscale_setting", name.replace("-", "_"), {
            **base, "name": name, "enabled": True, "target_resource_id": f"{C}/virtualMachineScaleSets/{target}",
            "profile": [{"name": "default", "capacity": [{"default": 3, "minimum": 3, "maximum": 30}],
                         "rule": [rule("Increase", "GreaterThan", out_t, out_cd), rule("Decrease", "LessThan", in_t, "PT15M")]}]})

    autoscale("as-good", "vmss-good", 70, 30)
    autoscale("as-overlap", "vmss-loose", 50, 60)
    autoscale("as-cooldown", "vmss-grace", 70, 30, out_cd="PT5M")
    for name, inline, timeout in (("aib-good", ["set -euo pipefail", "sudo apt-get update"], 60),
                                  ("aib-bad", ["sudo apt-get update"], 10)):
        p.add("azapi_resource", name.replace("-", "_"), {
            "type": "Microsoft.VirtualMachineImages/imageTemplates@2024-02-01", "name": name, "location": "eastus",
            "parent_id": f"/subscriptions/{sub}/resourceGroups/{RG}",
            "body": {"properties": {"buildTimeoutInMinutes": timeout,
                                    "customize": [{"type": "Shell", "name": "harden-and-install", "inline": inline}]}}},
            provider="azure/azapi")
    # RF-NET-001: the NSG flow logs as v3 configurations name their target (network_security_group_id), the VNet
    # flow log as v4 does (target_resource_id).
    watcher = {**base, "network_watcher_name": "NetworkWatcher_eastus",
               "storage_account_id": f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Storage/"
                                     "storageAccounts/flowlogsmis", "version": 2}
    for tfname, name, target, enabled in (
            ("nsg_web", "fl-nsg-web", {"network_security_group_id": f"{N}/networkSecurityGroups/nsg-web-mis"}, True),
            ("nsg_old", "fl-nsg-old", {"network_security_group_id": f"{N}/networkSecurityGroups/nsg-old-mis"}, False),
            ("vnet_app", "fl-vnet-app", {"target_resource_id": f"{N}/virtualNetworks/vnet-app-mis"}, True)):
        p.add("azurerm_network_watcher_flow_log", tfname, {
            **watcher, "name": name, **target, "enabled": enabled,
            "retention_policy": [{"enabled": True, "days": 30}], "traffic_analytics": []})
    # Terraform only (RF-TF-001): data disks keyed by count vs by a stable key.
    for i in range(2):
        p.add("azurerm_managed_disk", "data", {**base, "name": f"data-{i}", "storage_account_type": "Premium_LRS",
                                               "create_option": "Empty", "disk_size_gb": 64, "zone": "1"}, index=i)
    for key in ("vm-good-0", "vm-good-1"):
        p.add("azurerm_managed_disk", "logs", {**base, "name": f"logs-{key}", "storage_account_type": "Premium_LRS",
                                               "create_option": "Empty", "disk_size_gb": 64, "zone": "1"}, index=key)
    return p.json()
