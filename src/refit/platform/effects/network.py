"""Microsoft.Network: the networking compute needs (virtual networks and subnets, NICs, public IPs, NSGs, load
balancers and their child resources). The one module for network behaviour; no routing.

What `az vm create` / `az vmss create` deploy (azure-cli vm/_template_builder.py: a virtual network with its subnet
inline, a public IP, an NSG with its rules inline, a NIC, and for a scale set a load balancer with an inbound NAT
rule as a child resource) is stored as sent, written synchronously, with the ids ARM gives the inline children (a
subnet's `id` is its vnet's id + `/subnets/{name}`, https://learn.microsoft.com/rest/api/virtualnetwork/
virtual-networks/get). A subnet is one resource whether it is written inline or on its own: each write updates the
other (INFERRED: Azure keeps one subnet; both GETs show it).

What Azure adds, as the REST examples show it (specs network stable 2024-05-01 examples NetworkInterfaceGet.json,
PublicIpAddressGet.json, LoadBalancerGet.json, VirtualNetworkGet.json):
- a NIC's IP configuration with `privateIPAllocationMethod` Dynamic (the default) gets the lowest free address of
  its subnet's prefix, skipping the five Azure reserves in every subnet (the first four and the last,
  https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#are-there-any-restrictions-on-using-ip-
  addresses-within-these-subnets); no free address is SubnetIsFull (rule NET1). It keeps its address across
  updates; `privateIPAddressVersion` IPv4 and `primary` on the first configuration.
- the references Azure keeps the other way, computed when read so they follow every write and delete: a NIC's
  `virtualMachine` (and its `primary` and `macAddress`, which it shows once a VM has it: INFERRED timing; the
  address is fixed when the NIC is created, `00-0D-3A-..` as in the example), a public IP's `ipConfiguration`, a
  subnet's `ipConfigurations`, a backend pool's `backendIPConfigurations`, a probe's and a frontend's
  `loadBalancingRules`, an NSG's `networkInterfaces` and `subnets`.
- a public IP's `ipAddress`: Static (the default for a Standard SKU) has it from creation, Dynamic once it is
  attached to a VM's NIC (https://learn.microsoft.com/azure/virtual-network/ip-services/public-ip-addresses
  #ip-address-assignment); addresses are drawn from 20.0.0.0/8 (INFERRED: refit's). A `domainNameLabel` gives the
  `fqdn` `{label}.{region}.cloudapp.azure.com`.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
from typing import Any
from weakref import WeakKeyDictionary

from refit.arm.errors import ArmError
from refit.arm.ids import ResourceId, id_key
from refit.arm.world import World
from refit.platform.cloud import Answer, Call
from refit.platform.effects import register
from refit.platform.effects.base import GenericType, same
from refit.platform.rules import RULES

NS = "Microsoft.Network"
NIC = f"{NS}/networkInterfaces"
VNET = f"{NS}/virtualNetworks"
SUBNET = f"{NS}/virtualNetworks/subnets"
PUBLIC_IP = f"{NS}/publicIPAddresses"
LB = f"{NS}/loadBalancers"
NSG = f"{NS}/networkSecurityGroups"
VM = "Microsoft.Compute/virtualMachines"
PUBLIC_POOL = ipaddress.ip_network("20.0.0.0/8")

# (child list property, child type segment) of the inline children each type carries.
_INLINE: dict[str, tuple[tuple[str, str], ...]] = {
    "virtualnetworks": (("subnets", "subnets"),),
    "networksecuritygroups": (("securityRules", "securityRules"),),
    "loadbalancers": (("frontendIPConfigurations", "frontendIPConfigurations"),
                      ("backendAddressPools", "backendAddressPools"), ("loadBalancingRules", "loadBalancingRules"),
                      ("probes", "probes"), ("inboundNatRules", "inboundNatRules")),
    "networkinterfaces": (("ipConfigurations", "ipConfigurations"),),
}
Doc = dict[str, Any]


class NetworkType(GenericType):
    """A network resource stored as sent; its inline children get the ids and provisioningState ARM shows."""

    def build(self, cloud, rid, doc, old, call):
        props = doc.get("properties") or {}
        for prop, segment in _INLINE.get(self.type.split("/", 1)[1].lower(), ()):
            for child in props.get(prop) or []:
                _identify(child, f"{doc['id']}/{segment}", f"{self.type}/{segment}")
        return doc


def _identify(child: Any, parent_path: str, child_type: str) -> None:
    if isinstance(child, dict) and isinstance(child.get("name"), str):
        child["id"] = f"{parent_path}/{child['name']}"
        child.setdefault("type", child_type)
        if isinstance(child.get("properties"), dict):
            child["properties"]["provisioningState"] = "Succeeded"


def _props(d: Any) -> Doc:
    p = d.get("properties") if isinstance(d, dict) else None
    return p if isinstance(p, dict) else {}


def _ref(d: Any) -> str | None:
    return d.get("id") if isinstance(d, dict) and isinstance(d.get("id"), str) else None


def _list(d: Any, key: str) -> list[Any]:
    v = _props(d).get(key)
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


# ---- subnets and their addresses ---------------------------------------------------------------------------------
def subnet(cloud, subnet_id: str | None) -> Doc | None:
    """A subnet, inline in its virtual network or written on its own."""
    if not subnet_id:
        return None
    try:
        rid = ResourceId.parse(subnet_id)
    except ArmError:  # a malformed reference names no subnet (the request's schema is the catalog's)
        return None
    vnet = cloud.get(rid.parent) if rid.parent is not None else None
    for s in _list(vnet, "subnets"):
        if same(s.get("id"), subnet_id):
            return s
    return cloud.get(subnet_id)


def _prefixes(sub: Doc) -> list[ipaddress.IPv4Network]:
    p = _props(sub)
    raw = [p["addressPrefix"]] if isinstance(p.get("addressPrefix"), str) else []
    raw += [x for x in p.get("addressPrefixes") or [] if isinstance(x, str)]
    out = []
    for r in raw:
        try:
            net = ipaddress.ip_network(r, strict=False)
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv4Network):
            out.append(net)
    return out


class _Book:
    """The private addresses given in one subnet: address -> the key of the resource holding it, and `low`, below
    which every address is given (so that a fleet's NICs are numbered in one pass, not one scan each)."""

    def __init__(self) -> None:
        self.owner: dict[int, str] = {}
        self.low = 0


_BOOKS: WeakKeyDictionary[World, dict[str, _Book]] = WeakKeyDictionary()  # per World: a reset or a fork starts over
_REFS: WeakKeyDictionary[World, tuple[int, _Refs]] = WeakKeyDictionary()


def _addresses(doc: Doc) -> list[tuple[str, int]]:
    """(subnet id, address) of every private address a NIC's or a load balancer's configurations hold."""
    out = []
    for cfg in _list(doc, "ipConfigurations") + _list(doc, "frontendIPConfigurations"):
        p = _props(cfg)
        sid, addr = _ref(p.get("subnet")), p.get("privateIPAddress")
        if sid and isinstance(addr, str):
            try:
                out.append((sid, int(ipaddress.IPv4Address(addr))))
            except ValueError:
                continue
    return out


def _book(cloud, subnet_id: str) -> _Book:
    books = _BOOKS.setdefault(cloud.world, {})
    key = id_key(subnet_id)
    if key not in books:
        b = books[key] = _Book()
        for t in (NIC, LB):
            for d in cloud.world.of_type(t):
                for sid, a in _addresses(d):
                    if same(sid, subnet_id):
                        b.owner[a] = id_key(d["id"])
    return books[key]


def _holds(cloud, owner: str, subnet_id: str, a: int) -> bool:
    d = cloud.get(owner)
    return d is not None and any(same(sid, subnet_id) and x == a for sid, x in _addresses(d))


def release(cloud, doc: Doc) -> None:
    """The addresses of a NIC or load balancer that is deleted go back to their subnets."""
    me = id_key(doc["id"])
    for sid, a in _addresses(doc):
        b = _book(cloud, sid)
        if b.owner.get(a) == me:
            del b.owner[a]
            b.low = min(b.low, a)


def _allocate(cloud, doc: Doc, old: Doc | None, key: str) -> None:
    """Private addresses of a NIC's IP configurations (`key` ipConfigurations) or a load balancer's private frontends."""
    before = {c.get("name"): _props(c) for c in _list(old, key)}
    me = id_key(doc["id"])
    given: set[tuple[str, int]] = set()
    for i, cfg in enumerate(_list(doc, key)):
        p = cfg.setdefault("properties", {})
        sid = _ref(p.get("subnet"))
        sub = subnet(cloud, sid)
        if key == "ipConfigurations":
            p.setdefault("primary", i == 0)
            p.setdefault("privateIPAddressVersion", "IPv4")
        if sub is None:
            continue
        method = p.get("privateIPAllocationMethod") or "Dynamic"
        p["privateIPAllocationMethod"] = method
        b = _book(cloud, sid)
        if str(method).lower() == "static" and isinstance(p.get("privateIPAddress"), str):
            with contextlib.suppress(ValueError):  # a malformed address: the body's schema is the catalog's
                b.owner[int(ipaddress.IPv4Address(p["privateIPAddress"]))] = me
            continue
        prev = before.get(cfg.get("name")) or {}
        kept = prev.get("privateIPAddress") if same(_ref(prev.get("subnet")), sid) else None
        a = _keep(cloud, b, me, sid, kept, given) if isinstance(kept, str) else None
        a = a if a is not None else _next_free(cloud, b, me, sub, sid, given)
        b.owner[a] = me
        given.add((id_key(sid), a))
        p["privateIPAddress"] = str(ipaddress.IPv4Address(a))
    for sid, a in _addresses(old or {}):  # what this write no longer holds goes back
        if (id_key(sid), a) not in given and _book(cloud, sid).owner.get(a) == me:
            b = _book(cloud, sid)
            del b.owner[a]
            b.low = min(b.low, a)


def _free(cloud, b: _Book, me: str, sid: str, a: int, given: set[tuple[str, int]]) -> bool:
    o = b.owner.get(a)
    if (id_key(sid), a) in given:
        return False
    return o is None or o == me or not _holds(cloud, o, sid, a)


def _keep(cloud, b: _Book, me: str, sid: str, kept: str, given: set[tuple[str, int]]) -> int | None:
    try:
        a = int(ipaddress.IPv4Address(kept))
    except ValueError:
        return None
    return a if _free(cloud, b, me, sid, a, given) else None


def _next_free(cloud, b: _Book, me: str, sub: Doc, sid: str, given: set[tuple[str, int]]) -> int:
    nets = _prefixes(sub)
    for net in nets:
        first, last = int(net.network_address) + 4, int(net.broadcast_address) - 1  # five reserved per subnet
        n = max(first, b.low) if b.low <= last else first
        while n <= last:
            if _free(cloud, b, me, sid, n, given):
                if b.low <= n:
                    b.low = n + 1
                return n
            n += 1
    raise RULES["NET1"].refuse(subnet=sub.get("name"), prefix=", ".join(str(n) for n in nets) or "''")


# ---- who references whom: computed once per state of the cloud ----------------------------------------------
class _Refs:
    def __init__(self, cloud) -> None:
        self.vm: dict[str, tuple[Doc, Doc, bool]] = {}  # NIC key -> (VM, its reference, the first of its NICs)
        self.users: dict[tuple[str, str], list[dict[str, str]]] = {}  # (property, target key) -> ipConfigurations
        self.nsg_nics: dict[str, list[dict[str, str]]] = {}
        for vm in cloud.world.of_type(VM):
            refs = [r for r in (_props(vm).get("networkProfile") or {}).get("networkInterfaces") or []
                    if isinstance(r, dict) and isinstance(r.get("id"), str)]
            for i, r in enumerate(refs):
                self.vm.setdefault(id_key(r["id"]), (vm, r, i == 0))
        for nic in cloud.world.of_type(NIC):
            nsg = _ref(_props(nic).get("networkSecurityGroup"))
            if nsg:
                self.nsg_nics.setdefault(id_key(nsg), []).append({"id": nic["id"]})
            for cfg in _list(nic, "ipConfigurations"):
                if not cfg.get("id"):
                    continue
                for prop in ("subnet", "publicIPAddress", "loadBalancerBackendAddressPools"):
                    v = _props(cfg).get(prop)
                    for r in (v if isinstance(v, list) else [v]):
                        if _ref(r):
                            self.users.setdefault((prop, id_key(_ref(r))), []).append({"id": cfg["id"]})


def refs(cloud) -> _Refs:
    cached = _REFS.get(cloud.world)
    if cached is None or cached[0] != cloud.version:
        cached = _REFS[cloud.world] = (cloud.version, _Refs(cloud))
    return cached[1]


def vm_of(cloud, nic_id: str) -> tuple[Doc, Doc, bool] | None:
    """(the VM, its reference, whether it is the VM's first NIC) of a NIC a VM's model names."""
    return refs(cloud).vm.get(id_key(nic_id))


def _configs_using(cloud, key: str, target_id: str) -> list[dict[str, str]]:
    """The NIC IP configurations whose `key` (a reference or a list of them) names `target_id`."""
    return list(refs(cloud).users.get((key, id_key(target_id)), []))


class InterfaceType(NetworkType):
    def build(self, cloud, rid, doc, old, call):
        doc = super().build(cloud, rid, doc, old, call)
        p = doc["properties"]
        for k, val in (("enableAcceleratedNetworking", False), ("enableIPForwarding", False),
                       ("dnsSettings", {"dnsServers": [], "appliedDnsServers": []}),
                       ("vnetEncryptionSupported", False), ("nicType", "Standard")):
            p.setdefault(k, copy.deepcopy(val))
        _allocate(cloud, doc, old, "ipConfigurations")
        return doc

    def accept(self, cloud, old, new, op):
        if old is None:
            b = cloud.rng.getrandbits(24).to_bytes(3, "big")
            cloud.priv(new["id"])["mac"] = "00-0D-3A-" + "-".join(f"{x:02X}" for x in b)

    def finish_delete(self, cloud, doc, op):
        release(cloud, doc)

    def render(self, cloud, doc, call):
        owner = vm_of(cloud, doc["id"])
        if owner is None:
            return doc
        vm, ref, first = owner
        out = dict(doc)
        p = out["properties"] = dict(doc["properties"])
        p["virtualMachine"] = {"id": vm["id"]}
        p["primary"] = bool(_props(ref).get("primary", first))
        mac = cloud.priv(doc["id"]).get("mac")
        if mac:
            p["macAddress"] = mac
        return out


class PublicAddressType(NetworkType):
    def build(self, cloud, rid, doc, old, call):
        doc = super().build(cloud, rid, doc, old, call)
        p = doc["properties"]
        standard = str((doc.get("sku") or {}).get("name") or "").lower() == "standard"
        p.setdefault("publicIPAllocationMethod", "Static" if standard else "Dynamic")
        p.setdefault("publicIPAddressVersion", "IPv4")
        p.setdefault("idleTimeoutInMinutes", 4)
        p.setdefault("ipTags", [])
        dns = p.get("dnsSettings")
        if isinstance(dns, dict) and isinstance(dns.get("domainNameLabel"), str):
            dns["fqdn"] = f"{dns['domainNameLabel']}.{doc['location']}.cloudapp.azure.com"
        kept = _props(old).get("ipAddress") if old is not None else None
        p.pop("ipAddress", None)  # read-only: Azure's
        if kept or str(p["publicIPAllocationMethod"]).lower() == "static":
            p["ipAddress"] = kept or cloud.priv(rid).get("dynamic") or _public_address(cloud)
        return doc

    def accept(self, cloud, old, new, op):
        if "ipAddress" not in new["properties"] and "dynamic" not in cloud.priv(new["id"]):
            cloud.priv(new["id"])["dynamic"] = _public_address(cloud)  # shown once a VM's NIC has it

    def render(self, cloud, doc, call):
        users = _configs_using(cloud, "publicIPAddress", doc["id"])
        if not users and "ipAddress" in doc["properties"]:
            return doc
        out = dict(doc)
        p = out["properties"] = dict(doc["properties"])
        if users:
            p["ipConfiguration"] = users[0]
            nic_id = users[0]["id"].rsplit("/ipConfigurations/", 1)[0]
            dynamic = cloud.priv(doc["id"]).get("dynamic")
            if "ipAddress" not in p and dynamic and vm_of(cloud, nic_id) is not None:
                p["ipAddress"] = dynamic
        return out


def _public_address(cloud) -> str:
    used = {_props(d).get("ipAddress") for d in cloud.world.of_type(PUBLIC_IP)}
    used |= {cloud.priv(d["id"]).get("dynamic") for d in cloud.world.of_type(PUBLIC_IP)}
    while True:
        a = str(PUBLIC_POOL.network_address + 1 + cloud.rng.randrange(PUBLIC_POOL.num_addresses - 2))
        if a not in used:
            return a


class VirtualNetworkType(NetworkType):
    """A virtual network; its `subnets` are also resources of their own (SubnetType reads and writes them here)."""

    def render(self, cloud, doc, call):
        subs = _list(doc, "subnets")
        if not subs:
            return doc
        out = dict(doc)
        out["properties"] = {**doc["properties"], "subnets": [_subnet_view(cloud, s) for s in subs]}
        return out


def _subnet_view(cloud, s: Doc) -> Doc:
    users = _configs_using(cloud, "subnet", s.get("id") or "")
    if not users:
        return s
    return {**s, "properties": {**_props(s), "ipConfigurations": users}}


class SubnetType(GenericType):
    """A subnet: an entry of its virtual network's `subnets`, read and written as a resource of its own; writing or
    deleting one writes the virtual network (as Azure keeps one subnet whichever way it was written: INFERRED)."""

    def __init__(self):
        super().__init__(SUBNET, needs_location=False)

    def view(self, cloud, rid):
        return next((s for s in _list(cloud.get(rid.parent), "subnets") if same(s.get("id"), str(rid))), None)

    def views(self, cloud, parent):
        return _list(cloud.get(parent), "subnets")

    def own_write(self, cloud, rid, call):
        from refit.platform import writes
        from refit.platform.effects.input import check_write

        writes.check_parent(cloud, rid)
        before = self.view(cloud, rid)
        check_write(rid, call.body, creating=before is None)
        body = call.body if isinstance(call.body, dict) else {}
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        if call.method == "PATCH":
            if before is None:
                raise writes.not_found(rid)
            props = {**_props(before), **props}
        name = before["name"] if before is not None else rid.name
        a = writes.write(cloud, rid.parent, Call("PUT", call.api_version, self._vnet(cloud, rid, {
            "name": name, "properties": {k: v for k, v in props.items() if k != "provisioningState"}})))
        return Answer(201 if before is None else 200, self.render(cloud, self.view(cloud, rid), call), a.op)

    def own_delete(self, cloud, rid, call):
        from refit.platform import writes

        writes.check_parent(cloud, rid)
        if self.view(cloud, rid) is None:
            return Answer(204)
        writes.write(cloud, rid.parent, Call("PUT", call.api_version, self._vnet(cloud, rid, None)))
        return Answer(200)

    def _vnet(self, cloud, rid, subnet_: Doc | None) -> Doc:
        vnet = cloud.get(rid.parent)
        body = copy.deepcopy({k: v for k, v in vnet.items() if k not in ("id", "name", "type")})
        kept = [s for s in _list(vnet, "subnets") if not same(s.get("id"), str(rid))]
        body["properties"]["subnets"] = kept + ([subnet_] if subnet_ is not None else [])
        return body

    def render(self, cloud, doc, call):
        return _subnet_view(cloud, doc)


class LoadBalancerType(NetworkType):
    def build(self, cloud, rid, doc, old, call):
        doc = super().build(cloud, rid, doc, old, call)
        _allocate(cloud, doc, old, "frontendIPConfigurations")
        return doc

    def finish_delete(self, cloud, doc, op):
        release(cloud, doc)

    def render(self, cloud, doc, call):
        rules = _list(doc, "loadBalancingRules")
        nat = _list(doc, "inboundNatRules")
        out = dict(doc)
        p = out["properties"] = dict(doc["properties"])

        def using(items: list[Doc], key: str, target: str) -> list[dict[str, str]]:
            return [{"id": r["id"]} for r in items if r.get("id") and any(
                same(_ref(x), target) for x in ([_props(r).get(key)] if not isinstance(_props(r).get(key), list)
                                                else _props(r)[key]))]

        def view(item: Doc, extra: dict[str, Any]) -> Doc:
            extra = {k: val for k, val in extra.items() if val}
            return {**item, "properties": {**_props(item), **extra}} if extra else item

        p["frontendIPConfigurations"] = [view(f, {
            "loadBalancingRules": using(rules, "frontendIPConfiguration", f.get("id") or ""),
            "inboundNatRules": using(nat, "frontendIPConfiguration", f.get("id") or "")})
            for f in _list(doc, "frontendIPConfigurations")]
        p["backendAddressPools"] = [view(b, {
            "backendIPConfigurations": _configs_using(cloud, "loadBalancerBackendAddressPools", b.get("id") or ""),
            "loadBalancingRules": using(rules, "backendAddressPool", b.get("id") or "")})
            for b in _list(doc, "backendAddressPools")]
        p["probes"] = [view(pr, {"loadBalancingRules": using(rules, "probe", pr.get("id") or "")})
                       for pr in _list(doc, "probes")]
        return out


class SecurityGroupType(NetworkType):
    def render(self, cloud, doc, call):
        nics = list(refs(cloud).nsg_nics.get(id_key(doc["id"]), []))
        subs = [{"id": s["id"]} for v in cloud.world.of_type(VNET) for s in _list(v, "subnets")
                if s.get("id") and same(_ref(_props(s).get("networkSecurityGroup")), doc["id"])]
        if not nics and not subs:
            return doc
        out = dict(doc)
        out["properties"] = {**doc["properties"], **({"networkInterfaces": nics} if nics else {}),
                             **({"subnets": subs} if subs else {})}
        return out


register(InterfaceType(NIC))
register(VirtualNetworkType(VNET))
register(PublicAddressType(PUBLIC_IP))
register(SecurityGroupType(NSG))
register(LoadBalancerType(LB))
register(NetworkType(f"{NS}/applicationGateways"))
register(SubnetType())
# Child resources a template may declare on their own (az vmss create's inbound NAT rule).
for _t in ("networkSecurityGroups/securityRules", "loadBalancers/inboundNatRules", "loadBalancers/backendAddressPools",
           "loadBalancers/probes"):
    register(GenericType(f"{NS}/{_t}", needs_location=False))
