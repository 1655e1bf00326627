"""Log in at the site's real identity provider (`invoke idp`) as a person would, without a
browser: the authorization code flow with PKCE through its own login form, then the token and
refresh grants. What the tests use to hold real tokens of alice, bob and the scientist."""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from hubimages.services.idp.clients import OidcClient, register_client
from hubimages.services.idp.site import HUB_SCOPES, IdpSite

CALLBACK = "http://127.0.0.1:9/callback"  # never reached: the code is read from the redirect


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@dataclass
class Login:
    """A test's client at the provider; `tokens(user)` logs a user in."""

    site: IdpSite

    def __post_init__(self) -> None:
        self.client: OidcClient = register_client(self.site, CALLBACK, "tests")
        context = ssl.create_default_context(cafile=str(self.site.ca_cert))
        self.https = urllib.request.HTTPSHandler(context=context)

    def _opener(self, jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
        return urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            self.https,
            urllib.request.HTTPCookieProcessor(jar),
            _NoRedirect,
        )

    @staticmethod
    def _send(opener, url: str, form: dict | None = None, auth: str = "") -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Authorization": auth} if auth else {}
        request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
        try:
            with opener.open(request, timeout=15) as answer:
                return answer.status, answer.headers.get("Location", ""), answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def tokens(self, username: str, password: str = "") -> dict:
        """The token response for `username` (its password from the site if not given)."""
        opener = self._opener(http.cookiejar.CookieJar())
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "client_id": self.client.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": " ".join(HUB_SCOPES),
            "state": secrets.token_hex(8),
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
            "resource": self.site.resource,
        }
        url = f"{self.client.authorize_url}?{urllib.parse.urlencode(query)}"
        code = self._follow(opener, url, username, password or self.site.user(username).password)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        }
        return self._grant(form)

    def _follow(self, opener, url: str, username: str, password: str) -> str:
        """Redirects and the login form, until the provider sends the browser to CALLBACK."""
        for _ in range(12):
            status, location, body = self._send(opener, url)
            if location.startswith(CALLBACK):
                return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
            if status in (302, 303):
                url = urllib.parse.urljoin(url, location)
                continue
            action = re.search(r'<form method="post" action="([^"]+)"', body)
            assert status == 200 and action, (status, body[:300])
            status, location, body = self._send(
                opener,
                urllib.parse.urljoin(url, action.group(1)),
                {"username": username, "password": password},
            )
            assert status == 303, f"login of {username} refused: {status}"
            url = urllib.parse.urljoin(url, location)
        raise AssertionError("the provider never redirected to the callback")

    def refresh(self, refresh_token: str) -> dict:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, form: dict) -> dict:
        basic = f"{self.client.client_id}:{self.client.client_secret}".encode()
        auth = "Basic " + base64.b64encode(basic).decode()
        status, _, body = self._send(
            self._opener(http.cookiejar.CookieJar()), self.client.token_url, form, auth
        )
        assert status == 200, (status, body[:300])
        return json.loads(body)


def log_in_through(
    start: str, username: str, password: str, ca: str, done: str
) -> tuple[list[str], urllib.request.OpenerDirector]:
    """Follow a relying party's login (e.g. a hub's /hub/oauth_login) through the provider's
    form, as a browser would, until a URL whose path contains `done`; the URLs visited, and
    the opener holding the session's cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca)),
        urllib.request.HTTPCookieProcessor(jar),
        _NoRedirect,
    )
    visited, url = [], start
    for _ in range(15):
        visited.append(url)
        if done in urllib.parse.urlsplit(url).path:
            return visited, opener
        status, location, body = Login._send(opener, url)
        if status in (301, 302, 303):
            url = urllib.parse.urljoin(url, location)
            continue
        action = re.search(r'<form method="post" action="([^"]+)"', body)
        assert status == 200 and action, (url, status, body[:300])
        status, location, _ = Login._send(
            opener,
            urllib.parse.urljoin(url, action.group(1)),
            {"username": username, "password": password},
        )
        assert status == 303, f"the provider refused {username}: {status}"
        url = urllib.parse.urljoin(url, location)
    raise AssertionError(f"no {done} after {visited}")
