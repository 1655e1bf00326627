"""Provision this Debian host: packages from Debian's mirror, and a Docker engine to talk to."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from hubimages.builder.engine import try_connect
from hubimages.core.waiting import wait_until
from hubimages.errors import EngineUnavailableError, HubImagesError

log = logging.getLogger(__name__)

DOCKERD_LOG = Path("/var/log/hubimages-dockerd.log")
START_TIMEOUT_S = 60


def ensure_engine() -> str:
    """Make a Docker engine reachable; idempotent. Returns what was done, for the log."""
    client = try_connect()
    if client is not None:
        return f"Docker engine {client.version().get('Version', '?')} already running"
    if "DOCKER_HOST" in os.environ:
        raise EngineUnavailableError(
            f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer; start that engine or "
            "unset DOCKER_HOST so `invoke engine` can start a local one"
        )
    require_debian_root("no Docker engine answers", ["docker.io"])
    actions = []
    if shutil.which("dockerd") is None:
        apt_install(["docker.io"])
        actions.append("installed docker.io")
    _start_dockerd()
    actions.append(f"started dockerd (log: {DOCKERD_LOG})")
    return "; ".join(actions)


def require_debian_root(what: str, packages: list[str]) -> None:
    """Installing is for root on Debian; elsewhere, one line naming what to install."""
    names = " ".join(packages)
    if not Path("/etc/debian_version").exists():
        raise EngineUnavailableError(
            f"{what} and this is not Debian: install what Debian calls {names} yourself"
        )
    if os.geteuid() != 0:
        raise EngineUnavailableError(
            f"{what}: run this task as root, or install it first: apt-get install {names}"
        )


def apt_install(packages: list[str]) -> None:
    log.info("installing %s from Debian", " ".join(packages))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise HubImagesError(
                f"{' '.join(cmd)} failed: {' '.join(last)}; check this machine's apt sources "
                "(/etc/apt/sources.list*) and that it reaches them, then rerun"
            )


def ensure_debian_tools(commands: dict[str, str]) -> None:
    """Install the Debian packages that provide missing commands ({command: package})."""
    missing = sorted({pkg for cmd, pkg in commands.items() if shutil.which(cmd) is None})
    if missing:
        require_debian_root(f"{', '.join(sorted(commands))} not found", missing)
        apt_install(missing)


def _start_dockerd() -> None:
    # containerd is started by dockerd itself when no system containerd runs.
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with DOCKERD_LOG.open("ab") as out:
        subprocess.Popen(
            ["dockerd"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    if wait_until(lambda: try_connect() is not None, START_TIMEOUT_S, interval=0.5):
        return
    tail = DOCKERD_LOG.read_text(errors="replace").strip().splitlines()[-1:]
    raise EngineUnavailableError(
        f"dockerd did not answer within {START_TIMEOUT_S}s: {' '.join(tail)} (its log: "
        f"{DOCKERD_LOG}; another dockerd or a stale /var/run/docker.pid?)"
    )
