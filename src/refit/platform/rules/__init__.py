"""refit.platform.rules: Azure's platform rules, written once (DESIGN.md "The one idea").

Used by the emulator (would Azure reject this write?), the planner (which next operations are legal?)
and the doctor. `validate_write` is the single hook every write the emulator accepts goes through.
Importing the package registers the whole catalog: one module per family of the reference
(ARM's own answers, the request bodies and names (schema), security types, VMs and OS disks, VM sizes, disks, scale sets, galleries, capacity
reservations, managed images, Image Builder templates, role assignments, template deployments). The order of
registration is the order the emulator reports violations in (it answers with the first).
"""

from refit.platform.rules.registry import RULES, ErrorTemplate, Rule, Violation, refusal, rule, validate_write

# Registration (import for the side effect), in reporting order.
# isort: off
from refit.platform.rules import arm  # noqa: F401
from refit.platform.rules import schema  # noqa: F401
from refit.platform.rules import vm  # noqa: F401
from refit.platform.rules import security  # noqa: F401
from refit.platform.rules import sizes  # noqa: F401
from refit.platform.rules import disks  # noqa: F401
from refit.platform.rules import vmss  # noqa: F401
from refit.platform.rules import gallery  # noqa: F401
from refit.platform.rules import confidential  # noqa: F401
from refit.platform.rules import capacity  # noqa: F401
from refit.platform.rules import managed_images  # noqa: F401
from refit.platform.rules import imagebuilder  # noqa: F401
from refit.platform.rules import authorization  # noqa: F401
from refit.platform.rules import deployments  # noqa: F401
from refit.platform.rules import network  # noqa: F401
from refit.platform.rules import storage  # noqa: F401
from refit.platform.rules import flowlogs  # noqa: F401
from refit.platform.rules import extensions  # noqa: F401
from refit.platform.rules import directory  # noqa: F401
# isort: on

__all__ = ["RULES", "ErrorTemplate", "Rule", "Violation", "refusal", "rule", "validate_write"]
