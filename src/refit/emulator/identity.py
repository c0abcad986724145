"""Identity for the emulated cloud: managed identity tokens, a fake Entra authority, /metadata/endpoints.

No token is ever validated beyond its presence: the emulator is a rehearsal target, not a security
boundary (it listens on 127.0.0.1 only). What the clients call (reference/clients-against-a-local-endpoint.md):
- `az login --identity` / ManagedIdentityCredential with IDENTITY_ENDPOINT+IDENTITY_HEADER (App Service
  protocol, api-version 2019-08-01): GET {IDENTITY_ENDPOINT}?resource=...  header X-IDENTITY-HEADER.
- IMDS protocol: GET /metadata/identity/oauth2/token (header Metadata: true).
- service principal via MSAL: GET /{tenant}/v2.0/.well-known/openid-configuration, POST /{tenant}/oauth2/v2.0/token.
- `az cloud register` autodetect: GET /metadata/endpoints?api-version=2022-09-01 (one object;
  older api-versions return a list, as management.azure.com does).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from refit.arm.errors import ArmError

MANAGEMENT_AUDIENCE = "https://management.core.windows.net/"
MI_PRINCIPAL = "7dd6a3c5-0000-4000-8000-00000000ref1"


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def access_token(tenant: str, audience: str, subject: str, app_id: str, lifetime: int = 86399) -> tuple[str, int]:
    """An unsigned JWT (alg none) with the claims az and MSAL read (tid, oid, appid, exp)."""
    now = int(time.time())
    exp = now + lifetime
    claims = {"aud": audience, "iss": f"https://sts.windows.net/{tenant}/", "iat": now, "nbf": now, "exp": exp,
              "tid": tenant, "oid": subject, "sub": subject, "appid": app_id, "idtyp": "app", "ver": "1.0",
              "xms_mirid": "refit-emulator"}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.", exp


def managed_identity_token(tenant: str, resource: str | None, header: str | None, expected_header: str,
                           imds: bool = False) -> dict[str, Any]:
    if not imds and header != expected_header:
        raise ArmError(401, "Unauthorized", "The X-IDENTITY-HEADER is missing or wrong. Run `refit emulator env` "
                       "and export IDENTITY_HEADER.")
    if not resource:
        raise ArmError(400, "invalid_request", "Required query parameter 'resource' is missing.")
    token, exp = access_token(tenant, resource, MI_PRINCIPAL, MI_PRINCIPAL)
    body: dict[str, Any] = {"access_token": token, "expires_on": str(exp), "resource": resource,
                            "token_type": "Bearer", "client_id": MI_PRINCIPAL}
    if imds:
        body.update({"expires_in": str(exp - int(time.time())), "ext_expires_in": str(exp - int(time.time())),
                     "not_before": str(int(time.time()))})
    return body


def openid_configuration(base_url: str, tenant: str) -> dict[str, Any]:
    return {
        "token_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/token",
        "authorization_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/devicecode",
        "issuer": f"{base_url}/{tenant}/v2.0",
        "jwks_uri": f"{base_url}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "refit.local",
        "msgraph_host": "graph.refit.local",
    }


def token_response(form: dict[str, str], tenant: str) -> dict[str, Any]:
    """OAuth2 client-credentials grant (what a service principal login sends)."""
    if form.get("grant_type") != "client_credentials":
        raise ArmError(400, "unsupported_grant_type",
                       "The emulator supports grant_type=client_credentials (service principals) only.")
    if not form.get("client_id") or not (form.get("client_secret") or form.get("client_assertion")):
        raise ArmError(401, "invalid_client", "client_id and client_secret (or client_assertion) are required.")
    scope = form.get("scope") or MANAGEMENT_AUDIENCE + ".default"
    audience = scope.split()[0].removesuffix(".default")
    token, exp = access_token(tenant, audience, str(uuid.uuid5(uuid.NAMESPACE_URL, form["client_id"])), form["client_id"])
    life = exp - int(time.time())
    return {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": token}


def metadata_endpoints(base_url: str, api_version: str | None) -> Any:
    doc = {
        "name": "RefitEmulator",
        "portal": base_url,
        "resourceManager": base_url + "/",
        "authentication": {"loginEndpoint": base_url, "audiences": [MANAGEMENT_AUDIENCE, "https://management.azure.com/"],
                           "tenant": "common", "identityProvider": "AAD"},
        "media": base_url,
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "gallery": base_url,
        "batch": "https://batch.core.windows.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        # Microsoft Graph is served here too, under /v1.0 (refit.emulator.msgraph): az's cloud endpoint for it
        "microsoftGraphResourceId": base_url + "/",
        "vmImageAliasDoc": base_url + "/_refit/vm-image-aliases",
        "suffixes": {"keyVaultDns": "vault.refit.local", "storage": "core.refit.local",
                     "sqlServerHostname": "database.refit.local", "acrLoginServer": "azurecr.refit.local"},
    }
    if api_version and api_version >= "2022-09-01":
        return doc
    return [doc]
