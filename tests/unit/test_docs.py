"""The documentation: the README stays short and its commands run as written (through invoke's
real parser), every link resolves, every matrix key is documented, and a measured figure is
written in docs/benchmarks.md only."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from invoke.collection import Collection
from invoke.exceptions import ParseError
from invoke.program import Program

from hubimages.model.environments import ENVIRONMENT_KEYS
from hubimages.model.parse import IMAGE_KEYS
from hubimages.model.settings import DEBIAN_KEYS, SETTINGS_KEYS
from hubimages.model.workflows import WORKFLOW_KEYS
from tests.unit.test_cli import fresh_tasks

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BENCHMARKS = REPO / "docs" / "benchmarks.md"
DOCS = sorted(
    {
        README,
        *REPO.glob("docs/*.md"),
        *REPO.glob("images/**/README.md"),
        *REPO.glob("*/*/README.md"),
    }
)
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def commands(text: str) -> list[list[str]]:
    """Each `invoke ...` of the text's code blocks and code spans, split as a shell would."""
    found = []
    spans = [" ".join(s.split()) for s in re.findall(r"`((?:\S*/)?invoke [^`]+)`", text)]
    for block in [*re.findall(r"^(?: {4}.*\n?)+", text, re.MULTILINE), *spans]:
        for line in block.splitlines():
            for part in re.split(r"&&|;", line.split(" # ")[0]):
                if not re.match(r"\s*(\$\s+)?(sudo\s+)?(\S*/)?invoke\s", part):
                    continue  # a diagram, an output, another tool
                synopsis = part
                while re.search(r"\[[^][]*\]", synopsis):  # [--name NAME]: optional
                    synopsis = re.sub(r"\[[^][]*\]", "", synopsis)
                words = shlex.split(synopsis.replace("…", "x"))
                while words and words[0] != "invoke" and not words[0].endswith("/invoke"):
                    words = words[1:]
                if words:
                    found.append(words[1:])
    return found


def test_the_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 200
    assert len(README.read_text().split()) <= 1500


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_of_the_docs_parses(doc: Path) -> None:
    """Tasks and options exist, values are where they go: what a reader types works."""
    names = set(Collection.from_module(fresh_tasks()).task_names)
    for words in commands(doc.read_text()):
        if not words or (words[0].startswith("-") and words[0] in ("--list", "--help")):
            continue
        runner = Program(namespace=Collection.from_module(fresh_tasks()), binary="invoke")
        runner.create_config()
        try:
            runner.parse_core(["invoke", *words])
            runner.parse_collection()
            runner.parse_tasks()
        except ParseError as error:
            pytest.fail(f"{doc.name}: invoke {' '.join(words)}: {error}")
        assert {c.name for c in runner.tasks} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(doc: Path) -> None:
    for target, _ in LINK.findall(doc.read_text()):
        if "://" in target:
            continue
        assert (doc.parent / target).exists(), f"{doc.relative_to(REPO)}: {target}"


def test_every_matrix_key_is_documented() -> None:
    text = (REPO / "docs" / "matrix.md").read_text()
    keys = {*SETTINGS_KEYS, *(f"debian.{k}" for k in DEBIAN_KEYS), *IMAGE_KEYS, *ENVIRONMENT_KEYS}
    keys |= WORKFLOW_KEYS
    keys.discard("debian")
    missing = [key for key in sorted(keys) if f"| `{key}` |" not in text]
    assert missing == []


def test_image_sizes_are_written_in_the_benchmarks_only() -> None:
    """A figure `invoke bench` measures (the sizes of the images above all: they were written
    by hand in three places and disagreed) appears nowhere else."""
    if not BENCHMARKS.is_file():
        pytest.fail("docs/benchmarks.md is missing: run invoke bench")
    sizes = set(re.findall(r"\| (\d[\d ]{2,}) MB \|", BENCHMARKS.read_text()))
    assert sizes, "no image size in docs/benchmarks.md"
    for doc in DOCS:
        if doc == BENCHMARKS:
            continue
        text = doc.read_text().replace("\u202f", " ")
        repeated = [s for s in sizes if re.search(rf"\b{s}\s?MB", text)]
        assert repeated == [], f"{doc.relative_to(REPO)} repeats {repeated}: link benchmarks.md"
