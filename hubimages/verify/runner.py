"""Run pytest on the tests an image selects, against a real container of that image."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from hubimages.core.cache import CacheLayout
from hubimages.core.files import file_sha256
from hubimages.model.spec import Matrix
from hubimages.verify.results import JUnitCounts, TestRecord, junit_counts, junit_path, save_record
from hubimages.verify.selection import container_test_dirs, suite_sha256

log = logging.getLogger(__name__)


def pytest(root: Path, args: list[str], output: Path | None = None) -> bool:
    """pytest in a process of its own; what it prints goes to `output` when given (sessions
    side by side), else to ours."""
    command = [sys.executable, "-m", "pytest", *args]
    if output is None:
        return subprocess.call(command, cwd=root) == 0
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as sink:
        return subprocess.call(command, cwd=root, stdout=sink, stderr=subprocess.STDOUT) == 0


def run_container_tests(
    matrix: Matrix,
    cache: CacheLayout,
    name: str,
    image_id: str,
    extra: list[str],
    output: Path | None = None,
) -> TestRecord:
    dirs = [str(d.relative_to(matrix.root)) for d in container_test_dirs(matrix, name)]
    log.info("[%s %s] container tests: %s", name, matrix.variant.name, " ".join(dirs))
    junit = junit_path(cache.test_results, name)
    junit.parent.mkdir(parents=True, exist_ok=True)
    # The report is written aside and moved in place with its record only when the run ends:
    # a run cut short leaves the last record and its report as they were, still matching.
    partial = junit.with_name(f".{junit.name}.{os.getpid()}.partial")
    suite = suite_sha256(matrix, name)
    started = time.monotonic()
    try:
        passed = pytest(
            matrix.root,
            [*dirs, f"--image-ref={matrix.local_ref(name)}", f"--junitxml={partial}", *extra],
            output,
        )
        counts = junit_counts(partial) or JUnitCounts(0, 0)
        record = TestRecord(
            name,
            image_id,
            passed and counts.tests > 0 and not counts.failures,
            time.monotonic() - started,
            suite,
            file_sha256(partial) if partial.is_file() else "",
            counts.tests,
            counts.failures,
            variant=matrix.variant.name,
        )
        if partial.is_file():
            os.replace(partial, junit)
        else:
            junit.unlink(missing_ok=True)
        save_record(cache.test_results, record)
    finally:
        partial.unlink(missing_ok=True)
    return record
