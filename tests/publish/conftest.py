"""Fixtures of the publish tests: the engine, a real registry (Debian's docker-registry) on
127.0.0.1, and a tiny project on top of the real base (`invoke build base` first: `invoke test`
does it)."""

from __future__ import annotations

import shutil

import docker
import pytest
import yaml

from hubimages.deps.lockfile import lock_name
from tests.publish.helpers import (
    BASE_OF_VARIANT,
    BASE_REF,
    CONTAINER_CONFTEST,
    CONTAINER_TEST,
    DOCKERFILE,
    NAMESPACE,
    REPO,
    Project,
    Registry,
    six_lock,
)


def remove_children_first(client, images: list) -> None:  # type: ignore[no-untyped-def]
    """Remove images; one that is still the parent of another (hello of hello-lab) goes in a
    later pass, after its children."""
    pending = list(images)
    for _ in range(len(pending)):
        left = []
        for image in pending:
            try:
                client.images.remove(image.id, force=True)
            except docker.errors.ImageNotFound:
                pass
            except docker.errors.APIError:
                left.append(image)  # a child of it is still there
        if not left:
            return
        pending = left


@pytest.fixture(scope="session")
def client():
    return docker.from_env()


@pytest.fixture
def registry(tmp_path_factory, client):
    reg = Registry(tmp_path_factory.mktemp("registry"))
    reg.start()
    yield reg
    reg.stop()
    # What was pulled from it (by digest): named after its host and port, which are this
    # test's alone (other checkouts' tests push and pull their own hello at the same time).
    for image in client.images.list():
        names = [*image.tags, *image.attrs.get("RepoDigests", [])]
        if any(n.startswith(f"{reg.host}/") for n in names):
            remove_children_first(client, [image])


@pytest.fixture
def project(tmp_path_factory, client) -> Project:
    root = tmp_path_factory.mktemp("project")
    base = yaml.safe_load((REPO / "build-matrix.yaml").read_text())
    try:
        client.images.get(BASE_REF)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{BASE_REF} is not built: run `invoke build base` first")
    settings = {**base["settings"], "namespace": NAMESPACE}
    images = {
        "hello": {
            "source": {"from": BASE_OF_VARIANT},
            "display_name": "Hello: a test image",
            "description": "Greets.",
            "default": True,
        }
    }
    proj = Project(root)
    matrix = {"settings": settings, "variants": base["variants"], "images": images}
    proj.write("build-matrix.yaml", yaml.safe_dump(matrix))
    proj.write("images/hello/Dockerfile", DOCKERFILE)
    proj.write("images/hello/greeting.txt", "hello 1\n")
    for variant in base["variants"]:
        proj.write(f"images/hello/{lock_name(variant)}", six_lock("1.16.0"))
    proj.write("tests/containers/conftest.py", CONTAINER_CONFTEST)
    proj.write("tests/containers/hello/test_hello.py", CONTAINER_TEST)
    proj.write(".gitignore", ".cache/\n")
    proj.git("init", "-q", "-b", "main")
    proj.commit("first")
    yield proj
    # Our images: the checkout's namespace is ours alone (never remove by a registry's name,
    # which other checkouts' tests may use at the same time).
    remove_children_first(client, client.images.list(name=f"{NAMESPACE}/*"))
    shutil.rmtree(root, ignore_errors=True)
