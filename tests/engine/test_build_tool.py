"""The build tool against the real engine, on a tiny matrix built on top of the real base.

Run after `invoke build -i base` (the `invoke test` task does that first).
"""

from __future__ import annotations

import logging
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import yaml

from hubimages.builder.engine import BUILD_NETWORK
from hubimages.builder.labels import INPUTS_HASH
from hubimages.builder.run import BuildStatus, new_run
from hubimages.builder.scheduler import build_images
from hubimages.core.cache import CacheLayout
from hubimages.core.waiting import wait_until
from hubimages.deps.lockfile import lock_name
from hubimages.model.load import load_matrix
from hubimages.model.project import open_project
from tests.containers.helpers import TEST_LABELS

REPO = Path(__file__).resolve().parents[2]
# The checkout's namespace ($HUBIMAGES_NAMESPACE included), so parallel checkouts keep apart.
NAMESPACE = f"{open_project().matrix.settings.namespace.replace('/', '-')}-enginetest"
# The tiny matrix builds on the default variant's base, in that variant only.
VARIANT = open_project().variant
LOCK = lock_name(VARIANT.name)
# A tiny pure-Python wheel, locked with its real hashes, so the offline install path is used.
SIX_LOCK = """six==1.17.0 \\
    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274 \\
    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81
"""
STACK_DOCKERFILE = """ARG PARENT_IMAGE
FROM ${PARENT_IMAGE}
ARG WHEELHOUSE_URL
ARG LOCK_URL
ARG LOCK_SHA256
USER 0
RUN install-locked-requirements
USER 1000
"""


def base_ref() -> str:
    return open_project().matrix.local_ref("base")


def base_image_id(client) -> str:
    try:
        return client.images.get(base_ref()).id
    except docker.errors.ImageNotFound:
        pytest.fail("the base image is not built: run `invoke build -i base` first")


@pytest.fixture(scope="module")
def client():
    return docker.from_env()


@pytest.fixture(scope="module")
def project(tmp_path_factory, client) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("matrix")
    base_image_id(client)
    images = {
        "tiny": {"source": {"from": base_ref()}, "display_name": "Tiny", "description": "t"},
        "child": {"parent": "tiny", "display_name": "Child", "description": "c"},
        "broken": {"parent": "tiny", "display_name": "Broken", "description": "b"},
        "orphan": {"parent": "broken", "display_name": "Orphan", "description": "o"},
        "slow": {"parent": "tiny", "display_name": "Slow", "description": "s"},
        "apt": {"parent": "tiny", "display_name": "Apt", "description": "a"},
    }
    for name in images:
        folder = root / "images" / name
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text(STACK_DOCKERFILE)
        (folder / LOCK).write_text(SIX_LOCK)
    (root / "images" / "broken" / "Dockerfile").write_text(
        STACK_DOCKERFILE.replace(
            "USER 1000", "RUN echo preparing && echo oops >&2 && exit 3\nUSER 1000"
        )
    )
    (root / "images" / "slow" / "Dockerfile").write_text(
        STACK_DOCKERFILE.replace(
            "USER 1000",
            'COPY delay.txt /opt/delay.txt\nRUN sleep "$(cat /opt/delay.txt)"\nUSER 1000',
        )
    )
    (root / "images" / "slow" / "delay.txt").write_text("0\n")
    (root / "images" / "apt" / "Dockerfile").write_text(
        STACK_DOCKERFILE.replace(
            "USER 0\n", "ARG DEBIAN_PACKAGES\nARG APT_PROXY\nUSER 0\nRUN install-debian-packages\n"
        )
    )
    (root / "images" / "apt" / "debian-packages.txt").write_text("# a tool base lacks\njq\n")
    real = yaml.safe_load((REPO / "build-matrix.yaml").read_text())
    settings = {**real["settings"], "namespace": NAMESPACE}
    # Any free port: builds of other checkouts on this engine take the usual one.
    settings["wheelhouse_port"] = 0
    variants = {VARIANT.name: real["variants"][VARIANT.name]}
    (root / "build-matrix.yaml").write_text(
        yaml.safe_dump({"settings": settings, "variants": variants, "images": images})
    )
    yield root
    for image in client.images.list(name=f"{NAMESPACE}/*"):
        for tag in image.tags:
            client.images.remove(tag, force=True)
    shutil.rmtree(root, ignore_errors=True)


