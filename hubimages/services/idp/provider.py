"""Start and stop the identity provider: node (the host's) running services/idp/provider.mjs on
oidc-provider from npm (pinned by services/idp/package-lock.json), over HTTPS with a
certificate of the site CA, on the gateway of a docker network of its own (the host reaches
that address, and so does any container put on the network). Everything lives in
.cache/idp/: the users (kept, so identities stay), the signing key (kept, so tokens stay
verifiable), the settings and the record (mode 600), the log. Stopping checks the recorded pid's
command line before it signals, and removes the network; a start first clears what a crashed
run left."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import docker

from hubimages.core.files import write_private
from hubimages.core.ports import free_port
from hubimages.errors import HubImagesError
from hubimages.services.firewall import bridge_of, chain_name, remove_chain, service_guard
from hubimages.services.idp.site import (
    AUDIENCE,
    RESOURCE,
    RESOURCE_SCOPE,
    IdpSite,
    load_users,
)
from hubimages.services.npm import npm_install
from hubimages.services.rucio.host import pid_alive, run
from hubimages.services.rucio.records import ensure_network, remove_network
from hubimages.services.tls import SiteCA

log = logging.getLogger(__name__)
SCRIPT = "provider.mjs"
NETWORK_PREFIX = "hubimages-idp-"
ACCESS_TOKEN_SECONDS = 120  # short, so tests see tokens expire and get renewed
REFRESH_TOKEN_SECONDS = 8 * 3600


def answers(url: str, ca: Path, timeout: float = 2) -> bool:
    context = ssl.create_default_context(cafile=str(ca))
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def is_provider(pid: int, script: Path) -> bool:
    """Whether `pid` is node running our provider script (never signal a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(script).encode() in cmdline


@dataclass
class LocalIdp:
    source: Path  # services/idp of the checkout
    folder: Path  # .cache/idp
    ca: SiteCA
    name: str  # the namespace slug: its network's name
    client: docker.DockerClient
    access_token_seconds: int = ACCESS_TOKEN_SECONDS
    modules: Path | None = None  # where node_modules go (default: in `folder`)
    process: subprocess.Popen[bytes] | None = None  # when this process started it

    @property
    def record(self) -> Path:
        return self.folder / "run.json"

    @property
    def log_path(self) -> Path:
        return self.folder / "provider.log"

    @property
    def network(self) -> str:
        return NETWORK_PREFIX + self.name

    def running_site(self) -> IdpSite | None:
        if not self.record.is_file():
            return None
        site = IdpSite.load(self.record)
        alive = pid_alive(site.pid) and answers(site.discovery_url, site.ca_cert)
        return site if alive else None

    def start(self, timeout: float = 30) -> IdpSite:
        started = time.monotonic()
        self.stop()  # what a crashed run left
        modules = npm_install(
            self.source, self.modules or self.folder / "provider", "oidc-provider"
        )
        try:
            site = self._launch(modules, started, timeout)
        except BaseException:
            self.stop()
            raise
        site.save(self.record)
        return site

    def _launch(self, modules: Path, started: float, timeout: float) -> IdpSite:
        self.ca.ensure()
        gateway = ensure_network(self.client, self.network, self.name, internal=True)
        port = free_port(gateway)
        tls = self.folder / "tls"
        tls.mkdir(parents=True, exist_ok=True)
        self.ca.issue(
            tls / "server.pem", tls / "server.key", "hubimages identity provider", (gateway,)
        )
        signing = self.folder / "signing-key.pem"
        if not signing.is_file():
            old = os.umask(0o077)
            try:
                run(
                    ["openssl", "genpkey", "-algorithm", "RSA", "-out", str(signing)],
                    "openssl: the provider's signing key",
                )
            finally:
                os.umask(old)
        users = load_users(self.folder / "users.json")
        issuer = f"https://{gateway}:{port}"
        rucio_client = ("rucio", secrets.token_urlsafe(24))
        registration = secrets.token_urlsafe(24)
        settings = {
            "issuer": issuer,
            "address": gateway,
            "port": port,
            "tls": {"cert": str(tls / "server.pem"), "key": str(tls / "server.key")},
            "signing_key": str(signing),
            "signing_kid": "site-" + str(int(signing.stat().st_mtime)),
            "cookie_keys": [secrets.token_urlsafe(24)],
            "access_token_seconds": self.access_token_seconds,
            "refresh_token_seconds": REFRESH_TOKEN_SECONDS,
            "resource": {"indicator": RESOURCE, "audience": AUDIENCE, "scope": RESOURCE_SCOPE},
            "registration_token": registration,
            "clients": [
                {
                    "client_id": rucio_client[0],
                    "client_secret": rucio_client[1],
                    # Rucio's own login flow is not used (sessions bring tokens): registered
                    # for its idpsecrets.json, which needs a client.
                    "redirect_uris": [f"https://{gateway}/auth/oidc_code"],
                }
            ],
            "users": [user.settings() for user in users],
        }
        settings_path = self.folder / "settings.json"
        write_private(settings_path, json.dumps(settings, indent=1))
        pid = self._spawn(modules, settings_path)
        site = IdpSite(
            issuer=issuer,
            network=self.network,
            gateway=gateway,
            port=port,
            pid=pid,
            ca_cert=self.ca.cert,
            users_file=self.folder / "users.json",
            registration_token=registration,
            rucio_client=rucio_client,
            access_token_seconds=self.access_token_seconds,
            users=users,
        )
        site.save(self.record)  # from here on, `stop` finds the process
        self._wait(site, timeout)
        # The host (the hub, Rucio, browsers) and containers on its own network reach it.
        service_guard(self.network, gateway, [port], [bridge_of(self.client, self.network)]).apply()
        return IdpSite(**{**site.__dict__, "started_in": round(time.monotonic() - started, 1)})

    def _spawn(self, modules: Path, settings: Path) -> int:
        script = modules / SCRIPT
        script.write_bytes((self.source / SCRIPT).read_bytes())
        with self.log_path.open("ab") as out:
            process = subprocess.Popen(
                ["node", str(script), str(settings)],
                cwd=modules,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={"PATH": os.environ.get("PATH", ""), "NODE_ENV": "production"},
            )
        self.process = process
        return process.pid

    def _wait(self, site: IdpSite, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(site.pid):
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise HubImagesError(f"the identity provider exited at start: {' | '.join(tail)}")
            if answers(site.discovery_url, site.ca_cert, timeout=1):
                return
            time.sleep(0.1)
        raise HubImagesError(
            f"the identity provider did not answer {site.discovery_url} within {timeout:.0f} s "
            f"(log: {self.log_path})"
        )

    def stop(self) -> bool:
        """Stop the recorded provider and remove its network; whether one was running."""
        was = False
        if self.record.is_file():
            site = IdpSite.load(self.record)
            if is_provider(site.pid, (self.modules or self.folder / "provider") / SCRIPT):
                was = True
                stop_process(site.pid, self.process)
            self.record.unlink()
        remove_chain(chain_name("S", self.network))
        remove_network(self.client, self.network)
        (self.folder / "settings.json").unlink(missing_ok=True)
        return was


def stop_process(
    pid: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 10
) -> None:
    """SIGTERM, wait, then SIGKILL the process group it leads (our own child is reaped)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None if process is not None else not pid_alive(pid):
            break
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if process is not None:
        process.wait(timeout=5)
