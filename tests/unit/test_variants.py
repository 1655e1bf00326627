"""The variants axis: the matrix as each variant sees it, --variant, and what reaches a build."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubimages.builder.inputs import input_hash
from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError, MatrixError
from hubimages.model.load import load_matrix
from hubimages.model.project import CHECKOUT, MATRIX_FILE, Project, open_project
from hubimages.model.spec import Matrix

from .conftest import write_matrix


@pytest.fixture
def matrix(matrix_data: dict, tmp_path: Path) -> Matrix:
    """bookworm (the default) and trixie, which does not build c."""
    matrix_data["variants"]["trixie"] = {
        "debian": "trixie",
        "python": "3.13",
        "glibc": "2.41",
        "exclude": {"c": "a wheel of c's is not built for Python 3.13 yet"},
    }
    matrix_data["images"]["base"]["source"] = {"from": "quay.io/org/base:python-{python}"}
    return load_matrix(write_matrix(tmp_path, matrix_data))


def test_the_default_variant_is_what_a_matrix_loads_as(matrix: Matrix) -> None:
    assert matrix.variant.name == "bookworm" and matrix.variant.default
    assert (matrix.settings.python, matrix.settings.glibc) == ("3.11", "2.36")
    assert matrix.settings.debian.suite == "bookworm"
    assert matrix.local_ref("a") == "test/a:latest"
    assert list(matrix.images) == ["base", "a", "b", "c"]


def test_another_variant_sees_its_suite_python_tags_and_images(matrix: Matrix) -> None:
    trixie = matrix.for_variant("trixie")
    assert (trixie.settings.python, trixie.settings.glibc) == ("3.13", "2.41")
    assert trixie.settings.debian.sources()[0] == "deb http://deb.debian.org/debian trixie main"
    assert trixie.local_ref("a") == "test/a:python-3.13"
    assert trixie.local_ref("a", "2026-11-24-1a2b3c4") == "test/a:python-3.13-2026-11-24-1a2b3c4"
    assert list(trixie.images) == ["base", "a", "b"]  # c excluded
    assert trixie.images["base"].source_from == "quay.io/org/base:python-3.13"
    assert matrix.images["base"].source_from == "quay.io/org/base:python-3.11"
    with pytest.raises(MatrixError, match="image 'c': not built in variant trixie: a wheel"):
        trixie.image("c")
    assert trixie.for_variant("bookworm") == matrix  # and back, nothing lost


def test_variant_choice_on_the_command_line(matrix: Matrix, tmp_path: Path) -> None:
    project = Project(matrix, CacheLayout(tmp_path / ".cache"))
    assert [p.variant.name for p in project.variants([])] == ["bookworm"]  # the default
    assert [p.variant.name for p in project.variants(["all"])] == ["bookworm", "trixie"]
    assert [p.variant.name for p in project.variants(["trixie"])] == ["trixie"]
    chosen = project.variants(["trixie", "bookworm"])
    assert [p.variant.name for p in chosen] == ["bookworm", "trixie"]  # matrix order
    # Each variant keeps its own records: test results, build times, benchmarks.
    assert chosen[1].cache.test_results == tmp_path / ".cache/variants/trixie/test-results"
    assert chosen[0].cache.test_results != chosen[1].cache.test_results
    with pytest.raises(HubImagesError) as error:
        project.variants(["sid"])
    assert str(error.value) == (
        "--variant sid: build-matrix.yaml has no such variant; known: bookworm, trixie (or all)"
    )


def test_the_repository_default_is_the_newest_debian() -> None:
    project = open_project()
    assert project.matrix.path == CHECKOUT / MATRIX_FILE
    assert project.variant.default
    assert project.variant == max(project.matrix.variants.values(), key=lambda v: v.python)


def test_another_variant_s_lock_does_not_reach_an_image(matrix: Matrix) -> None:
    folder = matrix.images["a"].folder
    trixie = matrix.for_variant("trixie")
    before = (input_hash(matrix, "a", "p"), input_hash(trixie, "a", "p"))
    assert before[0] != before[1]  # the variant reaches the image (its labels, its Python)
    (folder / "requirements.trixie.lock").write_text("# changed\n")
    assert input_hash(matrix, "a", "p") == before[0]
    assert input_hash(trixie, "a", "p") != before[1]
    (folder / "requirements.bookworm.lock").write_text("# changed\n")
    assert input_hash(matrix, "a", "p") != before[0]
