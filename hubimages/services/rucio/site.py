"""What a running local Rucio deployment is: its endpoints, credentials and files, and the
RUCIO_* settings and mounts that point a session container at it (as a hub admin would)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Where a session container sees the deployment's client files (read-only): the certificate
# of its server and storage, and a throwaway X.509 file (see RucioSite.proxy).
CONTAINER_SECRETS = "/run/secrets/rucio"
CA_FILE = "ca.pem"
PROXY_FILE = "x509up"
# What the session's hook exports (images/rucio/50-rucio.sh, for the default user): a shell
# that `docker exec` opens does not go through it, a terminal in the lab does.
SESSION_EXPORTS = {
    "RUCIO_CONFIG": "/home/jovyan/.config/rucio/rucio.cfg",
    "X509_USER_PROXY": f"{CONTAINER_SECRETS}/{PROXY_FILE}",
}


@dataclass(frozen=True)
class RseEndpoint:
    name: str
    url: str  # the WebDAV root, https://<gateway>:<port>/
    port: int
    folder: Path  # where its files are on this host


@dataclass(frozen=True)
class RucioSite:
    """A running deployment. `url` serves Rucio's REST and auth endpoints (one server)."""

    name: str  # the instance name the JupyterLab extension shows
    network: str  # the docker network whose gateway everything listens on
    gateway: str
    url: str
    account: str  # the scientist: a USER account with a userpass identity of the same name
    password: str
    scope: str
    rses: tuple[RseEndpoint, ...]
    client_files: Path  # CA_FILE and PROXY_FILE, mounted into sessions at CONTAINER_SECRETS
    root_config: Path  # a rucio client config for the root account, for the host
    venv: Path  # the server's venv: its `rucio` CLI works with root_config
    state: Path  # every file of the deployment; removed when it stops
    started_in: float = field(default=0.0, compare=False)  # seconds

    @property
    def ca_cert(self) -> Path:
        return self.client_files / CA_FILE

    @property
    def proxy(self) -> Path:
        """A self-signed certificate and key, in one file. Rucio's WebDAV client will not open
        a storage connection without an X.509 file unless it holds an OIDC token, even when the
        storage asks for none (ours does not): with userpass, this stands in for the VOMS proxy
        a real data lake's storage would check."""
        return self.client_files / PROXY_FILE

    def session_env(self, password: str | None = None) -> dict[str, str]:
        """The RUCIO_* variables a hub admin sets in a spawner profile for userpass."""
        return {
            "RUCIO_HOST": self.url,
            "RUCIO_AUTH_TYPE": "userpass",
            "RUCIO_ACCOUNT": self.account,
            "RUCIO_USERNAME": self.account,
            "RUCIO_PASSWORD": self.password if password is None else password,
            "RUCIO_CA_CERT": f"{CONTAINER_SECRETS}/{CA_FILE}",
            "RUCIO_CLIENT_PROXY": f"{CONTAINER_SECRETS}/{PROXY_FILE}",
            "RUCIO_NAME": self.name,
            "RUCIO_DISPLAY_NAME": f"Local Rucio ({self.name})",
            "RUCIO_WILDCARD_ENABLED": "1",
        }

    def session_volumes(self) -> dict[str, dict[str, str]]:
        """docker SDK `volumes=`: the client files, read-only."""
        return {str(self.client_files): {"bind": CONTAINER_SECRETS, "mode": "ro"}}

    def docker_run_args(self, image: str, name: str, port: int) -> list[str]:
        """`docker run` arguments that start `image` as a session pointed at this site, its
        lab published on 127.0.0.1:`port`."""
        args = [
            "docker",
            "run",
            "--rm",
            "-it",
            "--name",
            name,
            "-p",
            f"127.0.0.1:{port}:8888",
            "--network",
            self.network,
            "-v",
            f"{self.client_files}:{CONTAINER_SECRETS}:ro",
        ]
        for key, value in self.session_env().items():
            args += ["-e", f"{key}={value}"]
        return [*args, image]

    @staticmethod
    def docker_exec_args(name: str) -> list[str]:
        """A shell in that session with the CLI configured, as in a terminal of its lab."""
        exports = [f"{key}={value}" for key, value in SESSION_EXPORTS.items()]
        return ["docker", "exec", "-it", *(x for e in exports for x in ("-e", e)), name, "bash"]

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RucioSite:
        raw = json.loads(text)
        return cls(
            name=raw["name"],
            network=raw["network"],
            gateway=raw["gateway"],
            url=raw["url"],
            account=raw["account"],
            password=raw["password"],
            scope=raw["scope"],
            rses=tuple(
                RseEndpoint(r["name"], r["url"], int(r["port"]), Path(r["folder"]))
                for r in raw["rses"]
            ),
            client_files=Path(raw["client_files"]),
            root_config=Path(raw["root_config"]),
            venv=Path(raw["venv"]),
            state=Path(raw["state"]),
            started_in=float(raw.get("started_in", 0)),
        )
