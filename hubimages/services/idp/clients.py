"""Clients of the site's identity provider that register themselves (OpenID Connect Dynamic
Client Registration, with the provider's registration token): a hub registers its callback URL
at every start, wherever it listens."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

from hubimages.errors import HubImagesError
from hubimages.services.idp.site import IdpSite


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str


def _call(site: IdpSite, url: str, body: dict[str, object] | None = None) -> dict[str, object]:
    context = ssl.create_default_context(cafile=str(site.ca_cert))
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    headers = {"Content-Type": "application/json"}
    if body is not None:
        headers["Authorization"] = f"Bearer {site.registration_token}"
    request = urllib.request.Request(  # noqa: S310 - the provider's https URL
        url, data=json.dumps(body).encode() if body is not None else None, headers=headers
    )
    try:
        with opener.open(request, timeout=10) as response:
            answer: dict[str, object] = json.load(response)
            return answer
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise HubImagesError(f"the identity provider {site.issuer}: {url}: {error}") from None


def register_client(site: IdpSite, redirect_uri: str, name: str) -> OidcClient:
    """A confidential client for the authorization code flow (with refresh tokens)."""
    discovery = _call(site, site.discovery_url)
    registered = _call(
        site,
        str(discovery["registration_endpoint"]),
        {
            "client_name": name,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    return OidcClient(
        str(registered["client_id"]),
        str(registered["client_secret"]),
        str(discovery["authorization_endpoint"]),
        str(discovery["token_endpoint"]),
    )