def new(root: Path, client, forced: frozenset[str] = frozenset()):
    matrix = load_matrix(root / "build-matrix.yaml")
    return new_run(client, matrix, CacheLayout.for_project(REPO), forced=forced)


def build(root: Path, client, names: list[str], force: bool = False):
    run = new(root, client, frozenset(names) if force else frozenset())
    return {r.name: r for r in build_images(run, names, jobs=1)}


def test_first_build_then_up_to_date(project: Path, client) -> None:
    first = build(project, client, ["child"])
    assert [first[n].status for n in ("tiny", "child")] == [BuildStatus.BUILT] * 2
    assert first["tiny"].reason == "no image yet"
    second = build(project, client, ["child"])
    assert {r.status for r in second.values()} == {BuildStatus.UP_TO_DATE}
    assert second["child"].image_id == first["child"].image_id


def test_labels_and_tags(project: Path, client) -> None:
    build(project, client, ["tiny"])
    image = client.images.get(f"{NAMESPACE}/tiny:latest")
    labels = image.labels
    for key in (
        "created",
        "revision",
        "title",
        "description",
        "version",
        "base.name",
        "base.digest",
    ):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert labels["org.opencontainers.image.title"] == "Tiny"
    assert len(labels[INPUTS_HASH]) == 64
    tags = {t.split(":", 1)[1] for t in image.tags}
    assert {
        "latest",
        f"python-{VARIANT.python}",
        labels["org.opencontainers.image.version"],
    } <= tags
    assert labels["org.skahub.variant"] == VARIANT.name
    assert labels["org.skahub.debian.suite"] == VARIANT.suite
    assert any(t.startswith("lab-4.") for t in tags)


def test_locked_wheel_installed_and_not_left_behind(project: Path, client) -> None:
    build(project, client, ["tiny"])
    out = client.containers.run(
        f"{NAMESPACE}/tiny:latest",
        [
            "bash",
            "-c",
            "python -c 'import six; print(six.__version__)'; "
            "find / -xdev \\( -name '*.whl' -o -path '*/.cache/pip' \\) -print",
        ],
        entrypoint=[],
        remove=True,
        network_mode="none",
        user="0",
    )
    assert out.decode().split() == ["1.17.0"]


PROBE = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection((sys.argv[1], 8000), timeout=3).close()\n"
    "    print('reached')\n"
    "except OSError:\n"
    "    print('blocked')\n"
)


def test_build_network_reaches_nothing_beyond_itself(project: Path, client) -> None:
    """A server on the default docker bridge answers a normal container but not a build one.

    Traffic from the build network to any address outside it is forwarded traffic, like
    traffic to the internet would be; the engine drops it for an internal network.
    """
    build(project, client, ["tiny"])
    assert client.networks.get(BUILD_NETWORK).attrs["Internal"] is True
    image = f"{NAMESPACE}/tiny:latest"
    server = client.containers.run(
        image,
        ["python", "-m", "http.server", "8000"],
        entrypoint=[],
        detach=True,
        labels=TEST_LABELS,
    )
    try:
        server.reload()
        address = server.attrs["NetworkSettings"]["IPAddress"]
        results = {}
        for network in ("bridge", BUILD_NETWORK):
            out = client.containers.run(
                image,
                ["python", "-c", PROBE, address],
                entrypoint=[],
                network=network,
                remove=True,
                labels=TEST_LABELS,
            )
            results[network] = out.decode().strip()
        assert results == {"bridge": "reached", BUILD_NETWORK: "blocked"}
    finally:
        server.remove(force=True)


