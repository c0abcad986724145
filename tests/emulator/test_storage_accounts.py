"""Microsoft.Storage/storageAccounts over the emulator's HTTPS API: Azure's shape (sku and its tier, kind, the
primary endpoints under the account's own DNS name), a create accepted with 202 and a Location to poll, the name
rules (AccountNameInvalid) and global uniqueness (StorageAccountAlreadyTaken in another resource group)."""

from __future__ import annotations

import time

from conftest import put_rg

V = "2025-08-01"


def _url(sub, name, rg="rg1"):
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"


def _create(raw, sub, name, rg="rg1", kind="StorageV2", sku="Standard_LRS"):
    return raw.put(_url(sub, name, rg), params={"api-version": V},
                   json={"location": "eastus", "sku": {"name": sku}, "kind": kind, "properties": {}})


def _settle(raw, r):
    """Poll a 202's Location until the operation ends (the virtual clock runs fast in tests)."""
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    for _ in range(200):
        p = raw.get(loc)
        if p.status_code != 202:
            return p
        time.sleep(0.01)
    raise AssertionError("the create never completed")


def test_create_get_list_delete_with_azures_shape(raw, sub):
    put_rg(raw, sub)
    r = _create(raw, sub, "flowlogs01")
    assert r.headers.get("Location")
    done = _settle(raw, r)
    assert done.status_code == 200
    got = raw.get(_url(sub, "flowlogs01"), params={"api-version": V}).json()
    assert got["type"] == "Microsoft.Storage/storageAccounts"
    assert got["sku"] == {"name": "Standard_LRS", "tier": "Standard"}
    assert got["kind"] == "StorageV2"
    p = got["properties"]
    assert p["provisioningState"] == "Succeeded"
    assert p["primaryEndpoints"] == {s: f"https://flowlogs01.{s}.core.windows.net/"
                                     for s in ("blob", "dfs", "file", "queue", "table")}
    assert (p["primaryLocation"], p["statusOfPrimary"], p["accessTier"]) == ("eastus", "available", "Hot")
    listed = raw.get(f"/subscriptions/{sub}/providers/Microsoft.Storage/storageAccounts",
                     params={"api-version": V}).json()["value"]
    assert [a["name"] for a in listed] == ["flowlogs01"]
    # An update of the account answers at once, keeping what the service set.
    up = raw.put(_url(sub, "flowlogs01"), params={"api-version": V},
                 json={"location": "eastus", "sku": {"name": "Premium_LRS"}, "kind": "StorageV2",
                       "tags": {"team": "net"}})
    assert up.status_code == 200, up.text
    assert up.json()["sku"]["tier"] == "Premium"
    assert up.json()["properties"]["creationTime"] == p["creationTime"]
    d = raw.delete(_url(sub, "flowlogs01"), params={"api-version": V})
    assert d.status_code == 200
    assert raw.get(_url(sub, "flowlogs01"), params={"api-version": V}).status_code == 404


def test_names_are_3_to_24_lower_case_letters_and_digits(raw, sub):
    put_rg(raw, sub)
    for bad in ("FlowLogs01", "flow-logs", "ab", "a" * 25):
        r = _create(raw, sub, bad)
        assert r.status_code == 400, bad
        err = r.json()["error"]
        assert err["code"] == "AccountNameInvalid"
        assert err["message"] == (f"{bad} is not a valid storage account name. Storage account name must be between 3 "
                                  "and 24 characters in length and use numbers and lower-case letters only.")
        assert err["target"] == bad


def test_a_name_is_taken_across_resource_groups(raw, sub):
    put_rg(raw, sub)
    put_rg(raw, sub, "rg2")
    _settle(raw, _create(raw, sub, "shared123"))
    r = _create(raw, sub, "shared123", rg="rg2")
    assert r.status_code == 409
    assert r.json()["error"] == {"code": "StorageAccountAlreadyTaken", "target": "shared123",
                                 "message": "The storage account named shared123 is already taken."}
    assert raw.get(_url(sub, "shared123", "rg2"), params={"api-version": V}).status_code == 404


def test_check_name_availability_answers_as_a_create_would(raw, sub):
    put_rg(raw, sub)
    _settle(raw, _create(raw, sub, "flowlogs02"))
    url = f"/subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability"

    def check(name):
        r = raw.post(url, params={"api-version": V}, json={"name": name, "type": "Microsoft.Storage/storageAccounts"})
        assert r.status_code == 200
        return r.json()

    assert check("freshname01") == {"nameAvailable": True}
    assert check("flowlogs02") == {"nameAvailable": False, "reason": "AlreadyExists",
                                   "message": "The storage account named flowlogs02 is already taken."}
    assert check("Bad-Name") == {"nameAvailable": False, "reason": "AccountNameInvalid", "message": (
        "Bad-Name is not a valid storage account name. Storage account name must be between 3 and 24 characters in "
        "length and use numbers and lower-case letters only.")}
