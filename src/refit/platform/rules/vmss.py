"""Virtual machine scale sets (reference sections 1e and 4).

The Trusted Launch upgrade of a scale set (1e): image and securityType change together (V1, enforced by
S2/S3), a scale set with data disks upgrades only with Rolling + maxSurge (V3), and a new image must keep
the OS type, generation, data disk layout (V6) and OS state (V7). Create-time properties (4a, M1-M12),
upgrade and repair policy ranges (4b, R-*), and the health source rules of Rolling upgrades, automatic OS
upgrades and automatic repairs (4c, H1-H10). Continuing the M family after the reference's rows: what a
scale set request must name (M15) and the values its upgrade mode and security type take (M16).
"""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.world import World
from refit.platform.rules import facts, images
from refit.platform.rules.common import (
    FAMILY,
    INVALID_ENUM,
    REF,
    REQUIRED,
    VMSS,
    VMSS_EXTENSION,
    VMSS_PROFILE,
    changed,
    get,
    image_data_luns,
    image_reference,
    lower,
    name_of,
    not_one_of,
    parent_of,
    present,
    resolve,
    security_type,
    type_of_id,
    zones,
)
from refit.platform.rules.registry import OPERATION, ErrorTemplate, refusal, rule
from refit.platform.rules.security import S2_IMAGE

Doc = dict[str, Any] | None

V3_DATA_DISKS = ErrorTemplate(400, "BadRequest",
                              "Trusted Launch upgrade of Virtual Machine Scale Set '{name}' with data disks requires "
                              "upgradePolicy.mode 'Rolling' with rollingUpgradePolicy.maxSurge set to true.")
V6_IMAGE = ErrorTemplate(400, "BadRequest",
                         "Cannot update Virtual Machine Scale Set {name} as the {what} of the current image ({current}) is "
                         "different from the {what} of the updated image ({updated}).")
V7_OS_STATE = ErrorTemplate(400, "BadRequest",
                            "Cannot update Virtual Machine Scale Set {name} as the current OS state of the VM Scale Set "
                            "is {current} which is different from the updated gallery image OS state which is {updated}")
IMMUTABLE = ErrorTemplate(409, "PropertyChangeNotAllowed", "Changing property '{prop}' is not allowed.", "{prop}")
M6_FD = ErrorTemplate(400, "InvalidParameter", "The value of parameter platformFaultDomainCount is invalid.",
                      "platformFaultDomainCount")
M8_FLEX_SPG = ErrorTemplate(400, "BadRequest",
                            "Virtual Machine Scale Set {name} with orchestrationMode as 'VirtualMachines' and "
                            "singlePlacementGroup set to true can not be created as the preview feature has been retired "
                            "starting with API version 2019-12-01.")
M9_BASIC_LB = ErrorTemplate(400, "VMScaleSetCannotReferenceLoadbalancerWhenLargeScaleOrCrossAZ",
                            "Virtual Machine Scale Set '{name}' cannot reference Basic SKU load balancer '{lb}' when it "
                            "uses multiple placement groups or spans availability zones.")
INVALID_VALUE = ErrorTemplate(400, "InvalidParameter", "The value of parameter {param} is invalid.", "{param}")
R_REPAIR = ErrorTemplate(409, "OperationNotAllowed",
                         "Changing property 'automaticRepairsPolicy.repairAction' is not allowed while automatic repairs "
                         "are enabled. Disable automatic repairs, then enable them with the new repair action.")
H1_ROLLING = ErrorTemplate(400, "BadRequest",
                           "Rolling Upgrade mode is not supported for this Virtual Machine Scale Set because a health "
                           "probe or health extension was not provided.")
H2_BOTH_OS = ErrorTemplate(400, "BadRequest",
                           "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because both a health "
                           "probe and a health extension were provided. Remove the health probe or health extension prior "
                           "to enabling automatic OS upgrade.")
H2_BOTH_REPAIRS = ErrorTemplate(400, "BadRequest",
                                "Automatic repairs are not supported for this Virtual Machine Scale Set because both a "
                                "health probe and a health extension were provided. Remove the health probe or health "
                                "extension prior to enabling automatic repairs.")
H3_OS_UPGRADE = ErrorTemplate(400, "BadRequest",
                              "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because a health "
                              "probe or health extension was not specified.")
H4_LATEST = ErrorTemplate(400, "BadRequest",
                          "virtualMachineScaleSets with Automatic OS Upgrade enabled must use Platform or Gallery Image "
                          "with version set to 'latest'.")
H6_WINDOWS = ErrorTemplate(400, "BadRequest",
                           "Automatic OS Upgrade is not supported for this Virtual Machine Scale Set because {setting}. "
                           "{fix} prior to enabling automatic OS upgrade.")
H7_FLEX_SURGE = ErrorTemplate(400, "BadRequest",
                              "Automatic OS Upgrade is not supported for a Virtual Machine Scale Set with orchestrationMode "
                              "Flexible and rollingUpgradePolicy.maxSurge enabled.")