def test_changed_file_rebuilds_image_and_descendants(project: Path, client) -> None:
    build(project, client, ["child"])
    (project / "images" / "tiny" / "notes.txt").write_text("changed\n")
    try:
        results = build(project, client, ["child"])
        assert results["tiny"].status is BuildStatus.BUILT
        assert results["tiny"].reason == "inputs changed"
        assert results["child"].status is BuildStatus.BUILT
        assert results["child"].reason == "parent tiny was rebuilt"
    finally:
        (project / "images" / "tiny" / "notes.txt").unlink()


def test_force_rebuilds(project: Path, client) -> None:
    build(project, client, ["tiny"])
    results = build(project, client, ["tiny"], force=True)
    assert (results["tiny"].status, results["tiny"].reason) == (BuildStatus.BUILT, "--force")


def test_force_applies_to_the_named_images_not_their_ancestors(project: Path, client) -> None:
    build(project, client, ["child"])
    tiny = client.images.get(f"{NAMESPACE}/tiny:latest").id
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "build",
            "-i",
            "child",
            "--force",
            f"--matrix={project / 'build-matrix.yaml'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"[tiny {VARIANT.name}] up to date" in result.stderr
    assert f"[child {VARIANT.name}] building: --force" in result.stderr
    assert client.images.get(f"{NAMESPACE}/tiny:latest").id == tiny


def test_failure_names_step_shows_log_and_skips_descendants(project: Path, client, caplog) -> None:
    caplog.set_level(logging.INFO)
    results = {r.name: r for r in build_images(new(project, client), ["orphan"], jobs=1)}
    assert results["broken"].status is BuildStatus.FAILED
    assert results["orphan"].status is BuildStatus.SKIPPED
    text = caplog.text
    assert "Step " in text and "exit 3" in text
    assert "oops" in text  # the last lines of the failing step's log
    assert "[orphan] skipped: parent broken failed" in text
    leftovers = client.containers.list(all=True, filters={"status": "exited"})
    assert not [c for c in leftovers if c.image and NAMESPACE in str(c.image.tags)]


def test_noop_cli_says_up_to_date(project: Path, client) -> None:
    build(project, client, ["child"])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "build",
            "-i",
            "child",
            f"--matrix={project / 'build-matrix.yaml'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"[tiny {VARIANT.name}] up to date" in result.stderr
    assert f"[child {VARIANT.name}] up to date" in result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("child ")]
    assert row.split()[1:4] == [VARIANT.name, "up", "to"]


def test_a_variant_whose_python_an_image_lacks_is_refused(tmp_path: Path, client) -> None:
    """The matrix says which Python a variant has; an image with another gets no tag."""
    real = yaml.safe_load((REPO / "build-matrix.yaml").read_text())
    namespace = f"{NAMESPACE}-variant"
    wrong = {**real["variants"][VARIANT.name], "python": "3.9", "default": True}
    images = {"tiny": {"source": {"from": base_ref()}, "display_name": "T", "description": "t"}}
    folder = tmp_path / "images" / "tiny"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(STACK_DOCKERFILE)
    (folder / lock_name("wrong")).write_text(SIX_LOCK)
    (tmp_path / "build-matrix.yaml").write_text(
        yaml.safe_dump(
            {
                "settings": {**real["settings"], "namespace": namespace},
                "variants": {"wrong": wrong},
                "images": images,
            }
        )
    )
    try:
        [result] = build_images(new(tmp_path, client), ["tiny"], jobs=1)
        assert result.status is BuildStatus.FAILED
        assert (
            f"key variants.wrong.python is '3.9', but tiny has Python {VARIANT.python}."
            in result.reason.replace("build-matrix.yaml: ", "key ")
        ), result.reason
        assert client.images.list(name=f"{namespace}/tiny") == []  # no tag
    finally:
        for image in client.images.list(name=f"{namespace}/*"):
            for tag in image.tags:
                client.images.remove(tag, force=True)


def ours(networks: list) -> set[str]:
    """The networks builds use (other work on the engine may add its own meanwhile)."""
    return {n.name for n in networks if (n.attrs.get("Labels") or {}).get("hubimages") == "build"}


