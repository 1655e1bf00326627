"""Workflows of build-matrix.yaml without an engine: the declaration, its repository (a folder
or a real git repository over file://), and `invoke check` naming a bad one in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubimages.core.cache import CacheLayout
from hubimages.model.load import load_matrix
from hubimages.model.workflows import WorkflowError
from hubimages.verify.workflow_source import export, prepare_source, prepare_sources

from .conftest import write_matrix

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


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


def workflow(**overrides: object) -> dict:
    return {
        "display_name": "Quick look",
        "description": "d",
        "repository": "flows/quick",
        "notebooks": ["look.ipynb"],
        "environment": "a",
        "data": [{"files": "data/x", "at": "/data/x"}],
        **overrides,
    }


def project(tmp_path: Path, matrix_data: dict, **overrides: object) -> Path:
    (tmp_path / "flows" / "quick").mkdir(parents=True)
    (tmp_path / "flows" / "quick" / "look.ipynb").write_text(json.dumps(NOTEBOOK))
    (tmp_path / "data" / "x").mkdir(parents=True)
    (tmp_path / "data" / "x" / "f.txt").write_text("x")
    matrix_data["workflows"] = {"quick": workflow(**overrides)}
    return write_matrix(tmp_path, matrix_data)


# -- the declaration ---------------------------------------------------------------------------


def test_a_workflow_is_parsed_with_its_data(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["workflows"] = {
        "quick": workflow(data=[{"files": "data/x", "at": "/data/x"}, {"did": "sdc1:cat.txt"}])
    }
    spec = load_matrix(write_matrix(tmp_path, matrix_data)).workflows["quick"]
    assert spec.variant == "bookworm"  # none declared: the matrix's default variant
    assert spec.environment_id == "a:bookworm"
    assert spec.notebooks == ("look.ipynb",)
    assert [f.at for f in spec.folders] == ["/data/x"] and spec.dids == ("sdc1:cat.txt",)
    assert spec.timeout == 600


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        ({"environment": "nope"}, "environment", "unknown environment 'nope'; known: base, a"),
        ({"notebooks": []}, "notebooks", "must be a list of notebook paths"),
        ({"notebooks": ["../x.ipynb"]}, "notebooks", "must be a relative path inside it"),
        ({"notebooks": ["look.py"]}, "notebooks", "is not a .ipynb notebook"),
        ({"ref": "v1"}, "ref", "a folder of this checkout has no ref"),
        ({"variant": "trixie"}, "variant", "unknown variant 'trixie'; known: bookworm"),
        ({"data": [{"did": "no scope"}]}, "data.did", "is not a Rucio DID"),
        ({"data": [{"files": "data/x", "at": "/x"}]}, "data.at", "absolute folder"),
        ({"timeout": 0}, "timeout", "must be seconds"),
        ({"colour": "red"}, "colour", "unknown key; allowed: data, description"),
        ({"display_name": ""}, "display_name", "must be a non-empty string"),
    ],
)
def test_a_bad_declaration_is_one_line_naming_workflow_and_key(
    tmp_path: Path, matrix_data: dict, overrides: dict, key: str, message: str
) -> None:
    matrix_data["workflows"] = {"quick": workflow(**overrides)}
    with pytest.raises(WorkflowError) as raised:
        load_matrix(write_matrix(tmp_path, matrix_data))
    text = str(raised.value)
    assert "\n" not in text
    assert f"workflow 'quick': key '{key}': " in text and message in text


@pytest.fixture
def two_variants(matrix_data: dict) -> dict:
    """A second variant, `old`, which does not build c."""
    matrix_data["variants"]["old"] = {
        "debian": "oldstable",
        "python": "3.9",
        "glibc": "2.31",
        "exclude": {"c": "not for Python 3.9"},
    }
    return matrix_data


def test_a_workflow_runs_in_one_variant(tmp_path: Path, two_variants: dict) -> None:
    two_variants["workflows"] = {
        "new": workflow(),
        "old": workflow(variant="old"),
        "c-new": workflow(environment="c"),
    }
    matrix = load_matrix(write_matrix(tmp_path, two_variants))
    assert {n: w.environment_id for n, w in matrix.workflows.items()} == {
        "new": "a:bookworm",
        "old": "a:old",
        "c-new": "c:bookworm",
    }
    # Every view knows every workflow; each variant runs its own.
    assert list(matrix.variant_workflows) == ["new", "c-new"]
    old = matrix.for_variant("old")
    assert list(old.workflows) == ["new", "old", "c-new"]
    assert list(old.variant_workflows) == ["old"]


@pytest.mark.parametrize(
    ("declared", "key"),
    [({"variant": "old"}, "variant"), ({}, "environment")],
)
def test_a_variant_that_does_not_build_the_environment_is_refused(
    tmp_path: Path, two_variants: dict, declared: dict, key: str
) -> None:
    if not declared:  # the default variant excludes c: a workflow without a variant is refused
        two_variants["variants"]["bookworm"]["default"] = False
        two_variants["variants"]["old"]["default"] = True
    two_variants["workflows"] = {"quick": workflow(environment="c", **declared)}
    with pytest.raises(WorkflowError) as raised:
        load_matrix(write_matrix(tmp_path, two_variants))
    text = str(raised.value)
    assert f"workflow 'quick': key '{key}': variant old does not build c" in text
    assert "(not for Python 3.9); give a variant that does" in text


def test_two_folders_at_one_mount_point_are_refused(tmp_path: Path, matrix_data: dict) -> None:
    matrix_data["workflows"] = {
        "one": workflow(),
        "two": workflow(data=[{"files": "data/y", "at": "/data/x"}]),
    }
    with pytest.raises(WorkflowError, match=r"'two': key 'data\.at': /data/x holds data/x"):
        load_matrix(write_matrix(tmp_path, matrix_data))


# -- the repository: a folder of the checkout ----------------------------------------------------


def test_a_folder_becomes_a_commit_that_fast_forwards(tmp_path: Path, matrix_data: dict) -> None:
    matrix = load_matrix(project(tmp_path, matrix_data))
    cache = CacheLayout(tmp_path / ".cache")
    first = prepare_source(matrix, cache, matrix.workflows["quick"])
    assert prepare_source(matrix, cache, matrix.workflows["quick"]).commit == first.commit
    (tmp_path / "flows" / "quick" / "notes.md").write_text("more\n")
    second = prepare_source(matrix, cache, matrix.workflows["quick"])
    assert second.commit != first.commit and second.tree != first.tree
    assert git(second.served, "rev-parse", f"{second.commit}^") == first.commit
    out = tmp_path / "out"
    out.mkdir()
    export(second, out)
    assert sorted(p.name for p in out.iterdir()) == ["look.ipynb", "notes.md"]


def test_a_missing_notebook_is_named_before_any_build(tmp_path: Path, matrix_data: dict) -> None:
    matrix = load_matrix(project(tmp_path, matrix_data, notebooks=["look.ipynb", "gone.ipynb"]))
    with pytest.raises(
        WorkflowError, match=r"workflow 'quick': key 'notebooks': gone.ipynb is not in flows/quick"
    ):
        prepare_sources(matrix, CacheLayout(tmp_path / ".cache"))


def test_a_missing_folder_is_named(tmp_path: Path, matrix_data: dict) -> None:
    matrix = load_matrix(project(tmp_path, matrix_data, repository="flows/other"))
    with pytest.raises(WorkflowError, match="key 'repository': no folder flows/other"):
        prepare_sources(matrix, CacheLayout(tmp_path / ".cache"))


# -- the repository: a git URL -----------------------------------------------------------------


def upstream(tmp_path: Path) -> Path:
    root = tmp_path / "upstream"
    (root / "nb").mkdir(parents=True)
    (root / "nb" / "look.ipynb").write_text(json.dumps(NOTEBOOK))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    git(root, "tag", "v1")
    return root


def test_a_url_and_its_ref_are_served_at_that_commit(tmp_path: Path, matrix_data: dict) -> None:
    root = upstream(tmp_path)
    url = f"file://{root}"
    matrix = load_matrix(
        project(tmp_path, matrix_data, repository=url, ref="v1", notebooks=["nb/look.ipynb"])
    )
    source = prepare_sources(matrix, CacheLayout(tmp_path / ".cache"))["quick"]
    assert source.commit == git(root, "rev-parse", "v1")
    assert git(source.served, "rev-parse", "refs/heads/main") == source.commit


@pytest.mark.parametrize(
    ("repository", "ref", "key", "message"),
    [
        ("file://{root}", "v9", "ref", "has no branch, tag or commit 'v9'"),
        ("file://{root}-gone", "", "repository", "cannot be fetched"),
    ],
)
def test_an_unreachable_url_or_ref_is_named(
    tmp_path: Path, matrix_data: dict, repository: str, ref: str, key: str, message: str
) -> None:
    root = upstream(tmp_path)
    extra = {"ref": ref} if ref else {}
    matrix = load_matrix(
        project(
            tmp_path,
            matrix_data,
            repository=repository.format(root=root),
            notebooks=["nb/look.ipynb"],
            **extra,
        )
    )
    with pytest.raises(WorkflowError) as raised:
        prepare_sources(matrix, CacheLayout(tmp_path / ".cache"))
    assert f"workflow 'quick': key '{key}': " in str(raised.value)
    assert message in str(raised.value)


def test_invoke_check_names_the_workflow_and_key(tmp_path: Path, matrix_data: dict) -> None:
    path = project(tmp_path, matrix_data, notebooks=["missing.ipynb"])
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "check", "--matrix", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "workflow 'quick': key 'notebooks': missing.ipynb is not in flows/quick" in lines[0]


def test_the_repository_matrix_declares_its_workflows() -> None:
    matrix = load_matrix(REPO / "build-matrix.yaml")
    assert {"sdc1-example", "pybdsf-quicklook"} <= set(matrix.workflows)
    default = matrix.default_variant.name
    assert {"sdc1-example", "pybdsf-quicklook"} <= set(
        matrix.for_variant(default).variant_workflows
    )
    owned = {spec.folder for spec in matrix.images.values()}
    quicklook = REPO / matrix.workflows["pybdsf-quicklook"].repository
    assert not any(quicklook.is_relative_to(folder) for folder in owned)
