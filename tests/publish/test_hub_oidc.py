"""`invoke hub --auth oidc`, for real: JupyterHub with its proxy, users logging in through the
site's identity provider (oidc-provider from npm) and servers of the checkout's base image.

The session's token file (skahub_token_file in base) holds the user's access token, mode 600,
in no environment, renewed by asking the hub at least a minute before it expires (the hub
refreshes with the provider). Servers run with their image's limits, no capabilities and no
new privileges; homes are named volumes kept across servers; a user's server token cannot read
another user's auth state; sessions reach the hub's API and nothing else of the host. And
`invoke hub --stop` after a killed hub stops the proxy it left, and says there was no hub.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from hubimages.core.ports import free_port, port_free
from hubimages.model.project import CHECKOUT, open_project
from hubimages.publish.limits import docker_host_config
from hubimages.services.firewall import chain_name
from hubimages.services.hub import CONTAINER_LABEL, LocalHub, proxy_source
from hubimages.services.hubconfig import home_volume
from hubimages.services.idp.provider import LocalIdp
from hubimages.services.idp.site import IdpSite
from hubimages.services.procs import stop_services_in
from hubimages.services.tls import SiteCA
from tests.idp_login import claims, log_in_through
from tests.publish.helpers import BASE_REF, NAMESPACE
from tests.publish.test_hub import ADMIN_SERVICE, OPENER, call

pytestmark = pytest.mark.slow
HUB = f"{NAMESPACE}-oidchub"
TOKEN_SECONDS = 120
PROBE = """
import json, os, hashlib, base64, skahub_token_file
path = skahub_token_file.token_path()
token = path.read_text()
st = path.stat()
payload = token.split('.')[1]
claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
environ = b''.join(open(f'/proc/{p}/environ', 'rb').read() for p in os.listdir('/proc')
                   if p.isdigit() and os.access(f'/proc/{p}/environ', os.R_OK))
print(json.dumps({'path': str(path), 'mode': oct(st.st_mode & 0o777), 'uid': st.st_uid,
                  'exp': claims['exp'], 'iat': claims['iat'],
                  'sha': hashlib.sha256(token.encode()).hexdigest(),
                  'in_environ': token.encode() in environ}))