H8_SERVICE_FABRIC = ErrorTemplate(409, "OperationNotAllowed",
                                  "Service Fabric VM Extension version should be 1.1 or above for Auto OS Upgrade support")
H10_REPAIRS = ErrorTemplate(400, "BadRequest",
                            "Automatic repairs not supported for this Virtual Machine Scale Set because a health probe or "
                            "health extension was not provided.")

AUTO_OS = "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade"
ROLLING = "properties.upgradePolicy.rollingUpgradePolicy"
REPAIRS = "properties.automaticRepairsPolicy"


def _flex(doc: dict[str, Any]) -> bool:
    return v.Vmss(doc).orchestration_mode == "Flexible"


def _auto_os_upgrade(doc: dict[str, Any]) -> bool:
    return get(doc, AUTO_OS) is True


def _repairs(doc: dict[str, Any]) -> bool:
    return get(doc, f"{REPAIRS}.enabled") is True


def _health(world: World, doc: dict[str, Any]) -> list[str]:
    """The scale set's health sources; Flexible scale sets can use only the Application Health extension
    for orchestration (M14, acd orchestration-modes)."""
    src = facts.health_sources(doc, world.children(doc["id"], VMSS_EXTENSION))
    return [s for s in src if s == "extension"] if _flex(doc) else src


