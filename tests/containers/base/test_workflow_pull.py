"""nbgitpuller, what a workflow's launch link runs (docs/workflows.md): the server clones a
repository from the project's read-only git server (a real one, on the host, reached on the
gateway of an internal network, as sessions reach the hub's), as the notebook user; a second
pull brings a new upstream commit and keeps what the user changed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from hubimages.core.ports import free_port
from tests.containers.helpers import exec_text, http_get, token_from_logs
from tests.containers.services import service_network

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, Path]:
    """A work tree and the bare repository served from it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "look.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
    )
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "first")
    served = tmp_path / "served"
    served.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(served / "flow.git"))
    git(work, "remote", "add", "served", str(served / "flow.git"))
    return work, served


@pytest.fixture
def session(docker_client, containers, upstream) -> Iterator[tuple[object, str, str]]:
    """A server of the image on an internal network; the git server on its gateway."""
    _, served = upstream
    with service_network(docker_client) as network:
        network.network.reload()
        gateway = network.network.attrs["IPAM"]["Config"][0]["Gateway"]
        port = free_port(gateway)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hubimages.services.gitserver",
                "--root",
                str(served),
                "--host",
                gateway,
                "--port",
                str(port),
            ]
        )
        try:
            container = containers.server(network=network.name)
            yield container, token_from_logs(container), f"http://{gateway}:{port}/flow.git"
        finally:
            containers.cleanup()  # before the network goes
            server.terminate()
            server.wait(timeout=10)


def pull(container, token: str, repo: str) -> str:
    """nbgitpuller's API (what its /git-pull page calls): the pull, to its last event."""
    query = urlencode({"repo": repo, "branch": "main", "targetpath": "flow"})
    url = f"http://{container.ip}:8888/git-pull/api?{query}"
    deadline = time.monotonic() + 60
    response = http_get(url, token=token, timeout=60)
    assert response.status == 200, response.body[-300:]
    assert time.monotonic() < deadline
    return response.body.decode()


def test_a_launch_pull_clones_then_updates_keeping_the_users_edits(session, upstream) -> None:
    container, token, repo = session
    work, _ = upstream
    events = pull(container, token, repo)
    assert '"phase": "finished"' in events, events[-500:]
    code, owner = exec_text(
        container, "stat -c %U ~/flow/look.ipynb && git -C ~/flow log -1 --format=%H"
    )
    assert code == 0 and owner.split() == ["jovyan", git(work, "rev-parse", "HEAD")], owner
    exec_text(container, "echo '# mine' >> ~/flow/look.ipynb")
    (work / "notes.md").write_text("new upstream\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "second")
    git(work, "push", "-q", "served", "main")
    events = pull(container, token, repo)
    assert '"phase": "finished"' in events, events[-500:]
    code, text = exec_text(container, "cat ~/flow/notes.md && tail -1 ~/flow/look.ipynb")
    assert code == 0 and text.split("\n")[:2] == ["new upstream", "# mine"], text