def _step_containers(client, marker: str, since: float = 0) -> list[str]:
    """Ids of build-step containers running a command with `marker`, created since then."""
    return [
        c["Id"]
        for c in client.api.containers(all=True)
        if marker in c.get("Command", "") and c.get("Created", 0) >= since
    ]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_one_ctrl_c_stops_a_build_cleanly(project: Path, client) -> None:
    """One SIGINT in the middle of a step: the step's container is killed and removed, no tag
    moves, the wheel server and its port are gone, no network is left, the summary says it."""
    slow = project / "images" / "slow"
    (slow / "delay.txt").write_text("0\n")
    build(project, client, ["slow"])
    before = client.images.get(f"{NAMESPACE}/slow:latest").id
    networks = ours(client.networks.list())
    (slow / "delay.txt").write_text("600\n")
    since = int(time.time()) - 1
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "invoke",
            "build",
            "-i",
            "slow",
            f"--matrix={project / 'build-matrix.yaml'}",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A background job of a non-interactive shell ignores SIGINT, and a child inherits
        # that: the build gets the Ctrl-C handling a terminal gives it.
        preexec_fn=_default_sigint,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
    reader.start()
    try:

        def step_running() -> bool:
            assert proc.poll() is None, "".join(lines)[-2000:]
            return bool(_step_containers(client, "/opt/delay.txt", since))

        assert wait_until(step_running, 240, interval=0.2), "the slow step never started"
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)  # a build that ignores the Ctrl-C fails here, not after 600 s
        except subprocess.TimeoutExpired:
            pytest.fail("the build did not stop within 30 s of one SIGINT: " + "".join(lines))
        stopped = time.monotonic() - interrupted
        stdout = proc.stdout.read() if proc.stdout else ""
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:  # never leave the build (and its step) running
            proc.kill()
            proc.wait(timeout=10)
            for step in _step_containers(client, "/opt/delay.txt", since):
                client.api.remove_container(step, force=True)
    assert proc.returncode == 130, stdout + "".join(lines)[-2000:]
    assert stopped < 20, f"took {stopped:.0f}s to stop: " + "".join(lines)[-3000:]
    assert re.search(rf"^slow\s+{VARIANT.name}\s+interrupted", stdout, re.MULTILINE), stdout
    assert re.search(rf"^tiny\s+{VARIANT.name}\s+up to date", stdout, re.MULTILINE), stdout
    assert client.images.get(f"{NAMESPACE}/slow:latest").id == before  # no tag moved
    # The engine removes the killed step's container (forcerm) as the build ends.
    assert wait_until(lambda: not _step_containers(client, "/opt/delay.txt", since), 30)
    assert ours(client.networks.list()) == networks
    served = re.search(r"wheel server on http://([\d.]+):(\d+)", "".join(lines))
    assert served, "".join(lines)[-2000:]
    with socket.socket() as sock:  # no server listens on the wheel server's port any more
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
        sock.bind((served.group(1), int(served.group(2))))
        sock.listen()


def test_debian_packages_come_through_the_tools_proxy_only(project: Path, client) -> None:
    """The build network reaches nothing but the host; apt gets the mirrors (release, updates,
    security) through the wheel server's proxy, and leaves no lists behind."""
    results = build(project, client, ["apt"])
    assert results["apt"].status in (BuildStatus.BUILT, BuildStatus.UP_TO_DATE)
    out = client.containers.run(
        f"{NAMESPACE}/apt:latest",
        ["bash", "-c", "jq --version; cat /etc/apt/sources.list; ls /var/lib/apt/lists | wc -l"],
        entrypoint=[],
        remove=True,
        network_mode="none",
    ).decode()
    assert out.startswith("jq-1.")
    suite = VARIANT.suite
    assert f"{suite}-security main" in out and f"{suite}-updates main" in out
    assert out.split()[-1] in ("0", "1")  # at most the lock file apt keeps there
