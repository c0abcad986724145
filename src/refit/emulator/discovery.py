"""Discovery on the wire: resource lists with ARM's `$filter`, `$top` and `$expand`, and provider registrations.

  /subscriptions/{s}/resources                          Resources_List
  /subscriptions/{s}/resourceGroups/{rg}/resources      Resources_ListByResourceGroup
  /subscriptions/{s}/providers[/{namespace}]            Providers_List, Providers_Get (refit.platform.providers)

What a list holds (https://learn.microsoft.com/rest/api/resources/resources/list): the tracked resources of the
scope, i.e. those with a location (a VM's extensions and a gallery's versions are listed; a subnet, a probe, a
scale set's extension and a deployment are not: INFERRED from what `az resource list` shows), each as a
GenericResourceExpanded: `id`, `name`, `type`, `location` and whichever of `sku`, `kind`, `managedBy`, `identity`,
`plan`, `tags`, `zones`, `extendedLocation` it has; `$expand=createdTime,changedTime,provisioningState` (what
`az resource list` sends) adds `provisioningState`, and `createdTime` where the resource records its creation time
(`properties.timeCreated`; refit keeps no other creation or change time). `$top` is the size of each page
(Azure/azure-rest-api-specs#18525), `nextLink` carries on.

`$filter` as az builds it (azure-cli resource/custom.py _list_resources_odata_filter_builder: `resourceGroup eq`,
`name eq`, `location eq`, `resourceType eq` joined by `and`; `tagname eq` with `tagvalue eq`, or
`startswith(tagname, ...)`, alone) and `substringof('x', name)`. Names, types, groups and tag names compare
without case, as ARM's names do; tag values exactly (INFERRED); the rest is refused (rule ARM17).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from refit.arm import location
from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.emulator.core import Emulator, WireRequest, WireResponse
from refit.platform import providers as registrations
from refit.platform.effects import handler_for, known_type
from refit.platform.rules import RULES

LISTED_KEYS = ("id", "name", "type", "sku", "kind", "managedBy", "location", "extendedLocation", "identity", "plan",
               "tags", "zones")
_CLAUSE = re.compile(r"""\s*(?:
      (?P<prop>[A-Za-z]+)\s+eq\s+'(?P<value>(?:[^']|'')*)'
    | substringof\(\s*'(?P<part>(?:[^']|'')*)'\s*,\s*name\s*\)
    | startswith\(\s*tagname\s*,\s*'(?P<prefix>(?:[^']|'')*)'\s*\)
    )\s*""", re.I | re.X)
_AND = re.compile(r"and\b", re.I)
Doc = dict[str, Any]


# ---- provider registrations ------------------------------------------------------------------------------------
def providers(emu: Emulator, req: WireRequest, sub: str) -> WireResponse:
    emu.check_api_version(req)
    return WireResponse(200, {"value": [registrations.registration(sub, ns) for ns in registrations.namespaces()]})


def provider(emu: Emulator, req: WireRequest, sub: str, namespace: str) -> WireResponse:
    emu.check_api_version(req)
    doc = registrations.registration(sub, namespace)
    if doc is None:
        # aci-connector-k8s#13 quotes the message (INFERRED: the status).
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
    return WireResponse(200, doc)


# ---- resource lists --------------------------------------------------------------------------------------------
def resources(emu: Emulator, req: WireRequest, sub: str, rg: str | None = None) -> WireResponse:
    from refit.emulator.dispatch import page

    emu.check_api_version(req)
    keep = matcher(req.query.get("$filter"))
    size = page_size(req.query.get("$top"))
    expand = {e.strip().lower() for e in (req.query.get("$expand") or "").split(",") if e.strip()}
    prefix = id_key(ResourceId(sub, rg)) + "/"
    items = [listed(d, expand) for d in emu.world
             if id_key(d["id"]).startswith(prefix) and tracked(d) and keep(d)]
    return page(emu, req, items, size)


def tracked(doc: Doc) -> bool:
    """A resource a resource list shows: a provider's resource with a location, of a type that lists."""
    if "/providers/" not in id_key(doc["id"]) or not doc.get("location"):
        return False
    t = doc.get("type") or ""
    return handler_for(t).listed if known_type(t) else True


def listed(doc: Doc, expand: set[str]) -> Doc:
    out = {k: doc[k] for k in LISTED_KEYS if k in doc}
    props = doc.get("properties") if isinstance(doc.get("properties"), dict) else {}
    if "createdtime" in expand and props.get("timeCreated"):
        out["createdTime"] = props["timeCreated"]
    if "provisioningstate" in expand and props.get("provisioningState"):
        out["provisioningState"] = props["provisioningState"]
    return out


def page_size(top: str | None) -> int:
    from refit.emulator.dispatch import PAGE_SIZE

    if top is None:
        return PAGE_SIZE
    if not top.isdigit() or int(top) < 1:
        raise RULES["ARM18"].refuse(top=top)
    return min(int(top), PAGE_SIZE)


def matcher(text: str | None) -> Callable[[Doc], bool]:
    """The predicate of a `$filter` (everything for none); ARM's refusal (rule ARM17) for one it does not read."""
    if not text or not text.strip():
        return lambda d: True
    clauses = _clauses(text)
    if clauses is None:
        raise RULES["ARM17"].refuse(filter=text)
    tag = [c for c in clauses if c[0] in ("tagname", "tagvalue", "startswith")]
    names = [c for c in tag if c[0] in ("tagname", "startswith")]
    if tag and (len(tag) != len(clauses) or len(names) != 1 or len(tag) > 2):
        raise RULES["ARM17"].refuse(filter=text)  # tags filter on their own (azure-sdk-for-net#2757)
    tests = [_test(kind, value, names[0] if names else None) for kind, value in clauses]
    if any(t is None for t in tests):
        raise RULES["ARM17"].refuse(filter=text)
    return lambda d: all(t(d) for t in tests)


def _clauses(text: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = _CLAUSE.match(text, pos)
        if m is None:
            return None
        if m.group("prop"):
            out.append((m.group("prop").lower(), m.group("value").replace("''", "'")))
        elif m.group("part") is not None:
            out.append(("substringof", m.group("part").replace("''", "'")))
        else:
            out.append(("startswith", m.group("prefix").replace("''", "'")))
        pos = m.end()
        if pos == len(text):
            return out
        a = _AND.match(text, pos)
        if a is None:
            return None
        pos = a.end()


def _test(kind: str, value: str, tag_name: tuple[str, str] | None) -> Callable[[Doc], bool] | None:
    v = value.lower()
    if kind == "name":
        return lambda d: str(d.get("name", "")).lower() == v
    if kind == "substringof":
        return lambda d: v in str(d.get("name", "")).lower()
    if kind == "resourcetype":
        return lambda d: str(d.get("type", "")).lower() == v
    if kind == "resourcegroup":
        return lambda d: (ResourceId.parse(d["id"]).resource_group or "").lower() == v
    if kind == "location":
        return lambda d: location.normalize(str(d.get("location", ""))) == location.normalize(value)
    if kind == "tagname":
        return lambda d: any(k.lower() == v for k in _tags(d))
    if kind == "startswith":
        return lambda d: any(k.lower().startswith(v) for k in _tags(d))
    if kind == "tagvalue" and tag_name is not None and tag_name[0] == "tagname":
        name = tag_name[1].lower()
        return lambda d: any(k.lower() == name and val == value for k, val in _tags(d).items())
    return None


def _tags(doc: Doc) -> dict[str, Any]:
    tags = doc.get("tags")
    return tags if isinstance(tags, dict) else {}
