"""Issue 11 acceptance: whatever a client sends, the emulator answers as ARM does, never with a 5xx.

A seeded fuzzer over every resource type the emulator serves: random paths, methods, api-versions, names, bodies
mutated into other JSON types, malformed JSON, Resource Graph queries. Most requests go through the emulator's
in-process wire entry (`Emulator.handle`, the call app.py makes for every ARM request) so that thousands run in
seconds; a share goes over real HTTPS on 127.0.0.1 to cover the server's own parsing (bodies that are not JSON).
Every answer must be below 500 and every error ARM-shaped; afterwards the emulator still reads and writes.
The loop is bounded by count, each HTTPS request by a client timeout; nothing asserts on time.
"""

from __future__ import annotations

import copy
import json
import random
import ssl
from typing import Any

import httpx

from refit.emulator.core import WireRequest
from refit.platform import apis
from refit.platform.effects import all_types

SEED = 20261111
IN_PROCESS = 5200
OVER_HTTPS = 400
RG = "rg-fuzz"
UBUNTU = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"}

# The value pool a mutation draws from: other JSON types, out-of-range numbers, names and regions that do not exist.
VALUES: list[Any] = [
    "four", "", "x" * 5000, "narnia", "1", "Banana", "bad;name", "\u0000", "\u00e9\u00e8", "\U0001f600", "-1",
    "/subscriptions/x", "true", 0, -1, -5, 1, 123, 2**31, 2**63, -(2**64), 1.5, 1e308, True, False, None, [], {},
    [1, "a"], ["1"], [None], [{"id": 5}], {"a": 1}, {"id": None}, {"id": "/subscriptions/nope"}, [[[]]],
]
NAMES = ["a", "x" * 81, "x" * 5000, "bad;name", "-lead", "trail-", "trail.", "_under", "sp ace", "\u00e9t\u00e9",
         "a.b", "1.0.0", "v1", "UPPER", "%41", "(paren)", "..", "a" * 64, "a" * 65, "a" * 260, "a" * 261]
METHODS = ["PUT"] * 5 + ["PATCH"] * 2 + ["GET"] * 2 + ["DELETE", "POST", "HEAD", "OPTIONS", "FOO"]
ACTIONS = ["start", "deallocate", "powerOff", "restart", "redeploy", "reapply", "runCommand", "manualupgrade",
           "instanceView", "capture", "generalize", "teleport", "", "%00"]
KQL = ["Resources", "Resources | where type =~ 'microsoft.compute/virtualmachines' | project name",
       "Resources | summarize count() by type", "ResourceContainers | project id", "Resources | take",
       "Resources | where", "Resources | project-away", "Resources | where name == ", "| | |", "((((((",
       "Resources | extend x = todynamic(properties) | mv-expand x", "Resources | join kind=inner (Resources) on id",
       "Resources | order by name asc | limit -1", "Resources | where " + "(" * 500 + "1" + ")" * 500,
       "Nope | take 1", "Resources | summarize arg_max(name, *) by type", "\u0000", "'unterminated"]


def _rid(sub: str, t: str, *names: str) -> str:
    ns, *types = t.split("/")
    pairs = "/".join(f"{a}/{b}" for a, b in zip(types, names, strict=False))
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{ns}/{pairs}"


