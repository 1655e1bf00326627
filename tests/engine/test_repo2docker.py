"""`invoke repo2docker` against the real engine: scientists' repositories on the real base.

Each fixture repository is a git repository made here; the builds run through our repo2docker
engine plugin and buildpacks on the build network, as a user would run them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import docker
import pytest

from hubimages.core.waiting import wait_until
from hubimages.model.project import open_project
from tests.containers.helpers import TEST_LABELS, layer_paths

REPO = Path(__file__).resolve().parents[2]
MATRIX = open_project().matrix
PREFIX = "r2dtest"
TOKEN = "r2d-test-token"  # noqa: S105 - a throwaway token for a local container
BLOCKED = (
    "import socket\ntry:\n    socket.create_connection(('deb.debian.org', 80), timeout=3)"
    "\n    print('reached')\nexcept OSError:\n    print('blocked')\n"
)


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    return root


def repo2docker(repo: Path | str, name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "repo2docker",
            str(repo),
            "--on",
            "base",
            f"--name={PREFIX}-{name}",
            *args,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) <= 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return errors[0] if errors else result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def client():
    client = docker.from_env()
    yield client
    for image in client.images.list(name=f"{MATRIX.settings.namespace}/{PREFIX}-*"):
        for tag in image.tags:
            client.images.remove(tag, force=True)


def run(client, image: str, command: str) -> str:
    return client.containers.run(
        image,
        ["bash", "-c", command],
        entrypoint=[],
        remove=True,
        network_mode="none",
        labels=TEST_LABELS,
    ).decode()


def test_requirements_repository(tmp_path: Path, client) -> None:
    """tqdm from a wheel, docopt (sdist only) built on the host; the platform does not move."""
    repo = make_repo(
        tmp_path / "reqs",
        {
            "binder/requirements.txt": "docopt==0.6.2\ntqdm\njupyterlab\n",
            "analysis.ipynb": json.dumps(
                {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
            ),
        },
    )
    built = repo2docker(repo, "reqs")
    assert built.returncode == 0, built.stderr[-3000:]
    image = client.images.get(f"{MATRIX.repository(f'{PREFIX}-reqs')}:latest")
    base = client.images.get(MATRIX.local_ref("base"))
    sha = git(repo, "rev-parse", "--short=7", "HEAD")
    assert f"{MATRIX.repository(f'{PREFIX}-reqs')}:{sha}" in image.tags
    assert image.labels["org.skahub.environment.commit"] == git(repo, "rev-parse", "HEAD")
    assert image.labels["org.opencontainers.image.base.digest"] == base.id
    assert image.labels["repo2docker.version"]
    out = run(
        client,
        image.id,
        "id -u; python -c 'import docopt, tqdm; print(docopt.__version__)'"
        "; pip check >/dev/null && echo pip-ok; jupyter lab --version; "
        "ls ~/analysis.ipynb",
    )
    lab = run(client, base.id, "jupyter lab --version").strip()
    assert out.split() == ["1000", "0.6.2", "pip-ok", lab, "/home/jovyan/analysis.ipynb"]
    added = [layer for layer in base.history()]  # the platform's layers: not the repo's business
    ours = {
        p
        for layer, p in layer_paths(client, image.id)
        if re.match(r"^(tmp/.+|root/\.cache/.+|.*\.whl|.*/\.cache/pip.*)$", p)
    }
    assert ours == set(), sorted(ours)[:10]
    assert added  # the base has its own history
    again = repo2docker(repo, "reqs")
    assert again.returncode == 0
    assert f"[{PREFIX}-reqs {MATRIX.variant.name}] up to date" in again.stderr


def test_a_repository_with_no_configuration_builds_as_repo2docker_builds_it(
    tmp_path: Path, client
) -> None:
    """Notebooks only: the files in the home (REPO_DIR, set as repo2docker sets it), the
    repository's .local/bin and ~/.local/bin on PATH, the platform's packages untouched."""
    repo = tmp_path / "notebooks"
    tool = repo / ".local" / "bin" / "hello-binder"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\necho hello from the repository\n")
    tool.chmod(0o755)
    make_repo(repo, {"analysis.ipynb": json.dumps({"cells": [], "metadata": {}, "nbformat": 4})})
    built = repo2docker(repo, "notebooks")
    assert built.returncode == 0, built.stderr[-3000:]
    ref = f"{MATRIX.repository(f'{PREFIX}-notebooks')}:latest"
    out = run(client, ref, 'pwd; echo "$REPO_DIR"; echo "$PATH"; ls; hello-binder; pip check')
    lines = out.splitlines()
    assert lines[:2] == ["/home/jovyan", "/home/jovyan"], out
    assert lines[2].startswith("/home/jovyan/.local/bin:/home/jovyan/.local/bin:"), out
    assert lines[3] == "analysis.ipynb", out
    assert "hello from the repository" in lines, out
    base = client.images.get(MATRIX.local_ref("base"))
    assert run(client, ref, "pip freeze") == run(client, base.id, "pip freeze")


def test_actions_repository_and_its_server(tmp_path: Path, client) -> None:
    """apt.txt through the build tool's proxy, postBuild as the user with no network of its
    own, start around the image's own start script, and the server answers."""
    repo = make_repo(
        tmp_path / "actions",
        {
            "binder/apt.txt": "# a tool the base lacks\njq\n",
            "binder/postBuild": f"#!/bin/bash\nset -e\nid -u > postbuild.txt\npython - >> "
            f"postbuild.txt <<'EOF'\n{BLOCKED}EOF\n",
            "binder/start": '#!/bin/bash\nexport FROM_START=yes\nexec "$@"\n',
            "binder/requirements.txt": "tqdm\n",
        },
    )
    built = repo2docker(repo, "actions")
    assert built.returncode == 0, built.stderr[-3000:]
    ref = f"{MATRIX.repository(f'{PREFIX}-actions')}:latest"
    jq, *postbuild = run(client, ref, "jq --version; cat ~/postbuild.txt").split()
    assert jq.startswith("jq-1.")  # Debian's, of the variant's suite
    assert postbuild == ["1000", "blocked"]
    container = client.containers.run(
        ref, ["bash", "-c", "echo $FROM_START; sleep 60"], detach=True, labels=TEST_LABELS
    )
    server = client.containers.run(
        ref, detach=True, environment={"JUPYTER_TOKEN": TOKEN}, labels=TEST_LABELS
    )
    try:
        said = wait_until(  # start.sh runs first: slower on a loaded machine
            lambda: container.logs().decode().split()[-1:] == ["yes"], 30, interval=0.5
        )
        assert said, container.logs().decode()[-600:]
        server.reload()
        url = f"http://{server.attrs['NetworkSettings']['IPAddress']}:8888/api?token={TOKEN}"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def answered() -> bool:
            try:
                return bool(opener.open(url, timeout=2).status == 200)
            except OSError:
                return False

        assert wait_until(answered, 60, interval=0.5), server.logs().decode()[-2000:]
    finally:
        container.remove(force=True)
        server.remove(force=True)


