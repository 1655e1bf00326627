"""The deployment's database: a PostgreSQL cluster of its own (Debian's server binaries), in the
deployment's folder, reachable only through a unix socket in a folder of mode 700, durability
off (it is throwaway). Peer authentication: only the account that runs the Rucio server (and
the cluster's own) may connect, as the database user `rucio`, through pg_ident's map; no
password exists and no other local account gets in. PostgreSQL rather than SQLite: Rucio's
server also runs on SQLite, but with more than one server process concurrent writes fail
("database is locked", HTTP 500s)."""

from __future__ import annotations

import getpass
import glob
import logging
from dataclasses import dataclass
from pathlib import Path

from hubimages.errors import HubImagesError
from hubimages.services.rucio.host import SETUP_HINT, as_user, give_to, run

log = logging.getLogger(__name__)
SERVICE_USER = "postgres"
DATABASE = "rucio"


def postgres_bin() -> Path:
    """The newest PostgreSQL server installed (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not found:
        raise HubImagesError(f"PostgreSQL's server is not installed: {SETUP_HINT}")
    return Path(found[-1]).parent


@dataclass
class PostgresCluster:
    folder: Path  # data/, socket/ and postgres.log live here

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket(self) -> Path:
        return self.folder / "socket"

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3, which Rucio 41 requires) over the unix socket."""
        return f"postgresql+psycopg://{DATABASE}@/{DATABASE}?host={self.socket}"

    def start(self) -> None:
        binaries = postgres_bin()
        self.socket.mkdir(parents=True, exist_ok=True)
        give_to(SERVICE_USER, self.folder)
        run(
            as_user(
                SERVICE_USER,
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    DATABASE,
                    "--auth-local=peer",
                    "--auth-host=reject",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-instructions",
                ],
            ),
            "PostgreSQL initdb",
        )
        self._peer_map()
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.socket} "
            "-c unix_socket_permissions=0700 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run(
            as_user(
                SERVICE_USER,
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log_path),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ],
            ),
            f"starting PostgreSQL (log: {self.log_path})",
        )
        run(
            as_user(
                SERVICE_USER,
                [str(binaries / "createdb"), "-h", str(self.socket), "-U", DATABASE, DATABASE],
            ),
            "PostgreSQL createdb",
        )

    def _peer_map(self) -> None:
        """Local connections by peer identity only: this account and the cluster's own may be
        `rucio`; the socket folder is the cluster's, mode 700."""
        accounts = sorted({getpass.getuser(), SERVICE_USER})
        (self.data / "pg_ident.conf").write_text(
            "".join(f"{DATABASE} {account} {DATABASE}\n" for account in accounts)
        )
        (self.data / "pg_hba.conf").write_text(f"local all {DATABASE} peer map={DATABASE}\n")
        self.socket.chmod(0o700)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").is_file()

    def stop(self) -> None:
        """Immediate shutdown: the data is thrown away, so no checkpoint is written."""
        if self.running():
            run(
                as_user(
                    SERVICE_USER,
                    [
                        str(postgres_bin() / "pg_ctl"),
                        "-D",
                        str(self.data),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "30",
                        "stop",
                    ],
                ),
                "stopping PostgreSQL",
            )
