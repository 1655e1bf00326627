"""`invoke affected`: which images a change reaches, on the conftest matrix and a real git repo.

The matrix: base <- a, base <- b, c has parent a and stacks [b].
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from hubimages.ci.affected import affected_images, changed_since
from hubimages.ci.github import github_outputs, stages_for_ci
from hubimages.core.git import uncommitted_files
from hubimages.errors import HubImagesError
from hubimages.model.load import load_matrix

from .conftest import write_matrix


@pytest.fixture
def matrix(matrix_file: Path):
    return load_matrix(matrix_file)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["images/base/Dockerfile"], ["base", "a", "b", "c"]),
        (["images/a/requirements.bookworm.lock"], ["a", "c"]),
        (["images/a/requirements.trixie.lock"], []),  # another variant's lock
        (["images/b/setup.sh"], ["b", "c"]),  # c applies b's folder in its recipe
        (["images/c/notebooks/x.ipynb"], ["c"]),
        (["tests/containers/b/test_b.py"], ["b", "c"]),  # c carries b's tests
        (["tests/containers/a/test_a.py"], ["a", "c"]),
        (["tests/containers/shared/test_shared.py"], ["base", "a", "b", "c"]),
        (["tests/containers/conftest.py"], ["base", "a", "b", "c"]),
        (["services/b/requirements.lock"], ["b", "c"]),  # a server b's tests run against
        (["services/README.md", "services/nobody/x.conf"], []),
        (["hubimages/builder/image.py"], ["base", "a", "b", "c"]),
        (["pyproject.toml"], ["base", "a", "b", "c"]),
        (
            [
                "README.md",
                "images/README.md",
                "tests/unit/test_x.py",
                "tests/engine/t.py",
                ".github/workflows/ci.yml",
            ],
            [],
        ),
        ([], []),
        (["images/b/x", "images/a/y"], ["a", "b", "c"]),
    ],
)
def test_files_reach_images_and_descendants(matrix, changed, expected) -> None:
    assert affected_images(matrix, changed, matrix) == expected


def test_matrix_entry_change_reaches_that_image_and_descendants(matrix_data, tmp_path) -> None:
    old = load_matrix(write_matrix(tmp_path / "old", matrix_data))
    matrix_data["images"]["a"]["description"] = "new words"
    new = load_matrix(write_matrix(tmp_path / "new", matrix_data))
    assert affected_images(new, ["build-matrix.yaml"], old) == ["a", "c"]
    assert affected_images(new, ["build-matrix.yaml"], new) == []


def test_matrix_settings_or_missing_old_matrix_reach_everything(matrix_data, tmp_path) -> None:
    old = load_matrix(write_matrix(tmp_path / "old", matrix_data))
    matrix_data["settings"]["namespace"] = "other"
    new = load_matrix(write_matrix(tmp_path / "new", matrix_data))
    assert affected_images(new, ["build-matrix.yaml"], old) == ["base", "a", "b", "c"]
    assert affected_images(new, ["build-matrix.yaml"], None) == ["base", "a", "b", "c"]


def test_added_image_is_affected(matrix_data, tmp_path) -> None:
    old = load_matrix(write_matrix(tmp_path / "old", matrix_data))
    matrix_data["images"]["d"] = {"parent": "b", "display_name": "D", "description": "d"}
    new = load_matrix(write_matrix(tmp_path / "new", matrix_data))
    assert affected_images(new, ["build-matrix.yaml", "images/d/Dockerfile"], old) == ["d"]


def with_trixie(matrix_data: dict, tmp_path: Path, **extra: object):
    matrix_data["variants"]["trixie"] = {
        "debian": "trixie",
        "python": "3.13",
        "glibc": "2.41",
        **extra,
    }
    return load_matrix(write_matrix(tmp_path, matrix_data))


def test_stages_follow_lineage_depth_in_every_variant(matrix_data, tmp_path) -> None:
    matrix = with_trixie(matrix_data, tmp_path, exclude={"c": "needs Python 3.11"})
    views = [matrix.for_variant(name) for name in matrix.variants]
    groups = stages_for_ci([(views[0], ["base", "a", "b", "c"]), (views[1], ["base", "b"])])

    def job(variant: str, image: str, parent: str) -> dict[str, str]:
        return {"variant": variant, "image": image, "parent": parent}

    assert groups == [
        [job("bookworm", "base", ""), job("trixie", "base", "")],
        [job("bookworm", "a", "base"), job("bookworm", "b", "base"), job("trixie", "b", "base")],
        [job("bookworm", "c", "a")],
    ]
    # Unaffected depths stay as empty lists, so every stage key always exists.
    outputs = github_outputs([(views[0], ["c"]), (views[1], [])])
    assert outputs == {
        "images": json.dumps([{"variant": "bookworm", "image": "c"}]),
        "default-variant": "bookworm",
        "stage-0": "[]",
        "stage-1": "[]",
        "stage-2": json.dumps([job("bookworm", "c", "a")]),
    }


def test_a_variant_s_change_reaches_that_variant_only(matrix_data, tmp_path) -> None:
    old = load_matrix(write_matrix(tmp_path / "old", matrix_data))
    new = with_trixie(matrix_data, tmp_path / "new")
    bookworm, trixie = new.for_variant("bookworm"), new.for_variant("trixie")
    assert affected_images(bookworm, ["build-matrix.yaml"], old) == []
    assert affected_images(trixie, ["build-matrix.yaml"], old) == ["base", "a", "b", "c"]
    changed = ["images/b/requirements.trixie.lock"]
    assert affected_images(bookworm, changed, new) == []
    assert affected_images(trixie, changed, new) == ["b", "c"]


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


def test_changed_since_a_real_git_ref(matrix_data, tmp_path) -> None:
    path = write_matrix(tmp_path, matrix_data)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    first = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "images" / "b" / "new.txt").write_text("committed\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "two")
    (tmp_path / "images" / "a" / "untracked.txt").write_text("not added\n")
    data = yaml.safe_load(path.read_text())
    data["images"]["c"]["description"] = "changed, not committed"
    path.write_text(yaml.safe_dump(data))

    changed, old = changed_since(tmp_path, first)
    assert set(changed) == {"build-matrix.yaml", "images/b/new.txt", "images/a/untracked.txt"}
    matrix = load_matrix(path)
    assert old is not None and old.images["c"].description == "d"
    assert affected_images(matrix, changed, old) == ["a", "b", "c"]
    assert affected_images(matrix, *changed_since(tmp_path, "HEAD")) == ["a", "c"]


def test_bad_ref_is_one_clear_error(matrix_file: Path) -> None:
    git(matrix_file.parent, "init", "-q")
    with pytest.raises(HubImagesError, match="--since 'origin/nope': not a commit"):
        changed_since(matrix_file.parent, "origin/nope")


def test_uncommitted_files_are_named_exactly(matrix_data, tmp_path) -> None:
    write_matrix(tmp_path, matrix_data)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    assert uncommitted_files(tmp_path) == []
    (tmp_path / "images" / "a" / "Dockerfile").write_text("changed\n")
    (tmp_path / "images" / "b" / "new file.txt").write_text("new\n")
    git(tmp_path, "mv", "images/c/Dockerfile", "images/c/Dockerfile.old")
    assert uncommitted_files(tmp_path) == [
        "images/a/Dockerfile",
        "images/b/new file.txt",
        "images/c/Dockerfile.old",
    ]
    assert uncommitted_files(tmp_path, ["images/b"]) == ["images/b/new file.txt"]


def test_a_build_folder_reaches_the_images_that_fetch_it(matrix_data, tmp_path) -> None:
    """data/sdc1 is in the sdc1 image: a change to it rebuilds that image (here: b, and c
    which applies b's folder), and nothing else."""
    (tmp_path / "data" / "sdc1").mkdir(parents=True)
    matrix_data["images"]["b"]["build_folders"] = ["data/sdc1"]
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    assert affected_images(matrix, ["data/sdc1/truth.cat"], matrix) == ["b", "c"]
    assert affected_images(matrix, ["data/README.md"], matrix) == []
