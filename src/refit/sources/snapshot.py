"""A snapshot file: ARM documents saved earlier (`refit doctor --save-snapshot`, a Resource Graph export, or
any JSON list of resources with `id`). Checked as live state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.sources.base import Source, canonical_type


def load(path: Path) -> Source:
    if not path.is_file():
        raise UserError(f"snapshot file '{path}' does not exist")
    try:
        data = json.loads(path.read_text())
    except ValueError as e:
        raise UserError(f"{path}: not valid JSON ({e})") from e
    docs = data.get("resources", data.get("data")) if isinstance(data, dict) else data
    if not isinstance(docs, list):
        raise UserError(f"{path}: expected a JSON list of ARM resources (or {{\"resources\": [...]}})")
    out: list[dict[str, Any]] = []
    for n, d in enumerate(docs):
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            raise UserError(f"{path}: resources[{n}] has no 'id'")
        try:
            rid = ResourceId.parse(d["id"])
        except ArmError as e:
            raise UserError(f"{path}: resources[{n}]: {e.message}") from e
        d = {k: val for k, val in d.items() if val is not None}
        d["type"] = canonical_type(d.get("type") or rid.type)
        d.setdefault("name", rid.name)
        out.append(d)
    return Source("live", f"snapshot {path}", World(out))


def save(source: Source, path: Path) -> None:
    path.write_text(json.dumps({"resources": list(source.world)}, indent=1, default=str))
