"""The released profiles in a real JupyterHub with its real proxy: `invoke hub`'s LocalHub.

A hub admin's path: `invoke release`, then the DockerSpawner file `invoke profiles` wrote,
loaded by a JupyterHub (the version the images carry) with configurable-http-proxy from npm.
A user server is spawned from the pinned digest on the hub's internal network and answers
through the proxy on 127.0.0.1; stopping the hub leaves nothing behind.
"""

from __future__ import annotations

import json
import shlex
import socket
import urllib.error
import urllib.request
from pathlib import Path

import docker.errors
import pytest
from docker.models.containers import Container
from traitlets.config.loader import PyFileConfigLoader

from hubimages.core.cache import CacheLayout
from hubimages.core.ports import free_port
from hubimages.core.waiting import wait_until
from hubimages.model.project import CHECKOUT as CHECKOUT_FOLDER
from hubimages.publish.profiles import DOCKERSPAWNER_FILE
from hubimages.publish.publisher import Publisher
from hubimages.publish.release import publish_release
from hubimages.publish.target import RegistryTarget
from hubimages.publish.trust.keys import SiteKeys, generate
from hubimages.services.hub import CONTAINER_LABEL, LocalHub, proxy_source
from hubimages.services.hubconfig import home_volume
from tests.containers.helpers import exec_text
from tests.containers.sdc1.example import NOTEBOOK, notebook_result
from tests.publish.helpers import (
    ALLOW_UNAUDITED,
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
        "release",
        "-i",
        "hello",
        f"--registry={registry.host}/{REMOTE}",
        "--variant=all",
        ALLOW_UNAUDITED,
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
        container = spawn(hub, label, "alice", client)
        assert container.attrs["Config"]["Image"] == pinned
        assert container.image is not None and container.image.id == image_id
        assert container.image.labels["org.skahub.python"] == other.python
        # The verifying hook checked that variant's own digest before the pull (issue 21).
        assert f"verified {pinned}" in hub.log_path.read_text(errors="replace")
        # Through the real proxy on 127.0.0.1 to the server on the internal network.
        status, contents = call(f"{hub.url}/user/alice/api/contents")
        assert (status, contents.get("type")) == (200, "directory")
        proxy_ports = [hub.port]
    finally:
        hub.stop(remove_homes=True)
    assert client.containers.list(all=True, filters={"label": f"{CONTAINER_LABEL}={NETWORK}"}) == []
    assert client.volumes.list(filters={"name": home_volume(NETWORK, "")}) == []
    assert client.networks.list(names=[NETWORK]) == []
    assert not any(listening(port) for port in proxy_ports)
    assert not hub.running()


def spawn(hub: LocalHub, label: str, user: str, client) -> Container:
    """A user server of the image `label` names, as the hub's form posts it; ready."""
    api = f"{hub.url}/hub/api"
    assert call(f"{api}/users/{user}", "POST")[0] == 201
    assert call(f"{api}/users/{user}/server", "POST", {"image": label})[0] in (201, 202)
    server: dict = {}

    def ready() -> bool:
        nonlocal server
        server = call(f"{api}/users/{user}")[1]["servers"].get("", {})
        return bool(server.get("ready"))

    assert wait_until(ready, 300, interval=1), hub.log_path.read_text()[-4000:]
    [container] = client.containers.list(filters={"label": f"{CONTAINER_LABEL}={hub.name}"})
    return container


def test_sdc1_spawned_by_dockerspawner_with_the_written_profiles_runs_the_example(
    registry: Registry, client, tmp_path: Path
) -> None:
    """A hub configured with nothing but the DockerSpawner profiles `invoke profiles` writes:
    the sdc1 example notebook, copied into the home at start, runs on the data in the image."""
    checkout = CHECKOUT
    try:
        client.images.get(checkout.matrix.local_ref("sdc1"))
    except docker.errors.ImageNotFound:
        pytest.fail(f"{checkout.matrix.local_ref('sdc1')} is not built: invoke build -i sdc1")
    keys = SiteKeys(tmp_path / "keys")  # signed with a key of the test's own
    generate(keys)
    publisher = Publisher(
        checkout.matrix,
        CacheLayout(tmp_path / "cache"),
        RegistryTarget(registry.host, REMOTE),
        allow_dirty=True,  # the checkout's image as built; this registry serves nobody
        require_tests=False,
        keys=keys,
    )
    publish_release(publisher, ["sdc1"])
    profiles = publisher.store.profiles / DOCKERSPAWNER_FILE
    config = PyFileConfigLoader(profiles.name, path=str(profiles.parent)).load_config()
    ((label, pinned),) = config.DockerSpawner.allowed_images.items()
    name = f"{NAMESPACE}-sdc1-hub"
    hub = LocalHub(
        tmp_path / "hub", proxy_source(CHECKOUT_FOLDER), profiles, free_port(), name=name
    )
    hub.extra_config = ADMIN_SERVICE
    hub.start()
    try:
        container = spawn(hub, label, "scientist", client)
        assert container.attrs["Config"]["Image"] == pinned
        command = f'python -c {shlex.quote(NOTEBOOK)} "$HOME/sdc1-example.ipynb"'
        code, logs = exec_text(container, command)
        assert code == 0, logs[-6000:]
        result = notebook_result(logs)
        assert result["data_line"].startswith("data: /opt/sdc1/data |"), result["data_line"]
    finally:
        hub.stop(remove_homes=True)
    assert client.containers.list(all=True, filters={"label": f"{CONTAINER_LABEL}={name}"}) == []
    assert client.volumes.list(filters={"name": home_volume(name, "")}) == []
