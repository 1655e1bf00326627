"""Talk to the Docker engine through the SDK, and install and start one when there is none."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import docker
import docker.errors
from docker import DockerClient

from hubimages.errors import EngineUnavailableError, HubImagesError

log = logging.getLogger(__name__)

DOCKERD_LOG = Path("/var/log/hubimages-dockerd.log")
START_TIMEOUT_S = 60
BUILD_NETWORK = "hubimages-build"


def connect(timeout: int = 600) -> DockerClient:
    """A client for a reachable engine, or one line that says to run `invoke engine`."""
    client = _try_connect(timeout)
    if client is None:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise EngineUnavailableError(
            f"no Docker engine answers at {where}: run `invoke engine` to install and start one"
        )
    return client


def _try_connect(timeout: int = 600) -> DockerClient | None:
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except (docker.errors.DockerException, OSError):
        return None


def ensure_engine() -> str:
    """Make a Docker engine reachable; idempotent. Returns what was done, for the log."""
    client = _try_connect()
    if client is not None:
        return f"Docker engine {client.version().get('Version', '?')} already running"
    if "DOCKER_HOST" in os.environ:
        raise EngineUnavailableError(
            f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer; start that engine or "
            "unset DOCKER_HOST so `invoke engine` can start a local one")
    _require_debian_root()
    actions = []
    if shutil.which("dockerd") is None:
        _apt_install(["docker.io"])
        actions.append("installed docker.io")
    _start_dockerd()
    actions.append(f"started dockerd (log: {DOCKERD_LOG})")
    return "; ".join(actions)


def _require_debian_root() -> None:
    if not Path("/etc/debian_version").exists():
        raise EngineUnavailableError(
            "no Docker engine and this is not Debian: install and start Docker")
    if os.geteuid() != 0:
        raise EngineUnavailableError("no Docker engine: run `invoke engine` as root to install one")


def _apt_install(packages: list[str]) -> None:
    log.info("installing %s from Debian", " ".join(packages))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise HubImagesError(f"{' '.join(cmd)} failed: {' '.join(last)}")


def ensure_debian_tools(commands: dict[str, str]) -> None:
    """Install the Debian packages that provide missing commands ({command: package})."""
    missing = sorted({pkg for cmd, pkg in commands.items() if shutil.which(cmd) is None})
    if missing:
        _require_debian_root()
        _apt_install(missing)


def _start_dockerd() -> None:
    # containerd is started by dockerd itself when no system containerd runs.
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with DOCKERD_LOG.open("ab") as out:
        subprocess.Popen(
            ["dockerd"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _try_connect() is not None:
            return
        time.sleep(0.5)
    tail = DOCKERD_LOG.read_text(errors="replace").strip().splitlines()[-1:]
    raise EngineUnavailableError(
        f"dockerd did not answer within {START_TIMEOUT_S}s: {' '.join(tail)}")


def image_or_none(client: DockerClient, ref: str):
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def build_network(client: DockerClient) -> tuple[str, str]:
    """The internal network builds run on, and its gateway: the only address they reach."""
    try:
        network = client.networks.get(BUILD_NETWORK)
    except docker.errors.NotFound:
        network = client.networks.create(BUILD_NETWORK, driver="bridge", internal=True,
                                          labels={"hubimages": "build"})
    if not network.attrs.get("Internal"):
        raise HubImagesError(f"docker network {BUILD_NETWORK} exists but is not internal; "
                             f"remove it with `docker network rm {BUILD_NETWORK}`")
    gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    return BUILD_NETWORK, gateway
