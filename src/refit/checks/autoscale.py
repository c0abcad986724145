"""Autoscale readings: the rules of every profile (Microsoft.Insights/autoscalesettings)."""

from __future__ import annotations

from typing import Any

from refit.checks.model import Eval


def rules(ev: Eval) -> list[tuple[str, dict[str, Any]]]:
    """(profile name, rule) for every rule of every profile, when the setting is enabled."""
    if ev.get("properties.enabled") is False:
        return []
    out = []
    for p in ev.get("properties.profiles") or []:
        for r in (p or {}).get("rules") or []:
            if isinstance(r, dict):
                out.append((p.get("name") or "profile", r))
    return out


def direction(rule: dict[str, Any]) -> str:
    return str((rule.get("scaleAction") or {}).get("direction") or "")