def test_dockerfile_repository_on_the_pinned_base(tmp_path: Path, client) -> None:
    repo = make_repo(
        tmp_path / "own",
        {
            "binder/Dockerfile": (
                "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nUSER 0\n"
                "RUN echo from-dockerfile > /opt/marker\nUSER 1000\n"
            )
        },
    )
    built = repo2docker(repo, "own")
    assert built.returncode == 0, built.stderr[-3000:]
    image = client.images.get(f"{MATRIX.repository(f'{PREFIX}-own')}:latest")
    assert run(client, image.id, "cat /opt/marker; id -u").split() == ["from-dockerfile", "1000"]
    assert (
        image.labels["org.opencontainers.image.base.digest"]
        == client.images.get(MATRIX.local_ref("base")).id
    )


@pytest.mark.parametrize(
    ("files", "words"),
    [
        (
            {"requirements.txt": "jupyterlab<4\n"},
            r"requirements.txt: cannot be resolved against the pins of base .*jupyterlab<4.*"
            r"jupyterlab==4\.",
        ),
        (
            {"requirements.txt": "no-such-project-hubimages-test==1.0\n"},
            r"no-such-project-hubimages-test was not found in the package registry",
        ),
        (
            {"binder/postBuild": "#!/bin/bash\necho preparing\necho it broke >&2\nexit 4\n"},
            r"returned a non-zero code: 4 \(last output: .*it broke",
        ),
    ],
)
def test_bad_input_is_one_line_and_tags_nothing(
    tmp_path: Path, client, files: dict, words: str
) -> None:
    repo = make_repo(tmp_path / "bad", files)
    error = one_error_line(repo2docker(repo, "bad"))
    assert re.search(words, error), error
    assert client.images.list(name=MATRIX.repository(f"{PREFIX}-bad")) == []


def test_unknown_ref_and_unreachable_repository(tmp_path: Path, client) -> None:
    repo = make_repo(tmp_path / "refs", {"requirements.txt": "tqdm\n"})
    assert "unknown ref 'v9'" in one_error_line(repo2docker(repo, "refs", "--ref=v9"))
    missing = one_error_line(repo2docker("file:///nonexistent/repo.git", "refs"))
    assert "repository file:///nonexistent/repo.git cannot be fetched" in missing
    assert client.images.list(name=MATRIX.repository(f"{PREFIX}-refs")) == []


def test_requirements_resolve_with_the_platforms_own_wheels(tmp_path: Path, client) -> None:
    """dask-image needs pims, which pybdsf has as a wheel built on the host (0.7+skahub1):
    the repository resolves against it, and nothing of the platform is reinstalled."""
    repo = make_repo(tmp_path / "own-wheels", {"requirements.txt": "dask-image\n"})
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "repo2docker",
            str(repo),
            "--on",
            "pybdsf",
            f"--name={PREFIX}-own-wheels",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    image = f"{MATRIX.repository(f'{PREFIX}-own-wheels')}:latest"
    assert run(client, image, "pip show pims | grep ^Version").split() == [
        "Version:",
        "0.7+skahub1",
    ]
