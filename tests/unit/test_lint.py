"""The repository is clean under ruff, hadolint, shellcheck and actionlint."""

from __future__ import annotations

from pathlib import Path

from hubimages.ci.lint import dockerfiles, linters, shell_scripts

REPO = Path(__file__).resolve().parents[2]


def test_every_image_dockerfile_is_linted() -> None:
    names = {p.parent.name for p in dockerfiles(REPO)}
    assert {"base", "pybdsf", "ml", "rucio", "sdc1"} <= names


def test_ci_and_image_scripts_are_linted() -> None:
    found = {p.relative_to(REPO).as_posix() for p in shell_scripts(REPO)}
    assert ".ci/run" in found and "setup.sh" in found


LINTERS = ["ruff", "ruff format", "mypy", "hadolint", "shellcheck", "actionlint"]


def test_invoke_lint_runs_each_linter_once() -> None:
    """The linters run in `invoke lint` (CI's unit job, and `invoke test` before the unit
    tests), not again as unit tests."""
    assert list(linters(REPO)) == LINTERS
