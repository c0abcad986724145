"""Wire fidelity: status codes, LRO headers, error codes, intermediate states (reference section 7)."""

from __future__ import annotations

import time

from conftest import put_rg

CAPI, DAPI, GAPI = "2026-04-01", "2025-01-02", "2026-03-03"


def _rid(sub, rg, t, name):
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/{t}/{name}"


def _nic(raw, sub, rg, name):
    nid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces/{name}"
    assert raw.put(nid, params={"api-version": "2024-05-01"}, json={"location": "eastus", "properties": {}}).status_code == 201
    return nid


def _vm_body(nic, disk_id=None):
    osd = {"createOption": "Attach", "osType": "Linux", "managedDisk": {"id": disk_id}} if disk_id else {
        "createOption": "FromImage", "name": "os1"}
    body = {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"osDisk": osd},
        "networkProfile": {"networkInterfaces": [{"id": nic}]}}}
    if not disk_id:
        body["properties"]["storageProfile"]["imageReference"] = {
            "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"}
    return body


def _wait(raw, url):
    for _ in range(2000):
        body = raw.get(url).json()
        if body["status"] != "InProgress":
            return body
        time.sleep(0.005)
    raise AssertionError("operation never finished")


def test_vm_lro_protocol(raw, sub, server):
    put_rg(raw, sub)
    nic = _nic(raw, sub, "rg1", "nic1")
    vm = _rid(sub, "rg1", "virtualMachines", "vm1")
    r = raw.put(vm, params={"api-version": CAPI}, json=_vm_body(nic))
    # VM PUT: 201 on create, Azure-AsyncOperation, no Location, provisioningState Creating (7a).
    assert r.status_code == 201
    assert r.json()["properties"]["provisioningState"] == "Creating"
    op_url = r.headers["azure-asyncoperation"]
    assert op_url.startswith(f"{server.url}/subscriptions/{sub}/providers/Microsoft.Compute/locations/eastus/operations/")
    assert op_url.endswith(f"?api-version={CAPI}")
    assert "location" not in r.headers
    assert 5 <= int(r.headers["retry-after-ms"]) <= 1000
    assert "retry-after" not in r.headers  # never a Retry-After on a success (T8)
    status = _wait(raw, op_url)
    assert set(status) == {"startTime", "endTime", "status", "name"} and status["status"] == "Succeeded"
    got = raw.get(vm, params={"api-version": CAPI}).json()
    assert got["properties"]["provisioningState"] == "Succeeded"

    # PATCH: 200 (not 202) with Azure-AsyncOperation.
    server.emulator.clock.set_scale(1.0)
    r = raw.patch(vm, params={"api-version": CAPI}, json={"tags": {"a": "b"}})
    assert r.status_code == 200 and "azure-asyncoperation" in r.headers
    assert r.json()["properties"]["provisioningState"] == "Updating"
    # A concurrent write while the PATCH is in flight: 409 Conflict (D10).
    r2 = raw.post(vm + "/deallocate", params={"api-version": CAPI})
    assert r2.status_code == 409
    assert r2.json() == {"error": {"code": "Conflict",
                                   "message": "The request failed due to conflict with a concurrent request."}}
    server.emulator.clock.advance(60)
    assert _wait(raw, r.headers["azure-asyncoperation"])["status"] == "Succeeded"

    # Actions: 202, both headers, empty body; intermediate power state while in flight.
    r = raw.post(vm + "/deallocate", params={"api-version": "2025-11-01"})
    assert r.status_code == 202 and r.content == b""
    assert "azure-asyncoperation" in r.headers and "monitor=true" in r.headers["location"]
    view = raw.get(vm + "/instanceView", params={"api-version": CAPI}).json()
    assert [s["code"] for s in view["statuses"]] == ["ProvisioningState/updating", "PowerState/deallocating"]
    assert raw.get(r.headers["location"]).status_code == 202  # Location polling: 202 while in progress (L5)
    server.emulator.clock.advance(3600)
    loc = raw.get(r.headers["location"])
    assert loc.status_code == 204
    view = raw.get(vm, params={"api-version": CAPI, "$expand": "instanceView"}).json()["properties"]["instanceView"]
    assert [s["code"] for s in view["statuses"]] == ["ProvisioningState/succeeded", "PowerState/deallocated"]
    disk = raw.get(_rid(sub, "rg1", "disks", "os1"), params={"api-version": DAPI}).json()
    assert (disk["properties"]["diskState"], disk["managedBy"]) == ("Reserved", vm)


