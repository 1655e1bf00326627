"""Loading build-matrix.yaml: the valid file loads, and each mistake is one clear error."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hubimages.errors import MatrixError
from hubimages.model.load import load_matrix
from tests.unit.conftest import write_matrix

REPO = Path(__file__).resolve().parents[2]


def test_valid_matrix_loads(matrix_file: Path) -> None:
    matrix = load_matrix(matrix_file)
    assert list(matrix.images) == ["base", "a", "b", "c"]
    assert matrix.images["base"].bootstrapped
    assert matrix.images["c"].stacks == ("b",)
    assert matrix.settings.machine == "x86_64"


def test_repository_matrix_loads_fast() -> None:
    started = time.monotonic()
    matrix = load_matrix(REPO / "build-matrix.yaml")
    assert time.monotonic() - started < 2
    assert "base" in matrix.images


def test_source_from_reference(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["images"]["base"]["source"] = {"from": "quay.io/jupyter/base-notebook:2025-11-17"}
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    assert matrix.images["base"].source_from == "quay.io/jupyter/base-notebook:2025-11-17"
    assert not matrix.images["base"].bootstrapped


def _break(data: dict, dotted: str, value: object) -> None:
    *path, last = dotted.split(".")
    node = data
    for key in path:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


_DELETE = object()

REJECTIONS = [
    # (where, value, words the one-line error must contain)
    ("images.a.parnet", "base", ["image 'a'", "key 'parnet'", "unknown key"]),
    ("settings.namespce", "x", ["key 'settings.namespce'", "unknown key"]),
    ("settings.debian.suit", "x", ["key 'settings.debian.suit'"]),
    ("images.a.parent", "nope", ["image 'a'", "key 'parent'", "unknown parent 'nope'"]),
    ("images.c.stacks", ["zz"], ["image 'c'", "key 'stacks'", "unknown stack 'zz'"]),
    ("images.base.parent", "c", ["image 'base'", "either a parent or a source"]),
    ("images.a.display_name", _DELETE, ["image 'a'", "key 'display_name'"]),
    ("images.a.parent", _DELETE, ["image 'a'", "key 'parent'", "missing"]),
    (
        "images.Bad_Name",
        {"parent": "base", "display_name": "x", "description": "d"},
        ["image 'Bad_Name'", "invalid image name"],
    ),
    ("settings.namespace", "Not Valid", ["key 'settings.namespace'", "invalid image namespace"]),
    ("images.base.source", {"from": "UPPER/case:tag!"}, ["key 'source.from'", "not a valid"]),
    ("images.base.source", "download", ["key 'source'", "bootstrap"]),
    ("settings.python", "3.12", ["key 'settings.python'", "moved", "variants.<name>.python"]),
    ("settings.debian.suite", "trixie", ["key 'settings.debian.suite'", "moved"]),
    ("variants", _DELETE, ["key 'variants'", "missing"]),
    ("variants.bookworm.python", 3.11, ["key 'variants.bookworm.python'", "quoted"]),
    ("variants.bookworm.glibc", "236", ["key 'variants.bookworm.glibc'", "like '2.41'"]),
    ("variants.bookworm.debian", _DELETE, ["key 'variants.bookworm.debian'", "Debian suite"]),
    ("variants.bookworm.colour", "x", ["key 'variants.bookworm.colour'", "unknown key"]),
    ("variants.bookworm.default", "yes", ["key 'variants.bookworm.default'", "true or false"]),
    ("variants.bookworm.exclude", {"zz": "why"}, ["image 'zz'", "unknown image"]),
    ("variants.bookworm.exclude", {"a": " "}, ["image 'a'", "give the reason"]),
    (
        "variants.bookworm.exclude",
        {"a": "no wheel of x for 3.11"},
        ["image 'c'", "key 'variants.bookworm.exclude'", "built on a", "exclude it too"],
    ),
    (
        "variants.trixie",
        {"debian": "trixie", "python": "3.11", "glibc": "2.41"},
        ["key 'variants.trixie.python'", "would collide"],
    ),
    (
        "variants.trixie",
        {"default": True, "debian": "trixie", "python": "3.13", "glibc": "2.41"},
        ["key 'variants'", "exactly one variant", "bookworm, trixie"],
    ),
    (
        "variants.trixie",
        {"debian": "trixie", "python": "3.13", "glibc": "2.41"},
        [],  # a second variant, not the default: valid (checked below)
    ),
    ("settings.platform", "linux/s390x", ["key 'settings.platform'", "unsupported"]),
    ("settings.debian.mirror", "deb.debian.org", ["key 'settings.debian.mirror'", "not a URL"]),
    ("images.a.stacks", ["b", "b"], ["key 'stacks'", "twice"]),
    ("images.a.default", "yes", ["key 'default'", "true or false"]),
]


@pytest.mark.parametrize(("where", "value", "words"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejections_name_file_image_and_key(
    tmp_path: Path, matrix_data: dict, where: str, value: object, words: list[str]
) -> None:
    _break(matrix_data, where, value)
    path = write_matrix(tmp_path, matrix_data)
    if not words:
        load_matrix(path)
        return
    with pytest.raises(MatrixError) as info:
        load_matrix(path)
    message = str(info.value)
    assert "build-matrix.yaml" in message
    assert "\n" not in message
    for word in words:
        assert word in message


def test_parent_cycle_rejected(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["images"]["a"]["parent"] = "c"
    with pytest.raises(MatrixError, match=r"lineage cycle (a -> c -> a|c -> a -> c)"):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_stack_cycle_rejected(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["images"]["b"]["stacks"] = ["c"]
    with pytest.raises(MatrixError, match="lineage cycle"):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_self_stack_rejected(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["images"]["c"]["stacks"] = ["c"]
    with pytest.raises(MatrixError, match="image 'c'"):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_missing_dockerfile_rejected(matrix_file: Path) -> None:
    (matrix_file.parent / "images" / "b" / "Dockerfile").unlink()
    with pytest.raises(MatrixError, match=r"image 'b': images/b/Dockerfile is missing"):
        load_matrix(matrix_file)


def test_missing_folder_rejected(matrix_file: Path) -> None:
    import shutil

    shutil.rmtree(matrix_file.parent / "images" / "a")
    with pytest.raises(MatrixError, match=r"image 'a': folder images/a/ is missing"):
        load_matrix(matrix_file)


def test_invalid_yaml_rejected(tmp_path: Path) -> None:
    path = tmp_path / "build-matrix.yaml"
    path.write_text("settings: [unclosed\n")
    with pytest.raises(MatrixError, match="invalid YAML at line"):
        load_matrix(path)


def test_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="file not found"):
        load_matrix(tmp_path / "build-matrix.yaml")


def test_empty_images_rejected(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["images"] = {}
    with pytest.raises(MatrixError, match="key 'images'"):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_cli_reports_one_line_and_exits_nonzero_without_engine(
    tmp_path: Path, matrix_data: dict
) -> None:
    """`invoke build` on a broken matrix fails before any engine call, with one line."""
    matrix_data["images"]["a"]["parnet"] = "base"
    path = write_matrix(tmp_path, matrix_data)
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "build", "-i", "a", f"--matrix={path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "DOCKER_HOST": "tcp://127.0.0.1:9"},
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: {path}: image 'a': key 'parnet': unknown key; allowed: "
        "build_folders, default, description, display_name, parent, resources, source, "
        "stacks, tag_packages"
    ]


def test_yaml_round_trip_of_repository_matrix() -> None:
    data = yaml.safe_load((REPO / "build-matrix.yaml").read_text())
    assert set(data) == {"settings", "variants", "images", "workflows"}


def test_duplicate_key_rejected_naming_the_line(tmp_path: Path, matrix_file: Path) -> None:
    text = matrix_file.read_text().replace(
        "    parent: base\n", "    parent: base\n    parent: a\n", 1
    )
    matrix_file.write_text(text)
    line = text.splitlines().index("    parent: a") + 1
    with pytest.raises(
        MatrixError,
        match=rf"line {line}: key 'parent' is given twice \(first "
        rf"at line {line - 1}\); keep one",
    ):
        load_matrix(matrix_file)


def test_not_utf8_rejected(matrix_file: Path) -> None:
    matrix_file.write_bytes(matrix_file.read_bytes() + b"# caf\xe9\n")
    with pytest.raises(MatrixError, match=r"not UTF-8 text \(byte \d+ on line \d+\); save it"):
        load_matrix(matrix_file)


def test_directory_rejected(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="is a directory; pass the matrix file itself"):
        load_matrix(tmp_path)


@pytest.mark.parametrize("args", [["--matrix=."], ["--matrix=README.md"]])
def test_cli_bad_matrix_path_is_one_line(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


@pytest.mark.parametrize(
    ("folders", "words"),
    [
        (["/data/sdc1"], "relative to the matrix file"),
        (["data/../../etc"], "relative to the matrix file"),
        (["./data"], "relative to the matrix file"),
        (["images/b"], "image folders are served as stacks"),
        (["data", "data/sdc1"], "'data/sdc1' is inside 'data'"),
        ("data", "must be a list"),
        (["data/missing"], "data/missing/ is not a folder of this repository"),
    ],
)
def test_build_folders_are_checked(tmp_path: Path, matrix_data: dict, folders, words) -> None:
    (tmp_path / "data" / "sdc1").mkdir(parents=True)
    matrix_data["images"]["c"]["build_folders"] = folders
    with pytest.raises(MatrixError, match=re.escape(words)):
        load_matrix(write_matrix(tmp_path, matrix_data))


def test_build_folders_are_what_with_build_files_may_fetch(tmp_path, matrix_data) -> None:
    (tmp_path / "data" / "sdc1").mkdir(parents=True)
    matrix_data["images"]["c"]["build_folders"] = ["data/sdc1/"]
    matrix = load_matrix(write_matrix(tmp_path, matrix_data))
    assert matrix.build_files("c") == {
        "": tmp_path / "images" / "c",
        "data/sdc1": tmp_path / "data" / "sdc1",
    }
    assert matrix.build_files("a") == {"": tmp_path / "images" / "a"}


def test_an_image_folder_entry_may_not_hide_a_build_folder(tmp_path, matrix_data) -> None:
    (tmp_path / "data" / "sdc1").mkdir(parents=True)
    matrix_data["images"]["c"]["build_folders"] = ["data/sdc1"]
    path = write_matrix(tmp_path, matrix_data)
    (tmp_path / "images" / "c" / "data").mkdir()
    with pytest.raises(MatrixError, match="images/c/data has the name data/sdc1 starts with"):
        load_matrix(path)
