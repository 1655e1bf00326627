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
    "image": IMAGES_HELP, "unit": "also run unit and engine tests (always with no image named)",
    "pytest_args": "extra arguments for pytest", "matrix": "path of the matrix file",
    "jobs": "build up to N independent images at once",
})
@cli.one_line_errors
def test(c, image=None, unit=False, pytest_args="", jobs=2, matrix=None):
    """Unit tests, then build what is missing and run each image's container tests."""
    from hubimages.testing import test_images

    cli.setup_logging()
    names = cli.split_names(image)
    run_unit = unit or not names
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


REGISTRY_HELP = "HOST[:PORT][/NAMESPACE] of an OCI registry, e.g. 127.0.0.1:5000/ska"
RETRY_HELP = "attempts per registry operation before giving up (waits 1, 2, 4... s between)"


@task(iterable=["image"], help={
    "image": IMAGES_HELP, "registry": REGISTRY_HELP, "retries": RETRY_HELP,
    "retest": "run the container tests even when this image id already passed them",
    "jobs": "build up to N independent images at once", "matrix": "path of the matrix file",
})
@cli.one_line_errors
def release(c, image=None, registry="", retries=4, retest=False, jobs=2, matrix=None):
    """Build, test, push, then write manifests, history and profiles; stop at the first failure."""
    from hubimages.publish import RetryPolicy
    from hubimages.release import release_images

    cli.setup_logging()
    m = cli.matrix(matrix)
    names = cli.split_names(image)
    result = release_images(m, names, cli.registry_target(m, registry),
                            RetryPolicy(attempts=int(retries)), retest=retest, jobs=int(jobs))
    print(cli.release_summary(result))


@task(iterable=["image"], help={
    "image": IMAGES_HELP, "registry": REGISTRY_HELP, "retries": RETRY_HELP,
    "matrix": "path of the matrix file",
})
@cli.one_line_errors
def push(c, image=None, registry="", retries=4, matrix=None):
    """Push built images that passed their tests at this image id; record the release."""
    from hubimages.plan import build_order
    from hubimages.publish import RetryPolicy
    from hubimages.release import publish_release

    cli.setup_logging()
    m = cli.matrix(matrix)
    names = build_order(m, cli.split_names(image) or None)
    result = publish_release(m, names, cli.registry_target(m, registry),
                             RetryPolicy(attempts=int(retries)))
    print(cli.release_summary(result))


@task(help={"registry": REGISTRY_HELP + " (default: the only one released to)",
            "release": "a release tag to pin (resolved from the registry); default: the newest",
            "matrix": "path of the matrix file"})
@cli.one_line_errors
def profiles(c, registry="", release=None, matrix=None):
    """Write the Zero to JupyterHub profileList and DockerSpawner allowed_images of a release."""
    from hubimages.release import profiles_for

    cli.setup_logging()
    m = cli.matrix(matrix)
    for path in profiles_for(m, cli.registry_target(m, registry, recorded=True), release):
        print(path)


@task(help={"registry": REGISTRY_HELP + " (default: the only one released to)",
            "remote": "read the releases from the registry, not from this machine's records",
            "matrix": "path of the matrix file"})
@cli.one_line_errors
def history(c, registry="", remote=False, matrix=None):
    """List the releases, newest first: recorded here, or (--remote) found in the registry."""
    from hubimages.manifests import load_history, publish_dir
    from hubimages.release import registry_history

    m = cli.matrix(matrix)
    target = cli.registry_target(m, registry, recorded=True)
    releases = [] if remote else load_history(publish_dir(m, target))
    if not releases:
        releases = registry_history(m, target)
    for entry in releases:
        images = " ".join(f"{i.name}@{i.digest[7:19]}" for i in entry.images)
        print(f"{entry.tag}  {entry.created or '-'}  {entry.revision[:7] or '-'}  {images}")


@task(positional=["name", "old", "new"], help={
    "name": "the image", "old": "the earlier release tag", "new": "the later release tag",
    "registry": REGISTRY_HELP + " (default: the only one released to)",
    "matrix": "path of the matrix file"})
@cli.one_line_errors
def diff(c, name, old, new, registry="", matrix=None):
    """Package changes (Python and Debian) of an image between two releases."""
    from hubimages.manifests import diff_manifests, format_diff
    from hubimages.release import manifest_for_diff

    cli.setup_logging()
    m = cli.matrix(matrix)
    m.image(name)
    target = cli.registry_target(m, registry, recorded=True)
    changes = diff_manifests(manifest_for_diff(m, target, name, old),
                             manifest_for_diff(m, target, name, new))
    print(format_diff(name, old, new, changes))


@task(help={
    "since": "a git ref: images whose inputs changed since then (work tree included)",
    "all": "every image (CI on main and on schedule)",
    "github_output": "also write images= and stage-N= lines to the file $GITHUB_OUTPUT names",
    "matrix": "path of the matrix file"})
@cli.one_line_errors
def affected(c, since="", all=False, github_output=False, matrix=None):
    """Print the images whose inputs changed since a git ref, and their descendants."""
    from hubimages.affected import affected_images, changed_since, github_outputs
    from hubimages.plan import build_order

    m = cli.matrix(matrix)
    if all:
        names = build_order(m)
    elif since:
        changed, old = changed_since(m.root, since)
        names = affected_images(m, changed, old)
    else:
        raise Exit("error: give --since REF or --all", code=1)
    print("\n".join(names) if names else "(no image affected)")
    if github_output:
        cli.append_github_output(github_outputs(m, names))


@task(help={"port": "port on 127.0.0.1", "stop": "stop the registry started on that port"})
@cli.one_line_errors
def registry(c, port=5000, stop=False):
    """Start (or --stop) a local registry on 127.0.0.1 to try releases: Debian's docker-registry."""
    from hubimages.builder import cache_dir
    from hubimages.localregistry import LocalRegistry

    local = LocalRegistry(cache_dir(cli.matrix()) / "registry" / str(port), port=int(port))
    if stop:
        local.stop()
        print(f"stopped the registry on {local.host}")
    elif local.answers():
        print(f"a registry already answers on {local.host}")
    else:
        local.start()
        print(f"registry on {local.host} (storage {local.storage}); try: invoke release "
              f"--registry {local.host}/ska; stop: invoke registry --stop --port {port}")


cli.expand_positional_images([engine, build, lock, test, check, bench, lint, release, push,
                              profiles, history, diff, affected, registry])
