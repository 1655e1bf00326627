"""What the publish tests share: a tiny project to release, and a real registry on 127.0.0.1.

The project is a git repository of its own in a temporary folder, with one image, `hello`, on
top of the real base image (`invoke build -i base` first: `invoke test` does it), a real container
test, and locks of a small wheel, so release tags, test gating and package diffs are all real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from hubimages.model.project import open_project
from hubimages.model.spec import PYTHON_PLACEHOLDER
from hubimages.publish.trust.keys import KEYS_ENV
from hubimages.services.localregistry import LocalRegistry

Registry = LocalRegistry  # the name the tests read best with

REPO = Path(__file__).resolve().parents[2]
# The checkout's namespace ($HUBIMAGES_NAMESPACE included), so parallel checkouts keep apart.
CHECKOUT = open_project()
BASE_REF = CHECKOUT.matrix.local_ref("base")
# hello's upstream in every variant: the real base of that variant (its python-X.Y tag).
BASE_OF_VARIANT = f"{CHECKOUT.matrix.repository('base')}:python-{PYTHON_PLACEHOLDER}"
DEFAULT = CHECKOUT.variant  # what a release without --variant releases
OTHERS = [CHECKOUT.for_variant(v) for v in CHECKOUT.matrix.variants if v != DEFAULT.name]
NAMESPACE = f"{CHECKOUT.matrix.settings.namespace.replace('/', '-')}-pubtest"
# The namespace in the test registries: ours alone too, as what a push names in the engine for
# a moment (<host>/<namespace>/hello) must not look like another checkout's test images.
REMOTE = NAMESPACE

SIX_WHEELS = {
    "1.16.0": "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
    "1.17.0": "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
}
DOCKERFILE = """ARG PARENT_IMAGE
FROM ${PARENT_IMAGE}
ARG WHEELHOUSE_URL
ARG LOCK_URL
ARG LOCK_SHA256
USER 0
RUN install-locked-requirements
COPY greeting.txt /opt/hello/greeting.txt
USER 1000
"""
CONTAINER_CONFTEST = """
import pytest


def pytest_addoption(parser):
    parser.addoption("--image-ref", required=True)


@pytest.fixture(scope="session")
def image_ref(request):
    return request.config.getoption("--image-ref")
"""
CONTAINER_TEST = """
import docker


def test_greeting_is_installed_and_not_broken(image_ref):
    out = docker.from_env().containers.run(
        image_ref, ["cat", "/opt/hello/greeting.txt"], entrypoint=[], remove=True,
        network_mode="none")
    assert out.decode().startswith("hello"), out


def test_hub_server_is_there(image_ref):
    out = docker.from_env().containers.run(
        image_ref, ["jupyterhub-singleuser", "--version"], entrypoint=[], remove=True,
        network_mode="none")
    assert out.decode().strip()[0].isdigit()
"""


def require_every_variant_base(client: docker.DockerClient) -> None:
    """hello is built on the base of each variant; a test releasing them all needs them all."""
    for other in OTHERS:
        base = other.matrix.local_ref("base")
        try:
            client.images.get(base)
        except docker.errors.ImageNotFound:
            pytest.fail(f"{base} is not built: run `invoke build base --variant all` first")


def six_lock(version: str) -> str:
    return f"six=={version} \\\n    --hash=sha256:{SIX_WHEELS[version]}\n"


# PyPI's advisories may be unreadable where only PyPI's simple API and project pages answer
# (this machine's): releases record those distributions as unaudited (docs/supply-chain.md).
ALLOW_UNAUDITED = "--allow-unaudited"


@dataclass
class Project:
    """A git repository holding a one-image matrix; `invoke` runs against it, signing with a
    site key of its own (in a folder outside the repository)."""

    root: Path
    keys: Path | None = None

    @property
    def matrix(self) -> Path:
        return self.root / "build-matrix.yaml"

    @property
    def publish(self) -> Path:
        return self.root / ".cache" / "publish"

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
        }
        return subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "--short=7", "HEAD")

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def invoke(
        self, *args: str, env: dict[str, str] | None = None, timeout: int = 900
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args, f"--matrix={self.matrix}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.keys_env, **(env or {})},
        )

    @property
    def keys_env(self) -> dict[str, str]:
        return {KEYS_ENV: str(self.keys)} if self.keys else {}


def release(
    project: Project, registry: Registry, *args: str, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`invoke release` of the test matrix's hello image to the test registry's namespace."""
    return project.invoke(
        "release",
        "-i",
        "hello",
        f"--registry={registry.host}/{REMOTE}",
        ALLOW_UNAUDITED,
        *args,
        **kwargs,
    )
