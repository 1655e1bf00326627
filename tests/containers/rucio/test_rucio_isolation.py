"""What a hostile user of a session, or another local account of the host, could do to the
local Rucio deployment before (issue 18's probes), each refused now: the storages serve only
the accounts they know (client certificates of the site CA, or tokens), each account writes
only under its own scope and one upload is bounded; only the host and the deployment's network
reach them; an account changes only its own scope's replicas; PostgreSQL admits no other local
account; credentials reach a session as private files, never as variables."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import uuid
from pathlib import Path

import pytest

from hubimages.core.files import write_private
from hubimages.services.rucio.database import postgres_bin
from hubimages.services.rucio.server import ini, venv_python
from hubimages.services.rucio.site import RucioSite
from hubimages.services.rucio.storage import MAX_UPLOAD_BYTES
from tests.containers.helpers import LABEL, OWNER, OWNER_LABEL


def request(
    site: RucioSite,
    method: str,
    path: str,
    cert: Path | None = None,
    token: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> int:
    """A WebDAV request to the first RSE from the host; its status."""
    context = ssl.create_default_context(cafile=str(site.ca_cert))
    if cert is not None:
        context.load_cert_chain(str(cert))
    rse = site.rses[0]
    connection = http.client.HTTPSConnection(site.gateway, rse.port, context=context, timeout=20)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=body or None, headers=sent)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def scientist_file(local_rucio, rucio_site, sdc1_data) -> str:
    """A file of the scientist's, uploaded by root (as the e2e's data): its storage path."""
    name = f"iso-{uuid.uuid4().hex[:8]}.fits"
    local_rucio.upload(sdc1_data / "PrimaryBeam_B1.fits", name)
    (stored,) = rucio_site.rses[0].folder.rglob(name)
    return "/" + stored.relative_to(rucio_site.rses[0].folder).as_posix()


def test_storage_serves_no_one_anonymous(rucio_site, scientist_file):
    for method in ("GET", "HEAD", "PROPFIND", "PUT", "DELETE"):
        assert request(rucio_site, method, scientist_file) == 403, method
    assert (rucio_site.rses[0].folder / scientist_file.lstrip("/")).is_file()


def test_an_account_writes_only_under_its_own_scope(rucio_site, scientist_file, login):
    alice_cert = rucio_site.proxy("alice")
    alice_token = login.tokens("alice")["access_token"]
    mine = f"/user/alice/ab/cd/iso-{uuid.uuid4().hex[:8]}"
    for credentials in ({"cert": alice_cert}, {"token": alice_token}):
        assert request(rucio_site, "GET", scientist_file, **credentials) == 200  # reading is ok
        assert request(rucio_site, "PUT", scientist_file, body=b"x", **credentials) in (401, 403)
        assert request(rucio_site, "DELETE", scientist_file, **credentials) in (401, 403)
        destination = {"Destination": f"{rucio_site.rses[0].url.rstrip('/')}{scientist_file}"}
        assert request(rucio_site, "PUT", mine, body=b"mine", **credentials) in (201, 204)
        moved = request(rucio_site, "MOVE", mine, headers=destination, **credentials)
        assert moved in (401, 403)
        assert request(rucio_site, "DELETE", mine, **credentials) == 204
    stored = rucio_site.rses[0].folder / scientist_file.lstrip("/")
    assert stored.stat().st_size > 1000  # the scientist's file, untouched


def test_one_upload_is_bounded(rucio_site):
    """A body over the limit is refused from its Content-Length, before any byte is written."""
    context = ssl.create_default_context(cafile=str(rucio_site.ca_cert))
    context.load_cert_chain(str(rucio_site.proxy()))
    rse = rucio_site.rses[0]
    connection = http.client.HTTPSConnection(rucio_site.gateway, rse.port, context=context)
    try:
        connection.putrequest("PUT", "/user/scientist/ab/cd/too-big")
        connection.putheader("Content-Length", str(MAX_UPLOAD_BYTES + 1))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    assert not list(rse.folder.rglob("too-big"))


def test_only_the_host_and_the_deployment_network_reach_it(docker_client, image, rucio_site):
    """A container on another docker network reaches no port of the deployment (it did: the
    host answers on every bridge's gateway); one on its network does."""
    ports = rucio_site.ports()
    probe = (
        "import socket, sys\n"
        "for port in sys.argv[2:]:\n"
        "    s = socket.socket(); s.settimeout(5)\n"
        "    print(port, s.connect_ex((sys.argv[1], int(port))))\n"
    )
    other = docker_client.networks.create(
        f"hubimages-test-{uuid.uuid4().hex[:12]}", labels={LABEL: "1", OWNER_LABEL: OWNER}
    )
    try:
        for network, reached in ((other.name, False), (rucio_site.network, True)):
            out = docker_client.containers.run(
                image.id,
                ["python", "-c", probe, rucio_site.gateway, *map(str, ports)],
                entrypoint=[],
                network=network,
                remove=True,
                labels={LABEL: "1", OWNER_LABEL: OWNER},
            ).decode()
            results = dict(line.split() for line in out.splitlines())
            assert all((code == "0") == reached for code in results.values()), (network, out)
    finally:
        other.remove()


def client_config(site: RucioSite, account: str, folder: Path) -> Path:
    config = folder / f"{account}.cfg"
    password = next(a.password for a in site.accounts if a.name == account)
    write_private(
        config,
        ini(
            {
                "client": {
                    "rucio_host": site.url,
                    "auth_host": site.url,
                    "account": account,
                    "auth_type": "userpass",
                    "username": account,
                    "password": password,
                    "ca_cert": str(site.ca_cert),
                }
            }
        ),
    )
    return config


def test_an_account_changes_only_its_own_scopes_replicas(
    rucio_site, scientist_file, tmp_path, local_rucio
):
    name = scientist_file.rsplit("/", 1)[1]
    code = (
        "import sys\n"
        "from rucio.client import Client\n"
        "from rucio.common.exception import AccessDenied\n"
        "try:\n"
        f"    Client().update_replicas_states('{rucio_site.rses[0].name}', "
        f"[{{'scope': '{rucio_site.scope}', 'name': '{name}', 'state': sys.argv[1]}}])\n"
        "    print('changed')\n"
        "except AccessDenied as error:\n"
        "    print('denied', error)\n"
    )

    def as_account(account: str, state: str) -> str:
        config = client_config(rucio_site, account, tmp_path)
        return venv_python(
            rucio_site.venv, local_rucio.config_dir, ["-c", code, state], "client", config
        )

    assert as_account("alice", "U").startswith("denied")  # it set root's to UNAVAILABLE
    assert as_account("scientist", "A").startswith("changed")


def test_postgresql_admits_no_other_local_account(rucio_site):
    psql = str(postgres_bin() / "psql")
    socket = rucio_site.state / "db" / "socket"
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", psql, "-h", str(socket), "-U", "rucio", "-c", "select 1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0 and "1 row" not in result.stdout, result.stdout
    assert socket.stat().st_mode & 0o777 == 0o700


def test_credentials_reach_a_session_as_its_own_private_files(lab, rucio_site, docker_client):
    passwords = [a.password for a in rucio_site.accounts]
    inspected = json.dumps(docker_client.api.inspect_container(lab.container.id))
    assert not any(password in inspected for password in passwords)
    code, out = lab.sh("stat -c '%a %u %n' /run/secrets/rucio/password /run/secrets/rucio/x509up")
    assert code == 0 and out.split() == [
        "600",
        "1000",
        "/run/secrets/rucio/password",
        "600",
        "1000",
        "/run/secrets/rucio/x509up",
    ], out
    assert lab.sh("ls /run/secrets/rucio")[1].split() == ["ca.pem", "password", "x509up"]
    record = rucio_site.client_files.parent.parent / "runs" / f"{rucio_site.name}.json"
    assert record.stat().st_mode & 0o777 == 0o600
    accounts = rucio_site.client_files / "accounts"
    assert accounts.stat().st_mode & 0o777 == 0o700  # other local accounts see none of them
