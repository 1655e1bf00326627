"""Tasks: `invoke --list`. Each parses its arguments and hands over to the hubimages package."""

from __future__ import annotations

from invoke import task
from invoke.exceptions import Exit

from hubimages import cli

IMAGES_HELP = "an image of build-matrix.yaml; images may also follow the task name"


@task(help={"verbose": "show every line of the engine install"})
@cli.one_line_errors
def engine(c, verbose=False):
    """Make a Docker engine reachable: install Debian's docker.io and start dockerd if needed."""
    from hubimages.engine import ensure_engine

    cli.setup_logging(verbose)
    print(ensure_engine())


@task(iterable=["image"], help={
    "image": IMAGES_HELP, "force": "rebuild even when inputs are unchanged",
    "jobs": "build up to N independent images at once (2 siblings: 1.9x faster on 2 cores)",
    "verbose": "show build output",
    "matrix": "path of the matrix file",
})
@cli.one_line_errors
def build(c, image=None, force=False, jobs=2, verbose=False, matrix=None):
    """Build the named images (all by default) and every ancestor they need, parents first."""
    from hubimages.builder import build_images

    cli.setup_logging(verbose)
    names = cli.split_names(image)
    if not build_images(cli.matrix(matrix), names, force=force, jobs=int(jobs)):
        raise Exit(code=1)


@task(iterable=["image"], help={
    "image": IMAGES_HELP, "upgrade": "allow newer versions than the current locks",
    "matrix": "path of the matrix file"})
@cli.one_line_errors
def lock(c, image=None, upgrade=False, matrix=None):
    """Regenerate hash-pinned locks of the named images (all by default) and descendants."""
    from hubimages.locks import lock_images

    cli.setup_logging()
    names = cli.split_names(image)
    lock_images(cli.matrix(matrix), names, upgrade=upgrade)


@task(iterable=["image"], help={
    "image": IMAGES_HELP, "unit": "run the unit tests too (default: when no image is named)",
    "pytest_args": "extra arguments for pytest", "matrix": "path of the matrix file",
    "jobs": "build up to N independent images at once",
})
@cli.one_line_errors
def test(c, image=None, unit=None, pytest_args="", jobs=2, matrix=None):
    """Unit tests, then build what is missing and run each image's container tests."""
    from hubimages.testing import test_images

    cli.setup_logging()
    names = cli.split_names(image)
    run_unit = (not names) if unit is None else unit
    if not test_images(cli.matrix(matrix), names, run_unit, pytest_args.split(), int(jobs)):
        raise Exit(code=1)


@task(help={"matrix": "path of the matrix file"})
@cli.one_line_errors
def check(c, matrix=None):
    """Validate build-matrix.yaml and print the build order."""
    from hubimages.plan import build_order

    m = cli.matrix(matrix)
    print("build order:", " -> ".join(build_order(m)))


@task(help={"skip_cold": "do not time a cold build of the base (keeps the caches)"})
@cli.one_line_errors
def bench(c, skip_cold=False):
    """Print build times, no-op rebuild time, sizes and server start-up time."""
    from hubimages.bench import run_benchmark

    cli.setup_logging()
    run_benchmark(cli.matrix(), cold=not skip_cold)


@task
@cli.one_line_errors
def lint(c):
    """ruff, hadolint, shellcheck over the repository."""
    from hubimages.lint import run_linters

    if not run_linters(cli.ROOT):
        raise Exit(code=1)


cli.expand_positional_images([engine, build, lock, test, check, bench, lint])
