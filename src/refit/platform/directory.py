"""The tenant's directory (Microsoft Entra ID) as Azure VMs meet it: device objects.

A Windows VM with the AADLoginForWindows extension joins Entra ID: a device object named the VM's hostname
(`osProfile.computerName`) is created in the tenant. Deleting the VM does not delete that device (seed 002,
"Entra ID Login via Azure Bastion Fails After VM Recreation": "Azure VM deletion does not automatically clean up
Entra ID device objects"), and a VM recreated with the same hostname then cannot join: "the Entra ID join process
fails silently due to a hostname collision" (ibid.). The device must be deleted (Graph `DELETE /devices/{id}`)
and the extension re-run.

The devices are kept with the Cloud's state (`Cloud.directory`, persisted with the Cloud's meta) and shown in
Microsoft Graph's shape (https://learn.microsoft.com/graph/api/resources/device: id, deviceId, displayName,
operatingSystem, operatingSystemVersion, trustType "AzureAd" for an Entra joined device, accountEnabled,
approximateLastSignInDateTime, registrationDateTime). The emulator serves them at /v1.0/devices; the planner's
simulation reads them from the live state it was seeded with (`World.devices`, `adopt`).

Which VM a device belongs to: the platform remembers the device its join created (`Cloud.priv(vm)`); a device
seen elsewhere (Graph read by `refit --azure`, a simulation seeded from live state) is the VM's when it was
registered at or after the VM was created (`properties.timeCreated`): a device registered before the VM existed is
a previous machine's (INFERRED: Graph names no Azure VM on a device in v1.0; the times are what both sides show).
"""

from __future__ import annotations

import uuid
from typing import Any

from refit.arm.errors import ArmError
from refit.platform.rules import RULES

Device = dict[str, Any]
# A Windows Server 2022 build (INFERRED: the join reports the guest's version; the emulated guest has none).
WINDOWS_VERSION = "10.0.20348.2849"
FIELDS = ("id", "deviceId", "displayName", "operatingSystem", "operatingSystemVersion", "trustType",
          "accountEnabled", "approximateLastSignInDateTime", "registrationDateTime")


def state(cloud) -> dict[str, Any]:
    """The directory of the cloud's tenant: {"devices": {object id: device}}."""
    d = cloud.directory
    d.setdefault("devices", {})
    return d


def devices(cloud) -> list[Device]:
    return list(state(cloud)["devices"].values())


# ---- reading: Graph's GET /devices and GET /devices/{id} --------------------------------------------------------
def not_found(key: str) -> ArmError:
    """Graph's answer for a device that does not exist (rule GRAPH1)."""
    return RULES["GRAPH1"].refuse(key=key)


def get(cloud, key: str, by_device_id: bool = False) -> Device:
    """A device by its object id (`/devices/{id}`) or by its deviceId (`/devices(deviceId='{deviceId}')`)."""
    for d in devices(cloud):
        if (d["deviceId"] if by_device_id else d["id"]).lower() == key.lower():
            return d
    raise not_found(key)


# ---- writing ----------------------------------------------------------------------------------------------------
def add(cloud, device: Device) -> Device:
    """Register a device (a join, a scenario's leftover, one observed in live state)."""
    now = cloud.now_iso()
    dev = {"id": device.get("id") or str(uuid.uuid4()), "deviceId": device.get("deviceId") or str(uuid.uuid4()),
           "displayName": device["displayName"], "operatingSystem": device.get("operatingSystem", "Windows"),
           "operatingSystemVersion": device.get("operatingSystemVersion", WINDOWS_VERSION),
           "trustType": device.get("trustType", "AzureAd"), "accountEnabled": device.get("accountEnabled", True),
           "approximateLastSignInDateTime": device.get("approximateLastSignInDateTime", now),
           "registrationDateTime": device.get("registrationDateTime", now)}
    state(cloud)["devices"][dev["id"]] = dev
    cloud.version += 1
    return dev


