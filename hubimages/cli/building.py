"""Commands that make and check images: engine, build, lock, test, check, bench, lint,
conformance."""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import replace
from pathlib import Path

from invoke.exceptions import Exit

from hubimages.bench.run import run_benchmark
from hubimages.builder.engine import connect, image_or_none
from hubimages.builder.host import ensure_engine
from hubimages.builder.run import BuildResult, BuildRun, new_run, provenance_now
from hubimages.builder.scheduler import build_variants, failed
from hubimages.ci.lint import run_linters
from hubimages.cli import report
from hubimages.cli.common import INTERRUPTED
from hubimages.deps.index import PackageIndex
from hubimages.deps.resolve import lock_images, stale_locks
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order
from hubimages.model.project import ALL_VARIANTS, Project, open_project, open_variants
from hubimages.verify.conformance import check_suite, run_conformance
from hubimages.verify.session import test_images
from hubimages.verify.workflow_source import prepare_sources

log = logging.getLogger(__name__)


def engine() -> None:
    print(ensure_engine())


def checked(
    matrix_path: str | None, names: list[str], variants: list[str] | None = None
) -> list[Project]:
    """The project in each variant --variant names (the default one when none), with every
    named image known to at least one of them: bad input fails before any engine call."""
    projects = open_variants(matrix_path, variants or [])
    for name in names:
        if not any(name in p.matrix.images for p in projects):
            projects[0].matrix.image(name)  # says why: unknown, or excluded from the variant
    return projects


def start_runs(projects: list[Project], forced: list[str] | None = None) -> list[BuildRun]:
    """One build run per variant, sharing the engine, the release tag and Ctrl-C."""
    client = connect()
    provenance = provenance_now(projects[0].matrix)
    first = new_run(
        client, projects[0].matrix, projects[0].cache, frozenset(forced or ()), provenance
    )
    return [first] + [
        replace(
            new_run(client, p.matrix, p.cache, frozenset(forced or ()), provenance),
            cancel=first.cancel,
        )
        for p in projects[1:]
    ]


def finish(runs: list[BuildRun], results: list[BuildResult], started: float) -> None:
    """Print the summary; exit 130 after Ctrl-C, 1 after a failure."""
    print(report.summary_table(results), flush=True)
    print(f"total {time.monotonic() - started:.1f}s", flush=True)
    if runs[0].cancel.is_set():
        raise Exit(
            "interrupted: nothing after the images marked built was changed", code=INTERRUPTED
        )
    bad = failed(results)
    for result in bad[1:]:
        log.error("%s (%s) %s: %s", result.name, result.variant, result.status.value, result.reason)
    if bad:
        first = bad[0]
        raise Exit(
            f"error: {first.name} ({first.variant}) {first.status.value}: {first.reason}", code=1
        )


def build(
    names: list[str], force: bool, jobs: int, matrix_path: str | None, variants: list[str]
) -> None:
    started = time.monotonic()
    projects = checked(matrix_path, names, variants)
    # --force rebuilds the named images (all when none is named), never their ancestors.
    everything = sorted({n for p in projects for n in p.matrix.images})
    runs = start_runs(projects, forced=(names or everything) if force else [])
    finish(runs, build_variants(runs, names, jobs), started)


def lock(names: list[str], upgrade: bool, matrix_path: str | None, variants: list[str]) -> None:
    """Every variant's locks unless --variant narrows it: a requirement changes them all."""
    projects = checked(matrix_path, names, variants or [ALL_VARIANTS])
    index = PackageIndex(projects[0].matrix.settings.index_url)
    views = [p.matrix for p in projects]
    for path in lock_images(views, names, index, projects[0].cache, upgrade=upgrade):
        print(f"wrote {path.relative_to(projects[0].root)}")
    for path in stale_locks(projects[0].matrix):
        print(f"{path.relative_to(projects[0].root)}: no such variant any more; delete it")


