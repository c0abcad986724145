"""The timing model: simulated seconds each operation takes.

No authoritative public figures exist for most of these (reference/azure-platform-rules.md section 8:
"no authoritative figure found ... INFERRED"); the values are practitioners' typical ones, chosen so
that relative costs are right (a deallocate/start cycle is minutes, a cross-region replication is tens
of minutes). Replication is calibrated on hashicorp/packer#7865 ("just over an hour" for 3 regions).
A scenario or the control API may override any entry (`timing:` in the scenario YAML).
"""

from __future__ import annotations

DEFAULTS: dict[str, float] = {
    # Microsoft.Compute/virtualMachines (INFERRED, section 8)
    "vm.create": 120.0,
    "vm.update": 10.0,  # a model change that touches no disk
    "vm.swap_os_disk": 30.0,  # PATCH/PUT that swaps the OS disk (includes the implicit restart)
    "vm.deallocate": 45.0,
    "vm.start": 40.0,
    "vm.powerOff": 20.0,
    "vm.restart": 60.0,
    "vm.delete": 60.0,
    "vm.run_command": 90.0,  # Run Command (e.g. the guest MBR -> GPT conversion)
    "vm.boot": 30.0,  # start done -> the Application Health extension reports (initializing until then)
    "vm.extension.aad_login": 90.0,  # AADLoginForWindows: install, then the Entra join (dsregcmd) in the guest
    # Microsoft.Compute/disks
    "disk.create": 5.0,  # Empty / Copy
    "disk.create_from_image": 60.0,
    "disk.update": 3.0,
    "disk.delete": 5.0,
    # images and galleries
    "image.create": 90.0,
    "gallery.write": 10.0,
    "definition.write": 10.0,
    "version.capture": 300.0,  # until the version exists in its source region
    "version.replicate_region": 1500.0,  # each further target region, one after the other
    "version.update": 10.0,
    # scale sets
    "vmss.create": 180.0,
    "vmss.update": 30.0,
    "vmss.delete": 120.0,
    "vmss.update_instances": 300.0,  # manualupgrade of every instance (in place)
    "vmss.reimage_instance": 120.0,  # an instance's new OS disk and restart (reimage, a rolling upgrade's batch)
    # After a new gallery version is latest in a region, a set with automatic OS upgrade starts rolling it this much
    # later ("It can take up to 3 hours ... to trigger the first image upgrade rollout": automatic-upgrade page).
    "vmss.auto_os_upgrade_delay": 900.0,
    # capacity reservations (INFERRED)
    "cr.write": 30.0,
    # Azure VM Image Builder (INFERRED: the troubleshooting page and seed 001 give "Running 10-60+ min" for a build and
    # no phase figures; these make a one-customizer Linux build ~25 min before the gallery's own capture/replication)
    "aib.submit": 30.0,  # an image template's PUT: validation, staging resource group
    "aib.delete": 120.0,  # DELETE: the staging resource group goes too
    "aib.queue": 60.0,  # run: Queued
    "aib.build": 600.0,  # Building: the build VM (and its container instance) up and reachable
    "aib.customizer": 300.0,  # Customizing: each customizer
    "aib.capture": 300.0,  # Distributing: generalize and capture, before the gallery version is written
    "aib.cancel": 60.0,  # cancel: Canceling -> Canceled
    # Microsoft.Storage/storageAccounts (INFERRED): a create is an LRO (202 + Location) of some seconds; an update
    # and a delete answer at once
    "storage.create": 20.0,
    "storage.update": 0.0,
    "storage.delete": 0.0,
    # template deployments (INFERRED): ARM's engine looks at the operations it started about this often
    "deployment.step": 2.0,
    # generic
    "delete": 10.0,
    "rg.delete": 30.0,
}


class Timing:
    def __init__(self, overrides: dict[str, float] | None = None):
        self.table = dict(DEFAULTS)
        if overrides:
            self.update(overrides)

    def update(self, overrides: dict[str, float]) -> None:
        for k, v in overrides.items():
            if k not in DEFAULTS:
                raise ValueError(f"unknown timing entry '{k}' (known: {', '.join(sorted(DEFAULTS))})")
            if float(v) < 0:
                raise ValueError(f"timing entry '{k}' must be >= 0")
            self.table[k] = float(v)

    def __getitem__(self, key: str) -> float:
        return self.table[key]
