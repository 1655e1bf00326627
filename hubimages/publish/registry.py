"""Talk to an OCI distribution registry over its HTTP API: what a tag points to.

Pushing goes through the engine (publish.push); this client answers the questions a push must
ask first (does this tag exist, with which content?) and what a registry's releases are.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import docker.auth
import docker.errors

from hubimages.publish.retry import RegistryError, RetryableError
from hubimages.publish.target import RegistryTarget

USER_ENV = "HUBIMAGES_REGISTRY_USER"
PASSWORD_ENV = "HUBIMAGES_REGISTRY_PASSWORD"  # noqa: S105 - the variable's name, not a secret
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
Credentials = dict[str, str]
Response = tuple[int, Message, bytes]


@dataclass(frozen=True)
class RemoteManifest:
    digest: str  # what the tag points to
    media_type: str
    config_digest: str | None  # the image id, for single-platform images
    layers_size: int = 0  # compressed bytes a pull downloads


def credentials(host: str) -> Credentials | None:
    """The environment's HUBIMAGES_REGISTRY_USER/PASSWORD, else the docker config's entry."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user and password:
        return {"username": user, "password": password}
    try:
        found = docker.auth.load_config().resolve_authconfig(host)
    except docker.errors.DockerException as exc:
        raise RegistryError(
            f"reading docker credentials for {host} failed: {exc}; fix ~/.docker/config.json "
            f"(or its credential helper), or set {USER_ENV} and {PASSWORD_ENV}"
        ) from None
    if not found:
        return None
    user = found.get("username") or found.get("Username")
    password = found.get("password") or found.get("Password")
    return {"username": user, "password": password} if user and password else None