def test(
    names: list[str],
    unit: bool,
    pytest_args: str,
    jobs: int,
    matrix_path: str | None,
    variants: list[str],
) -> None:
    runs = start_runs(checked(matrix_path, names, variants))
    linted = linted_ok() if unit or not names else True  # each linter once, before unit tests
    session = test_images(
        runs, names, unit or not names, pytest_args.split(), jobs, show=show_session_output
    )
    if session.builds:
        print(report.summary_table(session.builds), flush=True)
    for suite, ok in session.suites.items():
        print(f"{suite}: {'passed' if ok else 'FAILED'}")
    for record in session.images:
        print(
            f"{record.name} ({record.variant}): container tests "
            f"{'passed' if record.passed else 'FAILED'} ({record.tests} tests) "
            f"in {record.seconds:.0f}s"
        )
    if runs[0].cancel.is_set():
        raise Exit("interrupted", code=INTERRUPTED)
    if not session.passed or not linted:
        raise Exit(code=1)


def show_session_output(name: str, output: Path) -> None:
    """What a test session printed while others ran beside it, now that it has ended."""
    print(f"==== {name}: {output.stem} ====", flush=True)
    print(output.read_text(errors="replace"), end="", flush=True)


def check(matrix_path: str | None) -> None:
    projects = open_variants(matrix_path, [ALL_VARIANTS])
    for project in projects:
        variant = project.variant
        print(
            f"{variant.name} ({variant.describe()}{', default' if variant.default else ''}): "
            + " -> ".join(build_order(project.matrix))
        )
        for name, reason in variant.excluded.items():
            print(f"  {name}: excluded: {reason}")
    today = datetime.date.today()
    for accepted in projects[0].matrix.accepted:  # the vulnerability gate's exceptions
        state = "until" if accepted.valid_on(today) else "EXPIRED on"
        scope = ", ".join(accepted.images) or "every image"
        if accepted.variants:
            scope += " in " + ", ".join(accepted.variants)
        print(f"accepted {accepted.id} {state} {accepted.expires} ({scope}): {accepted.reason}")
    # Workflows' repositories (fetched when they are URLs) and notebooks, as a release checks
    # them; each runs in one environment and variant.
    matrix = projects[0].matrix
    for name, source in prepare_sources(matrix, projects[0].cache).items():
        spec = matrix.workflows[name]
        print(f"workflow {name}: {source.origin} @ {source.commit[:12]} on {spec.environment_id}")


def bench(skip_cold: bool, variants: list[str]) -> None:
    runs = start_runs(open_variants(None, variants))
    numbers, written = run_benchmark(runs, cold=not skip_cold)
    print(report.numbers(numbers))
    print(f"wrote {written.relative_to(runs[0].matrix.root)}")


def lint() -> None:
    if not linted_ok():
        raise Exit(code=1)


def linted_ok() -> bool:
    """Print each linter's result; whether all passed."""
    results = run_linters(open_project().root)
    print(report.lint_report(results), flush=True)
    return all(r.ok for r in results)


def conformance(suite_path: str, image_ref: str, variants: list[str]) -> None:
    """docker-stacks' suite against our base of each variant (built when needed) or against
    image_ref."""
    if not suite_path:
        raise HubImagesError("--suite is missing: give a checkout of jupyter/docker-stacks")
    suite = check_suite(Path(suite_path))
    runs = start_runs(open_variants(None, variants))
    if image_ref:
        image = image_or_none(runs[0].client, image_ref)
        if image is None:
            raise HubImagesError(f"--image-ref {image_ref}: no such image here")
        targets = [(image_ref, str(image.id))]
    else:
        results = build_variants(runs, ["base"])
        if failed(results):
            raise HubImagesError(f"base could not be built: {failed(results)[0].reason}")
        targets = [(f"base ({r.variant})", r.image_id or "") for r in results]
    passed = True
    for name, image_id in targets:
        result = run_conformance(
            runs[0].client, image_id, suite, runs[0].cache, runs[0].matrix.settings.index_url
        )
        print(f"{name}:\n{report.conformance_table(result)}")
        passed = passed and result.meets_goal
    if not passed:
        raise Exit(code=1)
