"""The health model: what the Application Health extension reports for a VM, and how the image version
a VM booted from can make it unhealthy, slow to boot, or fail to start.

Azure reports application health of a VM with the Application Health extension (publisher
Microsoft.ManagedServices, type ApplicationHealthLinux / ApplicationHealthWindows) in the instance view:
`instanceView.vmHealth.status.code` = `HealthState/healthy | unhealthy | initializing | unknown`
(https://learn.microsoft.com/azure/virtual-machines/extensions/health-extension). A VM without the
extension has no `vmHealth`. The extension reports `initializing` while the application boots; the
emulator takes `vm.boot` simulated seconds of the timing model for that (INFERRED: no public figure).

Per image version, a scenario (`health:` key) or the control API (`PUT /_refit/health-model`) can say:

    health:
      images:
        "2026.11.0":                 # a version name, "<definition>/<version>", or a full version id
          state: unhealthy           # what the extension reports once booted (default healthy)
          boot_seconds: 900          # initializing this long after a start (slow to boot)
          allocation_failed: true    # every start fails with (Zonal)AllocationFailed; or a count N
      boot_seconds: 30               # optional: the default boot time (else the timing model's vm.boot)

The image a VM "booted from" is the gallery image version its current OS disk was created from
(`creationData.galleryImageReference.id`), else the VM's `imageReference`. Swapping the OS disk back
to the previous one therefore boots the previous image again.
"""

from __future__ import annotations

from typing import Any

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.platform.cloud import Cloud

STATES = ("healthy", "unhealthy")
IMAGE_KEYS = {"state", "boot_seconds", "allocation_failed"}
DISPLAY = {"healthy": "Healthy", "unhealthy": "Unhealthy", "initializing": "Initializing", "unknown": "Unknown"}


# ---- configuration ------------------------------------------------------------------------------------
class HealthModelError(ValueError):
    """A malformed health model. Not an answer of Azure's: the emulator's control API (/_refit/health-model)
    and its scenarios say it in their own words."""


def validate(spec: Any) -> dict[str, Any]:
    """The health model as stored in the emulator's settings; HealthModelError on a malformed spec."""
    if spec is None:
        return {}
    if not isinstance(spec, dict) or set(spec) - {"images", "boot_seconds"}:
        raise _bad("the health model is an object with 'images' and optionally 'boot_seconds'")
    out: dict[str, Any] = {"images": {}}
    if "boot_seconds" in spec:
        out["boot_seconds"] = _seconds(spec["boot_seconds"], "boot_seconds")
    images = spec.get("images") or {}
    if not isinstance(images, dict):
        raise _bad("'images' maps an image version (name, definition/version or id) to its settings")
    for key, val in images.items():
        if not isinstance(val, dict) or set(val) - IMAGE_KEYS:
            raise _bad(f"image '{key}': settings are {', '.join(sorted(IMAGE_KEYS))}")
        entry: dict[str, Any] = {}
        if "state" in val:
            st = str(val["state"]).lower()
            if st not in STATES:
                raise _bad(f"image '{key}': state must be healthy or unhealthy, not '{val['state']}'")
            entry["state"] = st
        if "boot_seconds" in val:
            entry["boot_seconds"] = _seconds(val["boot_seconds"], f"image '{key}': boot_seconds")
        if "allocation_failed" in val:
            af = val["allocation_failed"]
            if isinstance(af, bool):
                entry["allocation_failed"] = af
            elif isinstance(af, int) and af >= 0:
                entry["allocation_failed"] = af  # this many starts fail, then capacity is back
            else:
                raise _bad(f"image '{key}': allocation_failed is true/false or a number of failing starts")
        out["images"][str(key)] = entry
    return out


def configure(cloud: Cloud, spec: Any) -> dict[str, Any]:
    with cloud.lock:
        cloud.settings["health"] = validate(spec)
        return cloud.settings["health"]


def _bad(message: str) -> HealthModelError:
    return HealthModelError(message)


def _seconds(value: Any, name: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError) as e:
        raise _bad(f"{name} must be a number of seconds") from e
    if f < 0:
        raise _bad(f"{name} must be >= 0")
    return f


# ---- facts about a VM -------------------------------------------------------------------------------------
def image_of(cloud: Cloud, vm: dict[str, Any]) -> str | None:
    """The image (version) id the VM boots from: its current OS disk's source image, else its imageReference."""
    sp = (vm.get("properties") or {}).get("storageProfile") or {}
    disk = cloud.get(((sp.get("osDisk") or {}).get("managedDisk") or {}).get("id") or "")
    if disk is not None:
        cd = (disk.get("properties") or {}).get("creationData") or {}
        ref = cd.get("galleryImageReference") or cd.get("imageReference") or {}
        if ref.get("id"):
            return ref["id"]
    return (sp.get("imageReference") or {}).get("id")


def _settings_for(cloud: Cloud, image_id: str | None) -> dict[str, Any]:
    images = (cloud.settings.get("health") or {}).get("images") or {}
    if not image_id or not images:
        return {}
    full = id_key(image_id)
    try:
        rid = ResourceId.parse(image_id)
        names = [t[1].lower() for t in rid.types]
    except ArmError:
        names = []
    candidates = {full}
    if names:
        candidates.add(names[-1])  # version name
        if len(names) >= 2:
            candidates.add(f"{names[-2]}/{names[-1]}")  # definition/version
    for key, entry in images.items():
        if key.lower().rstrip("/") in candidates:
            return entry
    return {}


