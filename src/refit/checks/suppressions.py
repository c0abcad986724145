"""Suppressions: a finding someone accepted, with a justification and an expiry date. Reported as
suppressed, never hidden; an expired suppression no longer applies (the finding fails again, and says so).

From a file (`--suppressions FILE`, YAML or JSON):

    suppressions:
      - check: RF-VMSS-010
        resource: /subscriptions/*/resourceGroups/rg-quorum/providers/Microsoft.Compute/virtualMachineScaleSets/*
        justification: the quorum service needs exactly three fixed fault domains
        expires: 2027-06-30

or from a tag on the resource: `refit-suppress-RF-VMSS-010 = "2027-06-30 quorum needs 3 fixed FDs"`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from refit.arm.errors import UserError
from refit.arm.ids import id_key

TAG_PREFIX = "refit-suppress-"


@dataclass(frozen=True)
class Suppression:
    check: str
    resource: str  # an id or a glob over ids (case-insensitive)
    justification: str
    expires: dt.date
    origin: str  # "file PATH" | "tag NAME"

    def matches(self, check: str, resource: str) -> bool:
        if self.check.upper() != check.upper():
            return False
        pat = id_key(self.resource)
        return fnmatch.fnmatchcase(id_key(resource), pat) if any(c in pat for c in "*?[") else pat == id_key(resource)

    def expired(self, today: dt.date) -> bool:
        return self.expires < today

    def as_json(self) -> dict[str, Any]:
        return {"justification": self.justification, "expires": self.expires.isoformat(), "origin": self.origin}


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as e:
        raise UserError(f"{where}: expires must be a date YYYY-MM-DD, not '{value}'") from e


def load(path: Path) -> list[Suppression]:
    """Read a suppressions file; anything malformed is a one-line user error."""
    if not path.is_file():
        raise UserError(f"suppressions file '{path}' does not exist")
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise UserError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                        f"{str(e).splitlines()[0]}") from e
    items = data.get("suppressions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UserError(f"{path}: expected a list under 'suppressions:' of {{check, resource, justification, expires}}")
    from refit.checks.registry import get

    out = []
    for n, it in enumerate(items):
        where = f"{path}: suppressions[{n}]"
        if not isinstance(it, dict):
            raise UserError(f"{where}: expected a mapping with check, resource, justification, expires")
        missing = [k for k in ("check", "resource", "justification", "expires") if not it.get(k)]
        if missing:
            raise UserError(f"{where}: missing {', '.join(missing)} (every suppression needs a justification "
                            "and an expiry date)")
        unknown = set(it) - {"check", "resource", "justification", "expires"}
        if unknown:
            raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if get(str(it["check"])) is None:
            raise UserError(f"{where}: unknown check '{it['check']}' (see docs/checks/index.md)")
        out.append(Suppression(str(it["check"]).upper(), str(it["resource"]), str(it["justification"]).strip(),
                               _date(it["expires"], where), f"file {path}"))
    return out


def from_tags(doc: dict[str, Any]) -> tuple[list[Suppression], list[str]]:
    """Suppressions declared in the resource's tags, and the problems of malformed ones."""
    out, problems = [], []
    for name, value in (doc.get("tags") or {}).items():
        if not isinstance(name, str) or not name.lower().startswith(TAG_PREFIX):
            continue
        check = name[len(TAG_PREFIX):].upper()
        text = str(value or "").strip()
        date_txt, _, rest = text.partition(" ")
        justification = rest.strip().lstrip(":-").strip()
        try:
            expires = dt.date.fromisoformat(date_txt.rstrip(":"))
        except ValueError:
            problems.append(f"tag {name} ignored: its value must be 'YYYY-MM-DD justification', not '{text}'")
            continue
        if not justification:
            problems.append(f"tag {name} ignored: it has no justification after the date")
            continue
        out.append(Suppression(check, doc["id"], justification, expires, f"tag {name}"))
    return out, problems
