"""The Resource Graph route: rows shaped as ARG returns them, paging, formats, errors."""

from __future__ import annotations

Q = "/providers/Microsoft.ResourceGraph/resources"
P = {"api-version": "2021-03-01"}


def test_rows_paging_and_formats(raw, session, sub):
    session.control("POST", "scenario", {"name": "fleet", "params": {"vms": 250}})
    body = {"subscriptions": [sub], "query": "Resources | where type =~ 'Microsoft.Compute/virtualMachines' | project name, type, resourceGroup | order by name asc",
            "options": {"$top": 100}}
    first = raw.post(Q, params=P, json=body).json()
    assert (first["totalRecords"], first["count"], first["resultTruncated"]) == (250, 100, "false")
    assert first["data"][0] == {"name": "vm-00001", "type": "microsoft.compute/virtualmachines", "resourceGroup": "rg-fleet-01"}
    names = [r["name"] for r in first["data"]]
    token = first["$skipToken"]
    while token:
        page = raw.post(Q, params=P, json={**body, "options": {"$top": 100, "$skipToken": token}}).json()
        names += [r["name"] for r in page["data"]]
        token = page.get("$skipToken")
    assert names == [f"vm-{n:05d}" for n in range(1, 251)]
    # The client layer follows the token to the end (the seed's scripts saw only the first 100).
    assert len(session.graph_query("Resources | where type =~ 'microsoft.compute/virtualmachines'", page_size=100)) == 250
    table = raw.post(Q, params=P, json={**body, "options": {"$top": 2, "resultFormat": "table"}}).json()["data"]
    assert table == {"columns": [{"name": "name", "type": "string"}, {"name": "type", "type": "string"},
                                 {"name": "resourceGroup", "type": "string"}],
                     "rows": [["vm-00001", "microsoft.compute/virtualmachines", "rg-fleet-01"],
                              ["vm-00002", "microsoft.compute/virtualmachines", "rg-fleet-02"]]}
    counts = raw.post(Q, params=P, json={"query": "Resources | where type =~ 'microsoft.compute/virtualmachines' "
                                                  "| summarize count() by tostring(zones[0]) | order by zones_0 asc"}).json()
    assert counts["totalRecords"] == 3


def test_full_rows_and_containers(raw, session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    row = raw.post(Q, params=P, json={"query": "Resources | where name == 'vm-01'"}).json()["data"][0]
    assert set(row) == {"id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId",
                        "managedBy", "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation"}
    assert (row["resourceGroup"], row["subscriptionId"], row["zones"]) == ("rg-refresh", sub, ["1"])
    rgs = raw.post(Q, params=P, json={"query": "ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups' | project name"}).json()
    assert rgs["data"] == [{"name": "rg-refresh"}]


def test_bad_query_is_a_400(raw):
    r = raw.post(Q, params=P, json={"query": "Resources | wher type == 'x'"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "BadRequest"
    assert err["details"][0]["code"] == "InvalidQuery"
    r = raw.post(Q, params=P, json={"query": "Resources", "options": {"$top": 5000}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"


def test_power_state_as_resource_graph_shows_it(raw, session, sub):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 2}})
    session.compute.virtual_machines.begin_deallocate("rg-refresh", "vm-02").result()
    rows = raw.post(Q, params=P, json={"query": "Resources | where type =~ 'microsoft.compute/virtualmachines' "
                                                 "| project name, power=tostring(properties.extended.instanceView.powerState.code)"
                                                 " | order by name asc"}).json()["data"]
    assert rows == [{"name": "vm-01", "power": "PowerState/running"}, {"name": "vm-02", "power": "PowerState/deallocated"}]
    # ARM's GET does not return `extended` (only Resource Graph does).
    vm = raw.get(f"/subscriptions/{sub}/resourceGroups/rg-refresh/providers/Microsoft.Compute/virtualMachines/vm-02",
                 params={"api-version": "2026-04-01"}).json()
    assert "extended" not in vm["properties"]


def test_resource_containers_join_the_resources_over_the_route(raw, session, sub):
    """Issue 11 scope 7: ResourceContainers as Resource Graph shows them (resource groups and subscriptions), and a
    join to them from Resources; a syntax error in a join is Resource Graph's 400."""
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    subs = raw.post(Q, params=P, json={"query": "ResourceContainers | where type == 'microsoft.resources/subscriptions' "
                                                "| project subscriptionId, state = tostring(properties.state)"}).json()
    assert subs["data"] == [{"subscriptionId": sub, "state": "Enabled"}]
    rows = raw.post(Q, params=P, json={"query": (
        "Resources | where type =~ 'microsoft.compute/virtualmachines' | project name, subscriptionId, resourceGroup "
        "| join kind=leftouter (ResourceContainers | where type == 'microsoft.resources/subscriptions/resourcegroups' "
        "| project resourceGroup, rgLocation = location) on resourceGroup | project name, rgLocation")}).json()
    assert rows["data"] == [{"name": "vm-01", "rgLocation": "eastus"}]
    r = raw.post(Q, params=P, json={"query": "Resources | join kind=inner (ResourceContainers | project id on id"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "BadRequest"
    assert [d["code"] for d in err["details"]] == ["InvalidQuery", "ParserFailure"]
    assert (err["details"][1]["line"], err["details"][1]["characterPositionInLine"], err["details"][1]["token"]) == (
        1, 61, "on")
