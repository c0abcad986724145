"""Tag-driven OS disk refresh (seed 003), done fast, safely and resumably.

The tag contract of seed 003, names configurable (`Tags`): a VM is in scope when tagged
`AutoRefresh=true` (compared case-insensitively, as the seed's `=~`); its `OsDiskName` tag names the
managed disk, in the VM's own resource group, that it should run; new disks are named `<vm>-<suffix>`.
refit adds one tag, `OsDiskPrevious`: the disk the VM ran before its last refit swap (rollback target;
also in the journal). The seed's scripts ignore it, so a fleet half-managed by them and half by refit
stays consistent: both treat `OsDiskName` as the desired state and the swap as its reconciler.

Modules: `scope` (fleet, selection, `Assessment`), `precheck`, `swap`, `rollback`, `disks`, `tag`, `prune`,
`status`. Commands: `plan_disks`/`run_disks` (`start_disks` + `disks_decisions`), `plan_tag`/`run_tag`
(`start_tag` + `tag_decisions`), `plan_swap` + `start_swap`/`resume`,
`plan_rollback`, `status`, `plan_prune`/`run_prune`. Pre-checks are the rule catalog's: the VM document
as it would be after the swap is handed to `refit.platform.rules.validate_write`; no rule is re-encoded here.
"""


from refit.run.campaign import Tags
from refit.run.refresh.disks import DiskItem, disks_decisions, plan_disks, run_disks, start_disks
from refit.run.refresh.precheck import check_swap, swap_violations
from refit.run.refresh.prune import plan_prune, run_prune
from refit.run.refresh.rollback import plan_rollback, start_rollback
from refit.run.refresh.scope import Assessment, Selection, execute_simple, load, select
from refit.run.refresh.status import REFRESH_KINDS, status
from refit.run.refresh.swap import SwapPlan, execute, interrupted_swap, plan_swap, shard_plan, start_swap
from refit.run.refresh.tag import plan_tag, run_tag, start_tag, tag_body, tag_decisions

__all__ = ["REFRESH_KINDS", "Assessment", "DiskItem", "Selection", "SwapPlan", "Tags", "check_swap", "disks_decisions", "execute", "execute_simple",
           "interrupted_swap",
           "load", "plan_disks", "plan_prune", "plan_rollback", "plan_swap", "plan_tag", "run_disks", "run_prune",
           "run_tag", "select", "shard_plan", "start_disks", "start_rollback", "start_swap", "start_tag", "status", "swap_violations",
           "tag_body", "tag_decisions"]
