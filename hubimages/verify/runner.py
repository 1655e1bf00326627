"""Run pytest on the tests an image selects, against a real container of that image."""

from __future__ import annotations

import logging
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


def pytest(root: Path, args: list[str]) -> bool:
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=root) == 0


def run_container_tests(
    matrix: Matrix, cache: CacheLayout, name: str, image_id: str, extra: list[str]
) -> TestRecord:
    dirs = [str(d.relative_to(matrix.root)) for d in container_test_dirs(matrix, name)]
    log.info("[%s %s] container tests: %s", name, matrix.variant.name, " ".join(dirs))
    junit = junit_path(cache.test_results, name)
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    suite = suite_sha256(matrix, name)
    started = time.monotonic()
    passed = pytest(
        matrix.root, [*dirs, f"--image-ref={matrix.local_ref(name)}", f"--junitxml={junit}", *extra]
    )
    counts = junit_counts(junit) or JUnitCounts(0, 0)
    record = TestRecord(
        name,
        image_id,
        passed and counts.tests > 0 and not counts.failures,
        time.monotonic() - started,
        suite,
        file_sha256(junit) if junit.is_file() else "",
        counts.tests,
        counts.failures,
        variant=matrix.variant.name,
    )
    save_record(cache.test_results, record)
    return record
