"""Real services for the container tests: test-only images from tests/services/<name>/.

A service image (GAVO DaCHS for TAP, xrootd for HTTP/WebDAV storage) is built from Debian's
packages on the project's base image, the way images are built: on the build tool's internal
network, apt going through its proxy to the matrix's Debian mirrors. It is tagged
`<namespace>/test-<name>:<key>`, the key being a hash of the parent image id and the files of
its context, so it is built once per machine and per change (older tags of it are removed), and
it is never part of the published matrix.

A test runs the service and the image under test on an `--internal` network of its own: the
clients reach the service by its name and nothing else (no internet), as in a site without
outbound access.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.images import Image
from docker.models.networks import Network

from hubimages.builder.engine import build_network
from hubimages.builder.labels import BASE_DIGEST, INPUTS_HASH
from hubimages.builder.run import new_run
from hubimages.builder.scheduler import build_images
from hubimages.builder.stream import BuildRequest, stream_build
from hubimages.core.files import file_sha256, folder_files
from hubimages.core.waiting import wait_until
from hubimages.deps.server import WheelServer
from hubimages.model.project import open_project
from tests.containers.helpers import LABEL, OWNER, OWNER_LABEL, ContainerError, http_get, logs

log = logging.getLogger(__name__)

SERVICES = Path(__file__).resolve().parents[1] / "services"
# A service whose Dockerfile is written for one Debian suite (its package names) says which in
# this file of its folder; it is built on the base of the matrix variant of that suite, whatever
# the variant of the image under test (the images' tests talk to it over the network).
SUITE_FILE = "debian-suite"


def service_parent(client: docker.DockerClient, name: str, image: Image) -> Image:
    """The image the service `name` is built on: the project's base of the image under test,
    or of the variant its folder's debian-suite names (built first when missing)."""
    suite_file = SERVICES / name / SUITE_FILE
    if not suite_file.is_file():
        return project_base(client, image)
    suite = suite_file.read_text().strip()
    checkout = open_project()
    variant = next((v for v in checkout.matrix.variants.values() if v.suite == suite), None)
    if variant is None:
        raise ContainerError(
            f"tests/services/{name} is written for Debian {suite}, which no variant of "
            f"build-matrix.yaml builds: port its Dockerfile (and {SUITE_FILE})"
        )
    project = checkout.for_variant(variant.name)
    ref = project.matrix.local_ref("base")
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        pass
    log.info("building %s for the test service %s", ref, name)
    [result] = build_images(new_run(client, project.matrix, project.cache), ["base"], jobs=1)
    if not result.status.ok:
        raise ContainerError(f"{ref} (for tests/services/{name}) failed: {result.reason}")
    return client.images.get(ref)


def project_base(client: docker.DockerClient, image: Image) -> Image:
    """The topmost image of the project in the lineage of `image` (base): its label
    base.digest names each parent, up to the first one that is not ours."""
    current = image
    while parent_id := current.labels.get(BASE_DIGEST):
        try:
            parent = client.images.get(parent_id)
        except docker.errors.ImageNotFound:
            break
        if INPUTS_HASH not in parent.labels:
            break
        current = parent
    return current


def service_image(
    client: docker.DockerClient, name: str, parent: Image, extra: dict[str, Path] | None = None
) -> str:
    """The id of the service image `name` on `parent`, built when its key is new.

    `extra` adds files to the build context (context path -> host file), e.g. test data.
    """
    folder = SERVICES / name
    files = {p.relative_to(folder).as_posix(): p for p in folder_files(folder)}
    files.update(extra or {})
    digest = hashlib.sha256(f"{parent.id}\n".encode())
    for path in sorted(files):
        digest.update(f"{path}\0{file_sha256(files[path])}\n".encode())
    project = open_project()
    matrix = project.matrix
    repository = f"{matrix.settings.namespace}/test-{name}"
    ref = f"{repository}:{digest.hexdigest()[:12]}"
    # Two test runs may want the same service at once: one builds, the other waits and reuses.
    lock_path = project.cache.service_lock(name)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return str(client.images.get(ref).id)
        except docker.errors.ImageNotFound:
            pass
        image_id = _build(client, name, str(parent.id), files, ref)
    for old in client.images.list(name=repository):
        for tag in old.tags:
            if tag.startswith(f"{repository}:") and tag != ref:
                try:
                    client.images.remove(tag)
                except docker.errors.APIError:
                    pass  # still used by a container of another test run: kept this time
    return image_id


def _build(
    client: docker.DockerClient, name: str, parent_id: str, files: dict[str, Path], ref: str
) -> str:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as archive:
        for path in sorted(files):
            archive.add(files[path], arcname=path, recursive=False)
    context.seek(0)
    network, gateway = build_network(client)
    mirrors = open_project().matrix.settings.debian.mirrors
    started = time.monotonic()
    log.info("building the test service image %s", ref)
    with WheelServer(gateway, 0, mirrors) as server:
        request = BuildRequest(
            name=f"tests/services/{name}",
            label=f"test-{name}",
            build_args={"PARENT_IMAGE": parent_id, "APT_PROXY": server.apt_proxy},
            network=network,
            context=context,
            tag=ref,
        )
        image_id = stream_build(client, request, threading.Event(), started)
    log.info("built %s in %.0f s", ref, time.monotonic() - started)
    return image_id


@dataclass
class Service:
    """A running service container on a test network; `name` is its host name there."""

    container: Container
    name: str
    ip: str


class ServiceNetwork:
    """An internal network of one test (module), with the services started on it; close()
    removes them and the network, whatever happened."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        labels = {LABEL: "1", OWNER_LABEL: OWNER}
        self.network: Network = client.networks.create(
            f"hubimages-test-{uuid.uuid4().hex[:12]}", driver="bridge", internal=True, labels=labels
        )
        self.containers: list[Container] = []

    @property
    def name(self) -> str:
        return str(self.network.name)

    def start(self, image_id: str, name: str, **kwargs: Any) -> Service:
        """Start a container reachable as `name` on this network (and from the host by IP)."""
        container = self.client.containers.create(
            image_id,
            name=f"{self.name}-{name}",
            hostname=name,
            detach=True,
            labels={LABEL: "1", OWNER_LABEL: OWNER},
            network=self.name,
            networking_config={self.name: self.client.api.create_endpoint_config(aliases=[name])},
            **kwargs,
        )
        self.containers.append(container)
        container.start()
        container.reload()
        ip = container.attrs["NetworkSettings"]["Networks"][self.name]["IPAddress"]
        return Service(container, name, ip)

    def close(self) -> None:
        while self.containers:
            try:
                self.containers.pop().remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
        try:
            self.network.remove()
        except docker.errors.NotFound:
            pass


@contextmanager
def service_network(client: docker.DockerClient) -> Iterator[ServiceNetwork]:
    network = ServiceNetwork(client)
    try:
        yield network
    finally:
        network.close()


def wait_for_http(service: Service, url: str, timeout: float = 90) -> float:
    """Seconds until `url` (on the service's IP, from the host) answers 200."""
    started = time.monotonic()

    def answered() -> float | None:
        try:
            if http_get(url, timeout=2).status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        service.container.reload()
        if service.container.status != "running":
            raise ContainerError(
                f"{service.name} exited before {url} answered:\n{logs(service.container)[-3000:]}"
            )
        return None

    seconds = wait_until(answered, timeout, interval=0.2)
    if seconds is not None:
        return seconds
    raise ContainerError(
        f"{url} did not answer 200 within {timeout} s:\n{logs(service.container)[-3000:]}"
    )
