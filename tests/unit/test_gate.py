"""The test gate: a record passes only with the same image, the same tests and its report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hubimages.core.cache import CacheLayout
from hubimages.core.files import file_sha256
from hubimages.model.project import CHECKOUT, open_project
from hubimages.verify.results import TestRecord, gate_refusal, junit_path, save_record

REPO = CHECKOUT

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


SLOW = """
import pathlib, time


def test_slow():
    pathlib.Path(__file__).with_name("started").touch()
    time.sleep(120)
"""
DRIVER = """
import sys
from pathlib import Path
from hubimages.core.cache import CacheLayout
from hubimages.model.load import load_matrix
from hubimages.verify.runner import run_container_tests
root = Path(sys.argv[1])
matrix = load_matrix(root / "build-matrix.yaml")
run_container_tests(matrix, CacheLayout(root / ".cache"), "base", "sha256:" + "9" * 64, [])
"""


def test_a_run_cut_short_leaves_the_last_record_and_report_matching(tmp_path: Path) -> None:
    """An interrupted release rewrote base.xml, so the record of the run before no longer
    matched its report. Now a Ctrl-C (SIGINT to the whole command) leaves both as they were."""
    (tmp_path / "build-matrix.yaml").write_text(
        "settings: {namespace: t, platform: linux/amd64,\n"
        "  debian: {mirror: http://deb.debian.org/debian}}\n"
        "variants: {bookworm: {default: true, debian: bookworm, python: '3.11', glibc: '2.36'}}\n"
        "images: {base: {source: bootstrap, display_name: B, description: D}}\n"
    )
    (tmp_path / "images" / "base").mkdir(parents=True)
    (tmp_path / "images" / "base" / "Dockerfile").write_text("FROM scratch\n")
    tests = tmp_path / "tests" / "containers" / "base"
    tests.mkdir(parents=True)
    (tests / "test_slow.py").write_text(SLOW)
    (tests.parent / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--image-ref')\n"
    )
    results = CacheLayout(tmp_path / ".cache").test_results
    results.mkdir(parents=True)
    run(results)
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tmp_path)], start_new_session=True, cwd=REPO
    )
    deadline = time.monotonic() + 60
    while not (tests / "started").exists() and driver.poll() is None:
        assert time.monotonic() < deadline, "the test run did not start"
        time.sleep(0.1)
    assert driver.poll() is None, "the test run ended by itself"
    os.killpg(driver.pid, signal.SIGINT)
    driver.wait(timeout=60)
    assert {p.name: p.read_bytes() for p in results.iterdir()} == before  # nothing partial
    assert gate_refusal(results, "base", IMAGE, SUITE) is None


def test_container_test_runs_leave_no_folder_in_tmp(tmp_path: Path) -> None:
    """Every run made a /tmp/hubimages-docker-cli-* folder; a killed run left it there."""
    (tmp_path / "killer.py").write_text(
        "import os, signal\n\n\ndef pytest_collection_finish(session):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    before = set(Path(tempfile.gettempdir()).glob("hubimages-docker-cli-*"))
    subprocess.run(
        [sys.executable, "-m", "pytest", "tests/containers/base", "--collect-only", "-p", "killer"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert set(Path(tempfile.gettempdir()).glob("hubimages-docker-cli-*")) == before
    shim = open_project().cache.docker_cli / "docker"
    assert shim.is_symlink()
