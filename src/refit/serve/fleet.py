"""Fleet page data from the live state, read as `refit doctor` reads it (`refit.sources.live`, Resource Graph):
per image definition what `refit release status` says (versions, their replication per region, what `latest`
resolves to, who runs which version), shaped per region; capacity reservations and the VMs they serve; the doctor's
findings, each linked to its check's page."""

from __future__ import annotations

from typing import Any

from refit.arm import views as v
from refit.arm.ids import id_key
from refit.arm.world import World
from refit.serve.context import Context


def page(ctx: Context) -> dict[str, Any]:
    from refit.checks.context import Options
    from refit.checks.run import run
    from refit.sources import live

    source = ctx.live(live.load, ctx.session)
    world = source.world
    report = run(source, Options())
    return {"source": source.label, "images": images(ctx, world), "reservations": reservations(world),
            "findings": [{"check": f.check.id, "title": f.check.title, "severity": f.severity, "status": f.status,
                          "resource": f.result.resource, "name": _name(f.result.resource),
                          "message": f.result.message} for f in report.findings],
            "summary": report.summary()}


def images(ctx: Context, world: World) -> list[dict[str, Any]]:
    from refit.run import release

    out = []
    for d in sorted(world.of_type(v.IMAGE_DEFINITION), key=lambda d: d["id"].lower()):
        st = ctx.live(release.status, ctx.session, world, d)
        regions = sorted({r for ver in st["versions"] for r in ver["regions"]} | set(st["latest"]))
        # who runs which version, per region: a scale set's instances and single VMs count where they are
        runs: dict[str, dict[str, list[str]]] = {r: {} for r in regions}
        for sid, per in st["scaleSets"].items():
            where = _location(world, sid)
            for ver, names in per.items():
                runs.setdefault(where, {}).setdefault(ver, []).extend(f"{_name(sid)}/{n}" for n in names)
        for vm, ver in st["vms"].items():
            runs.setdefault(_location(world, vm), {}).setdefault(ver, []).append(_name(vm))
        out.append({"id": d["id"], "name": f"{_parent(d['id'])}/{d.get('name', '')}",
                    "regions": sorted(runs), "versions": st["versions"], "latest": st["latest"],
                    "runs": {r: dict(sorted(per.items())) for r, per in runs.items()}})
    return out


def reservations(world: World) -> list[dict[str, Any]]:
    from refit.platform.rules import capacity

    out = []
    for g in sorted(world.of_type(v.CAPACITY_RESERVATION_GROUP), key=lambda d: d["id"].lower()):
        key = id_key(g["id"])
        res = [v.CapacityReservation(d) for d in world.of_type(v.CAPACITY_RESERVATION)
               if id_key(d["id"]).startswith(key + "/")]
        members = capacity.associated(world, g["id"])
        out.append({"name": g.get("name", ""), "location": g.get("location", ""), "zones": g.get("zones") or [],
                    "reservations": [{"name": r.name, "size": r.size or "", "capacity": r.capacity,
                                      "zones": r.doc.get("zones") or []} for r in res],
                    "members": [{"name": m.get("name", ""), "power": v.Vm(m).power_state or ""
                                 if m["type"].lower() == v.VM.lower() else "scale set"} for m in members]})
    return out


def _location(world: World, rid: str) -> str:
    from refit.platform import regions

    return regions.normalize((world.get(rid) or {}).get("location", ""))


def _name(rid: str) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1]


def _parent(rid: str) -> str:
    parts = rid.rstrip("/").split("/")
    return parts[-3] if len(parts) >= 3 else ""
