"""The Rucio server: its config files, the schema, and gunicorn serving Rucio's Flask app (REST
and auth endpoints in one) over HTTPS on the network gateway. With an identity provider, it
accepts the provider's JWT access tokens (Rucio's OIDC support: [oidc] idpsecrets, the
expected audience and scope; each token's "SUB=<sub>, ISS=<issuer>" must be an OIDC identity of
the account)."""

from __future__ import annotations

import configparser
import io
import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubimages.services.rucio.host import run, stop_group, wait_for
from hubimages.services.rucio.site import RucioSite

APP = "rucio.web.rest.flaskapi.v1.main:application"
POLICY_PACKAGE = "skahub_site_policy"
WORKERS = 2
PID_FILE = "gunicorn.pid"
# alembic's env.py calls logging.config.fileConfig() on this file: it needs these sections.
ALEMBIC_LOGGING = {
    "loggers": {"keys": "root"},
    "handlers": {"keys": "console"},
    "formatters": {"keys": "generic"},
    "logger_root": {"level": "WARNING", "handlers": "console"},
    "handler_console": {"class": "StreamHandler", "args": "(sys.stderr,)", "formatter": "generic"},
    "formatter_generic": {"format": "%(levelname)s [%(name)s] %(message)s"},
}


def stop_gunicorn(pid_file: Path) -> None:
    """Quick shutdown (gunicorn's SIGINT) of the server a pid file names, workers included."""
    try:
        stop_group(int(pid_file.read_text().strip()), signal.SIGINT)
    except (OSError, ValueError):
        pass  # not running
    pid_file.unlink(missing_ok=True)


def venv_python(
    venv: Path,
    config_dir: Path,
    args: list[str],
    what: str,
    config: Path,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run the server venv's Python with a Rucio config (server or root client) and the
    policy package importable (the server's config names it)."""
    env = {
        **os.environ,
        "RUCIO_CONFIG": str(config),
        "PYTHONPATH": str(config_dir / "policy"),
        **(extra_env or {}),
    }
    env.pop("RUCIO_HOME", None)
    return run([str(venv / "bin" / "python"), *args], what, env=env)


def ini(sections: dict[str, dict[str, str]]) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(sections)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class OidcTrust:
    """The identity provider whose tokens the server accepts, and Rucio's client there."""

    issuer: str
    audience: str
    scope: str  # what a token's scope must hold
    client_id: str
    client_secret: str

    def idpsecrets(self, server_url: str) -> dict[str, Any]:
        """Rucio's idpsecrets.json: the client at the issuer (its SCIM client too: required)."""
        client = {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": [f"{server_url}/auth/oidc_code"],
        }
        return {"site": {**client, "SCIM": dict(client)}}


@dataclass
class RucioServer:
    venv: Path
    config_dir: Path  # services/rucio: bootstrap.py and the policy package
    folder: Path  # its configs and logs
    address: str
    port: int
    cert: Path
    key: Path
    root_password: str
    ca: Path  # the site CA (what the server trusts: the identity provider's certificate)
    oidc: OidcTrust | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    @property
    def config(self) -> Path:
        return self.folder / "rucio.cfg"

    @property
    def root_config(self) -> Path:
        return self.folder / "root-client.cfg"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.folder / PID_FILE

    def oidc_section(self) -> dict[str, dict[str, str]]:
        if self.oidc is None:
            return {}
        secrets_file = self.folder / "idpsecrets.json"
        secrets_file.write_text(json.dumps(self.oidc.idpsecrets(self.url)))
        secrets_file.chmod(0o600)
        return {
            "oidc": {
                "idpsecrets": str(secrets_file),
                "admin_issuer": "site",
                "expected_audience": self.oidc.audience,
                "expected_scope": self.oidc.scope,
            }
        }

    def write_configs(self, database_url: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        alembic = self.folder / "alembic.ini"
        alembic.write_text(
            ini(
                {
                    "alembic": {
                        "script_location": "rucio.db.sqla:migrate_repo",
                        "sqlalchemy.url": database_url,
                    },
                    **ALEMBIC_LOGGING,
                }
            )
        )
        self.config.write_text(
            ini(
                {
                    "common": {"loglevel": "INFO"},
                    "database": {"default": database_url},
                    "bootstrap": {
                        "userpass_identity": "root",
                        "userpass_pwd": self.root_password,
                        "userpass_email": "root@localhost",
                    },
                    "alembic": {"cfg": str(alembic)},
                    "policy": {
                        "package": POLICY_PACKAGE,
                        "lfn2pfn_algorithm_default": "hash",
                        "support": "root@localhost",
                    },
                    **self.oidc_section(),
                }
            )
        )
        self.root_config.write_text(
            ini(
                {
                    "client": {
                        "rucio_host": self.url,
                        "auth_host": self.url,
                        "account": "root",
                        "auth_type": "userpass",
                        "username": "root",
                        "password": self.root_password,
                        "ca_cert": str(self.ca),
                        "request_retries": "3",
                    }
                }
            )
        )
        for path in (self.config, self.root_config):
            path.chmod(0o600)

    def python(
        self, args: list[str], what: str, config: Path, extra_env: dict[str, str] | None = None
    ) -> str:
        return venv_python(self.venv, self.config_dir, args, what, config, extra_env)

    def create_schema(self) -> None:
        self.python(
            [str(self.config_dir / "bootstrap.py"), "schema"],
            "Rucio schema and root account",
            self.config,
        )

    def start(self) -> None:
        cmd = [
            str(self.venv / "bin" / "gunicorn"),
            "--bind",
            f"{self.address}:{self.port}",
            "--workers",
            str(WORKERS),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--no-control-socket",
            "--certfile",
            str(self.cert),
            "--keyfile",
            str(self.key),
            "--pythonpath",
            str(self.config_dir / "policy"),
            "--env",
            f"RUCIO_CONFIG={self.config}",
            # The identity provider's discovery and keys are fetched over HTTPS (requests).
            "--env",
            f"REQUESTS_CA_BUNDLE={self.ca}",
            "--pid",
            str(self.pid_file),
            "--access-logfile",
            str(self.folder / "access.log"),
            "--error-logfile",
            str(self.log_path),
            "--capture-output",
            APP,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True
            )
        wait_for(
            f"{self.url}/ping",
            self.ca,
            "the Rucio server (gunicorn)",
            lambda: self.process is not None and self.process.poll() is None,
            self.log_path,
        )

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid_file.is_file()

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process.pid, signal.SIGINT, process=self.process)
            self.process = None
        stop_gunicorn(self.pid_file)


def run_transfers(site: RucioSite, config_dir: Path) -> list[dict[str, object]]:
    """One pass of the test transfer agent (services/rucio/transfer_agent.py): the copies that
    rules on another RSE wait for. Raises if a copy failed."""
    out = venv_python(
        site.venv,
        config_dir,
        [str(config_dir / "transfer_agent.py")],
        "the test transfer agent",
        site.root_config,
        {"X509_USER_PROXY": str(site.root_proxy), "RUCIO_SITE_CA": str(site.ca_cert)},
    )
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]