def _templates(sub: str) -> dict[str, tuple[list[str], dict[str, Any]]]:
    """A valid body per type (the names of its existing instance, its body); every type the emulator serves."""
    nic = _rid(sub, "Microsoft.Network/networkInterfaces", "nic1")
    disk = _rid(sub, "Microsoft.Compute/disks", "d1")
    os_disk = {"createOption": "FromImage", "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"}}
    out: dict[str, tuple[list[str], dict[str, Any]]] = {
        "Microsoft.Compute/disks": (["d1"], {"location": "eastus", "sku": {"name": "Premium_LRS"}, "zones": ["1"],
                                              "tags": {"team": "a"}, "properties": {
            "creationData": {"createOption": "Empty"}, "diskSizeGB": 32, "networkAccessPolicy": "AllowAll"}}),
        "Microsoft.Compute/virtualMachines": (["vm1"], {"location": "eastus", "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"imageReference": UBUNTU, "osDisk": os_disk,
                               "dataDisks": [{"lun": 0, "createOption": "Empty", "diskSizeGB": 4}]},
            "osProfile": {"computerName": "vm1", "adminUsername": "azureuser",
                          "linuxConfiguration": {"disablePasswordAuthentication": True}},
            "securityProfile": {"securityType": "TrustedLaunch",
                                "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}},
            "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"primary": True}}]}}}),
        "Microsoft.Compute/virtualMachineScaleSets": (["ss1"], {
            "location": "eastus", "sku": {"name": "Standard_D2s_v5", "capacity": 2}, "zones": ["1", "2"],
            "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"},
                           "virtualMachineProfile": {
                               "storageProfile": {"imageReference": UBUNTU, "osDisk": os_disk},
                               "osProfile": {"computerNamePrefix": "ss", "adminUsername": "azureuser"},
                               "extensionProfile": {"extensions": [{"name": "health", "properties": {
                                   "publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux",
                                   "typeHandlerVersion": "1.0", "settings": {"port": 80}}}]},
                               "networkProfile": {"networkInterfaceConfigurations": [{"name": "n", "properties": {
                                   "primary": True, "ipConfigurations": [{"name": "ip", "properties": {
                                       "subnet": {"id": nic + "/subnets/x"}}}]}}]}}}}),
        "Microsoft.Compute/galleries": (["g1"], {"location": "eastus", "properties": {"description": "d"}}),
        "Microsoft.Compute/galleries/images": (["g1", "def1"], {"location": "eastus", "properties": {
            "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
            "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}}),
        "Microsoft.Compute/galleries/images/versions": (["g1", "def1", "1.0.0"], {"location": "eastus", "properties": {
            "storageProfile": {"source": {"id": disk}},
            "publishingProfile": {"targetRegions": [{"name": "eastus", "regionalReplicaCount": 1}]}}}),
        "Microsoft.Compute/images": (["mi1"], {"location": "eastus", "properties": {"hyperVGeneration": "V2",
            "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized", "managedDisk": {"id": disk}}}}}),
        "Microsoft.Compute/capacityReservationGroups": (["crg1"], {"location": "eastus", "zones": ["1"]}),
        "Microsoft.Compute/capacityReservationGroups/capacityReservations": (["crg1", "cr1"], {
            "location": "eastus", "zones": ["1"], "sku": {"name": "Standard_D2s_v5", "capacity": 1}}),
        "Microsoft.Compute/snapshots": (["snap1"], {"location": "eastus", "properties": {
            "creationData": {"createOption": "Copy", "sourceResourceId": disk}}}),
        "Microsoft.Compute/virtualMachines/extensions": (["vm1", "ext1"], {"location": "eastus", "properties": {
            "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1"}}),
        "Microsoft.Compute/virtualMachineScaleSets/extensions": (["ss1", "ext1"], {"properties": {
            "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1"}}),
    }
    for t in all_types():
        if t not in out and t != "Microsoft.Resources/resourceGroups":
            depth = t.count("/")
            out[t] = ([f"{t.rsplit('/', 1)[-1][:6].lower()}1"] * depth, {"location": "eastus", "properties": {}})
    out["Microsoft.Network/networkInterfaces"] = (["nic1"], {"location": "eastus", "properties": {}})
    return out


def _containers(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON document."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        c = stack.pop()
        items = c.items() if isinstance(c, dict) else enumerate(c) if isinstance(c, list) else ()
        for k, v in items:
            out.append((c, k))
            stack.append(v)
    return out


def _mutate(rng: random.Random, body: dict[str, Any]) -> Any:
    b = copy.deepcopy(body)
    roll = rng.random()
    if roll < 0.04:
        return rng.choice([[], "body", 5, None, [b], True])  # not an object at all
    if roll < 0.08:
        b[rng.choice(["properties", "tags", "sku", "zones", "location", "identity"])] = copy.deepcopy(rng.choice(VALUES))
        return b
    if roll < 0.10:
        nested: Any = 1
        for _ in range(rng.choice([63, 65, 200])):
            nested = [nested] if rng.random() < 0.5 else {"p": nested}
        b.setdefault("properties", {})["deep"] = nested
        return b
    for _ in range(rng.randint(1, 3)):
        spots = _containers(b)
        if not spots:
            break
        container, key = rng.choice(spots)
        r = rng.random()
        if r < 0.75:
            container[key] = copy.deepcopy(rng.choice(VALUES))
        elif r < 0.9 and isinstance(container, dict):
            del container[key]
        elif isinstance(container, dict):
            container[rng.choice(["unknown", "ID", "Location", "PROPERTIES"])] = copy.deepcopy(rng.choice(VALUES))
    return b


def _api(rng: random.Random, arm_type: str) -> str | None:
    r = rng.random()
    if r < 0.9:
        return apis.api_version(arm_type)
    return rng.choice([None, "", "yesterday", "2099-01-01", "2014-01-01", "2024-07-01-preview", "2024-13-45"])


class Fuzzer:
    def __init__(self, sub: str, seed: int):
        self.sub = sub
        self.rng = random.Random(seed)
        self.templates = _templates(sub)
        self.types = sorted(self.templates)
        self.seen: dict[str, int] = dict.fromkeys(self.types, 0)

    def request(self) -> tuple[str, str, dict[str, str], Any]:
        """(method, path, query, body): mostly a served type's resource, else another corner of ARM's surface."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return "POST", "/providers/Microsoft.ResourceGraph/resources", {"api-version": "2022-10-01"}, rng.choice([
                {"query": rng.choice(KQL)}, {"query": rng.choice(KQL), "options": {"$top": rng.choice(VALUES)}},
                {"query": rng.choice(VALUES)}, {"options": {"$skipToken": "bm90IGpzb24="}}, rng.choice(VALUES)])
        if roll < 0.09:
            return rng.choice(METHODS), self._random_path(), {"api-version": rng.choice(["2024-11-01", "x"])}, None
        if roll < 0.13:
            return self._group_request()
        t = rng.choice(self.types)
        self.seen[t] += 1
        names, body = self.templates[t]
        names = list(names)
        if rng.random() < 0.3:
            names[-1] = rng.choice(NAMES)
        path = _rid(self.sub, t, *names)
        method = rng.choice(METHODS)
        query = {"api-version": _api(rng, t)}
        if rng.random() < 0.1:
            query[rng.choice(["$expand", "$skiptoken", "$filter"])] = str(rng.choice(VALUES))[:50]
        query = {k: v for k, v in query.items() if v is not None}
        if method == "POST":
            path += "/" + rng.choice(ACTIONS)
            return method, path, query, rng.choice([None, {}, {"commandId": "RunShellScript", "script": ["ls"]},
                                                    {"instanceIds": rng.choice(VALUES)}, rng.choice(VALUES)])
        if method == "GET" and rng.random() < 0.3:
            path = path.rsplit("/", 1)[0]  # the collection
        return method, path, query, _mutate(rng, body) if method in ("PUT", "PATCH") else None

    def _group_request(self) -> tuple[str, str, dict[str, str], Any]:
        rng = self.rng
        name = rng.choice(["rg-other", *NAMES])
        path = f"/subscriptions/{self.sub}/resourceGroups/{name}"
        if rng.random() < 0.5:
            path += "/providers/Microsoft.Resources/tags/default"
            return rng.choice(["PUT", "PATCH", "GET", "DELETE", "POST"]), path, {"api-version": "2024-11-01"}, \
                _mutate(rng, {"operation": "Merge", "properties": {"tags": {"a": "b"}}})
        return rng.choice(["PUT", "PATCH", "GET", "HEAD", "DELETE"]), path, {"api-version": "2024-11-01"}, \
            _mutate(rng, {"location": "eastus", "tags": {"a": "b"}})

    def _random_path(self) -> str:
        rng = self.rng
        words = ["subscriptions", self.sub, "resourceGroups", RG, "providers", "Microsoft.Compute", "locations",
                 "eastus", "operations", "virtualMachines", "x", "", "..", "%2F", "resources", "tags", "default",
                 "Microsoft.Resources", "Microsoft.ResourceGraph", "tenants", "skus", "\u00e9"]
        return "/" + "/".join(rng.choice(words) for _ in range(rng.randint(0, 12)))


def _arm_shaped(body: Any) -> bool:
    err = body.get("error") if isinstance(body, dict) else None
    return isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)


def _seed_world(raw: httpx.Client, server, sub: str, templates) -> None:
    """One of each resource the fuzzer mutates, so that updates, children and actions have something to hit."""
    raw.put(f"/subscriptions/{sub}/resourceGroups/{RG}", params={"api-version": "2024-11-01"},
            json={"location": "eastus"}).raise_for_status()
    order = ["Microsoft.Network/networkInterfaces", "Microsoft.Compute/disks", "Microsoft.Compute/virtualMachines",
             "Microsoft.Compute/galleries", "Microsoft.Compute/galleries/images",
             "Microsoft.Compute/galleries/images/versions", "Microsoft.Compute/images",
             "Microsoft.Compute/virtualMachineScaleSets", "Microsoft.Compute/capacityReservationGroups",
             "Microsoft.Compute/capacityReservationGroups/capacityReservations", "Microsoft.Compute/snapshots",
             "Microsoft.Compute/virtualMachines/extensions", "Microsoft.Compute/virtualMachineScaleSets/extensions"]
    for t in order:
        names, body = templates[t]
        r = raw.put(_rid(sub, t, *names), params={"api-version": apis.api_version(t)}, json=body)
        assert r.status_code in (200, 201, 202), (t, r.text)
        server.emulator.clock.advance(3600)


def test_no_input_gets_a_5xx_and_every_error_is_arm_shaped(server, raw, sub):
    fuzz = Fuzzer(sub, SEED)
    _seed_world(raw, server, sub, fuzz.templates)
    emu = server.emulator
    failures: list[str] = []
    statuses: dict[int, int] = {}

    def record(i: int, how: str, method: str, path: str, body: Any, status: int, answer: Any) -> None:
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500 or (status >= 400 and method != "HEAD" and not _arm_shaped(answer)):
            failures.append(f"#{i} {how} {method} {path[:120]} body={json.dumps(body, default=str)[:200]} -> "
                            f"{status} {str(answer)[:200]}")

    for i in range(IN_PROCESS):
        method, path, query, body = fuzz.request()
        try:
            resp = emu.handle(WireRequest(method, path, query, body, server.url))
            status, answer = resp.status, resp.body
        except Exception as e:  # app.py would answer this with a 500
            status, answer = 500, f"{type(e).__name__}: {e}"
        record(i, "wire", method, path, body, status, answer)
        if i % 250 == 0:
            emu.clock.advance(3600)  # let operations finish, so that writes are not all refused as conflicts

    ctx = ssl.create_default_context(cafile=str(server.cert))
    raw_bodies = [b"{not json", b'{"location":', b"\xff\xfe\x00", b"[" * 100000, b"null", b'"s"', b"1e999999",
                  b'{"location": "eastus", "properties": {"diskSizeGB": NaN}}', b"{}" * 3, b" " * 10]
    with httpx.Client(base_url=server.url, verify=ctx, headers={"Authorization": "Bearer t"}, timeout=10) as client:
        for i in range(OVER_HTTPS):
            method, path, query, body = fuzz.request()
            if method in ("PUT", "PATCH", "POST") and fuzz.rng.random() < 0.4:
                content = fuzz.rng.choice(raw_bodies)
            else:
                content = json.dumps(body).encode() if body is not None else b""
            r = client.request(method, path, params=query, content=content,
                               headers={"content-type": "application/json"})
            try:
                answer = r.json() if r.content else None
            except ValueError:
                answer = r.text
            record(IN_PROCESS + i, "https", method, path, content[:200], r.status_code, answer)

    assert failures == [], "\n".join(failures[:25])
    assert sum(statuses.values()) == IN_PROCESS + OVER_HTTPS >= 5000
    assert min(fuzz.seen.values()) >= 50, fuzz.seen  # every served type was fuzzed
    assert statuses.get(400, 0) > 500  # the fuzzer reached the platform's refusals, not only routing

    # Healthy afterwards: a normal read and a normal write still work.
    p = {"api-version": "2024-11-01"}
    assert raw.get(f"/subscriptions/{sub}/resourceGroups/{RG}", params=p).status_code == 200
    r = raw.put(f"/subscriptions/{sub}/resourceGroups/rg-after", params=p, json={"location": "westus2"})
    assert (r.status_code, r.json()["location"]) == (201, "westus2")
    d = _rid(sub, "Microsoft.Compute/disks", "after")
    r = raw.put(d, params={"api-version": apis.DISKS}, json={"location": "eastus", "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": 8}})
    assert r.status_code == 202
    emu.clock.advance(3600)
    assert raw.get(d, params={"api-version": apis.DISKS}).json()["properties"]["diskSizeGB"] == 8
