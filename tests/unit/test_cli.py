"""Images named after the task name become --image options, through invoke's real parser."""

from __future__ import annotations

import pytest
from invoke import Collection, Program, task

from hubimages.cli.argv import expand_images, matrix_images
from hubimages.cli.common import split_names

SEEN: dict[str, object] = {}


@task(iterable=["image", "variant"])
def build(c, image=None, force=False, jobs=1, variant=None):
    """Build."""
    SEEN.update(image=image, force=force, jobs=int(jobs), variant=variant)


@task
def engine(c):
    """Engine."""
    SEEN["engine"] = True


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["build"], ["build"]),
        (["build", "sdc1"], ["build", "--image", "sdc1"]),
        (
            ["build", "sdc1", "ml", "--force"],
            ["build", "--image", "sdc1", "--image", "ml", "--force"],
        ),
        (["build", "--jobs", "2", "sdc1"], ["build", "--jobs", "2", "--image", "sdc1"]),
        (["build", "-j", "2"], ["build", "-j", "2"]),
        (["engine", "build", "base"], ["engine", "build", "--image", "base"]),
    ],
)
def test_expand_positional_images(argv, expected) -> None:
    assert expand_images(argv, [build, engine]) == expected


@task
def rucio(c):
    """A task with an image's name."""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["build", "rucio"], ["build", "--image", "rucio"]),
        (
            ["build", "base", "rucio", "engine"],
            ["build", "--image", "base", "--image", "rucio", "engine"],
        ),
        (["rucio", "build", "sdc1"], ["rucio", "build", "--image", "sdc1"]),
        (["engine", "rucio"], ["engine", "rucio"]),
    ],
)
def test_an_image_named_like_a_task_is_an_image_after_a_task_taking_images(argv, expected) -> None:
    assert expand_images(argv, [build, engine, rucio], {"base", "rucio", "sdc1"}) == expected


def test_matrix_images_reads_the_checkouts_matrix_or_the_one_named(tmp_path) -> None:
    assert {"base", "rucio", "sdc1"} <= matrix_images(["build"])
    assert matrix_images(["build", "--matrix", str(tmp_path / "missing.yaml")]) == set()


@pytest.mark.parametrize(
    ("argv", "images", "jobs", "variants"),
    [
        (["build"], [], 1, []),
        (["build", "sdc1", "ml", "--jobs", "3"], ["sdc1", "ml"], 3, []),
        (["engine", "build", "-j", "2", "base"], ["base"], 2, []),
        (["build", "--variant", "all", "sdc1"], ["sdc1"], 1, ["all"]),
        (
            ["build", "base", "--variant", "trixie", "--variant", "bookworm"],
            ["base"],
            1,
            ["trixie", "bookworm"],
        ),
    ],
)
def test_invokes_own_parser_accepts_the_expanded_arguments(argv, images, jobs, variants) -> None:
    """Guards the pinned invoke: its parser must take what expand_images produces."""
    SEEN.clear()
    program = Program(namespace=Collection(build, engine), name="t", binary="t")
    program.run(["t", *expand_images(argv, [build, engine])], exit=False)
    assert SEEN["image"] == images
    assert SEEN["jobs"] == jobs
    assert SEEN["variant"] == variants


def test_split_names() -> None:
    assert split_names(["a,b", "c"]) == ["a", "b", "c"]
    assert split_names(None) == []
