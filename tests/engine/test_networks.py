"""Networks by name against the real engine, which does not keep names unique."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import docker
import pytest

from hubimages.builder.engine import one_network
from hubimages.model.project import open_project

# Not the build network itself: parallel test sessions build and run on that one.
NAME = f"{open_project().matrix.settings.namespace.replace('/', '-')}-networktest"


@pytest.fixture
def client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    for network in client.networks.list(names=[NAME]):
        if network.name == NAME:
            network.remove()


def named(client: docker.DockerClient) -> list[str | None]:
    return [n.id for n in client.networks.list(names=[NAME]) if n.name == NAME]


def test_callers_that_race_settle_on_one_network(client: docker.DockerClient) -> None:
    """Eight callers at once (as each variant's build and each test session would): all get
    the same network and only it is left."""
    got: list[str | None] = []
    start = threading.Barrier(8)

    def call() -> None:
        start.wait(timeout=30)
        got.append(one_network(client, NAME, internal=True).id)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(got) == 8
    assert set(got) == set(named(client))
    assert len(set(got)) == 1


def test_duplicates_left_by_an_older_race_answer_the_same_one(
    client: docker.DockerClient,
) -> None:
    first = client.networks.create(NAME, driver="bridge")
    client.networks.create(NAME, driver="bridge")
    assert len(named(client)) == 2
    assert {one_network(client, NAME).id for _ in range(3)} == {first.id}
