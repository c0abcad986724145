"""Platform facts the doctor's best-practice checks read (refit.checks), beside the rule catalog's own tables
in `refit.platform.rules.facts`. Every value cites where it comes from; INFERRED marks a best guess.

The checks never re-encode these: a threshold that changes changes here, once.
"""

from __future__ import annotations

# ---- regions with availability zones --------------------------------------------------------------------
# The one table of zone-capable regions is the platform's (refit.platform.regions, from
# https://learn.microsoft.com/azure/reliability/regions-list); the doctor reads the same table.
from refit.platform.regions import has_zones as region_has_zones  # noqa: F401
from refit.platform.regions import normalize as normalize_region  # noqa: F401

# ---- rolling upgrade policy (seed 001 section 4 "typical prod value"; spec defaults, rules 4b) ------------
ROLLING_BATCH_MAX_PERCENT = 20  # maxBatchInstancePercent: "20 — smaller batch = safer, slower"
ROLLING_UNHEALTHY_UPGRADED_MAX_PERCENT = 20  # maxUnhealthyUpgradedInstancePercent: "20 — the real rollback trigger"
ROLLING_PAUSE_MIN_MINUTES = 1.0  # pauseTimeBetweenBatches: seed 001 uses PT1M (lab) .. PT2M-PT5M (prod); PT0S = no soak
# rollbackFailedInstancesOnPolicyBreach: absent means false (spec ComputeRP 2024-07-01 RollingUpgradePolicy).
ROLLBACK_ON_BREACH_DEFAULT = False

# ---- health (seed 001 section 5; rules H1-H11) -------------------------------------------------------
# Application Health extension `gracePeriod` default in seconds (seed 001 table "gracePeriod ... 600").
HEALTH_EXTENSION_GRACE_DEFAULT_SECONDS = 600
# Probe protocols and what each needs (seed 001 "HTTP probe contract"; acd app-health-extension.md).
# http/https: port optional (80/443), requestPath mandatory; tcp: port mandatory, no requestPath.
HEALTH_PROBE_NEEDS: dict[str, tuple[str, ...]] = {"http": ("requestPath",), "https": ("requestPath",), "tcp": ("port",)}
AUTOMATIC_REPAIRS_GRACE_DEFAULT = "PT10M"  # rules 4b: min PT10M (default), max PT90M

# ---- orchestration defaults the API applies when a property is absent ------------------------------------
# platformFaultDomainCount: Flexible 1 (max spreading), Uniform 5 (INFERRED API defaults; emulator/providers/vmss.py).
DEFAULT_FAULT_DOMAINS = {"flexible": 1, "uniform": 5}
MAX_SPREADING_FAULT_DOMAINS = 1  # seed 001 section 1: "platformFaultDomainCount = 1 ... max spreading"

# ---- Spot (seed 001 section 7) -------------------------------------------------------------------------
SPOT_DEFAULT_EVICTION_POLICY = "Deallocate"  # az vmss create --eviction-policy default (seed 001 table)

# ---- Compute Gallery (APRL b49a39fd, 488dcc8b; seed 001 section 3) ----------------------------------------
GALLERY_MIN_REPLICAS = 3  # APRL b49a39fd "≥3 replicas for production image versions"
GALLERY_DEFAULT_STORAGE = "Standard_LRS"  # seed 001: storageAccountType default Standard_LRS
ZONE_REDUNDANT_STORAGE_SUFFIX = "_ZRS"

# ---- Azure Image Builder (seed 001 section 2) -----------------------------------------------------------
# buildTimeoutInMinutes: 0 means the service default (240); below ~30 minutes a build VM rarely provisions,
# customises, generalises and distributes (runState Running "10-60+ min"); above 240 a hung build holds its
# VM for hours unless the template runs Windows Update (seed: "Long; raise buildTimeoutInMinutes"). INFERRED bounds.
AIB_DEFAULT_TIMEOUT_MINUTES = 240
AIB_MIN_REALISTIC_TIMEOUT_MINUTES = 30
AIB_MAX_REALISTIC_TIMEOUT_MINUTES = 240
AIB_LONG_CUSTOMIZERS = ("WindowsUpdate",)
# The shell options that make a failing command fail the customizer (seed 001 row 12).
STRICT_SHELL_OPTIONS = ("e", "u", "pipefail")

# ---- Confidential VM readiness (rules U8, S12; issue 5) ---------------------------------------------------
# A confidential VM needs Gen2; with confidential OS disk encryption and a customer-managed key the OS disk
# must be at most 128 GB, and its disks Premium SSD (INFERRED from the confidential-VM FAQ limits; issue 5).
CVM_MAX_CMK_OS_DISK_GB = 128
CVM_DISK_SKU_PREFIXES = ("Premium",)

# ---- Autoscale (seed 001 section 6) ---------------------------------------------------------------------
SCALE_OUT_OPERATORS = ("GreaterThan", "GreaterThanOrEqual")
SCALE_IN_OPERATORS = ("LessThan", "LessThanOrEqual")


# ---- Terraform (seed 002; reference/terraform-stable-keys.md) ----------------------------------------------
TF_POSITION_KEYED_TYPES = ("azurerm_managed_disk",)
