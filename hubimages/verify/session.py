"""`invoke test`: unit tests, then build what is missing, engine tests, container tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hubimages.builder.run import BuildResult, BuildRun
from hubimages.builder.scheduler import build_variants, failed
from hubimages.verify.results import TestRecord
from hubimages.verify.runner import pytest, run_container_tests
from hubimages.verify.selection import ENGINE_TESTS, UNIT_TESTS

log = logging.getLogger(__name__)


@dataclass
class TestSession:
    __test__ = False  # not a pytest class

    builds: list[BuildResult] = field(default_factory=list)
    suites: dict[str, bool] = field(default_factory=dict)  # unit/engine test folders
    images: list[TestRecord] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            bool(self.builds)
            and not failed(self.builds)
            and all(self.suites.values())
            and all(r.passed for r in self.images)
        )


def test_images(
    runs: list[BuildRun], names: list[str], unit: bool, pytest_args: list[str], jobs: int = 2
) -> TestSession:
    """Unit and engine tests once (they test the tool, which is the same for every variant),
    then every variant's images built and their container tests run, variant by variant."""
    session = TestSession()
    root = runs[0].matrix.root
    if unit:
        log.info("unit tests")
        session.suites[str(UNIT_TESTS)] = pytest(root, [str(UNIT_TESTS), *pytest_args])
    session.builds = build_variants(runs, names, jobs)
    if failed(session.builds):
        return session
    if unit:
        for folder in ENGINE_TESTS:
            log.info("%s: tests against the engine", folder)
            session.suites[str(folder)] = pytest(root, [str(folder), *pytest_args])
    for run in runs:
        wanted = set(names) if names else set(run.matrix.images)
        for result in session.builds:
            if result.variant == run.matrix.variant.name and result.name in wanted:
                session.images.append(_container_tests(run, result, pytest_args))
    return session


def _container_tests(run: BuildRun, result: BuildResult, pytest_args: list[str]) -> TestRecord:
    record = run_container_tests(
        run.matrix, run.cache, result.name, result.image_id or "", pytest_args
    )
    log.info(
        "[%s %s] container tests %s (%d tests) in %.0fs",
        result.name,
        run.matrix.variant.name,
        "passed" if record.passed else "FAILED",
        record.tests,
        record.seconds,
    )
    return record
