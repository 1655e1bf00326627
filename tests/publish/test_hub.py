"""The released profiles pasted into a real JupyterHub: DockerSpawner starts the pinned image.

A hub admin's path: `invoke release`, then `load_subconfig` of the written DockerSpawner file in
jupyterhub_config.py. The hub (the version the images carry, see pyproject.toml) runs on the
host on the docker bridge's gateway, spawns through the real engine, and waits for the
single-user server to answer, as it would for a user. Only the HTTP proxy is left out: nothing
in this test is reached through it, so the hub is given a proxy that just keeps its routes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from traitlets.config import PyFileConfigLoader

from hubimages.services.localregistry import free_port
from tests.publish.helpers import NAMESPACE, Project, Registry

pytestmark = pytest.mark.slow
NETWORK = f"{NAMESPACE}-hub"  # per checkout: parallel checkouts on one engine keep apart
TOKEN = "hub-test-token-0123456789"  # noqa: S105 - a throwaway token for a local hub

HUB_CONFIG = """
from jupyterhub.proxy import Proxy


class RoutesOnlyProxy(Proxy):
    \"\"\"Keeps the routes the hub sets; serves nothing (no user is proxied in this test).\"\"\"

    should_start = False
    routes = {{}}

    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {{"routespec": routespec, "target": target, "data": data}}

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self.routes)


c.JupyterHub.proxy_class = RoutesOnlyProxy
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {public_port}
c.JupyterHub.hub_ip = "{gateway}"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.services = [{{"name": "admin-client", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "spawner-admin", "services": ["admin-client"],
                             "scopes": ["admin:users", "admin:servers", "read:servers"]}}]
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.network_name = "{network}"
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "never"
c.DockerSpawner.extra_create_kwargs = {{"labels": {{"hubimages.test": "hub"}}}}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# What the admin adds: the file `invoke profiles` wrote.
load_subconfig("{profiles}")
"""


def api(hub: str, method: str, path: str, body: dict | None = None) -> dict:
    """The hub's REST API, on the test network's gateway, as the admin service."""
    request = urllib.request.Request(
        f"http://{hub}/hub/api{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read()
    return json.loads(text) if text else {}


def wait_for_hub(address: str, hub: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    last: Exception | None = None
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            pytest.fail(f"jupyterhub exited: {log.read_text()[-3000:]}")
        try:
            api(address, "GET", "/")
            return
        except urllib.error.HTTPError as exc:
            pytest.fail(f"jupyterhub answered {exc.code}: {exc.read()[:500]!r}")
        except (urllib.error.URLError, OSError) as exc:
            last = exc
            time.sleep(0.3)
    pytest.fail(f"jupyterhub did not answer ({last!r}): {log.read_text()[-3000:]}")


def test_hub_spawns_the_pinned_profile_image(project: Project, registry: Registry, client,
                                       tmp_path: Path) -> None:
    released = project.invoke("release", "hello", f"--registry={registry.host}/ska")
    assert released.returncode == 0, released.stderr[-3000:]
    profiles = next(project.publish.glob("*/profiles/dockerspawner_config.py"))
    config = PyFileConfigLoader(profiles.name, path=str(profiles.parent)).load_config()
    (label, pinned), = config.DockerSpawner.allowed_images.items()
    record = json.loads(next(project.publish.glob("*/releases/*/release.json")).read_text())
    image_id = record["images"][0]["image_id"]
    for tag in client.images.get(image_id).tags:  # only the registry has it now
        client.images.remove(tag, force=True)
    repository, digest = pinned.split("@")
    client.images.pull(repository.rsplit(":", 1)[0], tag=digest)  # as a node would

    # A network of our own: the spawned server reaches the hub on its gateway, nothing else.
    network = client.networks.create(NETWORK, driver="bridge", internal=True)
    network.reload()
    gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    hub_port = free_port()
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(public_port=free_port(), gateway=gateway,
                                        hub_port=hub_port, token=TOKEN, profiles=profiles,
                                        network=NETWORK))
    log = tmp_path / "hub.log"
    with log.open("wb") as out:
        hub = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path,
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    try:
        hub_api = f"{gateway}:{hub_port}"
        wait_for_hub(hub_api, hub, log)
        api(hub_api, "POST", "/users/alice")
        api(hub_api, "POST", "/users/alice/server", {"image": label})
        deadline = time.monotonic() + 150
        server: dict = {}
        while time.monotonic() < deadline:
            server = api(hub_api, "GET", "/users/alice")["servers"].get("", {})
            if server.get("ready"):
                break
            time.sleep(1)
        assert server.get("ready"), log.read_text()[-4000:]
        [container] = client.containers.list(filters={"label": "hubimages.test=hub"})
        assert container.attrs["Config"]["Image"] == pinned
        assert container.image.id == image_id
        api(hub_api, "DELETE", "/users/alice/server")
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        for leftover in client.containers.list(all=True,
                                               filters={"label": "hubimages.test=hub"}):
            leftover.remove(force=True)
        network.remove()
