"""The released profiles in a real JupyterHub with its real proxy: `invoke hub`'s LocalHub.

A hub admin's path: `invoke release`, then the DockerSpawner file `invoke profiles` wrote,
loaded by a JupyterHub (the version the images carry) with configurable-http-proxy from npm.
A user server is spawned from the pinned digest on the hub's internal network and answers
through the proxy on 127.0.0.1; stopping the hub leaves nothing behind.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import docker.errors
import pytest
from traitlets.config import PyFileConfigLoader

from hubimages.core.ports import free_port
from hubimages.model.project import CHECKOUT as CHECKOUT_FOLDER
from hubimages.services.hub import CONTAINER_LABEL, LocalHub, proxy_source
from tests.publish.helpers import (
    CHECKOUT,
    NAMESPACE,
    REMOTE,
    Project,
    Registry,
    require_every_variant_base,
)

pytestmark = pytest.mark.slow
NETWORK = f"{NAMESPACE}-hub"  # per checkout: parallel checkouts on one engine keep apart
TOKEN = "hub-test-token-0123456789"  # noqa: S105 - a throwaway token for a local hub
ADMIN_SERVICE = f"""
c.JupyterHub.services = [{{"name": "admin-client", "api_token": "{TOKEN}"}}]
c.JupyterHub.load_roles = [{{"name": "spawner-admin", "services": ["admin-client"],
                             "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
"""
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the hub's http URL on 127.0.0.1
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with OPENER.open(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_hub_spawns_the_pinned_profile_image_behind_its_proxy(
    project: Project, registry: Registry, client, tmp_path: Path
) -> None:
    require_every_variant_base(client)
    released = project.invoke(
        "release", "hello", f"--registry={registry.host}/{REMOTE}", "--variant=all"
    )
    assert released.returncode == 0, released.stderr[-3000:]
    profiles = next(project.publish.glob("*/profiles/dockerspawner_config.py"))
    config = PyFileConfigLoader(profiles.name, path=str(profiles.parent)).load_config()
    choices = config.DockerSpawner.allowed_images
    assert len(choices) == len(CHECKOUT.matrix.variants)  # hello in each variant
    # A user chooses the last variant (not the default one) in the form: that image runs.
    other = list(CHECKOUT.matrix.variants.values())[-1]
    label, pinned = next((k, v) for k, v in choices.items() if other.describe() in k)
    records = [json.loads(p.read_text()) for p in project.publish.glob("*/releases/*/release.json")]
    [record] = [r for r in records if r["variant"] == other.name]
    image_id = record["images"][0]["image_id"]
    for tag in client.images.get(image_id).tags:  # only the registry has it now
        client.images.remove(tag, force=True)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(image_id)  # the hub pulls it by digest, as on a fresh node

    hub = LocalHub(
        tmp_path / "hub",
        proxy_source(CHECKOUT_FOLDER),
        profiles,
        port=free_port(),
        name=NETWORK,
        extra_config=ADMIN_SERVICE,
    )
    hub.start()
    try:
        api = f"{hub.url}/hub/api"
        assert call(f"{api}/users/alice", "POST")[0] == 201
        assert call(f"{api}/users/alice/server", "POST", {"image": label})[0] in (201, 202)
        deadline = time.monotonic() + 150
        server: dict = {}
        while time.monotonic() < deadline and not server.get("ready"):
            time.sleep(1)
            server = call(f"{api}/users/alice")[1]["servers"].get("", {})
        assert server.get("ready"), hub.log_path.read_text()[-4000:]
        [container] = client.containers.list(filters={"label": f"{CONTAINER_LABEL}={NETWORK}"})
        assert container.attrs["Config"]["Image"] == pinned
        assert container.image.id == image_id
        assert container.image.labels["org.skahub.python"] == other.python
        # Through the real proxy on 127.0.0.1 to the server on the internal network.
        status, contents = call(f"{hub.url}/user/alice/api/contents")
        assert (status, contents.get("type")) == (200, "directory")
        proxy_ports = [hub.port]
    finally:
        hub.stop()
    assert client.containers.list(all=True, filters={"label": f"{CONTAINER_LABEL}={NETWORK}"}) == []
    assert client.networks.list(names=[NETWORK]) == []
    assert not any(listening(port) for port in proxy_ports)
    assert not hub.running()
