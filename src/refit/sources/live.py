"""Live state through Azure Resource Graph (paged to the end, every subscription given), the same path
`refit inventory` and the planner use: `refit.azure.fleet.load_world` over `Session.graph_query`."""

from __future__ import annotations

from refit.sources.base import Source


def load(session, subscriptions: list[str] | None = None) -> Source:
    from refit.azure.fleet import load_world

    subs = subscriptions or [session.subscription]
    world = load_world(session, subs)
    where = "emulator" if getattr(session, "emulator", False) else "Azure"
    return Source("live", f"{where} subscription(s) {', '.join(subs)} via Resource Graph", world)
