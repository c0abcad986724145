"""refit.checks: the doctor's best-practice checks ("is this state legal but wrong?", DESIGN.md), one per module
in `refit.checks.catalog`, run over a `refit.sources.Source` by `refit.checks.run.run`; reporters for text,
JSON and SARIF; suppressions with a justification and an expiry date."""

from refit.checks.model import Check, Eval, Fix, Result
from refit.checks.registry import all_checks, get

__all__ = ["Check", "Eval", "Fix", "Result", "all_checks", "get"]
