"""What passed its container tests: the gate `invoke push` and `invoke release` check.

A record names the image id, the sha256 of the test suite that ran (every test file the image
selects, with the shared fixtures) and the sha256 and counts of the run's JUnit report. It
passes the gate only when all of them still hold: the same image, the same tests, a complete
report with tests run and none failed. A record is a local file: the gate stops mistakes (a
rebuilt or untested image, changed tests, a run cut short), not someone who forges both files.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from hubimages.core.clock import utc_timestamp
from hubimages.core.files import file_sha256, write_json


@dataclass(frozen=True)
class TestRecord:
    __test__ = False  # not a pytest class

    name: str
    image_id: str
    passed: bool
    seconds: float
    suite_sha256: str = ""
    junit_sha256: str = ""
    tests: int = 0
    failures: int = 0
    finished: str = ""
    variant: str = ""  # the matrix variant of the image (its records live in its folder)


@dataclass(frozen=True)
class JUnitCounts:
    tests: int
    failures: int  # failures and errors


def record_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.json"


def junit_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.xml"


def junit_counts(path: Path) -> JUnitCounts | None:
    """Totals of a pytest JUnit report; None when it is missing or unreadable."""
    try:
        root = ElementTree.parse(path).getroot()  # noqa: S314 - our own pytest's report
    except (OSError, ElementTree.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    return JUnitCounts(tests, bad)


def save_record(folder: Path, record: TestRecord) -> None:
    data = asdict(record)
    data["seconds"] = round(record.seconds, 1)
    data["finished"] = record.finished or utc_timestamp()
    write_json(record_path(folder, record.name), data)


def load_record(folder: Path, name: str) -> TestRecord | None:
    path = record_path(folder, name)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return TestRecord(**{k: v for k, v in data.items() if k in TestRecord.__annotations__})
    except (ValueError, TypeError):
        return None


def gate_refusal(folder: Path, name: str, image_id: str, suite_sha256: str) -> str | None:
    """Why the image may not be pushed, or None when its tests passed as recorded."""
    record = load_record(folder, name)
    if record is None or not record.passed or record.image_id != image_id:
        return "has not passed its tests at this image id"
    if record.suite_sha256 != suite_sha256:
        return "passed tests that have changed since (tests/containers)"
    junit = junit_path(folder, name)
    counts = junit_counts(junit)
    if counts is None or file_sha256(junit) != record.junit_sha256:
        return "has a test record without its JUnit report"
    if (
        counts.tests == 0
        or counts.failures
        or (counts.tests, counts.failures) != (record.tests, record.failures)
    ):
        return "has a test record that its JUnit report does not bear out"
    return None
