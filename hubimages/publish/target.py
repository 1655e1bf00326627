"""Where a release goes: a registry host and a namespace under it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hubimages.core.cache import slug
from hubimages.errors import HubImagesError
from hubimages.model.spec import NAMESPACE

HOST = re.compile(r"^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|\[[0-9a-fA-F:]+\])(?::\d+)?$")
# Docker Hub's API does not live on the name people write.
API_HOSTS = {"docker.io": "registry-1.docker.io", "index.docker.io": "registry-1.docker.io"}


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
                "[/NAMESPACE], e.g. 127.0.0.1:5000/ska or registry.example.org/skahub"
            )
        namespace = namespace or default_namespace
        if not NAMESPACE.match(namespace):
            raise HubImagesError(
                f"--registry {value!r}: namespace {namespace!r} is invalid; use "
                "lowercase letters, digits, . _ - and /"
            )
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
        return slug(str(self))

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
