"""Region names as ARM compares them: the programmatic name, lowercase without spaces ('East US 2' and
'eastus2' are one region; every Azure display name maps to its programmatic name this way,
https://learn.microsoft.com/azure/reliability/regions-list). The one normaliser in refit."""

from __future__ import annotations


def normalize(name: str | None) -> str:
    return (name or "").replace(" ", "").lower()


def same(a: str | None, b: str | None) -> bool:
    return normalize(a) == normalize(b)
