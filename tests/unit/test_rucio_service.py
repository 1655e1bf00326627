"""The local Rucio deployment's pieces that need no server: its pins, its description of
itself, its records and its Apache config (the running deployment is tested by the rucio
stack's container tests, tests/containers/rucio/)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hubimages.deps.lockfile import read_lock
from hubimages.services.rucio.deployment import service_files
from hubimages.services.rucio.records import RunRecord
from hubimages.services.rucio.site import CONTAINER_SECRETS, RseEndpoint, RucioSite
from hubimages.services.rucio.storage import WebDavStorage

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "p w%d"  # noqa: S105 - a made-up one, with characters a shell or config would mangle
SERVICE = service_files(REPO)


def pins(lock: Path) -> dict[str, str]:
    return {entry.normalized: entry.version for entry in read_lock(lock).requirements}


def site(tmp_path: Path) -> RucioSite:
    rses = tuple(
        RseEndpoint(
            f"SITE{n}_USERDISK",
            f"https://10.0.0.1:{8000 + n}/",
            8000 + n,
            tmp_path / "rse" / str(n),
        )
        for n in (1, 2)
    )
    return RucioSite(
        name="t",
        network="hubimages-rucio-t",
        gateway="10.0.0.1",
        url="https://10.0.0.1:8443",
        account="scientist",
        password=PASSWORD,
        scope="user.scientist",
        rses=rses,
        client_files=tmp_path / "client",
        root_config=tmp_path / "root.cfg",
        venv=tmp_path / "venv",
        state=tmp_path,
        started_in=4.2,
    )


def test_server_is_the_release_of_the_images_clients() -> None:
    server = pins(SERVICE / "requirements.lock")
    locks = sorted((REPO / "images" / "rucio").glob("requirements.*.lock"))
    assert locks  # one per variant: every variant's clients talk to this one server
    for lock in locks:
        assert server["rucio"] == pins(lock)["rucio-clients"], lock.name
    declared = dict(
        re.findall(
            r"^([\w-]+)(?:\[\w+\])?==(\S+)$",
            (SERVICE / "requirements.in").read_text(),
            re.MULTILINE,
        )
    )
    assert {name: server[name] for name in declared} == declared
    assert "psycopg" in server  # the PostgreSQL driver of rucio[postgresql]


def test_site_description_survives_its_record(tmp_path: Path) -> None:
    described = site(tmp_path)
    record = RunRecord("t", 0, tmp_path, described.network, tmp_path / "client", described)
    record.save(tmp_path / "runs")
    loaded = RunRecord.load(tmp_path / "runs" / "t.json")
    assert loaded == record
    assert loaded.site is not None and loaded.site.started_in == 4.2
    assert not loaded.abandoned  # a detached deployment waits for `invoke rucio-site --stop`


def test_a_record_whose_owner_is_gone_is_abandoned(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert RunRecord("t", int(gone.stdout), tmp_path, "n", tmp_path).abandoned
    assert not RunRecord("t", os.getpid(), tmp_path, "n", tmp_path).abandoned


def test_a_session_is_configured_by_rucio_variables_only(tmp_path: Path) -> None:
    described = site(tmp_path)
    env = described.session_env()
    assert all(key.startswith("RUCIO_") for key in env)
    assert env["RUCIO_AUTH_TYPE"] == "userpass"
    assert env["RUCIO_CA_CERT"].startswith(CONTAINER_SECRETS)
    assert env["RUCIO_CLIENT_PROXY"].startswith(CONTAINER_SECRETS)
    assert described.session_env(PASSWORD * 2)["RUCIO_PASSWORD"] == PASSWORD * 2
    assert described.session_volumes() == {
        str(tmp_path / "client"): {"bind": CONTAINER_SECRETS, "mode": "ro"}
    }
    args = described.docker_run_args("img", "lab", 8890)
    assert args[-1] == "img" and f"RUCIO_PASSWORD={PASSWORD}" in args
    assert args[args.index("--network") + 1] == described.network
    assert "127.0.0.1:8890:8888" in args


def test_apache_config_reads_exactly_what_the_storage_sets(tmp_path: Path) -> None:
    storage = WebDavStorage(
        SERVICE,
        tmp_path / "files",
        (tmp_path / "1", tmp_path / "2"),
        "10.0.0.1",
        (1, 2),
        tmp_path / "c",
        tmp_path / "k",
    )
    used = set(re.findall(r"\$\{(\w+)\}", (SERVICE / "webdav.conf").read_text()))
    assert used == set(storage.config_variables())
    hook = re.search(
        r"^LuaHookFixups \$\{SITE_CONFIG\}/(\S+) (\w+)$",
        (SERVICE / "webdav.conf").read_text(),
        re.MULTILINE,
    )
    assert hook is not None
    assert f"function {hook.group(2)}(r)" in (SERVICE / hook.group(1)).read_text()
