"""Select and run an image's tests: its ancestors', its stacks', its own and the shared ones."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hubimages.builder import cache_dir, image_ref
from hubimages.matrix import Matrix
from hubimages.plan import included

log = logging.getLogger(__name__)

SHARED = "shared"
ENGINE_TEST_DIRS = ("tests/engine", "tests/publish")


def container_test_dirs(matrix: Matrix, name: str) -> list[Path]:
    """tests/containers/<member>/ for each folder the image includes, then the shared checks."""
    root = matrix.root / "tests" / "containers"
    dirs = [root / member for member in included(matrix, name)]
    return [d for d in [*dirs, root / SHARED] if d.is_dir()]


@dataclass(frozen=True)
class TestRun:
    name: str
    image_id: str
    passed: bool
    seconds: float


def results_path(matrix: Matrix, name: str) -> Path:
    return cache_dir(matrix) / "test-results" / f"{name}.json"


def run_container_tests(matrix: Matrix, name: str, image_id: str,
                        extra: list[str]) -> TestRun:
    dirs = container_test_dirs(matrix, name)
    rel = [str(d.relative_to(matrix.root)) for d in dirs]
    log.info("[%s] container tests: %s", name, " ".join(rel))
    junit = cache_dir(matrix) / "test-results" / f"{name}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", *rel, f"--image-ref={image_ref(matrix, name)}",
           f"--junitxml={junit}", *extra]
    started = time.monotonic()
    code = subprocess.call(cmd, cwd=matrix.root)
    run = TestRun(name, image_id, code == 0, time.monotonic() - started)
    record(matrix, run)
    return run


def record(matrix: Matrix, run: TestRun) -> None:
    """Remember which image id passed, so a push can insist on tested images."""
    path = results_path(matrix, run.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"image_id": run.image_id, "passed": run.passed,
                               "seconds": round(run.seconds, 1),
                               "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    tmp.rename(path)


def passed_image_id(matrix: Matrix, name: str) -> str | None:
    path = results_path(matrix, name)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return data["image_id"] if data.get("passed") else None


def run_unit_tests(matrix: Matrix, extra: list[str]) -> bool:
    cmd = [sys.executable, "-m", "pytest", "tests/unit", *extra]
    return subprocess.call(cmd, cwd=matrix.root) == 0


def test_images(matrix: Matrix, names: list[str], unit: bool, pytest_args: list[str],
                jobs: int = 1) -> bool:
    """Unit tests (optionally), then build what is missing and run each image's tests."""
    from hubimages.builder import build_images

    ok = True
    if unit:
        log.info("unit tests")
        ok = run_unit_tests(matrix, pytest_args)
    for name in names:
        matrix.image(name)
    results = build_images(matrix, names, jobs=jobs)
    if results is None:
        return False
    if unit:
        # The build tool against the real engine, then releases to a real registry on
        # 127.0.0.1, each on a tiny project above the real base.
        for folder in ENGINE_TEST_DIRS:
            log.info("%s: tests against the engine", folder)
            ok = subprocess.call([sys.executable, "-m", "pytest", folder, *pytest_args],
                                 cwd=matrix.root) == 0 and ok
    wanted = set(names) if names else set(matrix.images)
    runs = [run_container_tests(matrix, r.name, r.image_id or "", pytest_args)
            for r in results if r.name in wanted]
    for run in runs:
        log.info("[%s] container tests %s in %.0fs", run.name,
                 "passed" if run.passed else "FAILED", run.seconds)
    return ok and all(run.passed for run in runs)
