"""Talk to an OCI distribution registry over its HTTP API: what a tag points to, with retries.

Pushing goes through the engine (publish.py); this module answers the questions a push must ask
first (does this tag exist, with which content?) and what `invoke profiles --release` resolves.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import docker.auth
import docker.errors

from hubimages.errors import HubImagesError

log = logging.getLogger(__name__)

USER_ENV = "HUBIMAGES_REGISTRY_USER"
PASSWORD_ENV = "HUBIMAGES_REGISTRY_PASSWORD"  # noqa: S105 - the variable's name, not a secret
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
HOST = re.compile(r"^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|\[[0-9a-fA-F:]+\])(?::\d+)?$")
NAMESPACE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
# Docker Hub's API does not live on the name people write.
API_HOSTS = {"docker.io": "registry-1.docker.io", "index.docker.io": "registry-1.docker.io"}

T = TypeVar("T")


class RegistryError(HubImagesError):
    """The registry said no, or could not be reached; the message says which and what to do."""


class RetryableError(RegistryError):
    """Worth another try: connection refused or reset, timeouts, 5xx, 429."""


@dataclass(frozen=True)
class RegistryTarget:
    host: str  # host[:port], as in image references
    namespace: str  # path under the host, e.g. ska or org/team

    @classmethod
    def parse(cls, value: str, default_namespace: str) -> RegistryTarget:
        value = value.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
        host, _, namespace = value.partition("/")
        if not HOST.match(host):
            raise HubImagesError(
                f"--registry {value!r}: {host!r} is not a registry host; write HOST[:PORT]"
                "[/NAMESPACE], e.g. 127.0.0.1:5000/ska or registry.example.org/skahub")
        namespace = namespace or default_namespace
        if not NAMESPACE.match(namespace):
            raise HubImagesError(f"--registry {value!r}: namespace {namespace!r} is invalid; use "
                                 "lowercase letters, digits, . _ - and /")
        return cls(host=host, namespace=namespace)

    def __str__(self) -> str:
        return f"{self.host}/{self.namespace}"

    def repository(self, name: str) -> str:
        return f"{self.host}/{self.namespace}/{name}"

    def path(self, name: str) -> str:
        """The repository name inside the registry (what the /v2/ API calls <name>)."""
        return f"{self.namespace}/{name}"

    @property
    def slug(self) -> str:
        """A folder name for what was published to this target."""
        return re.sub(r"[^A-Za-z0-9_.-]", "_", str(self))

    @property
    def loopback(self) -> bool:
        name = self.host.rsplit(":", 1)[0] if not self.host.endswith("]") else self.host
        name = name.strip("[]")
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    @property
    def base_url(self) -> str:
        # Like the engine, which treats 127.0.0.0/8 as an insecure (plain HTTP) registry.
        scheme = "http" if self.loopback else "https"
        return f"{scheme}://{API_HOSTS.get(self.host, self.host)}"


@dataclass(frozen=True)
class RemoteManifest:
    digest: str  # what the tag points to
    media_type: str
    config_digest: str | None  # the image id, for single-platform images
    layers_size: int = 0  # compressed bytes a pull downloads


def credentials(host: str) -> dict[str, str] | None:
    """The environment's HUBIMAGES_REGISTRY_USER/PASSWORD, else the docker config's entry."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user and password:
        return {"username": user, "password": password}
    try:
        found = docker.auth.load_config().resolve_authconfig(host)
    except docker.errors.DockerException as exc:
        raise RegistryError(f"reading docker credentials for {host} failed: {exc}") from None
    if not found:
        return None
    user = found.get("username") or found.get("Username")
    password = found.get("password") or found.get("Password")
    return {"username": user, "password": password} if user and password else None


