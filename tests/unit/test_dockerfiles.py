"""Every image Dockerfile follows the contract written once, in images/README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubimages.model.load import load_matrix

REPO = Path(__file__).resolve().parents[2]
CONTRACT_BLOCK = re.compile(r"```dockerfile\n(.*?)```", re.DOTALL)


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: continuation lines joined, comments dropped."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in logical.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def contract() -> list[tuple[str, str]]:
    match = CONTRACT_BLOCK.search((REPO / "images" / "README.md").read_text())
    assert match, "images/README.md has no ```dockerfile contract block"
    return instructions(match.group(1))


def follows(dockerfile: list[tuple[str, str]], required: list[tuple[str, str]]) -> str | None:
    """None when the required instructions appear in order; else the first one missing."""
    position = 0
    for keyword, words in required:
        while position < len(dockerfile) and not (
            dockerfile[position][0] == keyword and words in dockerfile[position][1]
        ):
            position += 1
        if position == len(dockerfile):
            return f"{keyword} {words}"
        position += 1
    return None


MATRIX = load_matrix(REPO / "build-matrix.yaml")
IMAGES = sorted(MATRIX.images)


@pytest.mark.parametrize("name", IMAGES)
def test_dockerfile_follows_the_contract(name: str) -> None:
    dockerfile = instructions((REPO / "images" / name / "Dockerfile").read_text())
    assert follows(dockerfile, contract()) is None, follows(dockerfile, contract())
    users = [words for keyword, words in dockerfile if keyword == "USER"]
    assert users[-1] == "1000", f"images/{name}: the last USER must be 1000, not {users[-1]}"
    assert [k for k, _ in dockerfile].count("FROM") == 1
    for keyword, words in dockerfile:
        if keyword == "RUN" and "pip install" in words:
            assert "--no-index" in words, f"images/{name}: pip install from an index: {words}"
            # The venv stays writable by group users: fixed in the layer that adds the files.
            assert "fix-permissions" in words.split("pip install", 1)[1], (
                f"images/{name}: pip install without fix-permissions after it: {words}"
            )
        if keyword == "RUN":
            assert not re.search(r"\bch(mod|grp|own) -R\b[^&;]*/opt/(venv|conda)", words), (
                f"images/{name}: a recursive change of the venv copies it into a new layer; "
                f"use fix-permissions in the install step: {words}"
            )


def test_the_check_catches_a_broken_dockerfile() -> None:
    broken = instructions(
        "ARG PARENT_IMAGE\nFROM ${PARENT_IMAGE}\nUSER root\n"
        "RUN install-locked-requirements\nUSER ${NB_UID}\n"
    )
    assert follows(broken, contract()) == "ARG WHEELHOUSE_URL"


def copy_sources(dockerfile: list[tuple[str, str]]) -> set[str]:
    sources = set()
    for keyword, words in dockerfile:
        if keyword == "COPY":
            parts = [w for w in words.split() if not w.startswith("--")]
            sources.update(parts[:-1])
    return sources


@pytest.mark.parametrize("name", IMAGES)
def test_build_context_holds_exactly_what_is_copied(name: str) -> None:
    """The .dockerignore lets through only COPY sources: build-only files are fetched with
    with-build-files and used in the same step, so no layer keeps them."""
    folder = REPO / "images" / name
    rules = [
        line.strip()
        for line in (folder / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", f"images/{name}/.dockerignore must start by excluding everything"
    allowed = {rule[1:] for rule in rules[1:] if rule.startswith("!")}
    dockerfile = instructions((folder / "Dockerfile").read_text())
    assert allowed == copy_sources(dockerfile)
    for source in allowed:
        assert (folder / source).exists(), f"images/{name}: COPY {source} does not exist"


def start_path(dockerfile: list[tuple[str, str]]) -> set[str]:
    """The names of the programs a root image copies to /usr/local/bin/ (start.sh, hooks' runner,
    log helpers, health check)."""
    names = set()
    for keyword, words in dockerfile:
        parts = [w for w in words.split() if not w.startswith("--")]
        if keyword == "COPY" and parts[-1] == "/usr/local/bin/":
            names.update(parts[:-1])
    return names


ROOTS = [name for name in IMAGES if MATRIX.image(name).bootstrapped]
START_PATH = {
    program
    for root in ROOTS
    for program in start_path(instructions((REPO / "images" / root / "Dockerfile").read_text()))
}


def test_the_start_path_is_read_from_the_root_dockerfile() -> None:
    assert {"start.sh", "run-hooks.sh", "docker-healthcheck"} <= START_PATH


@pytest.mark.parametrize("name", [name for name in IMAGES if name not in ROOTS])
def test_descendants_leave_the_start_path_as_their_root_made_it(name: str) -> None:
    """The container tests marked owner_only run on the root image only: a descendant may add
    hooks, never redefine how a container starts or reports its health."""
    dockerfile = instructions((REPO / "images" / name / "Dockerfile").read_text())
    for keyword, words in dockerfile:
        assert keyword not in {"ENTRYPOINT", "CMD", "HEALTHCHECK"}, (
            f"images/{name}/Dockerfile: {keyword} belongs to the root image"
        )
        for program in START_PATH:
            assert not re.search(rf"/usr/local/bin/{re.escape(program)}\b", words), (
                f"images/{name}/Dockerfile: `{keyword} {words[:60]}` changes {program}"
            )
