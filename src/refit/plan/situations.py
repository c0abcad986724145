"""Plans grow with situations, not resources (issue 13 scope 3).

Goals that are each planned alone (a component of one goal) on resources in the same situation get the same
answer up to the resource's name: 10,000 Standard VMs of one image, zone, power state and size are one search.
A situation is the group's neighborhood (the documents it can touch: `plan.neighborhood`) and its goal, with
the resource's name and its resource group's name replaced by placeholders and the values Azure gives each
resource of its own dropped (ids, addresses, times). Two groups with the same situation are, document for
document, renamings of each other, so the first one's answer (its steps, why, cost; or its blocking rules) is
renamed for the second.

The renamed steps are not trusted: the planner performs every one of them on the whole fleet (the platform's
rules, as for a searched path), and a step the platform refuses sends that group back to a search of its own.
A group is templated only when every step of its answer writes a resource of its own (a name with the
resource's placeholder): an answer that creates a shared image would otherwise be repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from refit.arm.ids import ResourceId
from refit.arm.world import World
from refit.plan.goal import Goal
from refit.plan.sim import _VOLATILE
from refit.platform.effects import extensions

NAME, GROUP = "{{refit:name}}", "{{refit:resource-group}}"
# What Azure gives each resource of its own and no rule the planner plans against reads: left out of a situation.
_OWN = frozenset({"etag", "resourceGuid", "macAddress", "privateIPAddress", "uniqueId", "vmId", "timeCreated",
                  "LastOwnershipUpdateTime", "diskSizeBytes", "uniqueIdentifier"}) | _VOLATILE


@dataclass(frozen=True)
class Situation:
    key: str  # the renamed neighborhood and goal
    names: tuple[tuple[str, str], ...]  # (placeholder, this group's name), longest name first

    def rename(self, text: str) -> str:
        """This group's names -> placeholders, where a name stands alone (not inside a longer word: `vm-1` in
        `vm-1-os` is renamed, in `vm-12` it is not)."""
        for placeholder, name in self.names:
            text = _replace_word(text, name, placeholder)
        return text

    def instantiate(self, template: str) -> str:
        for placeholder, name in self.names:
            template = template.replace(placeholder, name)
        return template


class Texts:
    """Each document's text in a situation, computed once per version of the document (a plan's groups share
    their images and resource groups)."""

    def __init__(self) -> None:
        self._by_key: dict[str, tuple[dict, str]] = {}

    def of(self, doc: dict[str, Any]) -> str:
        k = str(doc.get("id", "")).lower()
        hit = self._by_key.get(k)
        if hit is None or hit[0] is not doc:  # the world replaces a document when it changes
            hit = self._by_key[k] = (doc, json.dumps(_strip(doc), sort_keys=True, separators=(",", ":")))
        return hit[1]


def situation(nb: World, goals: list[Goal], texts: Texts | None = None) -> Situation | None:
    """The situation of a group of goals, or None when its answer cannot be shared (several goals; a name that
    renames ambiguously)."""
    if len(goals) != 1:
        return None
    rid = ResourceId.parse(goals[0].resource)
    names = tuple(sorted(((NAME, rid.name), (GROUP, rid.resource_group or "")), key=lambda x: -len(x[1])))
    if not rid.resource_group or rid.name.lower() == rid.resource_group.lower() or any(
            n.lower() in (NAME + GROUP).lower() for _, n in names):
        return None
    if any(extensions.is_aad_login(d) for d in nb.of_type(extensions.VM_EXTENSION)):
        return None  # its recreate path names the VM's own Entra devices (by id), which renaming cannot carry
    texts = texts or Texts()
    docs = sorted(nb, key=lambda d: str(d.get("id", "")).lower())
    text = "[" + json.dumps(goals[0].model_dump(), sort_keys=True) + "," + ",".join(texts.of(d) for d in docs) + "]"
    if NAME in text or GROUP in text:
        return None
    s = Situation("", names)
    return Situation(s.rename(text), names)


def template(sit: Situation, answer: Any) -> str | None:
    """The answer, with this group's names as placeholders; None when a step writes a shared resource."""
    text = sit.rename(json.dumps(answer, sort_keys=True))
    for step in json.loads(text).get("ops", []):
        if NAME not in step["resource"] or NAME not in (step.get("creates") or NAME):
            return None
    return text


def _strip(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in _OWN}
    if isinstance(doc, list):
        return [_strip(x) for x in doc]
    return doc


def _replace_word(text: str, word: str, by: str) -> str:
    out, start, n = [], 0, len(word)
    while (i := text.find(word, start)) >= 0:
        j = i + n
        if (i == 0 or not text[i - 1].isalnum()) and (j == len(text) or not text[j].isalnum()):
            out += [text[start:i], by]
        else:
            out.append(text[start:j])
        start = j
    out.append(text[start:])
    return "".join(out)