def _extensions(world: World, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(get(doc, f"{VMSS_PROFILE}.extensionProfile.extensions") or []) + world.children(doc["id"], VMSS_EXTENSION)


# ---- Trusted Launch upgrade (1e) ------------------------------------------------------------------------
refusal("M15", VMSS, "A scale set names its SKU and (Uniform) its VM profile; manualUpgrade its instances",
        f"specs ComputeRP virtualMachineScaleSet.json (sku; VirtualMachineScaleSetVMInstanceRequiredIDs.instanceIds "
        f"required) and the Uniform orchestration mode's need of a virtualMachineProfile; the message is {FAMILY}",
        doc="""A new scale set gives `sku` (its VM size and capacity) and, in Uniform orchestration mode, a
        `virtualMachineProfile`; the manualUpgrade action (update instances) names `instanceIds`.""",
        errors=(REQUIRED,), operations=("create", "update", "action"), confidence="M")


M17_IDS = ErrorTemplate(400, "InvalidParameter",
                        "The provided instanceId {ids} is not an active Virtual Machine Scale Set VM instanceId.",
                        "instanceIds")
refusal("M17", VMSS, "An action on a scale set names instances it has",
        "INFERRED: the wording, as users report it for az vmss ... --instance-ids; instance ids: "
        "https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-instance-ids "
        "(Flexible: the VM's name)",
        doc="""`instanceIds` in a scale-set action (manualUpgrade, restart, deallocate, reimage, delete ...) name
        instances of the set: Uniform instance ids, or a Flexible set's VM names.""",
        errors=(M17_IDS,), operations=("action",), confidence="M")
M18_RUNNING = ErrorTemplate(409, "OperationNotAllowed",
                            "Rolling Upgrade is already in progress for Virtual Machine Scale Set '{name}'. Cancel it or "
                            "wait for it to finish before starting another one.")
refusal("M18", VMSS, "One rolling upgrade at a time per scale set",
        "INFERRED: the spec's RollingUpgradeStatusInfo is one 'latest' upgrade per set; no public wording",
        doc="""Starting an OS or extension rolling upgrade while one is running is refused.""",
        errors=(M18_RUNNING,), operations=("action",), confidence="L")
M19_NOTHING = ErrorTemplate(409, "OperationNotAllowed",
                            "There is no Rolling Upgrade in progress for Virtual Machine Scale Set '{name}' to cancel.")
refusal("M19", VMSS, "Cancel needs a rolling upgrade in progress",
        "INFERRED: acd virtual-machine-scale-sets-configure-rolling-upgrades documents only the successful cancel",
        doc="""`rollingUpgrades/cancel` when no upgrade is rolling forward is refused.""",
        errors=(M19_NOTHING,), operations=("action",), confidence="L")
M20_NONE = ErrorTemplate(404, "NotFound", "The entity was not found in this Azure location.")
refusal("M20", VMSS, "rollingUpgrades/latest exists once a set has upgraded",
        "INFERRED: Compute's not-found answer; the spec lists only 200 and the default error for GetLatest",
        doc="""A scale set that never ran a rolling upgrade has no latest one.""",
        errors=(M20_NONE,), operations=("read",), confidence="L")
M21_VALUE = ErrorTemplate(400, "InvalidParameter", "The value '{value}' of parameter '{param}' is invalid.", "{param}")
refusal("M21", VMSS, "setOrchestrationServiceState names AutomaticRepairs and Suspend or Resume",
        "specs ComputeRP OrchestrationServiceNames (AutomaticRepairs), OrchestrationServiceStateAction (Resume, "
        f"Suspend); the message is {FAMILY}",
        doc="""The body of setOrchestrationServiceState: `serviceName` AutomaticRepairs, `action` Suspend or
        Resume.""", errors=(M21_VALUE,), operations=("action",), confidence="H")
M22_OFF = ErrorTemplate(409, "OperationNotAllowed",
                        "Automatic repairs are not enabled for Virtual Machine Scale Set '{name}': enable "
                        "automaticRepairsPolicy before changing the state of its orchestration service.")
refusal("M22", VMSS, "The repair service's state changes only while automatic repairs are enabled",
        "INFERRED: acd virtual-machine-scale-sets-automatic-instance-repairs gives serviceState NotRunning when the "
        "policy is not enabled",
        doc="""Suspending or resuming automatic repairs on a set whose automaticRepairsPolicy is not enabled is
        refused.""", errors=(M22_OFF,), operations=("action",), confidence="L")

M23_READ_ONLY = ErrorTemplate(405, "MethodNotAllowed", "The requested method '{method}' is not allowed.")
refusal("M23", "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades", "A set's rolling upgrade is read, not written",
        "specs ComputeRP virtualMachineScaleSet.json: rollingUpgrades/latest has only GET; cancel and start are POST "
        "actions on the set. The wording is ARM's MethodNotAllowed (INFERRED)",
        doc="""`rollingUpgrades/latest` answers GET only; an upgrade is started with osRollingUpgrade or
        extensionRollingUpgrade and stopped with rollingUpgrades/cancel.""",
        errors=(M23_READ_ONLY,), operations=("create", "update", "delete"), confidence="M")

M24_UPGRADED = ErrorTemplate(409, "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade",
                             "Rolling Upgrade failed after exceeding the MaxUnhealthyUpgradedInstancePercent value "
                             "defined in the RollingUpgradePolicy. {percent}% of upgraded instances are in an unhealthy "
                             "state - more than the threshold of {limit}%. The failed instances were rolled back where "
                             "a rollback applies.")
M24_WHOLE = ErrorTemplate(409, "MaxUnhealthyInstancePercentExceededInRollingUpgrade",
                          "Rolling Upgrade failed after exceeding the MaxUnhealthyInstancePercent value defined in the "
                          "RollingUpgradePolicy. {percent}% of instances are in an unhealthy state - more than the "
                          "threshold of {limit}%. To apply upgrades, consider increasing the MaxUnhealthyInstancePercent "
                          "value.")
M24_BEFORE = ErrorTemplate(409, "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade",
                           "Rolling Upgrade failed before it started: {percent}% of instances are in an unhealthy "
                           "state - more than the threshold of {limit}% set by MaxUnhealthyInstancePercent.")
M24_CANCELLED = ErrorTemplate(409, "OperationPreempted",
                              "Operation execution has been preempted by a more recent operation.")
refusal("M24", VMSS, "A rolling upgrade stops when health falls below its policy",
        "https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-upgrade "
        "(the codes MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade, "
        "MaxUnhealthyInstancePercentExceededInRollingUpgrade, MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade); "
        "the whole-set message as opencb/opencga#987 shows it; the other two messages and a cancelled start's "
        "OperationPreempted are INFERRED",
        doc="""After each batch: more than maxUnhealthyUpgradedInstancePercent of the upgraded instances unhealthy
        cancels the upgrade; more than maxUnhealthyInstancePercent of the whole set unhealthy stops it; before the
        first batch, the same whole-set check. The error shows in `rollingUpgrades/latest` and ends the operation of
        the request that started the upgrade.""",
        errors=(M24_UPGRADED, M24_WHOLE, M24_BEFORE, M24_CANCELLED), operations=("action",), stage=OPERATION,
        asynchronous=True, confidence="M")

refusal("M25", VMSS, "A Flexible set's rolling upgrade needs the Application Health extension",
        "https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-configure-rolling-"
        "upgrades ('When using a rolling upgrade policy on Virtual Machine Scale Sets with Flexible Orchestration, the "
        "scale set must also use the application health extension'); the wording of rule H1, INFERRED for these "
        "actions",
        doc="""`osRollingUpgrade` and `extensionRollingUpgrade` on a Flexible scale set whose model has no Application
        Health extension are refused (a load balancer probe does not count on Flexible).""",
        errors=(H1_ROLLING,), operations=("action",), confidence="L")


@rule("M16", VMSS, "A scale set's upgrade mode and security type are Azure's values",
      f"{REF} 4b (UpgradeMode: Automatic, Manual, Rolling), 1a (SecurityTypes); the message is {FAMILY}",
      errors=(INVALID_ENUM,), confidence="H")
def m16_values(world: World, old: Doc, new: Doc) -> list:
    """`upgradePolicy.mode` is Automatic, Manual or Rolling; `virtualMachineProfile.securityProfile.securityType`
    TrustedLaunch, ConfidentialVM or Standard."""
    return (not_one_of(new, "properties.upgradePolicy.mode", facts.UPGRADE_MODES)
            or not_one_of(new, "properties.virtualMachineProfile.securityProfile.securityType", facts.VM_SECURITY_TYPES))


@rule("V1", VMSS, "A scale set becomes Trusted Launch together with a TrustedLaunchSupported image",
      f"{REF} V1, section 10 row 1; acd trusted-launch-existing-vmss.md ('the definition must have "
      "SecurityType=TrustedLaunchSupported'); seed 000. The answer is S2's message (INFERRED for this case)",
      errors=(S2_IMAGE,), operations=("update",), confidence="H")
def v1_upgrade_image(world: World, old: Doc, new: Doc) -> list:
    """Standard -> TrustedLaunch on an existing scale set takes, in the same update, a Trusted Launch capable
    image WITHOUT VM guest state: a TrustedLaunchSupported (or TrustedLaunchAndConfidentialVmSupported)
    gallery definition, or a Trusted Launch capable marketplace image. A `TrustedLaunch` definition (captured
    from a TL VM, carrying guest state) is usable once the scale set IS Trusted Launch, in a later update.
    This is why seed 000 needs the bridge: TrustedLaunchSupported first, the TrustedLaunch image after."""
    if old is None or new is None or security_type(old) == "TrustedLaunch" or security_type(new) != "TrustedLaunch":
        return []
    f, _ = resolve(world, image_reference(new), new.get("location", ""))
    if f is None or f.security_type not in facts.GUEST_STATE_DEFINITIONS:
        return []  # other images are S2's (not TL capable) or fine
    return [S2_IMAGE()]


@rule("V3", VMSS, "A scale set with data disks upgrades to Trusted Launch only with Rolling + maxSurge",
      f"{REF} V3; acd trusted-launch-existing-vmss.md. Error text INFERRED (not captured)", errors=(V3_DATA_DISKS,),
      operations=("update",), confidence="H")
def v3_data_disks_need_rolling_surge(world: World, old: Doc, new: Doc) -> list:
    """Standard -> TrustedLaunch on a scale set whose model has data disks needs upgradePolicy.mode Rolling
    with rollingUpgradePolicy.maxSurge true (which in turn needs a health source, H1); the same update may
    set them."""
    if old is None or new is None or security_type(old) == "TrustedLaunch" or security_type(new) != "TrustedLaunch":
        return []
    if not get(new, f"{VMSS_PROFILE}.storageProfile.dataDisks"):
        return []
    if all(get(new, path) == value for path, value in facts.DATA_DISK_UPGRADE_POLICY.items()):
        return []
    return [V3_DATA_DISKS(name=new.get("name", ""))]


def _image_change(world: World, old: Doc, new: Doc):
    """(old facts, new facts) when an update changes a scale set's image and both resolve."""
    path = f"{VMSS_PROFILE}.storageProfile.imageReference"
    if old is None or new is None or not changed(old, new, path):
        return None, None
    a, _ = resolve(world, image_reference(old), old.get("location", ""))
    b, _ = resolve(world, image_reference(new), new.get("location", ""))
    return (a, b) if a is not None and b is not None else (None, None)


@rule("V6", VMSS, "A scale set's new image must keep its OS type, Hyper-V generation and data disk layout",
      f"{REF} V6; acd shared-image-galleries.md (FAQ); the Gen2 sibling of a Trusted Launch upgrade: acd "
      "trusted-launch-existing-vmss.md. Error text INFERRED (modelled on V7)", errors=(V6_IMAGE,),
      operations=("update",), confidence="H")
def v6_image_compatible(world: World, old: Doc, new: Doc) -> list:
    """Changing a scale set's image (e.g. a managed image -> a gallery image) is allowed only when OS type,
    Hyper-V generation and the data disk LUNs the image brings are the same. An image that no longer
    resolves (deleted, G19) is not compared. The one generation change allowed is the Trusted Launch upgrade's:
    a Gen1 platform SKU to the Gen2 SKU of the same publisher and offer, in the update that sets TrustedLaunch."""
    a, b = _image_change(world, old, new)
    if a is None or b is None or new is None:
        return []
    name = new.get("name", "")
    if lower(a.os_type) != lower(b.os_type):
        return [V6_IMAGE(name=name, what="OS type", current=a.os_type, updated=b.os_type)]
    if a.hyper_v_generation != b.hyper_v_generation and not _trusted_launch_sibling(old, new, a, b):
        return [V6_IMAGE(name=name, what="Hyper-V generation", current=a.hyper_v_generation,
                         updated=b.hyper_v_generation)]
    la, lb = image_data_luns(world, a), image_data_luns(world, b)
    if la != lb:
        return [V6_IMAGE(name=name, what="data disk layout", current=f"LUNs {la}", updated=f"LUNs {lb}")]
    return []


def _trusted_launch_sibling(old: Doc, new: dict[str, Any], a, b) -> bool:
    """The Trusted Launch upgrade of a scale set moves it to the "Gen2-Trusted launch supported OS image" of the
    same publisher and offer, in the update that sets securityType TrustedLaunch (acd trusted-launch-existing-vmss.md,
    CLI step 2: `az vmss update --set virtualMachineProfile.storageProfile.imageReference.sku=... --security-type
    TrustedLaunch`; "OS Image SKU ... should be from same OS Image Publisher and Offer"). That Azure accepts the
    generation change of a Gen1 platform SKU in that update is INFERRED from this documented path: the instances get
    new OS disks from the new image."""
    if old is None or security_type(old) == "TrustedLaunch" or security_type(new) != "TrustedLaunch":
        return False
    if a.kind != "platform" or b.kind != "platform" or b.hyper_v_generation != "V2":
        return False
    ra, rb = image_reference(old) or {}, image_reference(new) or {}
    return all(lower(ra.get(k)) == lower(rb.get(k)) and ra.get(k) for k in ("publisher", "offer"))


@rule("V7", VMSS, "A scale set's new image must keep its OS state (Generalized / Specialized)",
      f"{REF} V7; acd troubleshooting-shared-images.md. Code BadRequest / HTTP 400 INFERRED", errors=(V7_OS_STATE,),
      operations=("update",), confidence="H")
def v7_os_state(world: World, old: Doc, new: Doc) -> list:
    """A Generalized scale set cannot switch to a Specialized gallery image, and vice versa."""
    a, b = _image_change(world, old, new)
    if a is None or b is None or new is None or lower(a.os_state) == lower(b.os_state):
        return []
    return [V7_OS_STATE(name=new.get("name", ""), current=a.os_state, updated=b.os_state)]


# ---- create-time properties (4a) --------------------------------------------------------------------------
def _immutable(old: Doc, new: Doc, path: str, prop: str, default: Any = None) -> list:
    """A property set at creation: an update that states a different value is refused (one that leaves it
    out keeps it)."""
    if old is None or new is None or not present(new, path):
        return []
    before = get(old, path, default)
    return [IMMUTABLE(prop=prop)] if lower(before) != lower(get(new, path)) else []


@rule("M1", VMSS, "orchestrationMode is set at creation",
      f"{REF} M1; acd virtual-machine-scale-sets-orchestration-modes.md. Message INFERRED from the "
      "PropertyChangeNotAllowed family", errors=(IMMUTABLE,), operations=("update",), confidence="H")
def m1_orchestration_mode(world: World, old: Doc, new: Doc) -> list:
    """Uniform stays Uniform, Flexible stays Flexible."""
    return _immutable(old, new, "properties.orchestrationMode", "orchestrationMode", "Uniform")


@rule("M2", VMSS, "platformFaultDomainCount is set at creation",
      f"{REF} M2; ad#108952; Azure/aks-engine#1530", errors=(IMMUTABLE,), operations=("update",), confidence="H")
def m2_fault_domain_count(world: World, old: Doc, new: Doc) -> list:
    """The fault domain count cannot change after creation (M12)."""
    return _immutable(old, new, "properties.platformFaultDomainCount", "platformFaultDomainCount")


@rule("M3", VMSS, "zoneBalance is set at creation",
      f"{REF} M3; Azure/azure-rest-api-specs#2445. Error INFERRED as the PropertyChangeNotAllowed shape",
      errors=(IMMUTABLE,), operations=("update",), confidence="M")
def m3_zone_balance(world: World, old: Doc, new: Doc) -> list:
    """zoneBalance (false when absent) cannot change after creation."""
    if old is None or new is None or not present(new, "properties.zoneBalance"):
        return []
    before = bool(get(old, "properties.zoneBalance"))
    return [IMMUTABLE(prop="zoneBalance")] if before != bool(get(new, "properties.zoneBalance")) else []


@rule("M4", VMSS, "singlePlacementGroup may go from true to false, never back",
      f"{REF} M4; specs virtualMachineScaleSet.json (property description). Message INFERRED",
      errors=(IMMUTABLE,), operations=("update",), confidence="H")
def m4_single_placement_group(world: World, old: Doc, new: Doc) -> list:
    """'If singlePlacementGroup is false, it may not be modified to true.'"""
    if old is None or new is None:
        return []
    if get(old, "properties.singlePlacementGroup") is False and get(new, "properties.singlePlacementGroup") is True:
        return [IMMUTABLE(prop="singlePlacementGroup")]
    return []


@rule("M5", VMSS, "Zones can be added to a scale set, not removed",
      f"{REF} M5; Azure/azure-powershell#4704; acd migrate-scale-set-flex-to-availability-zones.md (adding zones, API "
      "2023-03-01+)", errors=(IMMUTABLE,), operations=("update",), confidence="H")
def m5_zones_not_removed(world: World, old: Doc, new: Doc) -> list:
    """Zonal expansion (regional -> zonal, more zones) is allowed; removing a zone is refused."""
    if old is None or new is None:
        return []
    return [IMMUTABLE(prop="zones")] if set(zones(old)) - set(zones(new)) else []


@rule("M6", VMSS, "Flexible: at most 3 fault domains, and 1 when zonal",
      f"{REF} M6; acd orchestration-modes; ad#114585. Error INFERRED (InvalidParameter family)", errors=(M6_FD,),
      operations=("create",), confidence="M")
def m6_flex_fault_domains(world: World, old: Doc, new: Doc) -> list:
    """A Flexible scale set has platformFaultDomainCount 1-3 when regional and 1 when zonal."""
    if new is None or not _flex(new):
        return []
    fd = get(new, "properties.platformFaultDomainCount")
    if fd is None:
        return []
    fd = int(fd)
    return [M6_FD()] if fd > 3 or fd < 1 or (zones(new) and fd != 1) else []


@rule("M8", VMSS, "A Flexible scale set cannot be created with singlePlacementGroup true",
      f"{REF} M8; Azure/azure-rest-api-specs#10212", errors=(M8_FLEX_SPG,), operations=("create",), confidence="H")
def m8_flex_single_placement_group(world: World, old: Doc, new: Doc) -> list:
    """The legacy 'VirtualMachines' orchestration preview with singlePlacementGroup=true was retired."""
    if new is None or not _flex(new) or get(new, "properties.singlePlacementGroup") is not True:
        return []
    return [M8_FLEX_SPG(name=new.get("name", ""))]


def _load_balancers(doc: dict[str, Any]) -> list[str]:
    out = []
    for nic in get(doc, f"{VMSS_PROFILE}.networkProfile.networkInterfaceConfigurations") or []:
        for ipc in get(nic, "properties.ipConfigurations") or []:
            for key in ("loadBalancerBackendAddressPools", "loadBalancerInboundNatPools"):
                for pool in get(ipc, f"properties.{key}") or []:
                    lb = parent_of(pool.get("id") or "") if isinstance(pool, dict) else None
                    if lb and lb not in out and type_of_id(lb) == "microsoft.network/loadbalancers":
                        out.append(lb)
    return out


@rule("M9", VMSS, "A Basic load balancer cannot serve a large-scale or cross-zone scale set",
      f"{REF} M9; openshift/openshift-azure#495 (code). Message INFERRED", errors=(M9_BASIC_LB,), confidence="M")
def m9_basic_load_balancer(world: World, old: Doc, new: Doc) -> list:
    """singlePlacementGroup false or more than one zone with a Basic SKU load balancer (the SKU default)."""
    if new is None or not (get(new, "properties.singlePlacementGroup") is False or len(zones(new)) > 1):
        return []
    for lb in _load_balancers(new):
        doc = world.get(lb)
        if doc is not None and lower(get(doc, "sku.name") or "Basic") == "basic":
            return [M9_BASIC_LB(name=new.get("name", ""), lb=name_of(lb))]
    return []


@rule("M11", VMSS, "A Flexible scale set's proximity placement group cannot change",
      f"{REF} M11; acd orchestration-modes; ad PR#105657. Error INFERRED as the PropertyChangeNotAllowed shape",
      errors=(IMMUTABLE,), operations=("update",), confidence="H")
def m11_flex_proximity_placement_group(world: World, old: Doc, new: Doc) -> list:
    """Flexible: the PPG is fixed after deployment. (Uniform may change it with every instance deallocated;
    instances are not modelled, so that case is not checked.)"""
    if old is None or new is None or not _flex(new):
        return []
    path = "properties.proximityPlacementGroup.id"
    return [IMMUTABLE(prop="proximityPlacementGroup")] if changed(old, new, path) else []


@rule("M12", VMSS, "The managed OS disk storage type of a scale set is set at creation",
      f"{REF} M12; acd virtual-machine-scale-sets-upgrade-scale-set.md. Error INFERRED as the PropertyChangeNotAllowed "
      "shape", errors=(IMMUTABLE,), operations=("update",), confidence="H")
def m12_os_disk_storage_type(world: World, old: Doc, new: Doc) -> list:
    """virtualMachineProfile.storageProfile.osDisk.managedDisk.storageAccountType cannot change."""
    path = f"{VMSS_PROFILE}.storageProfile.osDisk.managedDisk.storageAccountType"
    if old is None or not present(old, path):
        return []
    return _immutable(old, new, path, "virtualMachineProfile.storageProfile.osDisk.managedDisk.storageAccountType")


# ---- upgrade and repair policies (4b) -------------------------------------------------------------------------
@rule("R-range", VMSS, "Rolling upgrade policy percentages within their ranges",
      f"{REF} 4b; specs ComputeRP/stable/2024-07-01/virtualMachineScaleSet.json (ranges, facts.ROLLING_POLICY_RANGES). "
      "Message INFERRED (standard CRP InvalidParameter phrasing)", errors=(INVALID_VALUE,), confidence="H")
def r_rolling_policy_ranges(world: World, old: Doc, new: Doc) -> list:
    """maxBatchInstancePercent 5-100, maxUnhealthyInstancePercent 5-100, maxUnhealthyUpgradedInstancePercent
    0-100."""
    if new is None:
        return []
    out = []
    for field, (lo, hi, _) in facts.ROLLING_POLICY_RANGES.items():
        val = get(new, f"{ROLLING}.{field}")
        if val is None:
            continue
        if isinstance(val, bool) or not isinstance(val, int | float) or not lo <= val <= hi:
            out.append(INVALID_VALUE(param=f"rollingUpgradePolicy.{field}"))
    return out


@rule("R-grace", VMSS, "automaticRepairsPolicy.gracePeriod between PT10M and PT90M",
      f"{REF} 4b (automaticRepairsPolicy.gracePeriod); acd automatic-instance-repairs. Message INFERRED",
      errors=(INVALID_VALUE,), confidence="H")
def r_repair_grace_period(world: World, old: Doc, new: Doc) -> list:
    """The grace period is an ISO-8601 duration from 10 to 90 minutes (facts.AUTOMATIC_REPAIRS_GRACE_MINUTES)."""
    val = get(new, f"{REPAIRS}.gracePeriod")
    if val is None:
        return []
    lo, hi = facts.AUTOMATIC_REPAIRS_GRACE_MINUTES
    m = facts.iso_minutes(str(val))
    return [] if m is not None and lo <= m <= hi else [INVALID_VALUE(param="automaticRepairsPolicy.gracePeriod")]


@rule("R-budget", VMSS, "extensionsTimeBudget between PT15M and PT120M",
      f"{REF} 4b (extensionsTimeBudget); specs virtualMachineScaleSet.json. Message INFERRED", errors=(INVALID_VALUE,),
      confidence="H")
def r_extensions_time_budget(world: World, old: Doc, new: Doc) -> list:
    """The extensions time budget is an ISO-8601 duration from 15 to 120 minutes
    (facts.EXTENSIONS_TIME_BUDGET_MINUTES)."""
    val = get(new, f"{VMSS_PROFILE}.extensionProfile.extensionsTimeBudget")
    if val is None:
        return []
    lo, hi = facts.EXTENSIONS_TIME_BUDGET_MINUTES
    m = facts.iso_minutes(str(val))
    return [] if m is not None and lo <= m <= hi else [INVALID_VALUE(param="extensionProfile.extensionsTimeBudget")]


@rule("R-repair", VMSS, "Changing the repair action needs automatic repairs disabled first",
      f"{REF} 4b (automaticRepairsPolicy.repairAction); acd automatic-instance-repairs. Error INFERRED",
      errors=(R_REPAIR,), operations=("update",), confidence="H")
def r_repair_action_change(world: World, old: Doc, new: Doc) -> list:
    """repairAction (Replace by default, Restart, Reimage) changes by disabling automatic repairs, then
    enabling them with the new action: not in one update while they stay enabled."""
    if old is None or new is None or not (_repairs(old) and _repairs(new)):
        return []
    before = get(old, f"{REPAIRS}.repairAction") or "Replace"
    after = get(new, f"{REPAIRS}.repairAction") or "Replace"
    return [R_REPAIR()] if lower(before) != lower(after) else []


# ---- health sources, automatic OS upgrade, automatic repairs (4c) -----------------------------------------------
@rule("H1", VMSS, "Rolling upgrade mode needs a health source",
      f"{REF} H1; gbowerman/azure-myriad#30; hashicorp/terraform-provider-azurerm#5430; acd configure-rolling-upgrades",
      errors=(H1_ROLLING,), confidence="H")
def h1_rolling_needs_health(world: World, old: Doc, new: Doc) -> list:
    """Uniform: a load balancer health probe (networkProfile.healthProbe) or the Application Health
    extension; Flexible: the Application Health extension only (M14)."""
    if new is None or v.Vmss(new).upgrade_mode != "Rolling":
        return []
    return [] if _health(world, new) else [H1_ROLLING()]


@rule("H2", VMSS, "Automatic OS upgrade and automatic repairs need exactly one health source",
      f"{REF} H2; ad#114432; acd automatic-upgrade, automatic-instance-repairs. Code BadRequest INFERRED; the "
      "automatic repairs message is INFERRED from the automatic OS upgrade one", errors=(H2_BOTH_OS, H2_BOTH_REPAIRS),
      confidence="H")
def h2_one_health_source(world: World, old: Doc, new: Doc) -> list:
    """'Only one source of health monitoring can be used ... either an Application Health Extension or a Health
    Probe.' Both configured with automatic OS upgrade or automatic repairs enabled is refused."""
    if new is None or sorted(_health(world, new)) != ["extension", "probe"]:
        return []
    if _auto_os_upgrade(new):
        return [H2_BOTH_OS()]
    return [H2_BOTH_REPAIRS()] if _repairs(new) else []


@rule("H3", VMSS, "Automatic OS upgrade needs a health source",
      f"{REF} H3; Azure-Samples/open-source-labs#46", errors=(H3_OS_UPGRADE,), confidence="H")
def h3_os_upgrade_needs_health(world: World, old: Doc, new: Doc) -> list:
    """enableAutomaticOSUpgrade without a health probe or the Application Health extension."""
    if new is None or not _auto_os_upgrade(new):
        return []
    return [] if _health(world, new) else [H3_OS_UPGRADE()]


def _latest(ref: dict[str, Any]) -> bool:
    image_id = ref.get("id")
    if image_id:
        kind = images.ref_kind(image_id)
        return kind == "definition" or (kind == "version" and image_id.rstrip("/").lower().endswith("/latest"))
    return bool(ref.get("publisher")) and lower(ref.get("version")) == "latest"


@rule("H4", VMSS, "Automatic OS upgrade needs a 'latest' platform or gallery image",
      f"{REF} H4, H6; hashicorp/terraform-provider-azurerm#8301, #11398", errors=(H4_LATEST,), confidence="H")
def h4_os_upgrade_needs_latest(world: World, old: Doc, new: Doc) -> list:
    """A platform image with version 'latest', or a gallery image referenced by its definition (no version).
    Managed images and pinned versions cannot be upgraded automatically (custom images only via a gallery)."""
    if new is None or not _auto_os_upgrade(new):
        return []
    return [] if _latest(image_reference(new)) else [H4_LATEST()]


@rule("H6", VMSS, "Windows automatic OS upgrade needs Windows Update and platform patching off",
      f"{REF} H6; acd virtual-machine-scale-sets-automatic-upgrade.md. Error text INFERRED", errors=(H6_WINDOWS,),
      confidence="H")
def h6_windows_automatic_updates(world: World, old: Doc, new: Doc) -> list:
    """osProfile.windowsConfiguration.enableAutomaticUpdates must be false and patchSettings.patchMode must
    not be AutomaticByPlatform when automatic OS upgrade is enabled."""
    if new is None or not _auto_os_upgrade(new):
        return []
    win = get(new, f"{VMSS_PROFILE}.osProfile.windowsConfiguration")
    if not isinstance(win, dict):
        return []
    if win.get("enableAutomaticUpdates") is True:
        return [H6_WINDOWS(setting="osProfile.windowsConfiguration.enableAutomaticUpdates is true",
                           fix="Set it to false")]
    if lower(get(win, "patchSettings.patchMode")) == "automaticbyplatform":
        return [H6_WINDOWS(setting="osProfile.windowsConfiguration.patchSettings.patchMode is AutomaticByPlatform",
                           fix="Choose another patch mode")]
    return []


@rule("H7", VMSS, "Flexible + maxSurge + automatic OS upgrade is not supported",
      f"{REF} H7; acd automatic-upgrade, maxsurge docs ('not yet supported'). Error INFERRED", errors=(H7_FLEX_SURGE,),
      confidence="M")
def h7_flex_surge_os_upgrade(world: World, old: Doc, new: Doc) -> list:
    """A Flexible scale set with rollingUpgradePolicy.maxSurge cannot enable automatic OS upgrade."""
    if new is None or not (_flex(new) and _auto_os_upgrade(new) and get(new, f"{ROLLING}.maxSurge") is True):
        return []
    return [H7_FLEX_SURGE()]


def _version_tuple(text: str) -> tuple[int, ...]:
    out = []
    for part in str(text).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


@rule("H8", VMSS, "Automatic OS upgrade needs Service Fabric extension 1.1 or above",
      f"{REF} H8; microsoft/service-fabric#618. HTTP 409 INFERRED (usual for OperationNotAllowed)",
      errors=(H8_SERVICE_FABRIC,), confidence="H")
def h8_service_fabric_version(world: World, old: Doc, new: Doc) -> list:
    """A Service Fabric node extension with typeHandlerVersion below 1.1 blocks automatic OS upgrade."""
    if new is None or not _auto_os_upgrade(new):
        return []
    for ext in _extensions(world, new):
        if (get(ext, "properties.type") or "") in facts.SERVICE_FABRIC_EXTENSION_TYPES:
            ver = get(ext, "properties.typeHandlerVersion")
            if ver is not None and _version_tuple(ver) < (1, 1):
                return [H8_SERVICE_FABRIC()]
    return []


@rule("H10", VMSS, "Automatic repairs need a health source",
      f"{REF} H10; hashicorp/terraform-provider-azurerm#5860. Code BadRequest / HTTP 400 INFERRED",
      errors=(H10_REPAIRS,), confidence="H")
def h10_repairs_need_health(world: World, old: Doc, new: Doc) -> list:
    """automaticRepairsPolicy.enabled without a health probe or the Application Health extension."""
    if new is None or not _repairs(new):
        return []
    return [] if _health(world, new) else [H10_REPAIRS()]