def test_disk_put_is_202_with_both_headers(raw, sub):
    put_rg(raw, sub)
    r = raw.put(_rid(sub, "rg1", "disks", "d1"), params={"api-version": DAPI},
                json={"location": "eastus", "sku": {"name": "Premium_LRS"},
                      "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 64}})
    # DiskRP: 202 + Azure-AsyncOperation + Location; AAZ rejects 201 (clients-against-a-local-endpoint 2).
    assert r.status_code == 202
    assert {"azure-asyncoperation", "location"} <= set(r.headers)
    assert r.json()["properties"]["provisioningState"] == "Creating"
    done = _wait(raw, r.headers["azure-asyncoperation"])
    assert done["status"] == "Succeeded"
    d = raw.get(_rid(sub, "rg1", "disks", "d1"), params={"api-version": DAPI}).json()
    assert d["properties"]["diskSizeGB"] == 64 and d["properties"]["tier"] == "P6"
    assert d["properties"]["diskState"] == "Unattached" and d["sku"] == {"name": "Premium_LRS", "tier": "Premium"}


def test_capacity_reservation_group_put_is_synchronous(raw, sub):
    put_rg(raw, sub)
    r = raw.put(_rid(sub, "rg1", "capacityReservationGroups", "crg"), params={"api-version": CAPI},
                json={"location": "eastus", "zones": ["1", "2"]})
    assert r.status_code == 201 and "azure-asyncoperation" not in r.headers
    assert r.json()["properties"]["provisioningState"] == "Succeeded"


def test_request_errors_are_arm_shaped(raw, sub, server):
    base = f"/subscriptions/{sub}/resourceGroups/rg1"
    assert raw.get(base).json() == {"error": {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests."}}
    r = raw.get(base, params={"api-version": "yesterday"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
    # A resource group is ARM's own: an api-version ARM does not serve is InvalidApiVersionParameter there (the
    # provider types' NoRegisteredProviderFound: tests/emulator/test_discovery.py).
    r = raw.get(base, params={"api-version": "2099-01-01"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
    r = raw.get(base, params={"api-version": "2024-11-01"})
    assert r.status_code == 404 and r.json()["error"] == {"code": "ResourceGroupNotFound",
                                                          "message": "Resource group 'rg1' could not be found."}
    put_rg(raw, sub)
    r = raw.put(_rid(sub, "rg1", "disks", "d"), params={"api-version": DAPI}, content=b"{not json",
                headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidRequestContent")
    r = raw.put(_rid(sub, "rg1", "galleries/g/images", "i"), params={"api-version": GAPI}, json={"location": "eastus"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ParentResourceNotFound")
    r = raw.put(f"{base}/providers/Microsoft.Compute/flyingCars/c1", params={"api-version": CAPI}, json={})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidResourceType")
    r = raw.put(_rid(sub, "rg1", "disks", "d"), params={"api-version": DAPI}, json={"sku": {"name": "Premium_LRS"}})
    assert r.json() == {"error": {"code": "LocationRequired", "message": "The location property is required for this definition."}}
    r = raw.put(_rid(sub, "rg1", "virtualMachines", "v"), params={"api-version": CAPI},
                json={"location": "eastus", "properties": {}})
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "InvalidParameter", "message": "Required parameter 'hardwareProfile.vmSize' is missing (null).",
        "target": "hardwareProfile.vmSize"}
    r = raw.get(f"/subscriptions/{sub}/resourceGroups/rg1", params={"api-version": "2024-11-01"},
                headers={"Authorization": ""})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"
    r = raw.get("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups", params={"api-version": "2024-11-01"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "SubscriptionNotFound")
    r = raw.delete(_rid(sub, "rg1", "disks", "never-existed"), params={"api-version": DAPI})
    assert r.status_code == 204


def test_resource_group_delete_cascades(raw, sub):
    put_rg(raw, sub)
    raw.put(_rid(sub, "rg1", "disks", "d1"), params={"api-version": DAPI},
            json={"location": "eastus", "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}})
    r = raw.delete(f"/subscriptions/{sub}/resourceGroups/rg1", params={"api-version": "2024-11-01"})
    assert r.status_code == 202 and "location" in r.headers
    for _ in range(2000):
        if raw.get(r.headers["location"]).status_code != 202:
            break
        time.sleep(0.005)
    assert raw.get(_rid(sub, "rg1", "disks", "d1"), params={"api-version": DAPI}).status_code == 404
    assert raw.head(f"/subscriptions/{sub}/resourceGroups/rg1", params={"api-version": "2024-11-01"}).status_code == 404


def test_tags_at_scope(raw, sub):
    put_rg(raw, sub)
    scope = f"/subscriptions/{sub}/resourceGroups/rg1"
    url = scope + "/providers/Microsoft.Resources/tags/default"
    p = {"api-version": "2024-11-01"}
    assert raw.put(url, params=p, json={"properties": {"tags": {"a": "1", "b": "2"}}}).json()["properties"]["tags"] == {"a": "1", "b": "2"}
    r = raw.patch(url, params=p, json={"operation": "Merge", "properties": {"tags": {"B": "3", "c": "4"}}})
    assert r.json() == {"id": url, "name": "default", "type": "Microsoft.Resources/tags",
                        "properties": {"tags": {"a": "1", "b": "3", "c": "4"}}}
    r = raw.patch(url, params=p, json={"operation": "Delete", "properties": {"tags": {"a": "9", "c": ""}}})
    assert r.json()["properties"]["tags"] == {"a": "1", "b": "3"}
    r = raw.patch(url, params=p, json={"operation": "Replace", "properties": {"tags": {"z": "0"}}})
    assert raw.get(scope, params=p).json()["tags"] == {"z": "0"}
    r = raw.patch(url, params=p, json={"operation": "Upsert", "properties": {"tags": {}}})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidRequestContent")


def test_faults_throttle_and_allocation(raw, sub, server, session):
    session.control("POST", "scenario", {"name": "disk-swap", "params": {"vms": 1}})
    vm = _rid(sub, "rg-refresh", "virtualMachines", "vm-01")
    session.control("PUT", "faults", {"throttle": {"fraction": 1.0, "retry_after": 7}})
    r = raw.post(vm + "/deallocate", params={"api-version": CAPI})
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert raw.get(vm, params={"api-version": CAPI}).status_code == 200  # reads are not throttled by this fault
    session.control("PUT", "faults", {"allocation_failed": {"remaining": 1}})
    _wait(raw, raw.post(vm + "/deallocate", params={"api-version": CAPI}).headers["azure-asyncoperation"])
    failed = _wait(raw, raw.post(vm + "/start", params={"api-version": CAPI}).headers["azure-asyncoperation"])
    # A5: allocation failures arrive through the operation; a zonal VM gets ZonalAllocationFailed (A1).
    assert failed["status"] == "Failed" and failed["error"]["code"] == "ZonalAllocationFailed"
    view = raw.get(vm + "/instanceView", params={"api-version": CAPI}).json()
    assert [s["code"] for s in view["statuses"]] == ["ProvisioningState/failed/ZonalAllocationFailed", "PowerState/deallocated"]
    ok = _wait(raw, raw.post(vm + "/start", params={"api-version": CAPI}).headers["azure-asyncoperation"])
    assert ok["status"] == "Succeeded"
    view = raw.get(vm + "/instanceView", params={"api-version": CAPI}).json()
    assert [s["code"] for s in view["statuses"]] == ["ProvisioningState/succeeded", "PowerState/running"]


def test_clock_control(session, server):
    before = session.control("GET", "clock")
    after = session.control("POST", "clock", {"advance": 86400, "scale": 50})
    assert after["scale"] == 50 and after["now"] - before["now"] >= 86400
    assert server.emulator.clock.scale == 50
