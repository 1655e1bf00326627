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
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines()
                                             if not line.lstrip().startswith("#")))
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
                dockerfile[position][0] == keyword and words in dockerfile[position][1]):
            position += 1
        if position == len(dockerfile):
            return f"{keyword} {words}"
        position += 1
    return None


IMAGES = sorted(load_matrix(REPO / "build-matrix.yaml").images)


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


def test_the_check_catches_a_broken_dockerfile() -> None:
    broken = instructions("ARG PARENT_IMAGE\nFROM ${PARENT_IMAGE}\nUSER root\n"
                          "RUN install-locked-requirements\nUSER ${NB_UID}\n")
    assert follows(broken, contract()) == "ARG WHEELHOUSE_URL"
