"""The test gate: a record passes only with the same image, the same tests and its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubimages.core.files import file_sha256
from hubimages.verify.results import TestRecord, gate_refusal, junit_path, save_record

IMAGE = "sha256:" + "1" * 64
SUITE = "2" * 64
REPORT = (
    '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="{tests}" '
    'failures="{failures}" errors="0" skipped="0"/></testsuites>'
)


def run(folder: Path, tests: int = 12, failures: int = 0) -> None:
    """What `invoke test` leaves: the JUnit report, then the record bound to it."""
    junit = junit_path(folder, "base")
    junit.write_text(REPORT.format(tests=tests, failures=failures))
    save_record(
        folder,
        TestRecord("base", IMAGE, failures == 0, 1.0, SUITE, file_sha256(junit), tests, failures),
    )


def test_a_real_run_passes(tmp_path: Path) -> None:
    run(tmp_path)
    assert gate_refusal(tmp_path, "base", IMAGE, SUITE) is None


def refusal(*args: Any) -> str:
    """The gate's refusal, which these tests expect to be there."""
    found = gate_refusal(*args)
    assert found is not None
    return found


def test_no_run_another_image_or_changed_tests_are_refused(tmp_path: Path) -> None:
    assert "has not passed" in refusal(tmp_path, "base", IMAGE, SUITE)
    run(tmp_path)
    assert "has not passed" in refusal(tmp_path, "base", "sha256:" + "3" * 64, SUITE)
    assert "tests that have changed" in refusal(tmp_path, "base", IMAGE, "4" * 64)


def test_a_record_written_by_hand_is_refused(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps({"image_id": IMAGE, "passed": True}))
    assert gate_refusal(tmp_path, "base", IMAGE, SUITE) is not None
    (tmp_path / "base.json").write_text(
        json.dumps(
            {
                "name": "base",
                "image_id": IMAGE,
                "passed": True,
                "seconds": 1,
                "suite_sha256": SUITE,
                "junit_sha256": "5" * 64,
                "tests": 3,
            }
        )
    )
    assert "without its JUnit report" in refusal(tmp_path, "base", IMAGE, SUITE)


def test_a_report_with_failures_or_no_tests_is_refused(tmp_path: Path) -> None:
    run(tmp_path, failures=1)
    assert gate_refusal(tmp_path, "base", IMAGE, SUITE) is not None
    run(tmp_path, tests=0)
    assert "does not bear out" in refusal(tmp_path, "base", IMAGE, SUITE)
    run(tmp_path)
    junit_path(tmp_path, "base").write_text(REPORT.format(tests=12, failures=0) + " ")
    assert "without its JUnit report" in refusal(tmp_path, "base", IMAGE, SUITE)
