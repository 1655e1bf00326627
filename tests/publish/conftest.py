"""Fixtures of the publish tests: the engine, a real registry (Debian's docker-registry) on
127.0.0.1, and a tiny project on top of the real base (`invoke build base` first: `invoke test`
does it)."""

from __future__ import annotations

import shutil

import docker
import pytest
import yaml

from tests.publish.helpers import (
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
    base_ref = f"{base['settings']['namespace']}/base:latest"
    try:
        client.images.get(base_ref)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{base_ref} is not built: run `invoke build base` first")
    settings = {**base["settings"], "namespace": NAMESPACE}
    images = {"hello": {"source": {"from": base_ref}, "display_name": "Hello: a test image",
                        "description": "Greets.", "default": True}}
    proj = Project(root)
    proj.write("build-matrix.yaml", yaml.safe_dump({"settings": settings, "images": images}))
    proj.write("images/hello/Dockerfile", DOCKERFILE)
    proj.write("images/hello/greeting.txt", "hello 1\n")
    proj.write("images/hello/requirements.lock", six_lock("1.16.0"))
    proj.write("tests/containers/conftest.py", CONTAINER_CONFTEST)
    proj.write("tests/containers/hello/test_hello.py", CONTAINER_TEST)
    proj.write(".gitignore", ".cache/\n")
    proj.git("init", "-q", "-b", "main")
    proj.commit("first")
    yield proj
    for image in client.images.list():
        for tag in image.tags:
            if NAMESPACE in tag or (tag.startswith("127.0.0.1:") and "/hello:" in tag):
                client.images.remove(tag, force=True)
    shutil.rmtree(root, ignore_errors=True)
