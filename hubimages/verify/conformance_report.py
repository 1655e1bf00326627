"""What docker-stacks' suite said about our base: passes per test file, and which failures are
known, deliberate divergences (docs/docker-stacks.md lists the same)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from hubimages.errors import HubImagesError

# At least this share of the tests of the files run must pass.
GOAL = 0.95

NBCLASSIC = (
    "DOCKER_STACKS_JUPYTER_CMD=nbclassic: NbClassic is not installed (40 MB: base "
    "would exceed its size goal); Notebook 7 is its successor"
)
# Test id (file::name[params]) -> why it fails on purpose.
KNOWN_DIVERGENCES = {
    "test_container_options::test_custom_internal_port[env4]": NBCLASSIC,
    "test_healthcheck::test_healthy[env4-None-None]": NBCLASSIC,
    (
        "test_start_container::test_start_notebook[env5-jupyter nbclassic-True-expected_warnings5]"
    ): NBCLASSIC,
}


@dataclass(frozen=True)
class FileResult:
    folder: str  # the suite's tests/by_image/<folder>
    name: str  # test_*.py without the suffix
    total: int
    passed: int
    skipped: int
    failed: tuple[str, ...]  # ids of failed or erroring tests


@dataclass(frozen=True)
class ConformanceReport:
    image_id: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(f.total for f in self.files)

    @property
    def passed(self) -> int:
        return sum(f.passed for f in self.files)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def failures(self) -> list[str]:
        return [test for f in self.files for test in f.failed]

    def reason(self, test: str) -> str | None:
        """Why a failed test fails on purpose; None when nobody meant it to."""
        return KNOWN_DIVERGENCES.get(test)

    @property
    def meets_goal(self) -> bool:
        known = all(self.reason(test) for test in self.failures)
        return self.total > 0 and known and self.pass_rate >= GOAL


def file_results(folder: str, junit: Path) -> list[FileResult]:
    """Per test file, from the suite's JUnit report (classname: by_image.<folder>.<file>)."""
    try:
        root = ElementTree.parse(junit).getroot()  # noqa: S314 - the report our run wrote
    except (OSError, ElementTree.ParseError) as error:
        raise HubImagesError(
            f"{junit}: no readable JUnit report ({error}); see {junit.with_suffix('.log')}"
        ) from None
    counts: dict[str, dict[str, int]] = {}
    failed: dict[str, list[str]] = {}
    for case in root.iter("testcase"):
        name = case.get("classname", "").rsplit(".", 1)[-1]
        count = counts.setdefault(name, {"total": 0, "passed": 0, "skipped": 0})
        failed.setdefault(name, [])
        count["total"] += 1
        if case.find("skipped") is not None:
            count["skipped"] += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            failed[name].append(f"{name}::{case.get('name', '')}")
        else:
            count["passed"] += 1
    return [
        FileResult(folder, name, c["total"], c["passed"], c["skipped"], tuple(failed[name]))
        for name, c in counts.items()
    ]
