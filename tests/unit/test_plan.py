"""Build order, descendants, recipes and test selection derived from the lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubimages.errors import MatrixError
from hubimages.model.lineage import ancestors, build_order, descendants, included, recipe
from hubimages.model.load import load_matrix
from hubimages.verify.selection import container_test_dirs, service_dirs, suite_sha256

from .conftest import write_matrix

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def matrix(matrix_file: Path):
    return load_matrix(matrix_file)


def test_ancestors_nearest_first(matrix) -> None:
    assert ancestors(matrix, "c") == ["a", "base"]
    assert ancestors(matrix, "base") == []


def test_build_order_all_parents_first(matrix) -> None:
    order = build_order(matrix)
    assert order == ["base", "a", "b", "c"]


def test_build_order_pulls_in_ancestors_only(matrix) -> None:
    assert build_order(matrix, ["c"]) == ["base", "a", "c"]
    assert build_order(matrix, ["b"]) == ["base", "b"]


def test_build_order_unknown_image(matrix) -> None:
    with pytest.raises(MatrixError, match="image 'zz': unknown image; known images: base, a"):
        build_order(matrix, ["zz"])


def test_descendants_follow_parents_and_stacks(matrix) -> None:
    assert descendants(matrix, "base") == ["a", "b", "c"]
    assert descendants(matrix, "b") == ["c"]  # c includes b as a stack
    assert descendants(matrix, "c") == []


def test_recipe_applies_stacks_then_image(matrix) -> None:
    assert [s.name for s in recipe(matrix, "c")] == ["b", "c"]
    assert [s.name for s in recipe(matrix, "a")] == ["a"]


def test_included_folders_in_lineage_order(matrix) -> None:
    assert included(matrix, "c") == ["base", "a", "b", "c"]


def test_repository_sdc1_runs_every_test_folder() -> None:
    matrix = load_matrix(REPO / "build-matrix.yaml")
    assert included(matrix, "sdc1") == ["base", "pybdsf", "ml", "rucio", "sdc1"]
    assert included(matrix, "ml") == ["base", "ml"]


def test_container_test_dirs_from_lineage(matrix, tmp_path: Path) -> None:
    for name in ("base", "b", "c", "shared"):
        (tmp_path / "tests" / "containers" / name).mkdir(parents=True)
    dirs = [d.name for d in container_test_dirs(matrix, "c")]
    assert dirs == ["base", "b", "c", "shared"]  # a has no tests folder: nothing to run


def test_another_variant_tests_each_image_s_own_folder(matrix_data, tmp_path: Path) -> None:
    matrix_data["variants"]["trixie"] = {"debian": "trixie", "python": "3.13", "glibc": "2.41"}
    matrix = load_matrix(write_matrix(tmp_path, matrix_data)).for_variant("trixie")
    for name in ("base", "a", "b", "c", "shared"):
        (tmp_path / "tests" / "containers" / name).mkdir(parents=True)

    def dirs(image: str) -> list[str]:
        return [d.name for d in container_test_dirs(matrix, image)]

    assert dirs("base") == ["base", "shared"]
    assert dirs("a") == ["a", "shared"]  # base's tests ran on base, in this variant too
    assert dirs("c") == ["c", "shared"]  # its stack b's tests ran on b, in this variant too


def test_the_services_an_image_tests_against_count_in_its_suite(matrix, tmp_path: Path) -> None:
    """A changed server (services/<folder>/) invalidates the test records of the images whose
    tests run against it, and only theirs."""
    (tmp_path / "tests" / "containers" / "b").mkdir(parents=True)
    (tmp_path / "tests" / "containers" / "b" / "test_b.py").write_text("def test(): pass\n")
    (tmp_path / "services" / "b").mkdir(parents=True)
    server = tmp_path / "services" / "b" / "requirements.lock"
    server.write_text("server==1\n")
    assert [d.name for d in service_dirs(matrix, "c")] == ["b"]
    assert service_dirs(matrix, "a") == []
    before = {name: suite_sha256(matrix, name) for name in ("a", "b", "c")}
    server.write_text("server==2\n")
    after = {name: suite_sha256(matrix, name) for name in ("a", "b", "c")}
    assert [name for name in before if before[name] != after[name]] == ["b", "c"]


def test_suite_hash_covers_the_test_services(matrix, tmp_path: Path) -> None:
    """A changed service image recipe (tests/services/) is a changed suite: earlier test
    results no longer count for a push."""
    (tmp_path / "tests" / "containers" / "base").mkdir(parents=True)
    (tmp_path / "tests" / "containers" / "base" / "test_x.py").write_text("pass\n")
    before = suite_sha256(matrix, "c")
    service = tmp_path / "tests" / "services" / "tap"
    service.mkdir(parents=True)
    (service / "Dockerfile").write_text("FROM x\n")
    with_service = suite_sha256(matrix, "c")
    (service / "Dockerfile").write_text("FROM y\n")
    assert len({before, with_service, suite_sha256(matrix, "c")}) == 3
