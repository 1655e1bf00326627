"""A real JupyterHub on this machine, for admins to try a release and for `invoke e2e`.

JupyterHub (the version the images carry) with its configurable-http-proxy (npm, pinned in
services/hub/), users logging in with a shared password (one person's trials) or at the site's
OpenID Connect provider (hubconfig.py), and DockerSpawner loading the profiles `invoke
profiles` wrote. Homes are named volumes kept across servers; idle servers are culled. The
proxy listens on 127.0.0.1 only; user servers run on an internal docker network of the hub's
own (or on the network of a service they use, e.g. the local Rucio) and reach the hub's API on
its gateway. Everything it starts is stopped by `stop`, also after a crash of an earlier run
(its pid files, checked against the processes' command lines, its container label, its
network); homes stay unless asked.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from hubimages.core.files import write_private
from hubimages.core.ports import free_port, port_free
from hubimages.core.waiting import wait_until
from hubimages.errors import HubImagesError
from hubimages.services.firewall import Guard, bridge_of, chain_name, network_guard, remove_chain
from hubimages.services.hubconfig import (
    COMPOSE_HOOKS,
    CONFIG,
    CULLER,
    callback_url,
    home_volume,
    oidc_login,
    rucio_sessions,
    session_limits,
    shared_password,
)
from hubimages.services.idp.clients import register_client
from hubimages.services.idp.site import IdpSite
from hubimages.services.npm import npm_install
from hubimages.services.procs import stop_leftover_proxy, stop_services_in
from hubimages.services.rucio.site import RucioSite

log = logging.getLogger(__name__)

NETWORK = "hubimages-hub"
CONTAINER_LABEL = "hubimages.hub"
RENEWAL_FRAGMENT = "token_renewal.py"  # in services/hub: renews users' access tokens


def proxy_source(project_root: Path) -> Path:
    """The proxy's pinned npm package (package.json and its lock) in a checkout."""
    return project_root / "services" / "hub"


@dataclass
class LocalHub:
    root: Path  # config, database, log, password, pid, the proxy's node_modules
    proxy_source: Path  # services/hub: package.json and package-lock.json of the proxy
    profiles: Path  # dockerspawner_config.py of `invoke profiles`
    port: int = 8000
    name: str = NETWORK  # of its user servers' containers (prefix, label) and its own network
    network: str = ""  # another service's network to run user servers on (default: its own)
    idp: IdpSite | None = None  # log in there (else: a shared password)
    rucio: RucioSite | None = None  # point sessions of its accounts at it
    homes: bool = True  # a named volume per user, kept across servers
    open_ports: tuple[int, ...] = ()  # more host ports its sessions may reach (e.g. an index)
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
    def auth(self) -> str:
        return "oidc" if self.idp is not None else "shared-password"

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
        self.root.chmod(0o700)  # its config, database and keys are the hub's alone
        stop_leftover_proxy(self.root)
        gateway = self._network()
        hub_port = free_port(gateway)
        try:
            self._guard(gateway, hub_port).apply()
            self._launch(gateway, hub_port)
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

    def _guard(self, gateway: str, hub_port: int) -> Guard:
        """Sessions reach the hub's API, the local Rucio and the extra ports; nothing else of
        the host."""
        ports = [hub_port, *self.open_ports, *(self.rucio.ports() if self.rucio else [])]
        bridge = bridge_of(docker.from_env(), self.user_network)
        return network_guard(self.name, bridge, gateway, ports)

    def _launch(self, gateway: str, hub_port: int) -> None:
        proxy = self._proxy()
        volumes: dict[str, dict[str, str]] = {}  # per session: hubconfig.rucio_sessions
        config = self.root / "jupyterhub_config.py"
        write_private(
            config,
            CONFIG.format(
                port=self.port,
                api_port=free_port(),
                proxy=str(proxy),
                gateway=gateway,
                hub_port=hub_port,
                root=self.root,
                network=self.user_network,
                name=self.name,
                label=CONTAINER_LABEL,
                volumes=volumes,
                profiles=str(self.profiles),
                extra=self.extra_config,
                sections=self._sections(),
                compose=COMPOSE_HOOKS,
            ),
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

    def _sections(self) -> str:
        """Login, homes, culling, limits and Rucio (hubconfig.py)."""
        if self.idp is None:
            parts = [shared_password(self.root)]
        else:
            client = register_client(self.idp, callback_url(self.url), f"JupyterHub {self.name}")
            renewal = self.proxy_source / RENEWAL_FRAGMENT
            parts = [oidc_login(self.root, self.idp, client, self.url, renewal)]
        parts.append(session_limits(self.name, self.homes, self.root))
        if self.rucio is not None:
            parts.append(rucio_sessions(self.rucio, "oidc" if self.idp else "userpass"))
        return "\n".join(parts)

    def _proxy(self) -> Path:
        """configurable-http-proxy from npm, exactly as services/hub/package-lock.json says."""
        folder = npm_install(self.proxy_source, self.root / "proxy", "configurable-http-proxy")
        return folder / "node_modules" / ".bin" / "configurable-http-proxy"

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

    def stop(self, remove_homes: bool = False) -> bool:
        """The hub (it stops its proxy and its servers), then whatever an earlier crash left
        (the proxy it started, by its pid file); whether a hub was running."""
        pid = self._pid()
        was = self.running()
        if pid is not None and was:
            try:
                os.kill(pid, signal.SIGTERM)  # the hub stops its proxy and servers itself
                wait_until(lambda: not self.running(), 30, interval=0.2)
                os.killpg(pid, signal.SIGKILL)  # whatever of its group is left
            except ProcessLookupError:
                pass
            if self.process is not None:
                self.process.wait(timeout=10)
        self.pid_path.unlink(missing_ok=True)
        stop_leftover_proxy(self.root)
        stop_services_in(self.root, CULLER.encode())
        remove_chain(chain_name("N", self.name))  # on whichever network its sessions were
        self._remove_leftovers(remove_homes)
        return was

    def _remove_leftovers(self, remove_homes: bool) -> None:
        client = docker.from_env()
        if remove_homes:
            for volume in client.volumes.list(filters={"name": home_volume(self.name, "")}):
                if volume.name.startswith(home_volume(self.name, "")):
                    volume.remove(force=True)
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
