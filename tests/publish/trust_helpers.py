"""What the trust tests do to a registry: read and replace attachments, flip stored bytes, and
log in to a hub's form as a user would."""

from __future__ import annotations

import hashlib
import html
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hubimages.publish.records import PublishedImage
from hubimages.publish.registry import RegistryClient
from hubimages.publish.target import RegistryTarget
from hubimages.publish.trust.attach import Layer, attach
from hubimages.publish.trust.verification import RegistryReader
from hubimages.services.localregistry import LocalRegistry


@dataclass
class Attachments:
    """The `.sig` and `.att` of one pushed image, as the registry holds them."""

    registry: LocalRegistry
    image: PublishedImage

    @property
    def path(self) -> str:
        """The image's repository in the registry (namespace/name)."""
        return self.image.repository.split("/", 1)[1]

    @property
    def client(self) -> RegistryClient:
        return RegistryClient(RegistryTarget(self.registry.host, self.path.rsplit("/", 1)[0]))

    def layers(self, suffix: str) -> list[Layer]:
        tag = self.image.digest.replace(":", "-", 1) + suffix
        manifest = json.loads(self.client.raw_manifest(self.image.name, tag) or b"{}")
        reader = RegistryReader(self.registry.host)
        return [
            Layer(
                reader.blob(self.path, d["digest"]),
                d["mediaType"],
                d.get("annotations", {}),
            )
            for d in manifest.get("layers", [])
        ]

    def replace(self, suffix: str, layers: list[Layer]) -> None:
        attach(self.client, self.image, suffix, layers)

    def delete(self, suffix: str) -> None:
        tag = self.image.digest.replace(":", "-", 1) + suffix
        body = self.client.raw_manifest(self.image.name, tag) or b""
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        request = urllib.request.Request(
            f"http://{self.registry.host}/v2/{self.path}/manifests/{digest}",
            method="DELETE",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 202


def blob_file(registry: LocalRegistry, digest: str) -> Path:
    hexa = digest.removeprefix("sha256:")
    return registry.storage / "docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"


@contextmanager
def flipped_byte(path: Path, offset: int = 10) -> Iterator[None]:
    """One byte of a stored blob changed, and put back afterwards."""
    original = path.read_bytes()
    changed = bytearray(original)
    changed[offset] ^= 0x01
    path.write_bytes(bytes(changed))
    try:
        yield
    finally:
        path.write_bytes(original)


class HubUser:
    """A browser's view of the hub: the login form, then the spawn form."""

    def __init__(self, url: str, name: str, password: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
        )
        self._post("/hub/login", {"username": name, "password": password}, "/hub/login")

    def spawn(self, label: str) -> str:
        """The text of the page the user ends on after choosing an image."""
        return self._post("/hub/spawn", {"image": label}, "/hub/spawn")

    def _post(self, path: str, fields: dict[str, str], form: str) -> str:
        self._get(form)
        xsrf = next((c.value for c in self.jar if c.name == "_xsrf"), "")
        data = urllib.parse.urlencode({**fields, "_xsrf": xsrf}).encode()
        try:
            with self.opener.open(self.url + path, data=data, timeout=120) as response:
                return _text(response.read())
        except urllib.error.HTTPError as exc:
            return _text(exc.read())

    def _get(self, path: str) -> str:
        try:
            with self.opener.open(self.url + path, timeout=60) as response:
                return _text(response.read())
        except urllib.error.HTTPError as exc:
            return _text(exc.read())


def _text(page: bytes) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.decode(errors="replace"))).split())
