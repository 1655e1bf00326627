"""The deployment's database: a PostgreSQL cluster of its own (Debian's server binaries), in the
deployment's folder, reachable only through a unix socket there, durability off (it is
throwaway). PostgreSQL rather than SQLite: Rucio's server also runs on SQLite, but with more
than one server process concurrent writes fail ("database is locked", HTTP 500s)."""

from __future__ import annotations

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
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-instructions",
                ],
            ),
            "PostgreSQL initdb",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.socket} "
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
