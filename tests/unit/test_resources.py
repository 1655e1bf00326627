"""The `resources:` of an image in build-matrix.yaml: parsed, checked, one line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubimages.errors import MatrixError
from hubimages.model.load import load_matrix
from hubimages.model.project import CHECKOUT, MATRIX_FILE
from hubimages.model.resources import Resources, memory_text, parse_resources

PATH = Path("build-matrix.yaml")
GOOD = {
    "cpu_guarantee": 0.25,
    "cpu_limit": 1,
    "mem_guarantee": "512M",
    "mem_limit": "1.5G",
    "pids_limit": 64,
}


def test_sizes_and_numbers_are_read() -> None:
    assert parse_resources(PATH, "x", GOOD) == Resources(0.25, 1.0, 512 << 20, 3 << 29, 64)
    assert parse_resources(PATH, "x", None) is None
    assert memory_text(4 << 30) == "4G" and memory_text(1536 << 20) == "1536M"


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        ({"mem_limit": "4GB"}, "resources.mem_limit", "is not a size like"),
        ({"cpu_limit": -1}, "resources.cpu_limit", "must be a positive number"),
        ({"cpu_limit": True}, "resources.cpu_limit", "must be a positive number"),
        ({"pids_limit": 1.5}, "resources.pids_limit", "must be a whole number"),
        ({"cpu_guarantee": 2}, "resources.cpu_guarantee", "is above cpu_limit"),
        ({"mem_guarantee": "2G"}, "resources.mem_guarantee", "is above mem_limit"),
        ({"gpus": 1}, "resources.gpus", "unknown key"),
    ],
)
def test_mistakes_name_the_image_and_key(change: dict, key: str, problem: str) -> None:
    with pytest.raises(MatrixError) as raised:
        parse_resources(PATH, "ml", {**GOOD, **change})
    assert f"image 'ml': key '{key}'" in str(raised.value) and problem in str(raised.value)


def test_a_missing_key_is_named() -> None:
    with pytest.raises(MatrixError, match=r"key 'resources\.pids_limit': missing"):
        parse_resources(PATH, "ml", {k: v for k, v in GOOD.items() if k != "pids_limit"})


def test_every_image_of_the_matrix_declares_them() -> None:
    """User servers of every image are limited (a hub without limits was the finding)."""
    matrix = load_matrix(CHECKOUT / MATRIX_FILE)
    assert all(spec.resources is not None for spec in matrix.images.values())
