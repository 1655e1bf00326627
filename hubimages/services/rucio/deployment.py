"""Start and stop the local Rucio deployment as one piece: a docker network, certificates,
PostgreSQL, the schema, Apache WebDAV (two RSEs), the Rucio server, then the scientist's account,
scope, RSEs and quotas through the API. Anything started is stopped again on failure, on
Ctrl-C and at the end (`with LocalRucio(...) as site:`), and a record under .cache/rucio/runs/
lets `invoke rucio-site --stop` or the next test run stop what a dead process left."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import docker
import docker.errors

from hubimages.core.cache import CacheLayout
from hubimages.core.files import write_private
from hubimages.core.ports import free_port
from hubimages.errors import HubImagesError
from hubimages.services.firewall import bridge_of, service_guard
from hubimages.services.idp.site import IdpSite
from hubimages.services.rucio.accounts import (
    oidc_trust,
    populate_spec,
    site_accounts,
    token_trust,
    write_account_files,
)
from hubimages.services.rucio.database import PostgresCluster
from hubimages.services.rucio.host import answers
from hubimages.services.rucio.records import (
    GUARD,
    RunRecord,
    StateFolders,
    ensure_network,
    find_record,
    remove_network,
    sweep_abandoned,
    teardown,
)
from hubimages.services.rucio.server import RucioServer, run_transfers, venv_python
from hubimages.services.rucio.site import CA_FILE, RseEndpoint, RucioSite
from hubimages.services.rucio.storage import WebDavStorage
from hubimages.services.rucio.venv import server_venv
from hubimages.services.tls import SiteCA

log = logging.getLogger(__name__)
T = TypeVar("T")
NETWORK_PREFIX = "hubimages-rucio-"
# Names ending in USERDISK: the generic policy lets users write there (services/rucio/policy).
RSE_NAMES = ("SITE1_USERDISK", "SITE2_USERDISK")
QUOTA_BYTES = 100 * 1024**3


def service_files(project_root: Path) -> Path:
    """The deployment's own files in a checkout: server lock, Apache config, policy, scripts."""
    return project_root / "services" / "rucio"


