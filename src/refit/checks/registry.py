"""The check registry (checkov's shape: one check per module, registered on import, discovered by package).

Every module under `refit.checks.catalog` defines one Check subclass and ends with `check = register(Cls())`.
"""

from __future__ import annotations

import importlib
import pkgutil

from refit.checks.model import INPUTS, SEVERITIES, Check

CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    if not check.id or check.id in CHECKS:
        raise ValueError(f"check id missing or duplicate: {check.id!r}")
    if check.severity not in SEVERITIES:
        raise ValueError(f"{check.id}: severity {check.severity!r} is not one of {SEVERITIES}")
    if not check.inputs or any(i not in INPUTS for i in check.inputs):
        raise ValueError(f"{check.id}: inputs {check.inputs!r} must be among {INPUTS}")
    if not check.resource_types:
        raise ValueError(f"{check.id}: no resource types")
    CHECKS[check.id] = check
    return check


_loaded = False


def all_checks() -> list[Check]:
    """Every check, in id order."""
    global _loaded
    if not _loaded:
        from refit.checks import catalog

        for m in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda m: m.name):
            importlib.import_module(f"{catalog.__name__}.{m.name}")
        _loaded = True
    return [CHECKS[k] for k in sorted(CHECKS)]


def get(check_id: str) -> Check | None:
    all_checks()
    return CHECKS.get(check_id.upper())
