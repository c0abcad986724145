"""refit.ops: the operation vocabulary. Each op is ONE concrete ARM request with its expected cost.

The planner composes ops; the simulator (refit.plan.sim) and `refit apply` execute exactly the request
an op carries, so what was planned is what runs.
"""

from refit.ops import vocabulary
from refit.ops.op import Op, Request

__all__ = ["Op", "Request", "vocabulary"]
