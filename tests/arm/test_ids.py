from __future__ import annotations

import pytest

from refit.arm import ArmError, ResourceId, World, deep_merge, get_path, set_path
from refit.arm.views import Vm, version_tuple

SUB = "00000000-0000-0000-0000-000000000001"


def test_parse_format_and_compare():
    text = f"/subscriptions/{SUB}/resourceGroups/RG-App/providers/Microsoft.Compute/galleries/g1/images/def/versions/1.0.0"
    rid = ResourceId.parse(text)
    assert (rid.subscription, rid.resource_group, rid.namespace, rid.name) == (SUB, "RG-App", "Microsoft.Compute", "1.0.0")
    assert rid.type == "Microsoft.Compute/galleries/images/versions"
    assert str(rid) == text
    assert rid == text.lower()
    assert hash(rid) == hash(ResourceId.parse(text.upper().replace("SUBSCRIPTIONS", "subscriptions")))
    assert str(rid.parent) == text.rsplit("/versions/", 1)[0]
    assert str(rid.parent.parent.parent) == f"/subscriptions/{SUB}/resourceGroups/RG-App"
    assert ResourceId.parse(f"/subscriptions/{SUB}").type == "Microsoft.Resources/subscriptions"
    tags = ResourceId.parse(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Resources/tags/default")
    assert tags.scope == f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
    assert tags.type == "Microsoft.Resources/tags"
    assert str(ResourceId.build(SUB, "rg", "Microsoft.Compute/disks", "d1")) == f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/disks/d1"


@pytest.mark.parametrize("bad", ["", "subscriptions/x", "/subscriptions", "/foo/bar",
                                 f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/disks"])
def test_bad_ids(bad):
    with pytest.raises(ArmError) as e:
        ResourceId.parse(bad)
    assert e.value.code == "InvalidResourceId"


def test_paths_and_merge():
    doc = {"properties": {"storageProfile": {"osDisk": {"name": "a"}, "dataDisks": [{"lun": 0}]}}}
    assert get_path(doc, "properties.storageProfile.osDisk.name") == "a"
    assert get_path(doc, "Properties.StorageProfile.OsDisk.Name") == "a"
    assert get_path(doc, "properties.storageProfile.dataDisks[0].lun") == 0
    assert get_path(doc, "properties.nope.x", "dflt") == "dflt"
    set_path(doc, "properties.securityProfile.securityType", "TrustedLaunch")
    assert doc["properties"]["securityProfile"] == {"securityType": "TrustedLaunch"}
    merged = deep_merge({"a": {"b": 1, "c": 2}, "t": [1]}, {"a": {"b": None, "d": 3}, "t": [2]})
    assert merged == {"a": {"c": 2, "d": 3}, "t": [2]}


def test_world_and_views():
    vm = {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
          "type": "Microsoft.Compute/virtualMachines", "name": "vm1", "tags": {"AutoRefresh": "true"},
          "properties": {"storageProfile": {"osDisk": {"managedDisk": {"id": "/x"}}}}}
    w = World([vm])
    assert w.get(vm["id"].upper().replace("SUBSCRIPTIONS", "subscriptions")) is vm
    (v,) = w.vms()
    assert isinstance(v, Vm) and v.security_type == "Standard" and v.tag("autorefresh") == "true" and v.os_disk_id == "/x"
    w.remove(vm["id"])
    assert len(w) == 0 and w.vms() == []
    assert version_tuple("2026.11.0") == (2026, 11, 0) and version_tuple("latest") == (-1, -1, -1)
