"""Properties over random fleets: whatever was inserted into the environment files since the last apply, the
default strategy keeps every existing disk and attachment and creates exactly the new ones; the emitted moved
blocks are exactly the mapping."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tf_fleet import Disk, Env, Vm, parse_moved, state_v4, write_config, write_state

from refit.terraform.migrate import Options, migrate

VM_NAMES = [f"vm-{role}-{n:02d}" for role in ("app", "db", "web") for n in range(1, 4)]


@st.composite
def fleets(draw):
    names = draw(st.lists(st.sampled_from(VM_NAMES), min_size=1, max_size=4, unique=True))
    vms = []
    for name in names:
        luns = draw(st.lists(st.integers(0, 7), min_size=1, max_size=3, unique=True))
        vms.append(Vm(name, [Disk(lun, draw(st.sampled_from([64, 128, 256]))) for lun in luns],
                      zone=draw(st.sampled_from(["1", "2", "3"]))))
    applied = Env("weu", "westeurope", "rg-fleet-weu", vms)
    # today: new VMs inserted anywhere, and new disks appended to existing VMs
    today_vms = [Vm(v.name, list(v.disks), v.zone) for v in vms]
    spare = [n for n in VM_NAMES if n not in names]
    for name in draw(st.lists(st.sampled_from(spare), max_size=2, unique=True)) if spare else []:
        pos = draw(st.integers(0, len(today_vms)))
        today_vms.insert(pos, Vm(name, [Disk(0, 128)], zone="1"))
    for v in today_vms:
        if v.name in names and draw(st.booleans()):
            free = [lun for lun in range(8) if lun not in {d.lun for d in v.disks}]
            v.disks.insert(draw(st.integers(0, len(v.disks))), Disk(free[0], 64))
    today = Env("weu", "westeurope", "rg-fleet-weu", today_vms)
    return applied, today


@settings(max_examples=15, deadline=None)
@given(fleets())
def test_state_mapping_keeps_every_existing_object_whatever_was_inserted(pair):
    applied, today = pair
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        b = write_config(root / "before", {"weu": today}, "index")
        a = write_config(root / "after", {"weu": today}, "stable")
        s = write_state(root / "state.json", state_v4({"weu": applied}, "index"))
        report = migrate(Options(b, a, s))

    existing = {(v.name, d.lun) for v in applied.vms for d in v.disks}
    new = {(v.name, d.lun) for v in today.vms for d in v.disks} - existing
    statuses = {r.address: r.status for r in report.rows if ".data[" in r.address}
    prefix = 'module.disks["weu"].'
    expected = {}
    for rtype in ("azurerm_managed_disk", "azurerm_virtual_machine_data_disk_attachment"):
        for vm, lun in existing:
            expected[f'{prefix}{rtype}.data["{vm}-{lun}"]'] = "keep"
        for vm, lun in new:
            expected[f'{prefix}{rtype}.data["{vm}-{lun}"]'] = "create"
    assert statuses == expected
    assert report.ok and report.exit_code == 0
    assert parse_moved(report.artifact) == [(m.src_text, m.dst_text) for m in report.moves]
    assert len(report.moves) == 2 * len(existing)
