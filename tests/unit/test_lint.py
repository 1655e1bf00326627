"""The repository is clean under ruff, hadolint, shellcheck and actionlint."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hubimages.ci.lint import dockerfiles, linters, shell_scripts

REPO = Path(__file__).resolve().parents[2]


def test_every_image_dockerfile_is_linted() -> None:
    names = {p.parent.name for p in dockerfiles(REPO)}
    assert {"base", "pybdsf", "ml", "rucio", "sdc1"} <= names


def test_ci_and_image_scripts_are_linted() -> None:
    found = {p.relative_to(REPO).as_posix() for p in shell_scripts(REPO)}
    assert ".ci/run" in found and "setup.sh" in found


LINTERS = ["ruff", "ruff format", "mypy", "hadolint", "shellcheck", "actionlint"]


@pytest.mark.parametrize("name", LINTERS)
def test_linter_clean(name: str) -> None:
    cmd = linters(REPO)[name]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
