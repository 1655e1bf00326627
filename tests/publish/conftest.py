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


@pytest.fixture(scope="session")
def client():
    return docker.from_env()


@pytest.fixture
def registry(tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("registry"))
    reg.start()
    yield reg
    reg.stop()


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
    # Our images, with every name they got: local tags and the registries' (pulls by digest).
    for image in client.images.list():
        names = [*image.tags, *image.attrs.get("RepoDigests", [])]
        if any(n.startswith(f"{NAMESPACE}/") or "/ska/hello" in n for n in names):
            client.images.remove(image.id, force=True)
    shutil.rmtree(root, ignore_errors=True)
