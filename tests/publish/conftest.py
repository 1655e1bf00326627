"""Fixtures of the publish tests: the engine, a real registry (Debian's docker-registry) on
127.0.0.1, and a tiny project on top of the real base (`invoke build -i base` first: `invoke test`
does it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import docker
import pytest
import yaml

from hubimages.deps.lockfile import lock_name
from hubimages.publish.trust.keys import SiteKeys, generate
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


def remove_children_first(client: docker.DockerClient, ids: list[str]) -> None:
    """Remove images; one that is still the parent of another (hello of hello-lab) goes in a
    later pass, after its children."""
    pending = list(ids)
    for _ in range(len(pending)):
        left = []
        for image_id in pending:
            try:
                client.api.remove_image(image_id, force=True)
            except docker.errors.ImageNotFound:
                pass
            except docker.errors.APIError:
                left.append(image_id)  # a child of it is still there
        if not left:
            return
        pending = left


@pytest.fixture(scope="session")
def client():
    return docker.from_env()


@pytest.fixture
def registry(tmp_path_factory, client) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("registry"))
    reg.start()
    yield reg
    reg.stop()
    # What this registry's pulls left (by digest): its host and port are this test's alone
    # (other checkouts' tests push and pull their own hello at the same time).
    remove_images(client, f"{reg.host}/")


@pytest.fixture
def project(tmp_path_factory, client) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("project")
    base = yaml.safe_load((REPO / "build-matrix.yaml").read_text())
    try:
        client.images.get(BASE_REF)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{BASE_REF} is not built: run `invoke build -i base` first")
    settings = {**base["settings"], "namespace": NAMESPACE}
    images = {
        "hello": {
            "source": {"from": BASE_OF_VARIANT},
            "display_name": "Hello: a test image",
            "description": "Greets.",
            "default": True,
        }
    }
    keys = tmp_path_factory.mktemp("site-keys") / "keys"
    generate(SiteKeys(keys))
    proj = Project(root, keys)
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
    # Our images, by our namespace only (never by a registry's name, which other checkouts'
    # tests may use at the same time).
    remove_images(client, f"{NAMESPACE}/")
    shutil.rmtree(root, ignore_errors=True)


def remove_images(client: docker.DockerClient, prefix: str) -> None:
    """Names (tags or digests) under the prefix; an image goes when no other name is left.
    A push gives the checkout's own images (skahub/sdc1:latest) a registry digest name too:
    removing such an image by its id deleted what later tests run. One a container still uses
    (of a test that failed) stays, to be swept with it."""
    # One listing call: images.list() reads each image again, and other checkouts' tests
    # delete theirs meanwhile.
    whole = []
    for image in client.api.images():
        names = [*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])]
        ours = [name for name in names if name.startswith(prefix)]
        if not ours:
            continue
        if ours == names:  # all names ours: the image goes (children first)
            whole.append(image["Id"])
            continue
        for reference in ours:  # else only our names do: untagging keeps the image
            try:
                client.api.remove_image(reference, noprune=True)
            except docker.errors.APIError:
                pass
    remove_children_first(client, whole)
