"""Read manifests and blobs from an OCI distribution registry, as a verifier needs them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from .formats import MANIFESTS, RefusedError, base_url


@dataclass
class RegistryReader:
    """GETs from an OCI distribution registry: anonymous, basic, or bearer-token auth."""

    host: str
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 15.0
    _authorization: str = field(default="", repr=False)

    def manifest(self, path: str, reference: str) -> bytes | None:
        return self._get(f"/v2/{path}/manifests/{reference}", ",".join(MANIFESTS), path)

    def blob(self, path: str, digest: str, what: str = "a blob") -> bytes:
        """A blob whose bytes must hash to its digest (else it was changed in the registry)."""
        data = self._get(f"/v2/{path}/blobs/{digest}", "", path)
        if data is None:
            raise RefusedError(f"{what} ({digest[:19]}) is missing from {self.host}/{path}")
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise RefusedError(
                f"{what} in the registry does not match its digest {digest[:19]}: it was changed"
            )
        return data

    def _get(self, path: str, accept: str, repository: str) -> bytes | None:
        for _ in range(2):
            headers = {"Accept": accept} if accept else {}
            if self._authorization:
                headers["Authorization"] = self._authorization
            request = urllib.request.Request(base_url(self.host) + path, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return bytes(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                if exc.code != 401 or self._authorization.startswith("Bearer"):
                    raise RefusedError(
                        f"registry {self.host} answered HTTP {exc.code} to {path}"
                    ) from None
                self._authorization = self._authorize(
                    exc.headers.get("WWW-Authenticate", ""), repository
                )
            except (urllib.error.URLError, OSError) as exc:
                raise RefusedError(
                    f"registry {self.host} unreachable: {getattr(exc, 'reason', exc)}"
                ) from None
        raise RefusedError(f"registry {self.host} refused our credentials for {path}")

    def _authorize(self, challenge: str, repository: str) -> str:
        basic = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not self.username:
                raise RefusedError(f"registry {self.host} needs credentials")
            return basic
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        query = urllib.parse.urlencode(
            {"service": fields.get("service", ""), "scope": f"repository:{repository}:pull"}
        )
        request = urllib.request.Request(  # noqa: S310 - the registry's own token service
            f"{fields.get('realm', '')}?{query}",
            headers={"Authorization": basic} if self.username else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                token: dict[str, str] = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RefusedError(f"registry {self.host}: its token service failed: {exc}") from None
        return "Bearer " + (token.get("token") or token.get("access_token", ""))
