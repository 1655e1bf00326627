"""Images named after the task name become --image options before invoke parses them."""

from __future__ import annotations

import pytest
from invoke import task

from hubimages import cli


@task(iterable=["image"])
def build(c, image=None, force=False, jobs=1):
    """Build."""


@task
def engine(c):
    """Engine."""


@pytest.mark.parametrize(("argv", "expected"), [
    (["build"], ["build"]),
    (["build", "sdc1"], ["build", "--image", "sdc1"]),
    (["build", "sdc1", "ml", "--force"], ["build", "--image", "sdc1", "--image", "ml", "--force"]),
    (["build", "--jobs", "2", "sdc1"], ["build", "--jobs", "2", "--image", "sdc1"]),
    (["build", "-j", "2"], ["build", "-j", "2"]),
    (["engine", "build", "base"], ["engine", "build", "--image", "base"]),
])
def test_expand_positional_images(monkeypatch, argv, expected) -> None:
    from invoke.main import program

    class Core:
        unparsed = list(argv)

    monkeypatch.setattr(program, "core", Core, raising=False)
    cli.expand_positional_images([build, engine])
    assert Core.unparsed == expected


def test_split_names() -> None:
    assert cli.split_names(["a,b", "c"]) == ["a", "b", "c"]
    assert cli.split_names(None) == []
