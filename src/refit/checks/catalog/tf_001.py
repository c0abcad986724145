"""RF-TF-001: managed disks keyed by list position in Terraform."""

from __future__ import annotations

from refit.arm import views as v
from refit.checks.model import Check, Eval, Fix
from refit.checks.registry import register
from refit.platform.rules import doctor_facts as df


def positional(keys: list[object]) -> str | None:
    """'count' for integer keys, 'index' when the for_each keys are exactly "0".."n-1", else None."""
    if keys and all(isinstance(k, int) and not isinstance(k, bool) for k in keys):
        return "count"
    if (keys and all(isinstance(k, str) and k.isdigit() for k in keys)
            and sorted(int(str(k)) for k in keys) == list(range(len(keys)))):
        return "index"
    return None


class DisksKeyedByPosition(Check):
    id = "RF-TF-001"
    title = "Managed disks keyed by list position"
    severity = "high"
    resource_types = (v.DISK,)
    inputs = ("terraform",)
    rationale = (
        "`for_each = { for i, d in local.disks : i => d }` (or `count`) keys each disk by its position in a "
        "list. Add a disk to one VM, or reorder the environment file, and every later key shifts: Terraform "
        "plans to destroy and recreate disks that did not change - with their data.")
    recommendation = ('Key disks by what they are (`"${d.vm}-${d.lun}"`; `refit tf rekey --key` also takes it as '
        '`each.value.vm`) and move the state with `refit tf migrate-keys`, which proves that no disk is '
        'destroyed.')
    fix = Fix(
        az="cp -r . ../before\n"
           "refit tf rekey . --address $ADDRESS --key '\"${each.value.vm}-${each.value.lun}\"' --yes\n"
           "refit tf migrate-keys --before ../before --after . --state terraform.tfstate --out "
           "refit_moved.tf",
        arm="(Terraform only)",
        terraform='for_each = { for d in local.disks : "${d.vm}-${d.lun}" => d }')
    source = "seed 002 (index-based for_each keys); reference terraform-stable-keys.md; docs/terraform.md"
    notes = ("Only a Terraform plan shows instance keys. From the plan alone the doctor sees keys, not "
             "expressions: keys that are exactly 0..n-1 (or count indexes) are reported; `refit tf` analyses "
             "the configuration itself.")

    def evaluate(self, ev: Eval):
        origin = ev.ctx.source.origin(ev.id)
        if origin is None or not origin.address or origin.index is None:
            return None
        parts = origin.address.split(".")
        if len(parts) < 2 or parts[-2] not in df.TF_POSITION_KEYED_TYPES:
            return None
        siblings = _keys_by_address(ev).get(origin.address, [])
        kind = positional(siblings)
        if kind:
            how = "count" if kind == "count" else "for_each over list positions"
            return self.failed(f"{origin.address}[{origin.index!r}] is keyed by {how}: inserting or reordering a disk "
                               "recreates the disks after it; re-key and move the state with refit tf migrate-keys")
        return self.ok()


def _keys_by_address(ev: Eval) -> dict[str, list[object]]:
    cache = ev.ctx.__dict__.setdefault("_tf_keys", None)
    if cache is None:
        cache = {}
        for k, o in ev.ctx.source.origins.items():
            if o.address and o.index is not None and ev.ctx.world.get(k) is not None:
                cache.setdefault(o.address, []).append(o.index)
        ev.ctx.__dict__["_tf_keys"] = cache
    return cache


check = register(DisksKeyedByPosition())
