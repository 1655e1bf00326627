"""Change detection: the input hash moves exactly when something that reaches the image does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hubimages.builder.inputs import input_hash
from hubimages.model.load import load_matrix


@pytest.fixture
def root(matrix_file: Path) -> Path:
    return matrix_file.parent


def _hash(root: Path, name: str, parent: str = "sha256:parent") -> str:
    return input_hash(load_matrix(root / "build-matrix.yaml"), name, parent)


def test_same_inputs_same_hash(root: Path) -> None:
    assert _hash(root, "a") == _hash(root, "a")


def test_file_change_changes_hash(root: Path) -> None:
    before = _hash(root, "a")
    (root / "images" / "a" / "start.sh").write_text("echo hi\n")
    after = _hash(root, "a")
    assert before != after
    (root / "images" / "a" / "start.sh").write_text("echo hello\n")
    assert _hash(root, "a") not in (before, after)


def test_lock_change_changes_hash(root: Path) -> None:
    lock = root / "images" / "a" / "requirements.lock"
    lock.write_text("six==1.16.0 --hash=sha256:" + "0" * 64 + "\n")
    before = _hash(root, "a")
    lock.write_text("six==1.17.0 --hash=sha256:" + "1" * 64 + "\n")
    assert _hash(root, "a") != before


def test_parent_id_changes_hash(root: Path) -> None:
    assert _hash(root, "a", "sha256:one") != _hash(root, "a", "sha256:two")


def test_stack_folder_reaches_image(root: Path) -> None:
    before = _hash(root, "c")
    (root / "images" / "b" / "hook.sh").write_text("true\n")
    assert _hash(root, "c") != before


def test_unrelated_folder_does_not(root: Path) -> None:
    before = _hash(root, "a")
    (root / "images" / "b" / "hook.sh").write_text("true\n")
    assert _hash(root, "a") == before


def test_caches_are_ignored(root: Path) -> None:
    before = _hash(root, "a")
    cache = root / "images" / "a" / "__pycache__"
    cache.mkdir()
    (cache / "x.cpython-311.pyc").write_bytes(b"\0")
    (root / "images" / "a" / "y.pyc").write_bytes(b"\0")
    assert _hash(root, "a") == before


def test_matrix_settings_reach_image(root: Path) -> None:
    before = _hash(root, "a")
    path = root / "build-matrix.yaml"
    data = yaml.safe_load(path.read_text())
    data["settings"]["index_url"] = "https://mirror.example/simple"
    path.write_text(yaml.safe_dump(data))
    assert _hash(root, "a") != before


def test_description_reaches_image_label(root: Path) -> None:
    before = _hash(root, "a")
    path = root / "build-matrix.yaml"
    data = yaml.safe_load(path.read_text())
    data["images"]["a"]["description"] = "new words"
    path.write_text(yaml.safe_dump(data))
    assert _hash(root, "a") != before


def test_namespace_does_not_change_content(root: Path) -> None:
    before = _hash(root, "a")
    path = root / "build-matrix.yaml"
    data = yaml.safe_load(path.read_text())
    data["settings"]["namespace"] = "elsewhere"
    path.write_text(yaml.safe_dump(data))
    assert _hash(root, "a") == before


def test_a_build_folder_reaches_the_image_that_fetches_it(root: Path) -> None:
    data = root / "data" / "sdc1"
    data.mkdir(parents=True)
    (data / "truth.cat").write_text("1 2 3\n")
    path = root / "build-matrix.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["images"]["b"]["build_folders"] = ["data/sdc1"]
    path.write_text(yaml.safe_dump(raw))
    before = {name: _hash(root, name) for name in ("a", "b", "c")}
    (data / "truth.cat").write_text("1 2 4\n")
    after = {name: _hash(root, name) for name in ("a", "b", "c")}
    assert after["a"] == before["a"]
    assert after["b"] != before["b"] and after["c"] != before["c"]  # c applies b's folder
