"""Commands that make and check images: engine, build, lock, test, check, bench, lint,
conformance."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from invoke.exceptions import Exit

from hubimages.bench.run import run_benchmark
from hubimages.builder.engine import connect, image_or_none
from hubimages.builder.host import ensure_engine
from hubimages.builder.run import BuildResult, BuildRun, new_run
from hubimages.builder.scheduler import build_images, failed
from hubimages.ci.lint import run_linters
from hubimages.cli import report
from hubimages.cli.common import INTERRUPTED
from hubimages.deps.index import PackageIndex
from hubimages.deps.resolve import lock_images
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order
from hubimages.model.project import Project, open_project
from hubimages.verify.conformance import check_suite, run_conformance
from hubimages.verify.session import test_images
from hubimages.verify.workflow_source import prepare_sources

log = logging.getLogger(__name__)


def engine() -> None:
    print(ensure_engine())


def checked(matrix_path: str | None, names: list[str]) -> Project:
    """The project, with every named image known: bad input fails before any engine call."""
    project = open_project(matrix_path)
    for name in names:
        project.matrix.image(name)
    return project


def start_run(project: Project, forced: list[str] | None = None) -> BuildRun:
    return new_run(connect(), project.matrix, project.cache, forced=frozenset(forced or ()))


def finish(run: BuildRun, results: list[BuildResult], started: float) -> None:
    """Print the summary; exit 130 after Ctrl-C, 1 after a failure."""
    print(report.summary_table(results), flush=True)
    print(f"total {time.monotonic() - started:.1f}s", flush=True)
    if run.cancel.is_set():
        raise Exit(
            "interrupted: nothing after the images marked built was changed", code=INTERRUPTED
        )
    bad = failed(results)
    for result in bad[1:]:
        log.error("%s %s: %s", result.name, result.status.value, result.reason)
    if bad:
        raise Exit(f"error: {bad[0].name} {bad[0].status.value}: {bad[0].reason}", code=1)


def build(names: list[str], force: bool, jobs: int, matrix_path: str | None) -> None:
    started = time.monotonic()
    project = checked(matrix_path, names)
    # --force rebuilds the named images (all when none is named), never their ancestors.
    run = start_run(project, forced=(names or list(project.matrix.images)) if force else [])
    finish(run, build_images(run, names, jobs), started)


def lock(names: list[str], upgrade: bool, matrix_path: str | None) -> None:
    project = checked(matrix_path, names)
    index = PackageIndex(project.matrix.settings.index_url)
    for path in lock_images(project.matrix, names, index, project.cache, upgrade=upgrade):
        print(f"wrote {path.relative_to(project.root)}")


def test(
    names: list[str], unit: bool, pytest_args: str, jobs: int, matrix_path: str | None
) -> None:
    project = checked(matrix_path, names)
    linted = linted_ok() if unit or not names else True  # each linter once, before unit tests
    run = start_run(project)
    session = test_images(run, names, unit or not names, pytest_args.split(), jobs)
    if session.builds:
        print(report.summary_table(session.builds), flush=True)
    for suite, ok in session.suites.items():
        print(f"{suite}: {'passed' if ok else 'FAILED'}")
    for record in session.images:
        print(
            f"{record.name}: container tests {'passed' if record.passed else 'FAILED'} "
            f"in {record.seconds:.0f}s"
        )
    if run.cancel.is_set():
        raise Exit("interrupted", code=INTERRUPTED)
    if not session.passed or not linted:
        raise Exit(code=1)


def check(matrix_path: str | None) -> None:
    project = open_project(matrix_path)
    print("build order:", " -> ".join(build_order(project.matrix)))
    # Workflows' repositories (fetched when they are URLs) and notebooks, as a release checks them.
    for name, source in prepare_sources(project.matrix, project.cache).items():
        spec = project.matrix.workflows[name]
        print(f"workflow {name}: {source.origin} @ {source.commit[:12]} on {spec.environment_id}")


def bench(skip_cold: bool) -> None:
    project = open_project()
    numbers, written = run_benchmark(start_run(project), cold=not skip_cold)
    print(report.numbers(numbers))
    print(f"wrote {written.relative_to(project.root)}")


def lint() -> None:
    if not linted_ok():
        raise Exit(code=1)


def linted_ok() -> bool:
    """Print each linter's result; whether all passed."""
    results = run_linters(open_project().root)
    print(report.lint_report(results), flush=True)
    return all(r.ok for r in results)


def conformance(suite_path: str, image_ref: str) -> None:
    """docker-stacks' suite against our base (built when needed) or against image_ref."""
    if not suite_path:
        raise HubImagesError("--suite is missing: give a checkout of jupyter/docker-stacks")
    suite = check_suite(Path(suite_path))
    run = start_run(open_project())
    if image_ref:
        image = image_or_none(run.client, image_ref)
        if image is None:
            raise HubImagesError(f"--image-ref {image_ref}: no such image here")
        image_id = str(image.id)
    else:
        results = build_images(run, ["base"])
        if failed(results):
            raise HubImagesError(f"base could not be built: {results[0].reason}")
        image_id = results[0].image_id or ""
    result = run_conformance(run.client, image_id, suite, run.cache, run.matrix.settings.index_url)
    print(report.conformance_table(result))
    if not result.meets_goal:
        raise Exit(code=1)
