"""The local Rucio deployment's pieces that need no server: its pins, its description of
itself, its records and its Apache config (the running deployment is tested by the rucio
stack's container tests, tests/containers/rucio/)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hubimages.cli.rucio import hint
from hubimages.deps.lockfile import read_lock
from hubimages.model.load import load_matrix
from hubimages.services.rucio.deployment import service_files
from hubimages.services.rucio.records import RunRecord
from hubimages.services.rucio.site import CONTAINER_SECRETS, RseEndpoint, RucioAccount, RucioSite
from hubimages.services.rucio.storage import TokenTrust, WebDavStorage

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
        accounts=(
            RucioAccount("scientist", PASSWORD),
            RucioAccount("alice", PASSWORD * 2, "SUB=a1, ISS=https://10.0.0.2:9"),
        ),
        rses=rses,
        client_files=tmp_path / "client",
        root_config=tmp_path / "root.cfg",
        root_proxy=tmp_path / "root.pem",
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
    assert (loaded.site.account, loaded.site.scope) == ("scientist", "user.scientist")
    # It holds the accounts' passwords: the owner's alone.
    assert (tmp_path / "runs" / "t.json").stat().st_mode & 0o777 == 0o600
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


def test_a_session_is_configured_by_rucio_variables_and_files_only(tmp_path: Path) -> None:
    described = site(tmp_path)
    env = described.session_env()
    assert all(key.startswith("RUCIO_") for key in env)
    assert env["RUCIO_AUTH_TYPE"] == "userpass"
    assert env["RUCIO_CA_CERT"].startswith(CONTAINER_SECRETS)
    assert env["RUCIO_CLIENT_PROXY"].startswith(CONTAINER_SECRETS)
    assert env["RUCIO_PASSWORD_FILE"].startswith(CONTAINER_SECRETS)
    # No secret in a variable: passwords come as files (docker inspect shows variables).
    assert not any(PASSWORD in value for value in env.values())
    assert described.session_env("alice")["RUCIO_ACCOUNT"] == "alice"
    oidc = described.session_env("alice", auth="oidc")
    assert oidc["RUCIO_AUTH_TYPE"] == "oidc" and "RUCIO_PASSWORD_FILE" not in oidc
    assert described.session_volumes("alice") == {
        str(tmp_path / "client" / "accounts" / "alice"): {"bind": CONTAINER_SECRETS, "mode": "ro"}
    }
    args = described.docker_run_args("img", "lab", 8890)
    assert args[-1] == "img" and not any(PASSWORD in arg for arg in args)
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
        tmp_path / "ca",
        TokenTrust("https://10.0.0.2:9", "rucio", "https://10.0.0.2:9/jwks", {"a1": "alice"}),
    )
    used = set(re.findall(r"\$\{(\w+)\}", (SERVICE / "webdav.conf").read_text()))
    assert used == set(storage.config_variables())
    provider = re.search(
        r"^LuaAuthzProvider \S+ \$\{SITE_CONFIG\}/(\S+) (\w+)$",
        (SERVICE / "webdav.conf").read_text(),
        re.MULTILINE,
    )
    assert provider is not None
    assert f"function {provider.group(2)}(r)" in (SERVICE / provider.group(1)).read_text()
    hook = re.search(
        r"^LuaHookFixups \$\{SITE_CONFIG\}/(\S+) (\w+)$",
        (SERVICE / "webdav.conf").read_text(),
        re.MULTILINE,
    )
    assert hook is not None
    assert f"function {hook.group(2)}(r)" in (SERVICE / hook.group(1)).read_text()


def test_what_invoke_rucio_site_prints_holds_no_password(tmp_path: Path) -> None:
    """It printed the scientist's password; now it says where each account's files are."""
    described = site(tmp_path)
    text = hint(load_matrix(REPO / "build-matrix.yaml"), described)
    assert not any(account.password in text for account in described.accounts)
    assert str(described.client_files / "accounts") in text