def settings_of(cloud: Cloud, vm: dict[str, Any]) -> dict[str, Any] | None:
    """The Application Health extension's settings on a VM or scale-set instance (None without the extension)."""
    from refit.platform.effects import vmss_instances

    return vmss_instances.health_settings(cloud, vm)


def has_extension(cloud: Cloud, vm: dict[str, Any]) -> bool:
    return settings_of(cloud, vm) is not None


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


def probe_timing(settings: dict[str, Any]) -> tuple[float, float]:
    """(probe window, grace period) in seconds from the extension's settings: `intervalInSeconds` (default 5, 5-60) times
    `numberOfProbes` (default 1, 1-24) consecutive reports to change state; `gracePeriod` (default interval x probes,
    at most 14400). https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-
    extension ("Extension schema for Rich Health States")."""
    interval = _int(settings.get("intervalInSeconds"), 5, 5, 60)
    probes = _int(settings.get("numberOfProbes"), 1, 1, 24)
    window = float(interval * probes)
    grace = float(_int(settings.get("gracePeriod"), int(window), 0, 14400))
    return window, grace


def boot_seconds(cloud: Cloud, vm: dict[str, Any]) -> float:
    entry = _settings_for(cloud, image_of(cloud, vm))
    if "boot_seconds" in entry:
        return float(entry["boot_seconds"])
    model = cloud.settings.get("health") or {}
    if "boot_seconds" in model:
        return float(model["boot_seconds"])
    return cloud.timing["vm.boot"]


# ---- hooks called by the VM provider -----------------------------------------------------------------------
def started(cloud: Cloud, vm: dict[str, Any]) -> None:
    """A start completed: the guest boots from now (a create, start, restart, reimage). A scale set's automatic
    repairs look at the instance again (repairs.py)."""
    cloud.priv(vm["id"])["booted_at"] = cloud.now()
    from refit.platform.effects import repairs, vmss_instances

    vmss = vmss_instances.set_of(cloud, vm)
    if vmss is not None:
        repairs.watch(cloud, vmss, inst=vm)


def start_fault(cloud: Cloud, vm: dict[str, Any]) -> ArmError | None:
    """A start of a VM whose OS disk comes from an image marked `allocation_failed` fails with Azure's
    allocation error (reference/azure-platform-rules.md A1/A2, asynchronous per A5)."""
    entry = _settings_for(cloud, image_of(cloud, vm))
    af = entry.get("allocation_failed")
    if not af:
        return None
    if not isinstance(af, bool):
        entry["allocation_failed"] = af - 1  # a count of failing starts: capacity comes back after them
    from refit.platform.effects.vm import allocation_error  # the one place Azure's wording lives

    return allocation_error(bool(vm.get("zones")))


def state(cloud: Cloud, vm: dict[str, Any]) -> str | None:
    """healthy | unhealthy | initializing | unknown; None without the Application Health extension.

    After a start the extension reports Initializing "until one of two scenarios occurs: the same Health State
    (Healthy or Unhealthy) is reported a consecutive number of times as configured through numberOfProbes, [or] the
    gracePeriod expires"; a grace period that expires first gives Unknown (http/https) or Unhealthy (tcp) until the
    application's own state has been reported numberOfProbes times (the health-extension page above). The application
    answers once the guest has booted (`boot_seconds`), with the state the health model gives its image."""
    settings = settings_of(cloud, vm)
    if settings is None:
        return None
    priv = cloud.priv(vm["id"])
    if priv.get("power", "running") != "running":
        return "unknown"  # the extension only reports from a running guest
    app = _settings_for(cloud, image_of(cloud, vm)).get("state", "healthy")
    times = _timeline(cloud, vm, settings)
    if times is None:
        return app
    decided, expired = times
    now = cloud.now()
    if now >= decided:
        return app
    if now < expired:
        return "initializing"
    return "unhealthy" if str(settings.get("protocol") or "http").lower() == "tcp" else "unknown"


def _timeline(cloud: Cloud, vm: dict[str, Any], settings: dict[str, Any]) -> tuple[float, float] | None:
    """(when the application's own state has been reported numberOfProbes times, when the grace period expires), from
    the guest's last boot or the extension's last start, whichever is later; None when neither is known (a VM that
    has been running all along reports its application's state)."""
    priv = cloud.priv(vm["id"])
    booted, since = priv.get("booted_at"), priv.get("health_since")
    if booted is None and since is None:
        return None
    window, grace = probe_timing(settings)
    ready = max(float(booted) + boot_seconds(cloud, vm) if booted is not None else float("-inf"),
                float(since) if since is not None else float("-inf"))
    start = max(float(booted) if booted is not None else float("-inf"), float(since) if since is not None else
                float("-inf"))
    return ready + window, start + grace


def settles_at(cloud: Cloud, vm: dict[str, Any]) -> float | None:
    """When the reported state next changes by itself (the end of Initializing, or of an expired grace period's
    Unknown); None when it does not."""
    settings = settings_of(cloud, vm)
    times = _timeline(cloud, vm, settings) if settings is not None else None
    if times is None:
        return None
    decided, expired = times
    now = cloud.now()
    later = [t for t in (min(decided, expired), decided) if t > now]
    return min(later) if later else None


def vm_health(cloud: Cloud, vm: dict[str, Any]) -> dict[str, Any] | None:
    """`instanceView.vmHealth` as Azure shows it, or None when the VM has no Application Health extension."""
    st = state(cloud, vm)
    if st is None:
        return None
    return {"status": {"code": f"HealthState/{st}", "level": "Warning" if st == "unhealthy" else "Info",
                       "displayStatus": DISPLAY[st], "time": cloud.now_iso()}}