@dataclass
class LocalRucio:
    config_dir: Path  # services/rucio of this checkout
    cache: CacheLayout
    name: str  # names the network and the record: one deployment per name at a time
    index_url: str  # where the server venv's packages come from
    client: docker.DockerClient
    detached: bool = False  # outlives this process (`invoke rucio-site`); else stopped by it
    # An --internal network (sessions reach its gateway only; no published ports), e.g. for
    # `invoke e2e`'s hub, whose user servers share it.
    internal: bool = False
    idp: IdpSite | None = None  # accept its users' tokens (`invoke rucio-site --auth oidc`)
    record: RunRecord | None = None
    server: RucioServer | None = None
    storage: WebDavStorage | None = None
    site: RucioSite | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Its parts run in folders of their own (gunicorn, Apache): relative paths would break.
        self.config_dir = self.config_dir.resolve()
        self.cache = CacheLayout(self.cache.root.resolve())

    def __enter__(self) -> RucioSite:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> RucioSite:
        sweep_abandoned(self.cache.rucio_runs, self.client)
        if find_record(self.cache.rucio_runs, self.name) is not None:
            raise HubImagesError(
                f"a local Rucio named {self.name!r} is already running: stop it "
                "first (invoke rucio-site --stop)"
            )
        venv = server_venv(
            self.cache.rucio_venv, self.config_dir / "requirements.lock", self.index_url
        )
        started = time.monotonic()
        state = Path(tempfile.mkdtemp(prefix=f"hubimages-rucio-{self.name}-"))
        # Under /tmp, not .cache: PostgreSQL and Apache run as their own users and must reach
        # it whatever the permissions of the checkout's parents.
        state.chmod(0o755)
        self.record = RunRecord(
            self.name,
            0 if self.detached else os.getpid(),
            state,
            NETWORK_PREFIX + self.name,
            self.cache.rucio_client_files(self.name),
        )
        self.record.save(self.cache.rucio_runs)
        try:
            self.site = self._start_parts(venv, state, started)
        except BaseException:
            self.stop()
            raise
        self.record.site = self.site
        self.record.save(self.cache.rucio_runs)
        return self.site

    def _step(self, key: str, what: str, since: float) -> float:
        now = time.monotonic()
        self.timings[key] = round(now - since, 2)
        log.info("rucio: %s (%.1f s)", what, now - since)
        return now

    def _start_parts(self, venv: Path, state: Path, started: float) -> RucioSite:
        assert self.record is not None
        gateway = ensure_network(self.client, self.record.network, self.name, self.internal)
        folders = StateFolders(state)
        tls, client_files = folders.tls, self.record.client_files
        tls.mkdir()
        ca = SiteCA(self.cache.site_ca).ensure()
        # Copies the services' own users (www-data) can read, in the deployment's folder.
        shutil.copyfile(ca.cert, tls / CA_FILE)
        cert, key = tls / "server.crt", tls / "server.key"
        ca.issue(cert, key, "hubimages-rucio", (gateway,))
        for path in (tls / CA_FILE, cert):
            path.chmod(0o644)
        ca.client_file(tls / "root.pem", "root")
        accounts = site_accounts(self.idp)
        write_account_files(client_files, accounts, ca)
        now = self._step("network", "network, certificates and account files", started)
        database = PostgresCluster(folders.db)
        database.start()
        now = self._step("database", "PostgreSQL", now)
        self.server = RucioServer(
            venv,
            self.config_dir,
            folders.server,
            gateway,
            free_port(gateway),
            cert,
            key,
            secrets.token_urlsafe(16),
            tls / CA_FILE,
            oidc_trust(self.idp),
        )
        self.server.write_configs(database.url)
        self.server.create_schema()
        now = self._step("schema", "schema and root account", now)
        self.storage = WebDavStorage(
            self.config_dir,
            folders.storage,
            (folders.rse(1), folders.rse(2)),
            gateway,
            (free_port(gateway), free_port(gateway)),
            cert,
            key,
            tls / CA_FILE,
            token_trust(self.idp, accounts),
        )
        self.storage.start()
        now = self._step("storage", "Apache WebDAV", now)
        self.server.start()
        now = self._step("server", "Rucio server answers /ping", now)
        site = RucioSite(
            name=self.name,
            network=self.record.network,
            gateway=gateway,
            url=self.server.url,
            accounts=accounts,
            rses=tuple(
                RseEndpoint(name, self.storage.url(i), self.storage.ports[i], self.storage.roots[i])
                for i, name in enumerate(RSE_NAMES)
            ),
            client_files=client_files,
            root_config=self.server.root_config,
            root_proxy=tls / "root.pem",
            venv=venv,
            state=state,
            oidc_issuer=self.idp.issuer if self.idp else "",
            oidc_audience=self.idp.audience if self.idp else "",
        )
        self._populate(site)
        bridge = bridge_of(self.client, self.record.network)
        service_guard(GUARD + self.name, gateway, site.ports(), [bridge]).apply()
        self._step("bootstrap", "accounts, scopes, RSEs and quotas; firewall", now)
        return replace(site, started_in=round(time.monotonic() - started, 1))

    def _populate(self, site: RucioSite) -> None:
        assert self.server is not None
        spec = {
            "accounts": populate_spec(site.accounts),
            "quota_bytes": QUOTA_BYTES,
            "rses": [{"name": r.name, "hostname": site.gateway, "port": r.port} for r in site.rses],
        }
        path = self.server.folder / "populate.json"
        write_private(path, json.dumps(spec))
        self.server.python(
            [str(self.config_dir / "bootstrap.py"), "populate", str(path)],
            "Rucio accounts, scopes and RSEs",
            self.server.root_config,
            {"X509_USER_PROXY": str(site.root_proxy)},
        )
        path.unlink()

    def upload(self, path: Path, name: str) -> str:
        """Put a file in the scientist's scope on the first RSE, as root from the host (data
        already in the lake when a session starts); its DID."""
        site = self._running_part(self.site)
        out = venv_python(
            site.venv,
            self.config_dir,
            [
                str(site.venv / "bin" / "rucio"),
                "upload",
                "--rse",
                site.rses[0].name,
                "--scope",
                site.scope,
                "--lfn",
                name,
                str(path),
            ],
            f"rucio upload of {path.name}",
            site.root_config,
            {"X509_USER_PROXY": str(site.root_proxy)},
        )
        log.debug("rucio upload: %s", out)
        return f"{site.scope}:{name}"

    def transfer(self) -> list[dict[str, object]]:
        return run_transfers(self._running_part(self.site), self.config_dir)

    # Faults, for the tests: parts of a deployment this object started go away and come back.
    def stop_server(self) -> None:
        self._running_part(self.server).stop()

    def start_server(self) -> None:
        self._running_part(self.server).start()

    def stop_storage(self) -> None:
        """Both RSEs go away at once; transfers under way are cut."""
        self._running_part(self.storage).stop()

    def start_storage(self, throttled: bool = False) -> None:
        self._running_part(self.storage).start(throttled)

    def _running_part(self, part: T | None) -> T:
        if part is None or self.site is None:
            raise HubImagesError(f"the local Rucio {self.name} is not running in this process")
        return part

    def running_site(self) -> RucioSite | None:
        """The site recorded under this name, if its server answers."""
        record = find_record(self.cache.rucio_runs, self.name)
        if record is None or record.site is None:
            return None
        return record.site if answers(f"{record.site.url}/ping", record.site.ca_cert) else None

    def stop(self) -> list[str]:
        """Stop everything this object started (or found recorded under its name); the
        sessions that keep its network (see records.teardown)."""
        if self.server is not None:
            self.server.stop()  # our child: reaped here, not left a zombie
        record = self.record or find_record(self.cache.rucio_runs, self.name)
        self.server = self.storage = self.site = self.record = None
        if record is None:  # at most what an earlier stop kept for sessions: gone once they are
            kept = remove_network(self.client, NETWORK_PREFIX + self.name, disconnect=False)
            if not kept:
                shutil.rmtree(self.cache.rucio_client_files(self.name), ignore_errors=True)
            return kept
        return teardown(record, self.cache.rucio_runs, self.client)
