"""Talk to the Docker engine through the SDK: connect, look images up, the build network."""

from __future__ import annotations

import os
import threading
from typing import Any

import docker
import docker.errors
from docker import DockerClient
from docker.models.images import Image
from docker.models.networks import Network

from hubimages.errors import EngineUnavailableError, HubImagesError

BUILD_NETWORK = "hubimages-build"
DEFAULT_TIMEOUT_S = 600
# One creation of the build network at a time in this process (each variant's run asks).
_NETWORK_GUARD = threading.Lock()


def try_connect(timeout: int = DEFAULT_TIMEOUT_S) -> DockerClient | None:
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except (docker.errors.DockerException, OSError):
        return None


def connect(timeout: int = DEFAULT_TIMEOUT_S) -> DockerClient:
    """A client for a reachable engine, or one line that says to run `invoke engine`."""
    client = try_connect(timeout)
    if client is None:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise EngineUnavailableError(
            f"no Docker engine answers at {where}: run `invoke engine` to install and start one"
        )
    return client


def image_or_none(client: DockerClient, ref: str) -> Image | None:
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def build_network(client: DockerClient) -> tuple[str, str]:
    """The internal network builds run on, and its gateway: the only address they reach."""
    with _NETWORK_GUARD:
        network = one_network(client, BUILD_NETWORK, internal=True, labels={"hubimages": "build"})
    if not network.attrs.get("Internal"):
        raise HubImagesError(
            f"docker network {BUILD_NETWORK} exists but is not internal; "
            f"remove it with `docker network rm {BUILD_NETWORK}`"
        )
    gateway: str = network.attrs["IPAM"]["Config"][0]["Gateway"]
    return BUILD_NETWORK, gateway


def one_network(client: DockerClient, name: str, **create: Any) -> Network:
    """The network of this name, created if missing. The engine does not keep names unique:
    two processes (each variant's build, parallel test sessions) that both find none both
    create one, and a container given the name then fails as "ambiguous". So every caller
    settles on the same one, the first by creation time, and removes its own if that lost."""
    found = _networks_named(client, name)
    if found:
        return found[0]
    made = client.networks.create(name, driver="bridge", **create)
    first = _networks_named(client, name)[0]
    if first.id != made.id:
        made.remove()
    return first


def _networks_named(client: DockerClient, name: str) -> list[Network]:
    """The networks of exactly this name (the engine's name filter matches parts of names)."""
    named = [n for n in client.networks.list(names=[name]) if n.name == name]
    return sorted(named, key=lambda n: (n.attrs.get("Created", ""), n.id))


def local_tags(image: Image, repository: str) -> list[str]:
    """The tags an image carries in one repository (e.g. skahub/base), without the name."""
    prefix = f"{repository}:"
    return [t.removeprefix(prefix) for t in image.tags if t.startswith(prefix)]
