"""Identity: managed identity (App Service protocol and IMDS), a fake Entra authority, /metadata/endpoints."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from azure.identity import ClientSecretCredential, ManagedIdentityCredential
from azure.mgmt.compute import ComputeManagementClient


def _claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_managed_identity_credential(server, monkeypatch):
    e = server.endpoint
    monkeypatch.setenv("IDENTITY_ENDPOINT", e.identity_url)
    monkeypatch.setenv("IDENTITY_HEADER", e.identity_header)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", e.cert)
    cred = ManagedIdentityCredential()
    tok = cred.get_token("https://management.azure.com/.default")
    assert _claims(tok.token)["tid"] == e.tenant
    client = ComputeManagementClient(cred, e.subscription, base_url=e.url)
    assert list(client.virtual_machines.list_all()) == []


def test_identity_header_is_required(server):
    e = server.endpoint
    r = httpx.get(e.identity_url, params={"api-version": "2019-08-01", "resource": "https://management.azure.com/"})
    assert r.status_code == 401
    r = httpx.get(e.identity_url, params={"api-version": "2019-08-01", "resource": "https://management.azure.com/"},
                  headers={"X-IDENTITY-HEADER": e.identity_header})
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "Bearer" and body["resource"] == "https://management.azure.com/"
    assert int(body["expires_on"]) > 0


def test_service_principal_against_the_fake_entra(server):
    e = server.endpoint
    cred = ClientSecretCredential(e.tenant, "11111111-2222-3333-4444-555555555555", "s3cret", authority=e.url,
                                  disable_instance_discovery=True, connection_verify=e.cert)
    tok = cred.get_token("https://management.azure.com/.default")
    assert _claims(tok.token)["appid"] == "11111111-2222-3333-4444-555555555555"
    client = ComputeManagementClient(cred, e.subscription, base_url=e.url, connection_verify=e.cert)
    assert list(client.disks.list()) == []


@pytest.mark.parametrize(("api", "is_list"), [("2022-09-01", False), ("2019-05-01", True)])
def test_metadata_endpoints(raw, server, api, is_list):
    body = raw.get("/metadata/endpoints", params={"api-version": api}).json()
    doc = body[0] if is_list else body
    assert isinstance(body, list) is is_list
    assert doc["resourceManager"] == server.url + "/"
    assert doc["authentication"]["loginEndpoint"] == server.url
    assert doc["name"] == "RefitEmulator"
