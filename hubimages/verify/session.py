"""`invoke test`: unit tests, then build what is missing, then the engine and publish tests and
every variant's container tests, up to `jobs` sessions side by side."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from hubimages.builder.run import BuildResult, BuildRun
from hubimages.builder.scheduler import build_variants, failed
from hubimages.verify.results import TestRecord
from hubimages.verify.runner import pytest, run_container_tests
from hubimages.verify.selection import ENGINE_TESTS, UNIT_TESTS, container_test_dirs

log = logging.getLogger(__name__)

# Called with a session's name and the file of what it printed, when it ran beside others.
ShowOutput = Callable[[str, Path], None]


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


@dataclass(frozen=True)
class Job:
    """pytest sessions run one after the other in one lane."""

    name: str
    # Where each session prints when jobs run side by side, in order (else to our output).
    outputs: tuple[Path, ...]
    # Jobs start longest first, so that the lanes end together: roughly, test folders run.
    weight: int
    run: Callable[[tuple[Path, ...] | tuple[None, ...]], None]


def test_images(
    runs: list[BuildRun],
    names: list[str],
    unit: bool,
    pytest_args: list[str],
    jobs: int = 2,
    show: ShowOutput | None = None,
) -> TestSession:
    """Unit and engine tests once (they test the tool, which is the same for every variant),
    then every variant's images built and their container tests run.

    The sessions after the build run `jobs` at a time: one session keeps about one core of
    two busy (the containers' servers start, then wait on each other), and every session has
    its own containers, networks, services and namespace, as parallel checkouts' have."""
    session = TestSession()
    root = runs[0].matrix.root
    if unit:
        log.info("unit tests")
        session.suites[str(UNIT_TESTS)] = pytest(root, [str(UNIT_TESTS), *pytest_args])
    session.builds = build_variants(runs, names, jobs)
    if failed(session.builds):
        return session
    work = _engine_jobs(session, runs[0], pytest_args) if unit else []
    records: dict[int, TestRecord] = {}
    work += _container_jobs(records, runs, session.builds, names, pytest_args)
    run_lanes(work, jobs, runs[0].cancel, show)
    session.images = [records[index] for index in sorted(records)]
    return session


def _engine_jobs(session: TestSession, run: BuildRun, pytest_args: list[str]) -> list[Job]:
    """The engine and publish tests, in one lane (the publish tests build on what the engine
    tests prove)."""
    root = run.matrix.root
    shared = run.cache.for_variant("")
    outputs = tuple(shared.test_output(str(folder)) for folder in ENGINE_TESTS)
    for folder in ENGINE_TESTS:
        session.suites[str(folder)] = False

    def engine_suites(sinks: tuple[Path, ...] | tuple[None, ...]) -> None:
        for folder, sink in zip(ENGINE_TESTS, sinks, strict=True):
            log.info("%s: tests against the engine", folder)
            session.suites[str(folder)] = pytest(root, [str(folder), *pytest_args], sink)

    weight = 10 * len(ENGINE_TESTS)  # the longest sessions we have: start them first
    return [Job("engine and publish tests", outputs, weight, engine_suites)]


def _container_jobs(
    records: dict[int, TestRecord],
    runs: list[BuildRun],
    builds: list[BuildResult],
    names: list[str],
    pytest_args: list[str],
) -> list[Job]:
    work: list[Job] = []
    for run in runs:
        wanted = set(names) if names else set(run.matrix.images)
        for result in builds:
            if result.variant != run.matrix.variant.name or result.name not in wanted:
                continue
            index = len(work)

            def container_tests(
                sinks: tuple[Path, ...] | tuple[None, ...],
                run: BuildRun = run,
                result: BuildResult = result,
                i: int = index,
            ) -> None:
                records[i] = _container_tests(run, result, pytest_args, sinks[0])

            name = f"{result.name} ({run.matrix.variant.name})"
            output = (run.cache.test_output(result.name),)
            weight = len(container_test_dirs(run.matrix, result.name))
            work.append(Job(name, output, weight, container_tests))
    return work


def run_lanes(
    work: list[Job], lanes: int, cancel: threading.Event, show: ShowOutput | None
) -> None:
    """Each job, longest first, in the first free lane; what a job printed is shown when it
    ends. Once `cancel` is set (Ctrl-C), no job starts."""
    work = sorted(work, key=lambda job: -job.weight)
    lanes = max(1, min(lanes, len(work)))
    if lanes == 1:
        for job in work:
            if not cancel.is_set():
                job.run((None,) * len(job.outputs))
        return
    log.info("%d test sessions, %d side by side", len(work), lanes)

    def one(job: Job) -> Job:
        if not cancel.is_set():
            job.run(job.outputs)
        return job

    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="tests") as pool:
        for done in as_completed([pool.submit(one, job) for job in work]):
            job = done.result()
            for output in job.outputs:
                if show is not None and output.is_file():
                    show(job.name, output)


def _container_tests(
    run: BuildRun, result: BuildResult, pytest_args: list[str], output: Path | None
) -> TestRecord:
    record = run_container_tests(
        run.matrix, run.cache, result.name, result.image_id or "", pytest_args, output
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