@dataclass
class RegistryClient:
    target: RegistryTarget
    auth: Credentials | None = None
    timeout: float = 15.0
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    def ping(self) -> None:
        """Reachable and willing to talk to us (200, or 401 that our credentials answer)."""
        self._request("GET", "/v2/", scope="")

    def manifest(self, name: str, reference: str) -> RemoteManifest | None:
        """What <namespace>/<name>:<reference> points to, or None when there is no such tag."""
        path = self.target.path(name)
        status, headers, body = self._request(
            "GET",
            f"/v2/{path}/manifests/{reference}",
            scope=f"repository:{path}:pull",
            accept=",".join(MANIFEST_TYPES),
            missing_ok=True,
        )
        if status == 404:
            return None
        data = json.loads(body)
        digest = headers.get("Docker-Content-Digest") or (
            "sha256:" + hashlib.sha256(body).hexdigest()
        )
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
            status, headers, body = self._request(
                "GET", url_path, scope=f"repository:{path}:pull", missing_ok=True
            )
            if status == 404:
                return found
            found += json.loads(body).get("tags") or []
            link = re.match(r"<([^>]+)>", headers.get("Link", "") or "")
            url_path = link.group(1) if link else ""
        return found

    def labels(self, name: str, config_digest: str) -> dict[str, str]:
        """The labels of an image, read from its config blob (no pull)."""
        path = self.target.path(name)
        _, _, body = self._request(
            "GET", f"/v2/{path}/blobs/{config_digest}", scope=f"repository:{path}:pull"
        )
        labels: dict[str, str] = json.loads(body).get("config", {}).get("Labels") or {}
        return labels

    def raw_manifest(self, name: str, reference: str) -> bytes | None:
        """A manifest's bytes as stored (what its digest is computed over); None if absent."""
        path = self.target.path(name)
        status, _, body = self._request(
            "GET",
            f"/v2/{path}/manifests/{reference}",
            scope=f"repository:{path}:pull",
            accept=",".join(MANIFEST_TYPES),
            missing_ok=True,
        )
        return None if status == 404 else body

    def upload_blob(self, name: str, data: bytes) -> str:
        """Put a blob (a monolithic upload) unless the repository has it; its digest."""
        path = self.target.path(name)
        scope = f"repository:{path}:pull,push"
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, _, _ = self._request(
            "HEAD", f"/v2/{path}/blobs/{digest}", scope=scope, missing_ok=True
        )
        if status == 200:
            return digest
        _, headers, _ = self._request("POST", f"/v2/{path}/blobs/uploads/", scope=scope)
        location = urllib.parse.urljoin(self.target.base_url + "/", headers.get("Location", ""))
        separator = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{separator}digest={urllib.parse.quote(digest)}",
            scope=scope,
            data=data,
            content_type="application/octet-stream",
        )
        return digest

    def put_manifest(self, name: str, reference: str, body: bytes, media_type: str) -> str:
        """Put a manifest under a tag; the digest of its bytes."""
        path = self.target.path(name)
        self._request(
            "PUT",
            f"/v2/{path}/manifests/{reference}",
            scope=f"repository:{path}:pull,push",
            data=body,
            content_type=media_type,
        )
        return "sha256:" + hashlib.sha256(body).hexdigest()

    # -- HTTP with the registry's auth dance --------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        scope: str,
        accept: str = "",
        missing_ok: bool = False,
        data: bytes | None = None,
        content_type: str = "",
    ) -> Response:
        url = path if path.startswith(("http://", "https://")) else self.target.base_url + path
        headers = {"Accept": accept} if accept else {}
        if content_type:
            headers["Content-Type"] = content_type
        if scope in self._tokens:
            headers["Authorization"] = self._tokens[scope]
        status, response_headers, body = self._send(method, url, headers, data)
        if status == 401:
            self._tokens[scope] = self._authorize(
                response_headers.get("WWW-Authenticate", ""), scope
            )
            headers["Authorization"] = self._tokens[scope]
            status, response_headers, body = self._send(method, url, headers, data)
        if status == 404 and missing_ok:
            return status, response_headers, body
        self._raise_for(status, method, path, body)
        return status, response_headers, body

    def _raise_for(self, status: int, method: str, path: str, body: bytes) -> None:
        host = self.target.host
        if status in (401, 403):
            raise RegistryError(
                f"registry {host} refused {method} {path}: HTTP {status}; log in with "
                f"`docker login {host}` or set {USER_ENV} and {PASSWORD_ENV}"
            )
        if status == 429 or status >= 500:
            raise RetryableError(f"registry {host} answered HTTP {status} to {method} {path}")
        if status >= 400:
            raise RegistryError(
                f"registry {host} answered HTTP {status} to {method} {path}: "
                f"{_error_text(body)}; check --registry (HOST[:PORT][/NAMESPACE] of an OCI "
                "distribution registry)"
            )

    def _send(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None = None
    ) -> Response:
        request = urllib.request.Request(  # noqa: S310
            url, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RetryableError(
                f"registry {self.target.host} unreachable: {reason} (is it running, and is "
                "--registry right?)"
            ) from None

    def _authorize(self, challenge: str, scope: str) -> str:
        scheme, _, params = challenge.partition(" ")
        host = self.target.host
        if scheme.lower() == "basic":
            if self.auth is None:
                raise RegistryError(
                    f"registry {host} needs credentials: `docker login {host}` "
                    f"or set {USER_ENV} and {PASSWORD_ENV}"
                )
            return _basic(self.auth)
        if scheme.lower() != "bearer":
            raise RegistryError(
                f"registry {host}: unsupported auth {scheme!r}; use a registry that offers "
                "Basic or Bearer (token) authentication"
            )
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        query = {"service": fields.get("service", "")}
        if scope:
            query["scope"] = scope
        url = f"{fields['realm']}?{urllib.parse.urlencode(query)}"
        status, _, body = self._send(
            "GET", url, {"Authorization": _basic(self.auth)} if self.auth else {}
        )
        if status != 200:
            raise RegistryError(
                f"registry {host}: token service refused (HTTP {status}); check the "
                f"credentials of `docker login {host}` or {USER_ENV}"
            )
        token: dict[str, str] = json.loads(body)
        return "Bearer " + (token.get("token") or token.get("access_token", ""))


def _basic(auth: Credentials) -> str:
    pair = f"{auth['username']}:{auth['password']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _error_text(body: bytes) -> str:
    try:
        errors: list[dict[str, Any]] = json.loads(body).get("errors", [])
        return "; ".join(e.get("message", "") for e in errors) or body[:200].decode()
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
