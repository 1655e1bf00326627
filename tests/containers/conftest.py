"""Fixtures for tests against real containers of a built image.

    pytest tests/containers/base tests/containers/shared --image-ref skahub/base:latest

--image-ref may be given several times (or IMAGE_REF=a,b): every test runs for each image.
Containers are labelled `hubimages.test=1`; each test's containers are removed by finalizers
and the label is swept at session start and end (sparing containers of other live test runs),
so an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
import testinfra

from hubimages.builder.labels import PYTHON as PYTHON_LABEL
from hubimages.builder.labels import VARIANT as VARIANT_LABEL
from hubimages.core.data import require_sdc1_data
from hubimages.errors import HubImagesError
from hubimages.model.project import open_project
from tests.containers.helpers import ContainerFactory, sweep

# The engine here is 20.10: the Debian CLI matches it; testinfra's docker backend calls `docker`
# from PATH, so that CLI is put first on PATH (see pytest_configure).
DEFAULT_DOCKER_CLI = "/usr/bin/docker"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("containers", "container tests")
    group.addoption(
        "--image-ref",
        action="append",
        default=[],
        help="image to test, e.g. skahub/base:latest (repeatable; default: $IMAGE_REF, comma list)",
    )
    group.addoption(
        "--docker-cli",
        default=os.environ.get("DOCKER_CLI", DEFAULT_DOCKER_CLI),
        help="docker CLI testinfra uses (default: $DOCKER_CLI or /usr/bin/docker if present)",
    )


def _image_refs(config: pytest.Config) -> list[str]:
    refs = config.getoption("--image-ref", default=None) or []
    if not refs:
        refs = [ref for ref in os.environ.get("IMAGE_REF", "").split(",") if ref.strip()]
    return [ref.strip() for ref in refs]


def _is_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def _sweep_quietly() -> None:
    try:
        sweep(docker.from_env())
    except docker.errors.DockerException:
        pass  # no engine: the tests themselves will say so


def pytest_configure(config: pytest.Config) -> None:
    cli = config.getoption("--docker-cli", default=DEFAULT_DOCKER_CLI)
    if cli and os.path.isfile(cli) and os.access(cli, os.X_OK):
        # One folder in the cache for every run (a temporary one per run stayed behind when a
        # run was killed): the link is made anew, atomically.
        shim = open_project().cache.docker_cli
        shim.mkdir(parents=True, exist_ok=True)
        link = shim / f".docker.{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(cli)
        link.replace(shim / "docker")
        os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ.get('PATH', '')}"


def pytest_sessionstart(session: pytest.Session) -> None:
    # Leftovers of an interrupted run. Parallel workers would remove each other's containers.
    if not _is_xdist_worker():
        _sweep_quietly()
        atexit.register(_sweep_quietly)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _is_xdist_worker():
        _sweep_quietly()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselects (visibly: pytest counts them) `owner_only` tests of tests/containers/<image>/
    when the image under test is a descendant of <image>, not <image> itself."""
    matrix = open_project().matrix
    names = {matrix.local_ref(name): name for name in matrix.images}
    under_test = {names.get(ref) for ref in _image_refs(config)}
    if not under_test or None in under_test:
        return  # an image the matrix does not name: run everything
    root = Path(__file__).resolve().parent
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        folder = item.path.resolve().relative_to(root).parts[0]
        owned = item.get_closest_marker("owner_only") is not None
        (dropped if owned and folder not in under_test else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "image_ref" in metafunc.fixturenames:
        refs: list[str | None] = [*_image_refs(metafunc.config)] or [None]
        metafunc.parametrize("image_ref", refs, ids=[str(ref) for ref in refs], scope="session")


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        # Container tests are asked for explicitly: without an engine they fail, not skip.
        pytest.fail(f"no Docker engine ({error}): run `invoke engine`")
    return client


@pytest.fixture(scope="session")
def image(image_ref: str | None, docker_client: docker.DockerClient):
    """The docker SDK Image under test (from --image-ref / IMAGE_REF)."""
    if image_ref is None:
        pytest.fail("no image under test: pass --image-ref or set IMAGE_REF (or use invoke test)")
    try:
        return docker_client.images.get(image_ref)
    except docker.errors.ImageNotFound:
        pytest.fail(f"image {image_ref} is not present locally (build it first)")


def _label(image, key: str) -> str:
    value = (image.labels or {}).get(key)
    if not value:
        pytest.fail(f"{image.tags}: no {key} label: rebuild it with `invoke build`")
    return value


@pytest.fixture(scope="session")
def variant_python(image) -> str:
    """The Python (major.minor) of the image's matrix variant, from the label its build set."""
    return _label(image, PYTHON_LABEL)


@pytest.fixture(scope="session")
def variant_name(image) -> str:
    """The matrix variant the image was built in (its locks are that variant's)."""
    return _label(image, VARIANT_LABEL)


@pytest.fixture(scope="session")
def venv_site(variant_python: str) -> str:
    return f"/opt/venv/lib/python{variant_python}/site-packages"


@pytest.fixture
def containers(docker_client, image, request):
    """Factory for containers of the image under test, all removed after the test."""
    factory = ContainerFactory(docker_client, image.id)
    request.addfinalizer(factory.cleanup)
    return factory


@pytest.fixture(scope="module")
def module_containers(docker_client, image, request):
    """Like `containers`, shared by a module (for read-only checks of one started container)."""
    factory = ContainerFactory(docker_client, image.id)
    request.addfinalizer(factory.cleanup)
    return factory


@pytest.fixture(scope="module")
def server(module_containers):
    """A container started with the image's defaults, its server answering /api.

    Attributes added: started_at, startup_seconds, ip. Treat it as read-only.
    """
    return module_containers.server()


def get_host(container) -> testinfra.host.Host:
    """testinfra host running commands in `container` (as the container's user)."""
    return testinfra.get_host(f"docker://{container.id}")


@pytest.fixture(scope="module")
def server_host(server):
    return get_host(server)


# -- the SDC1 sample data, for the pybdsf and sdc1 tests -----------------------------------

DATA_MOUNT = "/data/sdc1"
RunFn = Callable[..., tuple[int, str]]


@pytest.fixture(scope="session")
def sdc1_data() -> Path:
    """The repository's sample data (data/sdc1); missing data is a broken checkout: fail."""
    try:
        return require_sdc1_data(Path(__file__).resolve().parents[2])
    except HubImagesError as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="session")
