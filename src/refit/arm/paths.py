"""Dotted paths into ARM JSON: `properties.storageProfile.osDisk.managedDisk.id`.

Keys are matched exactly first, then case-insensitively (ARM treats property names that way and
templates written by hand are not always in canonical casing). `[n]` indexes lists.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_MISSING = object()
_SEG = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@functools.lru_cache(maxsize=8192)
def _segments(path: str) -> tuple[str | int, ...]:
    # Paths are a few hundred distinct strings (the rules', the views'), read millions of times by the planner.
    return tuple(m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _SEG.finditer(path))


def split_path(path: str) -> list[str | int]:
    return list(_segments(path))


def _lookup(obj: Any, seg: str | int) -> Any:
    if isinstance(seg, int):
        if isinstance(obj, list) and -len(obj) <= seg < len(obj):
            return obj[seg]
        return _MISSING
    if not isinstance(obj, dict):
        return _MISSING
    if seg in obj:
        return obj[seg]
    low = seg.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return _MISSING


def get_path(doc: Any, path: str, default: Any = None) -> Any:
    cur = doc
    for seg in _segments(path):
        cur = _lookup(cur, seg)
        if cur is _MISSING:
            return default
    return cur


def has_path(doc: Any, path: str) -> bool:
    return get_path(doc, path, _MISSING) is not _MISSING


def set_path(doc: dict, path: str, value: Any) -> None:
    """Set a value, creating intermediate objects; reuses the existing key casing."""
    segs = split_path(path)
    cur: Any = doc
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                raise KeyError(f"list index {seg} out of range in '{path}'")
            if last:
                cur[seg] = value
                return
            cur = cur[seg]
            continue
        key = seg
        if seg not in cur:
            for k in cur:
                if isinstance(k, str) and k.lower() == seg.lower():
                    key = k
                    break
        if last:
            cur[key] = value
            return
        nxt = cur.get(key)
        if not isinstance(nxt, dict | list):
            nxt = {}
            cur[key] = nxt
        cur = nxt


def deep_merge(base: Any, patch: Any) -> Any:
    """JSON merge-patch semantics as ARM PATCH uses them: objects merge, null deletes, the rest replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return clone(patch)
    out = {k: v for k, v in base.items()}
    patched: set[Any] = set()
    for k, v in patch.items():
        existing = next((ek for ek in out if isinstance(ek, str) and ek.lower() == k.lower()), k)
        if v is None:
            out.pop(existing, None)
        elif isinstance(v, dict) and isinstance(out.get(existing), dict):
            out[existing] = deep_merge(out[existing], v)
        else:
            out.pop(existing, None)
            existing = k if existing == k else existing
            out[existing] = clone(v)
        patched.add(existing)
    for k in out:
        if k not in patched:
            out[k] = clone(out[k])  # what the patch leaves is copied too: the result shares nothing with `base`
    return out


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars): what copy.deepcopy does for it, several times faster
    (no memo, no reduce protocol). Tuples and sets are copied as themselves; other objects are shared."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value
