"""refit.rules: Azure's platform rules, written once (DESIGN.md "The one idea").

Used by the emulator (would Azure reject this write?), the planner (which next operations are legal?)
and the doctor. `validate_write` is the single hook every write the emulator accepts goes through.
"""

from refit.rules.registry import RULES, Rule, Violation, rule, validate_write

__all__ = ["RULES", "Rule", "Violation", "rule", "validate_write"]
