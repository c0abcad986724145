"""RF-RES-003: the standalone VMs of one tier all in one availability zone, or in none, in a region with zones."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks import helpers as h
from refit.checks import resiliency as res
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


class TierInOneZone(Check):
    id = "RF-RES-003"
    title = "Tier of VMs not spread across availability zones"
    severity = "high"
    resource_types = (v.VM,)
    rationale = (
        "Several VMs doing the same job (the web servers behind one load balancer, the nodes of a cluster) are "
        "redundant only if they do not share a fate. In one zone, one datacenter's power, cooling or network "
        "failure takes the whole tier down; VMs without a zone (regional) give no zone guarantee at all. The "
        "tier is the standalone VMs (not in a scale set: RF-VMSS-011 judges those) of one subscription and "
        "region with the same value of the role tag (--role-tag, default `role`). Spreading them costs nothing, "
        "so every tier is judged, critical or not.")
    recommendation = ("Run the tier in at least two zones. A VM's zone cannot change in place: recreate one of them in "
                      "another zone (the fix: refit plans the recreate, keeping its NIC and data disks; a zonal "
                      "data disk must move to that zone too, through a snapshot) or add a VM there, and take the "
                      "VMs out of an availability set (sets and zones exclude each other).")
    fix = Fix(
        az='refit plan --resource $VM_ID --set "zones=[\\"$ZONE\\"]" --out plan.json\n'
           "refit apply plan.json --yes",
        arm='"zones": ["2"]',
        terraform='zone = "2"')
    source = ("APRL 2bd0be95 (Deploy VMs across Availability Zones), a8d25876 (availability sets to VMSS Flex), "
              "273f6b30 (two or more VMs); seed 002 (PRI playbook: 'critical workloads are distributed across "
              "Availability Zones'); learn.microsoft.com/azure/reliability/availability-zones-overview; rule D6 (a "
              "VM's disks are in its zone)")
    notes = ("A VM without the role tag, or alone in its tier, gives no result (one VM cannot be spread: APRL "
             "273f6b30 is about running two). Skipped in regions without availability zones.")

    def evaluate(self, ev: Eval):
        if res.tier_of(ev, ev.doc) is None:
            return None
        loc = h.region(ev)
        if not loc or not df.region_has_zones(loc):
            return None
        ev.get("zones")
        members = res.tier_members(ev, ev.doc)
        if len(members) < 2:
            return None
        used = {str(z) for m in members for z in (ev.of(m, "zones") or [])}
        if len(used) >= 2:
            return self.ok()
        names = ", ".join(m["name"] for m in members)
        tier = f"{ev.ctx.options.role_tag}={res.tier_of(ev, ev.doc)}"
        if not used:
            return self.failed(f"tier {tier} ({names}) has no zone (regional) in {loc}; recreate VMs in zone 1 and "
                               "zone 2")
        (only,) = used
        other = next(z for z in ("1", "2", "3") if z != only)
        return self.failed(f"tier {tier} ({names}) is all in zone {only} of {loc}; move one to zone {other}")


check = register(TierInOneZone())
