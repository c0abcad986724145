"""Discovery through the official SDK: resource lists with ARM's $filter/$top/$expand, provider registrations with
each type's published api-versions, and ARM's refusals of an api-version a type does not publish (issue 11 scope 3)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources.models import GenericResource, ResourceGroup

from refit.platform import apis, regions

RG = "rg-disc"
NET = "2024-05-01"


def _id(sub, t, name, rg=RG):
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{t}/{name}"


@pytest.fixture
def group(session, sub):
    res = session.resources
    res.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    res.resource_groups.create_or_update("rg-other", ResourceGroup(location="westus2"))
    for rg, name, tags in ((RG, "web-disk", {"tier": "web"}), (RG, "db-disk", {"tier": "db"}),
                           ("rg-other", "web-other", {"tier": "web"})):
        res.resources.begin_create_or_update_by_id(_id(sub, "Microsoft.Compute/disks", name, rg), GenericResource(
            location="eastus", tags=tags, sku={"name": "Standard_LRS"},
            properties={"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}),
            api_version=apis.api_version("Microsoft.Compute/disks")).result()
    res.resources.begin_create_or_update_by_id(_id(sub, "Microsoft.Network/virtualNetworks", "vnet"), GenericResource(
        location="eastus", properties={"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [
            {"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}), api_version=NET).result()
    return res


def _names(items):
    return sorted((r.name, r.type) for r in items)


def test_resource_lists_filter_as_arm_does(group, sub):
    res = group
    assert _names(res.resources.list_by_resource_group(RG)) == [
        ("db-disk", "Microsoft.Compute/disks"), ("vnet", "Microsoft.Network/virtualNetworks"),
        ("web-disk", "Microsoft.Compute/disks")]  # the subnet is inside its virtual network
    assert _names(res.resources.list(filter="resourceType eq 'Microsoft.Compute/disks'")) == [
        ("db-disk", "Microsoft.Compute/disks"), ("web-disk", "Microsoft.Compute/disks"),
        ("web-other", "Microsoft.Compute/disks")]
    # As `az resource list -g RG --resource-type T` sends it, and case-insensitively as ARM compares names.
    assert _names(res.resources.list(filter=f"resourceGroup eq '{RG.upper()}' and resourceType eq "
                                            "'microsoft.compute/DISKS'")) == [
        ("db-disk", "Microsoft.Compute/disks"), ("web-disk", "Microsoft.Compute/disks")]
    assert _names(res.resources.list(filter="name eq 'vnet'")) == [("vnet", "Microsoft.Network/virtualNetworks")]
    assert _names(res.resources.list(filter="substringof('web', name) and resourceType eq 'Microsoft.Compute/disks'")) \
        == [("web-disk", "Microsoft.Compute/disks"), ("web-other", "Microsoft.Compute/disks")]
    assert _names(res.resources.list(filter="tagName eq 'tier' and tagValue eq 'web'")) == [
        ("web-disk", "Microsoft.Compute/disks"), ("web-other", "Microsoft.Compute/disks")]
    assert _names(res.resources.list(filter="startswith(tagname, 'ti')")) == [
        ("db-disk", "Microsoft.Compute/disks"), ("web-disk", "Microsoft.Compute/disks"),
        ("web-other", "Microsoft.Compute/disks")]
    expanded = list(res.resources.list_by_resource_group(RG, filter="name eq 'web-disk'",
                                                         expand="createdTime,changedTime,provisioningState"))
    assert [(r.provisioning_state, r.created_time is not None) for r in expanded] == [("Succeeded", True)]


def test_top_is_the_page_size_and_next_link_carries_on(group, raw, sub):
    first = raw.get(f"/subscriptions/{sub}/resourceGroups/{RG}/resources",
                    params={"api-version": "2024-11-01", "$top": "2"}).json()
    assert len(first["value"]) == 2 and first["nextLink"].endswith("&%24skiptoken=2")
    second = raw.get(first["nextLink"]).json()
    assert len(second["value"]) == 1 and "nextLink" not in second
    assert len(list(group.resources.list_by_resource_group(RG, top=1))) == 3  # the SDK follows nextLink


@pytest.mark.parametrize("flt", ["tagName eq 'tier' and resourceType eq 'Microsoft.Compute/disks'",
                                 "kind eq 'x'", "name eq 'a' or name eq 'b'", "tagValue eq 'web'", "name eq"])
def test_a_filter_arm_does_not_read_is_refused(group, flt):
    with pytest.raises(HttpResponseError) as e:
        list(group.resources.list(filter=flt))
    assert (e.value.status_code, e.value.error.code, e.value.error.message) == (
        400, "InvalidFilterInQueryString", f"Invalid $filter '{flt}' specified in the query string.")


def test_top_must_be_a_positive_number(group, raw, sub):
    r = raw.get(f"/subscriptions/{sub}/resources", params={"api-version": "2024-11-01", "$top": "0"})
    assert (r.status_code, r.json()) == (400, {"error": {
        "code": "InvalidTopInQueryString", "message": "Invalid $top '0' specified in the query string."}})


def test_a_provider_lists_its_types_with_their_published_api_versions(session, sub):
    compute = session.resources.providers.get("Microsoft.Compute")
    assert (compute.id, compute.namespace, compute.registration_state) == (
        f"/subscriptions/{sub}/providers/Microsoft.Compute", "Microsoft.Compute", "Registered")
    types = {t.resource_type: t for t in compute.resource_types}
    assert {"virtualMachines", "virtualMachines/extensions", "virtualMachineScaleSets/extensions", "disks",
            "galleries/images/versions", "skus", "locations"} <= set(types)
    vm = types["virtualMachines"]
    assert vm.api_versions == list(reversed(apis.published("Microsoft.Compute/virtualMachines")))
    assert vm.api_versions[0] == apis.api_version("Microsoft.Compute/virtualMachines") == "2026-04-01"
    assert vm.locations == [display for display, _ in regions.REGIONS.values()]
    network = {t.resource_type: t for t in session.resources.providers.get("Microsoft.Network").resource_types}
    assert network["networkInterfaces"].api_versions[:2] == ["2025-09-01", "2025-07-01"]
    assert "Microsoft.Network" in {p.namespace for p in session.resources.providers.list()}


def test_an_unknown_namespace_and_an_unknown_type_are_refused(session, raw, sub):
    with pytest.raises(HttpResponseError) as e:
        session.resources.providers.get("Microsoft.Flying")
    assert (e.value.status_code, e.value.error.code, e.value.error.message) == (
        404, "InvalidResourceNamespace", "The resource namespace 'Microsoft.Flying' is invalid.")
    session.resources.resource_groups.create_or_update(RG, ResourceGroup(location="eastus"))
    with pytest.raises(HttpResponseError) as e:
        session.resources.resources.get_by_id(_id(sub, "Microsoft.Compute/flyingCars", "c1"), api_version="2026-04-01")
    assert (e.value.status_code, e.value.error.code) == (400, "InvalidResourceType")


def test_an_api_version_a_type_does_not_publish_is_no_registered_provider_found(group, sub):
    disk = _id(sub, "Microsoft.Compute/disks", "web-disk")
    for version in ("2016-01-01", "2024-07-01-preview", "2099-01-01"):
        with pytest.raises(HttpResponseError) as e:
            group.resources.get_by_id(disk, api_version=version)
        assert (e.value.status_code, e.value.error.code, e.value.error.message) == (
            400, "NoRegisteredProviderFound",
            f"No registered resource provider found for location 'eastus' and API version '{version}' for type "
            f"'disks'. The supported api-versions are '{', '.join(apis.published('Microsoft.Compute/disks'))}'. "
            f"The supported locations are '{', '.join(regions.REGIONS)}'.")
    # A PUT names the location it sends; a version published for VMs is not one for disks.
    with pytest.raises(HttpResponseError) as e:
        group.resources.begin_create_or_update_by_id(_id(sub, "Microsoft.Compute/disks", "d2"), GenericResource(
            location="westus2", properties={}), api_version="2026-04-01")
    assert (e.value.status_code, e.value.error.code) == (400, "NoRegisteredProviderFound")
    assert "for location 'westus2' and API version '2026-04-01' for type 'disks'" in e.value.error.message


def test_arm_itself_refuses_a_version_it_does_not_serve_with_its_own_list(raw, sub):
    r = raw.put(f"/subscriptions/{sub}/resourceGroups/{RG}", params={"api-version": "2016-01-01"},
                json={"location": "eastus"})
    assert (r.status_code, r.json()) == (400, {"error": {
        "code": "InvalidApiVersionParameter",
        "message": f"The api-version '2016-01-01' is invalid. The supported versions are "
                   f"'{','.join(reversed(apis.ARM_OWN))}'."}})


def test_every_type_served_publishes_the_versions_refit_and_the_sdk_send():
    from refit.platform import providers

    for t in providers.served_types():
        assert apis.published(t), t
        assert apis.api_version(t) in apis.published(t), t
    for t, v in apis.SENDS.items():
        assert v in apis.published(t), t
