"""A real JupyterHub on this machine, for admins to try a release and for `invoke e2e`.

JupyterHub (the version the images carry) with its configurable-http-proxy (npm, pinned in
services/hub/), a password for every user (SharedPasswordAuthenticator), and DockerSpawner
loading the profiles `invoke profiles` wrote. The proxy listens on 127.0.0.1 only; user servers
run on an internal docker network of the hub's own (or on the network of a service they use,
e.g. the local Rucio) and reach the hub's API on its gateway. Everything it starts is stopped
by `stop`, also after a crash of an earlier run (its pid file, its container label, its
network).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from hubimages.core.ports import free_port
from hubimages.core.tools import require
from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError

log = logging.getLogger(__name__)

NETWORK = "hubimages-hub"
CONTAINER_LABEL = "hubimages.hub"


def proxy_source(project_root: Path) -> Path:
    """The proxy's pinned npm package (package.json and its lock) in a checkout."""
    return project_root / "services" / "hub"


CONFIG = """\
# Written by the build tool for a local JupyterHub (hubimages/services/hub.py).
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.hub_ip = "{gateway}"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.db_url = "sqlite:///{root}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{root}/cookie_secret"
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = open("{root}/password").read().strip()
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.network_name = "{network}"
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "ifnotpresent"
c.DockerSpawner.prefix = "{name}"
c.DockerSpawner.extra_create_kwargs = {{"labels": {{"{label}": "{name}"}}}}
c.DockerSpawner.volumes = {volumes!r}
c.DockerSpawner.environment = {environment!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
{extra}
# The profiles `invoke profiles` wrote: the images offered, pinned by digest, and the form.
load_subconfig({profiles!r})
"""


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class LocalHub:
    root: Path  # config, database, log, password, pid, the proxy's node_modules
    proxy_source: Path  # services/hub: package.json and package-lock.json of the proxy
    profiles: Path  # dockerspawner_config.py of `invoke profiles`
    port: int = 8000
    name: str = NETWORK  # of its user servers' containers (prefix, label) and its own network
    network: str = ""  # another service's network to run user servers on (default: its own)
    environment: dict[str, str] = field(default_factory=dict)  # of every user server
    mounts: dict[str, dict[str, str]] = field(default_factory=dict)  # docker SDK `volumes=`
    extra_config: str = ""  # more jupyterhub_config.py lines (e.g. an API service for tests)
    process: subprocess.Popen[bytes] | None = None  # when this process started the hub

    @property
    def user_network(self) -> str:
        return self.network or self.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()

    @property
    def log_path(self) -> Path:
        return self.root / "hub.log"

    @property
    def pid_path(self) -> Path:
        return self.root / "hub.pid"

    def start(self, timeout: float = 120) -> None:
        if not self.profiles.is_file():
            raise HubImagesError(
                f"no spawner profiles at {self.profiles}: release to that registry first "
                "(invoke release --registry HOST[:PORT]/NAMESPACE; to try one on this machine: "
                "invoke registry, then --registry 127.0.0.1:5000/ska)"
            )
        if not port_free("127.0.0.1", self.port):
            raise HubImagesError(
                f"port {self.port} on 127.0.0.1 is taken: choose --port, or "
                "stop what listens there (`invoke hub --stop`)"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        password = self.root / "password"
        if not password.is_file():
            password.write_text(secrets.token_urlsafe(12) + "\n")
            password.chmod(0o600)
        gateway = self._network()
        try:
            self._launch(gateway)
            self._wait(timeout)
        except BaseException:
            self.stop()
            raise

    def _network(self) -> str:
        client = docker.from_env()
        try:
            network = client.networks.get(self.user_network)
        except docker.errors.NotFound:
            network = client.networks.create(
                self.user_network,
                driver="bridge",
                internal=True,
                labels={CONTAINER_LABEL: self.name},
            )
        network.reload()
        gateway: str = network.attrs["IPAM"]["Config"][0]["Gateway"]
        return gateway

    def _launch(self, gateway: str) -> None:
        proxy = self._proxy()
        volumes = dict(self.mounts)
        config = self.root / "jupyterhub_config.py"
        config.write_text(
            CONFIG.format(
                port=self.port,
                api_port=free_port(),
                proxy=str(proxy),
                gateway=gateway,
                hub_port=free_port(gateway),
                root=self.root,
                network=self.user_network,
                name=self.name,
                label=CONTAINER_LABEL,
                volumes=volumes,
                environment=self.environment,
                profiles=str(self.profiles),
                extra=self.extra_config,
            )
        )
        env = {
            **os.environ,
            "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(32),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.pid_path.write_text(str(self.process.pid))

    def _proxy(self) -> Path:
        """configurable-http-proxy from npm, exactly as services/hub/package-lock.json says."""
        folder = self.root / "proxy"
        binary = folder / "node_modules" / ".bin" / "configurable-http-proxy"
        lock = self.proxy_source / "package-lock.json"
        stamp = folder / "package-lock.json"
        if binary.exists() and stamp.is_file() and stamp.read_bytes() == lock.read_bytes():
            return binary
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            (folder / name).write_bytes((self.proxy_source / name).read_bytes())
        result = subprocess.run(
            [require("npm", "npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not binary.exists():
            detail = " ".join((result.stderr or result.stdout).strip().splitlines()[-2:])
            raise HubImagesError(
                f"installing configurable-http-proxy with npm failed: {detail or 'no output'}; "
                "check that this machine reaches registry.npmjs.org"
            )
        return binary

    def _wait(self, timeout: float) -> None:
        if not wait_until(self._started, timeout, interval=0.3):
            raise HubImagesError(
                f"JupyterHub did not answer on {self.url} within {timeout:.0f} s: see "
                f"{self.log_path}"
            )

    def _started(self) -> bool:
        if not self.running():
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise HubImagesError(f"JupyterHub exited at start: {' | '.join(tail)}")
        return self.answers()

    def answers(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.url}/hub/api/", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        pid = self._pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def _pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """The hub (it stops its proxy and its servers), then whatever an earlier crash left."""
        pid = self._pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)  # the hub stops its proxy and servers itself
                wait_until(lambda: not self.running(), 30, interval=0.2)
                os.killpg(pid, signal.SIGKILL)  # whatever of its group is left
            except ProcessLookupError:
                pass
            if self.process is not None:
                self.process.wait(timeout=10)
        self.pid_path.unlink(missing_ok=True)
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        client = docker.from_env()
        for container in client.containers.list(
            all=True, filters={"label": f"{CONTAINER_LABEL}={self.name}"}
        ):
            container.remove(force=True)
        try:
            network = client.networks.get(self.name)
        except docker.errors.NotFound:
            return
        if (network.attrs.get("Labels") or {}).get(CONTAINER_LABEL) == self.name:  # its own
            network.remove()
