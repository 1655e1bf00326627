"""Talk to the Docker engine through the SDK: connect, look images up, the build network."""

from __future__ import annotations

import os

import docker
import docker.errors
from docker import DockerClient
from docker.models.images import Image

from hubimages.errors import EngineUnavailableError, HubImagesError

BUILD_NETWORK = "hubimages-build"
DEFAULT_TIMEOUT_S = 600


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
    try:
        network = client.networks.get(BUILD_NETWORK)
    except docker.errors.NotFound:
        network = client.networks.create(
            BUILD_NETWORK, driver="bridge", internal=True, labels={"hubimages": "build"}
        )
    if not network.attrs.get("Internal"):
        raise HubImagesError(
            f"docker network {BUILD_NETWORK} exists but is not internal; "
            f"remove it with `docker network rm {BUILD_NETWORK}`"
        )
    gateway: str = network.attrs["IPAM"]["Config"][0]["Gateway"]
    return BUILD_NETWORK, gateway


def local_tags(image: Image, repository: str) -> list[str]:
    """The tags an image carries in one repository (e.g. skahub/base), without the name."""
    prefix = f"{repository}:"
    return [t.removeprefix(prefix) for t in image.tags if t.startswith(prefix)]
