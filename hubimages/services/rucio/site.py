"""What a running local Rucio deployment is: its endpoints, accounts and files, and the RUCIO_*
settings and mounts that point a session container at it (as a hub admin would).

Each user has an account of their own, with its scope user.<name>. What a session needs of it
comes as files, never as variables: clients/<name>/accounts/<account>/ holds the site CA, the
account's password and its X.509 client certificate (key included), the secrets mode 600 and
owned by the session's user (NB_UID 1000); it is mounted read-only at CONTAINER_SECRETS. With
an identity provider (--auth oidc), sessions bring the user's token instead and get no file
but the CA."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Where a session container sees its account's files (read-only).
CONTAINER_SECRETS = "/run/secrets/rucio"
CA_FILE = "ca.pem"
PROXY_FILE = "x509up"
PASSWORD_FILE = "password"  # noqa: S105 - a file name
SESSION_UID, SESSION_GID = 1000, 100  # base's NB_UID and group users: who reads the secrets
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
class RucioAccount:
    name: str  # a USER account; its userpass identity has the same name
    password: str
    oidc_identity: str = ""  # "SUB=<sub>, ISS=<issuer>" with an identity provider

    @property
    def scope(self) -> str:
        return f"user.{self.name}"


@dataclass(frozen=True)
class RucioSite:
    """A running deployment. `url` serves Rucio's REST and auth endpoints (one server)."""

    name: str  # the instance name the JupyterLab extension shows
    network: str  # the docker network whose gateway everything listens on
    gateway: str
    url: str
    accounts: tuple[RucioAccount, ...]  # the users'; the first is the scientist of the tests
    rses: tuple[RseEndpoint, ...]
    client_files: Path  # CA_FILE, and accounts/<account>/ mounted at CONTAINER_SECRETS
    root_config: Path  # a rucio client config for the root account, for the host
    root_proxy: Path  # root's client certificate and key (the storages let root write anywhere)
    venv: Path  # the server's venv: its `rucio` CLI works with root_config
    state: Path  # every file of the deployment; removed when it stops
    oidc_issuer: str = ""  # with an identity provider: whose tokens it accepts
    oidc_audience: str = ""
    started_in: float = field(default=0.0, compare=False)  # seconds

    @property
    def account(self) -> str:
        return self.accounts[0].name

    @property
    def password(self) -> str:
        return self.accounts[0].password

    @property
    def scope(self) -> str:
        return self.accounts[0].scope

    def ports(self) -> list[int]:
        """The host ports sessions use: the server's and the storages'."""
        return [int(self.url.rsplit(":", 1)[1]), *(rse.port for rse in self.rses)]

    @property
    def ca_cert(self) -> Path:
        return self.client_files / CA_FILE

    def account_files(self, account: str = "") -> Path:
        """What a session of `account` mounts (default: the scientist)."""
        return self.client_files / "accounts" / (account or self.account)

    def proxy(self, account: str = "") -> Path:
        """The account's X.509 client certificate and key in one file, as X509_USER_PROXY files
        are: Rucio's WebDAV client shows it to the storage (which authorises by its name)."""
        return self.account_files(account) / PROXY_FILE

    def session_env(self, account: str = "", auth: str = "userpass") -> dict[str, str]:
        """The RUCIO_* variables a hub admin sets in a spawner profile: userpass (password and
        certificate from files), or oidc (the session's own token; no secret at all)."""
        env = {
            "RUCIO_HOST": self.url,
            "RUCIO_AUTH_TYPE": auth,
            "RUCIO_ACCOUNT": account or self.account,
            "RUCIO_CA_CERT": f"{CONTAINER_SECRETS}/{CA_FILE}",
            "RUCIO_NAME": self.name,
            "RUCIO_DISPLAY_NAME": f"Local Rucio ({self.name})",
            "RUCIO_WILDCARD_ENABLED": "1",
        }
        if auth == "oidc":
            return {**env, "RUCIO_OIDC_AUDIENCE": self.oidc_audience}
        return {
            **env,
            "RUCIO_USERNAME": account or self.account,
            "RUCIO_PASSWORD_FILE": f"{CONTAINER_SECRETS}/{PASSWORD_FILE}",
            "RUCIO_CLIENT_PROXY": f"{CONTAINER_SECRETS}/{PROXY_FILE}",
        }

    def session_volumes(self, account: str = "") -> dict[str, dict[str, str]]:
        """docker SDK `volumes=`: the account's files, read-only."""
        return {str(self.account_files(account)): {"bind": CONTAINER_SECRETS, "mode": "ro"}}

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
            f"{self.account_files()}:{CONTAINER_SECRETS}:ro",
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
            accounts=tuple(
                RucioAccount(a["name"], a["password"], a.get("oidc_identity", ""))
                for a in raw["accounts"]
            ),
            rses=tuple(
                RseEndpoint(r["name"], r["url"], int(r["port"]), Path(r["folder"]))
                for r in raw["rses"]
            ),
            client_files=Path(raw["client_files"]),
            root_config=Path(raw["root_config"]),
            root_proxy=Path(raw["root_proxy"]),
            venv=Path(raw["venv"]),
            state=Path(raw["state"]),
            oidc_issuer=raw.get("oidc_issuer", ""),
            oidc_audience=raw.get("oidc_audience", ""),
            started_in=float(raw.get("started_in", 0)),
        )