@dataclass
class RegistryClient:
    target: RegistryTarget
    auth: dict[str, str] | None = None
    timeout: float = 15.0
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    # -- questions ---------------------------------------------------------------------------

    def ping(self) -> None:
        """Reachable and willing to talk to us (200, or 401 that our credentials answer)."""
        self._request("GET", "/v2/", scope="")

    def manifest(self, name: str, reference: str) -> RemoteManifest | None:
        """What <namespace>/<name>:<reference> points to, or None when there is no such tag."""
        path = self.target.path(name)
        status, headers, body = self._request(
            "GET", f"/v2/{path}/manifests/{reference}", scope=f"repository:{path}:pull",
            accept=",".join(MANIFEST_TYPES), missing_ok=True)
        if status == 404:
            return None
        data = json.loads(body)
        digest = headers.get("Docker-Content-Digest") or (
            "sha256:" + hashlib.sha256(body).hexdigest())
        media_type = data.get("mediaType") or headers.get("Content-Type", "")
        config = data.get("config", {}).get("digest") if "config" in data else None
        layers = sum(int(layer.get("size", 0)) for layer in data.get("layers", []))
        return RemoteManifest(digest, media_type, config, layers)

    def tags(self, name: str) -> list[str]:
        """Every tag of <namespace>/<name>, following the registry's pagination."""
        path = self.target.path(name)
        url_path = f"/v2/{path}/tags/list?n=1000"
        found: list[str] = []
        while url_path:
            status, headers, body = self._request("GET", url_path,
                                                  scope=f"repository:{path}:pull",
                                                  missing_ok=True)
            if status == 404:
                return found
            found += json.loads(body).get("tags") or []
            link = re.match(r"<([^>]+)>", headers.get("Link", "") or "")
            url_path = link.group(1) if link else ""
        return found

    def image_config(self, name: str, config_digest: str) -> dict[str, Any]:
        path = self.target.path(name)
        _, _, body = self._request("GET", f"/v2/{path}/blobs/{config_digest}",
                                   scope=f"repository:{path}:pull")
        return json.loads(body)

    # -- HTTP with the registry's auth dance --------------------------------------------------

    def _request(self, method: str, path: str, scope: str, accept: str = "",
                 missing_ok: bool = False) -> tuple[int, Any, bytes]:
        url = self.target.base_url + path
        headers = {"Accept": accept} if accept else {}
        if scope in self._tokens:
            headers["Authorization"] = self._tokens[scope]
        status, response_headers, body = self._send(method, url, headers)
        if status == 401:
            self._tokens[scope] = self._authorize(response_headers.get("WWW-Authenticate", ""),
                                                  scope)
            headers["Authorization"] = self._tokens[scope]
            status, response_headers, body = self._send(method, url, headers)
        if status == 404 and missing_ok:
            return status, response_headers, body
        if status in (401, 403):
            raise RegistryError(
                f"registry {self.target.host} refused {method} {path}: HTTP {status}; log in "
                f"with `docker login {self.target.host}` or set {USER_ENV} and {PASSWORD_ENV}")
        if status == 429 or status >= 500:
            raise RetryableError(f"registry {self.target.host} answered HTTP {status} to "
                                 f"{method} {path}")
        if status >= 400:
            raise RegistryError(f"registry {self.target.host} answered HTTP {status} to {method} "
                                f"{path}: {_error_text(body)}")
        return status, response_headers, body

    def _send(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RetryableError(f"registry {self.target.host} unreachable: {reason}") from None

    def _authorize(self, challenge: str, scope: str) -> str:
        scheme, _, params = challenge.partition(" ")
        if self.auth is None and scheme.lower() == "basic":
            raise RegistryError(
                f"registry {self.target.host} needs credentials: `docker login "
                f"{self.target.host}` or set {USER_ENV} and {PASSWORD_ENV}")
        if scheme.lower() == "basic":
            return _basic(self.auth)
        if scheme.lower() != "bearer":
            raise RegistryError(f"registry {self.target.host}: unsupported auth {scheme!r}")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        query = {"service": fields.get("service", "")}
        if scope:
            query["scope"] = scope
        url = f"{fields['realm']}?{urllib.parse.urlencode(query)}"
        headers = {"Authorization": _basic(self.auth)} if self.auth else {}
        status, _, body = self._send("GET", url, headers)
        if status != 200:
            raise RegistryError(
                f"registry {self.target.host}: token service refused (HTTP {status}); check "
                f"the credentials of `docker login {self.target.host}` or {USER_ENV}")
        token = json.loads(body)
        return "Bearer " + (token.get("token") or token.get("access_token", ""))


def _basic(auth: dict[str, str] | None) -> str:
    assert auth is not None
    pair = f"{auth['username']}:{auth['password']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _error_text(body: bytes) -> str:
    try:
        errors = json.loads(body).get("errors", [])
        return "; ".join(e.get("message", "") for e in errors) or body[:200].decode()
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")


def with_retries(action: Callable[[], T], what: str, attempts: int = 4,
                 first_delay: float = 1.0) -> T:
    """Run action; on a RetryableError wait 1, 2, 4... x first_delay and try again."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except RetryableError as exc:
            if attempt == attempts:
                raise RegistryError(f"{what}: {exc}; gave up after {attempts} attempts: check "
                                    "the registry, then rerun (finished pushes are kept)"
                                    ) from None
            delay = first_delay * 2 ** (attempt - 1)
            log.warning("%s: %s; attempt %d/%d, retrying in %.1fs", what, exc, attempt,
                        attempts, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")
