"""Community environments without an engine: the matrix, the repository, its configuration,
and the Dockerfile `invoke repo2docker --no-build` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubimages.builder.userenv.config import check_dockerfile, read_config
from hubimages.builder.userenv.requirements import _inputs
from hubimages.builder.userenv.source import check_out
from hubimages.ci.affected import affected_images
from hubimages.cli.environments import default_name
from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError, MatrixError
from hubimages.model.load import load_matrix
from hubimages.model.project import open_project
from hubimages.model.spec import Repository

from .conftest import write_matrix

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = open_project().matrix.settings.python  # what `--on sdc1` builds on


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


def repository(root: Path, files: dict[str, str], commit: bool = True) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if commit:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "first")
    return root


# -- the matrix ----------------------------------------------------------------------------------


def test_environments_are_images_with_a_repository(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["environments"] = {
        "starter": {
            "repository": "../starter",
            "ref": "v1",
            "parent": "c",
            "display_name": "Starter",
            "description": "d",
        }
    }
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    spec = matrix.images["starter"]
    assert spec.environment and spec.parent == "c"
    assert spec.repository == Repository("../starter", "v1", "")
    assert list(matrix.images)[-1] == "starter"


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"parent": "zz"}, "unknown platform image 'zz'"),
        ({"reference": "x"}, "key 'reference': unknown key"),
        ({"subdir": "../up"}, "key 'subdir': must be a folder inside the repository"),
        ({"repository": ""}, "key 'repository': must be a non-empty string"),
    ],
)
def test_bad_environments_are_one_line(
    tmp_path: Path, matrix_data: dict, entry: dict, words: str
) -> None:
    matrix_data["environments"] = {
        "starter": {
            "repository": "x",
            "parent": "a",
            "display_name": "S",
            "description": "d",
            **entry,
        }
    }
    with pytest.raises(MatrixError, match=words):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_an_environment_cannot_take_an_image_name(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["environments"] = {
        "a": {"repository": "x", "parent": "base", "display_name": "S", "description": "d"}
    }
    with pytest.raises(MatrixError, match="image 'a': is both an image and an environment"):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_a_change_in_a_repository_kept_here_reaches_its_environment(
    tmp_path: Path, matrix_data: dict
) -> None:
    matrix_data["environments"] = {
        "starter": {
            "repository": "environments/starter",
            "parent": "a",
            "display_name": "S",
            "description": "d",
        }
    }
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    assert affected_images(matrix, ["environments/starter/binder/requirements.txt"], matrix) == [
        "starter"
    ]
    assert affected_images(matrix, ["images/a/Dockerfile"], matrix) == ["a", "c", "starter"]


# -- the repository ------------------------------------------------------------------------------


def test_a_git_repository_at_a_ref(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", {"binder/requirements.txt": "tqdm\n"})
    first = git(repo, "rev-parse", "HEAD")
    (repo / "binder" / "requirements.txt").write_text("tqdm\ndocopt\n")
    git(repo, "commit", "-qam", "second")
    git(repo, "tag", "v1", first)
    into = tmp_path / "checkout"
    into.mkdir()
    checkout = check_out(Repository(str(repo), "v1"), tmp_path, CacheLayout(tmp_path / "c"), into)
    assert (checkout.commit, checkout.tag) == (first, first[:7])
    assert (into / "binder" / "requirements.txt").read_text() == "tqdm\n"
    assert not (into / ".git").exists()


@pytest.mark.parametrize(
    ("url", "ref", "words"),
    [
        ("file:///nonexistent/repo.git", "", "cannot be fetched"),
        ("REPO", "nope", "unknown ref 'nope'"),
        ("missing-folder", "", "no such folder"),
    ],
)
def test_unreachable_repositories_and_unknown_refs(
    tmp_path: Path, url: str, ref: str, words: str
) -> None:
    repo = repository(tmp_path / "repo", {"binder/requirements.txt": "tqdm\n"})
    into = tmp_path / "checkout"
    into.mkdir()
    with pytest.raises(HubImagesError, match=words):
        check_out(
            Repository(str(repo) if url == "REPO" else url, ref),
            tmp_path,
            CacheLayout(tmp_path / "c"),
            into,
        )


# -- its configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"binder/environment.yml": "name: x\n"}, "environment.yml: a conda environment"),
        ({"binder/apt.txt": "jq && curl evil\n"}, r"apt.txt:1: 'jq && curl evil' is not a Debian"),
        ({"runtime.txt": "python-3.12\n"}, "asks for Python 3.12, but the platform image has 3.11"),
        ({"runtime.txt": "r-2024-01-01\n"}, "only python-3.11"),
        ({"binder/x": "", ".binder/y": ""}, "both binder/ and .binder/"),
    ],
)
def test_what_cannot_be_built_is_refused(tmp_path: Path, files: dict, words: str) -> None:
    repository(tmp_path, files, commit=False)
    with pytest.raises(HubImagesError, match=words):
        read_config(tmp_path, "3.11")


def test_requirements_from_outside_the_index_are_refused(tmp_path: Path) -> None:
    repository(tmp_path, {"requirements.txt": "-r more.txt\n", "more.txt": "-e .\n"}, commit=False)
    with pytest.raises(HubImagesError, match=r"more.txt:1: '-e \.' is not a requirement from"):
        _inputs(read_config(tmp_path, "3.11"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("FROM python:3.12\n", "start with `ARG BASE_IMAGE` and `FROM \\${BASE_IMAGE}`"),
        ("# syntax=docker/dockerfile:1\nARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n", "needs BuildKit"),
        (
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN --mount=type=cache,target=/x true\n",
            "Dockerfile:3: .* needs BuildKit",
        ),
    ],
)
def test_a_dockerfile_must_build_on_the_platform_image(
    tmp_path: Path, text: str, words: str
) -> None:
    repository(tmp_path, {"binder/Dockerfile": text}, commit=False)
    with pytest.raises(HubImagesError, match=words):
        check_dockerfile(read_config(tmp_path, "3.11"))


def no_build(repo: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "repo2docker",
            str(repo),
            "--on",
            "sdc1",
            "--no-build",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:9"},
    )


def test_no_build_prints_the_dockerfile_without_an_engine(tmp_path: Path) -> None:
    repo = repository(
        tmp_path / "repo",
        {
            "binder/requirements.txt": "tqdm\n",
            "binder/apt.txt": "jq\n",
            "binder/postBuild": "#!/bin/bash\ntrue\n",
            "binder/start": '#!/bin/bash\nexec "$@"\n',
        },
    )
    result = no_build(repo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FROM ") and lines[0].endswith("/sdc1:latest")
    assert "RUN install-debian-packages" in lines
    assert "RUN install-locked-requirements" in lines
    assert "COPY --chown=1000:100 src/ ${REPO_DIR}/" in lines
    assert lines.index("USER 1000") < lines.index("RUN ./binder/postBuild")
    assert lines[-2] == ('ENTRYPOINT ["tini", "-g", "--", "start.sh", "/home/jovyan/binder/start"]')
    assert "--chmod" not in result.stdout


def test_no_build_of_a_dockerfile_and_of_bad_input(tmp_path: Path) -> None:
    text = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN true\n"
    repo = repository(tmp_path / "repo", {"binder/Dockerfile": text})
    assert no_build(repo).stdout == text
    later = repository(tmp_path / "later", {"runtime.txt": "python-3.12\n"})
    result = no_build(later)
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        f"error: later ({later}): runtime.txt: asks for Python 3.12, but the platform image "
        f"has {DEFAULT_PYTHON}: build it on an image with that Python, or change runtime.txt"
    ]


def test_a_repository_with_no_configuration_gets_repo2dockers_defaults(tmp_path: Path) -> None:
    """Notebooks only, the most common Binder repository: its files in the home, REPO_DIR set
    and the PATH entries of repo2docker's images; nothing installed, nothing run."""
    repo = repository(tmp_path / "notebooks", {"analysis.ipynb": "{}\n", "README.md": "hi\n"})
    result = no_build(repo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "ARG REPO_DIR=/home/jovyan" in lines and "ENV REPO_DIR=${REPO_DIR}" in lines
    assert "ENV PATH=/home/jovyan/.local/bin:${REPO_DIR}/.local/bin:${PATH}" in lines
    assert "COPY --chown=1000:100 src/ ${REPO_DIR}/" in lines
    assert not [line for line in lines if line.startswith(("RUN install", "ENTRYPOINT"))]


def test_default_names() -> None:
    assert default_name("https://git.example.org/SKA/SDC1_Solution.git") == "sdc1_solution"
    assert default_name("/tmp/my repo/") == "my-repo"
    with pytest.raises(HubImagesError, match="give --name"):
        default_name("---")
