"""Records of running local Rucio deployments (one JSON file each under .cache/rucio/runs/),
and the teardown that needs nothing but a record: so `invoke rucio-site --stop` stops what another
process started, and a test run sweeps what a killed one left."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from hubimages.core.files import write_private
from hubimages.errors import HubImagesError
from hubimages.services.firewall import chain_name, remove_chain
from hubimages.services.rucio.database import PostgresCluster
from hubimages.services.rucio.host import pid_alive
from hubimages.services.rucio.server import PID_FILE as SERVER_PID
from hubimages.services.rucio.server import stop_gunicorn
from hubimages.services.rucio.site import RucioSite
from hubimages.services.rucio.storage import PID_FILE as STORAGE_PID
from hubimages.services.rucio.storage import stop_apache

log = logging.getLogger(__name__)
NETWORK_LABEL = "org.skahub.rucio"  # on the networks a deployment makes (and may remove)
GUARD = "rucio-"  # + name: its firewall rule (only the host and its network reach its ports)


@dataclass(frozen=True)
class StateFolders:
    """The deployment's folder: one sub-folder per part (each part owns what is inside)."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "db"

    @property
    def server(self) -> Path:
        return self.root / "server"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    def rse(self, number: int) -> Path:
        return self.root / "rse" / str(number)


@dataclass
class RunRecord:
    name: str
    owner: int  # pid of the process that stops it (a test run); 0: until `invoke rucio-site --stop`
    state: Path
    network: str
    client_files: Path  # outside `state`: sessions keep them mounted (see teardown)
    site: RucioSite | None = None  # once it is up

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "name": self.name,
            "owner": self.owner,
            "state": str(self.state),
            "network": self.network,
            "client_files": str(self.client_files),
            "site": json.loads(self.site.to_json()) if self.site else None,
        }
        # Mode 600: it holds the accounts' passwords.
        write_private(folder / f"{self.name}.json", json.dumps(data, indent=1))

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        data = json.loads(path.read_text())
        site = RucioSite.from_json(json.dumps(data["site"])) if data.get("site") else None
        return cls(
            data["name"],
            int(data["owner"]),
            Path(data["state"]),
            data["network"],
            Path(data["client_files"]),
            site,
        )

    @property
    def abandoned(self) -> bool:
        """Its owner is gone (a detached deployment has none and is never abandoned)."""
        return self.owner != 0 and not pid_alive(self.owner)


def find_record(folder: Path, name: str) -> RunRecord | None:
    path = folder / f"{name}.json"
    return RunRecord.load(path) if path.is_file() else None


def remove_network(client: docker.DockerClient, name: str, disconnect: bool = True) -> list[str]:
    """Remove a network a deployment made (never one without its label). Containers still on
    it are disconnected, or with disconnect=False the network stays for them: their names."""
    try:
        network = client.networks.get(name)
    except docker.errors.NotFound:
        return []
    network.reload()
    if NETWORK_LABEL not in (network.attrs.get("Labels") or {}):
        return []
    attached = network.attrs.get("Containers") or {}
    if attached and not disconnect:
        return sorted(str(c.get("Name", key)) for key, c in attached.items())
    for container in attached:
        try:
            network.disconnect(container, force=True)
        except docker.errors.APIError:
            pass
    network.remove()
    return []


def teardown(record: RunRecord, folder: Path, client: docker.DockerClient) -> list[str]:
    """Stop every part (server, storage, database), remove the network, the files and the
    record. Each step runs even when an earlier one failed; the failures are raised together.

    The network of a detached deployment, and the client files its sessions mount, stay while
    sessions use it (a session cut off its only network would lose its lab too; without the
    files it would report a missing CA, not an unreachable server): their names are returned.
    A later start reuses both.
    """
    folders = StateFolders(record.state)
    kept: list[str] = []

    def network() -> None:
        kept.extend(remove_network(client, record.network, disconnect=record.owner != 0))

    steps: list[tuple[str, Callable[[], None]]] = [
        ("the Rucio server", lambda: stop_gunicorn(folders.server / SERVER_PID)),
        ("Apache WebDAV", lambda: stop_apache(folders.storage / STORAGE_PID)),
        ("PostgreSQL", PostgresCluster(folders.db).stop),
        ("its firewall rule", lambda: remove_chain(chain_name("S", GUARD + record.name))),
        (f"docker network {record.network}", network),
        (f"folder {record.state}", lambda: shutil.rmtree(record.state, ignore_errors=True)),
        (
            f"folder {record.client_files}",
            lambda: None if kept else shutil.rmtree(record.client_files, ignore_errors=True),
        ),
    ]
    failures = []
    for what, step in steps:
        try:
            step()
        except (HubImagesError, OSError, docker.errors.DockerException) as error:
            failures.append(f"{what}: {error}")
    (folder / f"{record.name}.json").unlink(missing_ok=True)
    if failures:
        raise HubImagesError(f"stopping the local Rucio {record.name}: {'; '.join(failures)}")
    return kept


def sweep_abandoned(folder: Path, client: docker.DockerClient) -> list[str]:
    """Tear down the deployments of test runs that died without stopping theirs."""
    swept = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = RunRecord.load(path)
        if record.abandoned:
            log.info("rucio: stopping %s, left by process %d", record.name, record.owner)
            teardown(record, folder, client)
            swept.append(record.name)
    return swept


def ensure_network(client: docker.DockerClient, name: str, owner: str, internal: bool) -> str:
    """A bridge network of our own: its gateway is the host's address on it, where
    every part listens, so sessions on that network reach them and nothing else does."""
    try:
        found = client.networks.get(name)
    except docker.errors.NotFound:
        found = None
    if found is not None and NETWORK_LABEL not in (found.attrs.get("Labels") or {}):
        raise HubImagesError(
            f"docker network {name} exists and is not ours: remove it or choose another namespace"
        )
    # Ours and still there: kept by `--stop` for the sessions on it, which then see the
    # new deployment at the same address.
    network = found or client.networks.create(
        name,
        driver="bridge",
        internal=internal,
        labels={NETWORK_LABEL: owner},
        check_duplicate=True,
    )
    network.reload()
    configs = network.attrs.get("IPAM", {}).get("Config") or [{}]
    gateway = configs[0].get("Gateway")
    if not gateway:
        raise HubImagesError(f"docker network {name} has no gateway address")
    return str(gateway)