"""


def profiles_file(folder: Path) -> Path:
    """DockerSpawner settings as `invoke profiles` writes them, for the local base image."""
    resources = open_project().matrix.images["base"].resources
    path = folder / "dockerspawner_config.py"
    path.write_text(
        f"c.DockerSpawner.image = {BASE_REF!r}\n"
        f"c.DockerSpawner.extra_host_config = {docker_host_config(resources)!r}\n"
    )
    return path


@pytest.fixture
def idp(client, tmp_path) -> Iterator[IdpSite]:
    local = LocalIdp(
        CHECKOUT / "services" / "idp",
        tmp_path / "idp",
        SiteCA(open_project().cache.site_ca),
        HUB,
        client,
        access_token_seconds=TOKEN_SECONDS,
        modules=open_project().cache.idp / "provider",
    )
    yield local.start()
    local.stop()


def container_of(client, user: str):
    found = client.containers.list(filters={"label": f"{CONTAINER_LABEL}={HUB}"})
    return next(c for c in found if c.name.endswith(f"-{user}"))


def start_server(hub: LocalHub, user: str) -> None:
    api = f"{hub.url}/hub/api"
    assert call(f"{api}/users/{user}/server", "POST")[0] in (201, 202)
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        if call(f"{api}/users/{user}")[1]["servers"].get("", {}).get("ready"):
            return
        time.sleep(1)
    raise AssertionError(hub.log_path.read_text()[-4000:])


def stop_server(hub: LocalHub, user: str) -> None:
    api = f"{hub.url}/hub/api"
    assert call(f"{api}/users/{user}/server", "DELETE")[0] in (202, 204)
    deadline = time.monotonic() + 60
    while call(f"{api}/users/{user}")[1]["servers"] and time.monotonic() < deadline:
        time.sleep(0.5)


def probe(container) -> dict:
    result = container.exec_run(["python", "-c", PROBE], user="jovyan")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def in_session(container, code: str) -> str:
    result = container.exec_run(["python", "-c", code], user="jovyan")
    return result.output.decode()


def test_oidc_hub_keeps_each_session_token_fresh_and_users_apart(client, idp, tmp_path):
    hub = LocalHub(
        tmp_path / "hub",
        proxy_source(CHECKOUT),
        profiles_file(tmp_path),
        port=free_port(),
        name=HUB,
        idp=idp,
        extra_config=ADMIN_SERVICE,
    )
    listener = socket.socket()  # a host service on every address, as the probe found
    listener.bind(("0.0.0.0", 0))  # noqa: S104 - what the sessions must not reach
    listener.listen()
    hub.start()
    try:
        for user in ("alice", "bob"):
            started = time.monotonic()
            visited, _ = log_in_through(
                f"{hub.url}/hub/oauth_login",
                user,
                idp.user(user).password,
                str(idp.ca_cert),
                "/hub/spawn",
            )
            assert any(url.startswith(idp.issuer) for url in visited), visited
            assert time.monotonic() - started < 10
            start_server(hub, user)
        alice, bob = container_of(client, "alice"), container_of(client, "bob")
        check_limits_and_privileges(client, alice)
        check_token_file_renewal(alice)
        check_users_apart(hub, idp, alice, bob)
        check_network_guard(hub, alice, listener.getsockname()[1])
        check_home_kept(client, hub, alice)
    finally:
        hub.stop(remove_homes=True)
        listener.close()
    assert client.containers.list(all=True, filters={"label": f"{CONTAINER_LABEL}={HUB}"}) == []
    assert client.volumes.list(filters={"name": home_volume(HUB, "")}) == []
    listed = subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=False)
    assert chain_name("N", HUB) not in listed.stdout


def check_limits_and_privileges(client, container) -> None:
    resources = open_project().matrix.images["base"].resources
    assert resources is not None
    host = client.api.inspect_container(container.id)["HostConfig"]
    assert host["Memory"] == resources.mem_limit
    assert host["CpuQuota"] == int(resources.cpu_limit * host["CpuPeriod"])
    assert host["PidsLimit"] == resources.pids_limit
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert container.exec_run(["sudo", "-n", "true"], user="jovyan").exit_code != 0


def check_token_file_renewal(container) -> None:
    first = probe(container)
    assert first["path"] == "/tmp/bt_u1000" and (first["mode"], first["uid"]) == ("0o600", 1000)
    assert not first["in_environ"]
    env = container.attrs["Config"]["Env"]
    assert not any(first["sha"] in e for e in env)
    deadline = time.monotonic() + TOKEN_SECONDS
    while time.monotonic() < deadline:
        time.sleep(2)
        latest = probe(container)
        if latest["sha"] != first["sha"]:
            margin = first["exp"] - latest["iat"]  # left when its successor was issued
            assert margin >= 60, f"renewed {margin:.0f} s before expiry"
            assert latest["exp"] > first["exp"] and latest["mode"] == "0o600"
            print(f"token renewal margin {margin:.0f} s")
            return
    raise AssertionError("the token file was not renewed within a token lifetime")


def check_users_apart(hub: LocalHub, idp: IdpSite, alice, bob) -> None:
    """Bob's server token reads Bob's auth state, never Alice's; Bob's server is Bob's."""
    read = (
        "import json, os, sys, urllib.request, urllib.error\n"
        "url = os.environ['JUPYTERHUB_API_URL'] + '/users/' + sys.argv[1]\n"
        "r = urllib.request.Request(url, headers={'Authorization': 'token ' + "
        "os.environ['JUPYTERHUB_API_TOKEN']})\n"
        "try:\n"
        "    print(urllib.request.urlopen(r, timeout=10).status)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    result = bob.exec_run(["python", "-c", read, "alice"], user="jovyan")
    assert result.output.decode().strip() in ("403", "404"), result.output
    result = bob.exec_run(["python", "-c", read, "bob"], user="jovyan")
    assert result.output.decode().strip() == "200", result.output
    assert home_volume(HUB, "alice") not in [m.get("Name") for m in bob.attrs["Mounts"]]
    mine = claims(bob.exec_run(["cat", "/tmp/bt_u1000"], user="jovyan").output.decode())
    assert mine["preferred_username"] == "bob" and mine["iss"] == idp.issuer


def check_network_guard(hub: LocalHub, container, port: int) -> None:
    """A session reaches the hub's API on its network's gateway, no other host service."""
    gateway = container.attrs["NetworkSettings"]["Networks"][hub.user_network]["Gateway"]
    hub_port = hub_api_port(hub)
    code = (
        "import socket, sys\n"
        "for port in sys.argv[2:]:\n"
        "    s = socket.socket(); s.settimeout(5)\n"
        "    print(s.connect_ex((sys.argv[1], int(port))))\n"
    )
    out = container.exec_run(["python", "-c", code, gateway, str(hub_port), str(port)])
    assert out.output.decode().split() == ["0", "111"], out.output


def hub_api_port(hub: LocalHub) -> int:
    config = (hub.root / "jupyterhub_config.py").read_text()
    return int(config.split("c.JupyterHub.hub_port = ")[1].split()[0])


def check_home_kept(client, hub: LocalHub, container) -> None:
    assert container.exec_run(["sh", "-c", "echo kept > ~/notes.txt"], user="jovyan").exit_code == 0
    stop_server(hub, "alice")
    assert client.volumes.get(home_volume(HUB, "alice"))
    start_server(hub, "alice")
    again = container_of(client, "alice")
    assert again.id != container.id
    assert again.exec_run(["cat", "/home/jovyan/notes.txt"]).output == b"kept\n"


def test_stop_after_a_killed_hub_stops_its_proxy_and_says_so(client, tmp_path):
    hub = LocalHub(
        tmp_path / "hub",
        proxy_source(CHECKOUT),
        profiles_file(tmp_path),
        port=free_port(),
        name=HUB,
    )
    hub.start()
    pid = int(hub.pid_path.read_text())
    proxy = int((hub.root / "jupyterhub-proxy.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert hub.process is not None
    hub.process.wait(timeout=10)
    assert not port_free("127.0.0.1", hub.port)  # the proxy still answers there
    assert hub.stop() is False  # no hub was running: said so
    assert port_free("127.0.0.1", hub.port)
    # Its idle culler (a service in its folder) did not outlive it: nothing left to stop.
    assert stop_services_in(hub.root, b"jupyterhub_idle_culler") == []
    assert not Path(f"/proc/{proxy}").exists()
    with pytest.raises(urllib.error.URLError):
        OPENER.open(f"{hub.url}/hub/api", timeout=2)
    assert docker.from_env().networks.list(names=[HUB]) == []