def delete(cloud, key: str, by_device_id: bool = False) -> Device:
    """Graph's DELETE /devices/{id}: 204, or Request_ResourceNotFound (https://learn.microsoft.com/graph/api/
    device-delete: "If successful, this method returns 204 No Content")."""
    dev = get(cloud, key, by_device_id)
    del state(cloud)["devices"][dev["id"]]
    for key, priv in list(cloud.private.items()):  # the VM whose join made it is no longer joined
        if priv.get("entra_device") == dev["id"]:
            priv["entra_device"] = None
            cloud.touch(key)
    cloud.version += 1
    return dev


def adopt(cloud, device: Device) -> None:
    """A device observed in live state (`World.devices`, read from Graph) into a simulated cloud's directory."""
    dev = {k: v for k, v in device.items() if k in FIELDS}
    if dev.get("id") and dev.get("displayName"):
        state(cloud)["devices"][dev["id"]] = dev


def carry(src, dst, vms: list[dict[str, Any]]) -> None:
    """Copy into `dst`'s directory the devices of `src` named one of the VMs' hostnames (a planner's neighborhood
    needs those only)."""
    names = {hostname(vm).lower() for vm in vms}
    for d in devices(src):
        if str(d.get("displayName") or "").lower() in names:
            state(dst)["devices"][d["id"]] = dict(d)


# ---- whose device is it -----------------------------------------------------------------------------------------
def hostname(vm: dict[str, Any]) -> str:
    """The name the VM joins under: its Windows computer name (osProfile.computerName; the VM's name when absent)."""
    p = vm.get("properties") or {}
    return str((p.get("osProfile") or {}).get("computerName") or vm.get("name") or "")


def _time(text: Any) -> float | None:
    from datetime import datetime

    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def belongs_to(device: Device, vm: dict[str, Any], joined: str | None = None) -> bool:
    """Whether `device` is `vm`'s own: the one its join made (`joined`, the platform's memory), else one registered
    at or after the VM was created (the module docstring)."""
    if joined is not None:
        return device["id"] == joined
    made, registered = _time((vm.get("properties") or {}).get("timeCreated")), _time(device.get("registrationDateTime"))
    return made is not None and registered is not None and registered >= made - 1.0


def stale_for(all_devices: list[Device], vm: dict[str, Any], joined: str | None = None) -> list[Device]:
    """The devices named the VM's hostname that are not the VM's: they block its join."""
    name = hostname(vm).lower()
    return [d for d in all_devices if str(d.get("displayName") or "").lower() == name and not belongs_to(d, vm, joined)]


def created(cloud, vm: dict[str, Any]) -> None:
    """A VM this cloud has just created has joined nothing: no device is its own until its join makes one (the time
    rule of `belongs_to` is for VMs observed elsewhere, whose clock may not be this cloud's)."""
    cloud.priv(vm["id"])["entra_device"] = None


def joined_device(cloud, vm: dict[str, Any]) -> str | None:
    """The object id of the device the VM's last join made (None: never joined, or that device was deleted)."""
    return cloud.priv(vm["id"]).get("entra_device")


def join(cloud, vm: dict[str, Any]) -> tuple[Device | None, list[Device]]:
    """The AADLoginForWindows join of `vm`, now: (its device, []) or (None, the devices that block it). A VM already
    joined keeps its device (a re-run of the extension signs in again); one not joined registers a device named its
    hostname, unless a device of that name that is not its own exists (the hostname collision of seed 002)."""
    priv = cloud.priv(vm["id"])
    known = state(cloud)["devices"]
    mine = priv.get("entra_device") if priv.get("entra_device") in known else None
    name = hostname(vm).lower()
    same = [d for d in known.values() if str(d.get("displayName") or "").lower() == name]
    if mine is None and "entra_device" not in priv:  # a VM observed, not made here: which device is its own
        own = [d for d in same if belongs_to(d, vm)]
        mine = own[0]["id"] if own else None
    if mine is not None:
        dev = known[mine]
        dev["approximateLastSignInDateTime"] = cloud.now_iso()
        priv["entra_device"] = mine
        cloud.version += 1
        return dev, []
    if same:
        priv["entra_device"] = None
        return None, same
    dev = add(cloud, {"displayName": hostname(vm)})
    priv["entra_device"] = dev["id"]
    return dev, []