def run_container(docker_client, image, sdc1_data: Path) -> RunFn:
    """``run(command, mounts={host: container}, user='jovyan', timeout=900) -> (rc, logs)``.

    Every container is removed afterwards, whatever happens. The SDC1 data folder is always
    mounted read-only at /data/sdc1 and ``SDC1_DATA`` points there; extra ``mounts`` are
    read-only too. The working directory is /tmp. Other keywords go to the engine, e.g.
    ``network_mode="none"`` (offline) or ``network=<name>``.
    """

    def run(
        command: list[str],
        mounts: dict[Path, str] | None = None,
        user: str = "jovyan",
        timeout: int = 900,
        env: dict[str, str] | None = None,
        **engine: Any,
    ) -> tuple[int, str]:
        volumes = {str(sdc1_data): {"bind": DATA_MOUNT, "mode": "ro"}}
        for host, target in (mounts or {}).items():
            volumes[str(Path(host).resolve())] = {"bind": target, "mode": "ro"}
        container = docker_client.containers.run(
            image.id,
            command,
            user=user,
            volumes=volumes,
            working_dir="/tmp",
            detach=True,
            environment={"SDC1_DATA": DATA_MOUNT, "MPLBACKEND": "Agg", **(env or {})},
            **engine,
        )
        try:
            rc = int(container.wait(timeout=timeout)["StatusCode"])
            logs = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        finally:
            container.remove(force=True)
        return rc, logs

    return run
