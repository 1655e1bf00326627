"""Tasks: `invoke --list`. Each parses its arguments and hands over to hubimages.cli."""

from __future__ import annotations

from invoke.tasks import task

from hubimages.cli import building, environments, publishing, sessions, trust, workflows
from hubimages.cli import idp as local_idp
from hubimages.cli import rucio as local_rucio
from hubimages.cli.common import one_line_errors, setup_logging, split_names

# Images are an option: invoke has no optional positional arguments (pyinvoke/invoke#159), and
# `invoke build` alone means every image. `-i sdc1 -i ml` and `-i sdc1,ml` are the same.
IMAGES_HELP = "-i NAME: an image of build-matrix.yaml; repeat -i, or a comma list (default: all)"
MATRIX_HELP = "path of the matrix file (default: build-matrix.yaml of this checkout)"
REGISTRY_HELP = "HOST[:PORT][/NAMESPACE] of an OCI registry, e.g. 127.0.0.1:5000/ska"
RECORDED_HELP = REGISTRY_HELP + " (default: the only one released to)"
RETRY_HELP = "attempts per registry operation before giving up (waits 1, 2, 4... s between)"
UNAUDITED_HELP = (
    "release even when pip-audit cannot read PyPI's advisories for some distributions "
    "(they are recorded as unaudited)"
)
VARIANT_HELP = "a variant of build-matrix.yaml (repeatable), or all; default: the default variant"
DIRTY_HELP = (
    "allow images built from uncommitted changes; their tag and labels say so "
    "(<date>-<sha>-dirty, org.skahub.dirty)"
)


@task(help={"verbose": "show every line of the engine install"})
@one_line_errors
def engine(c, verbose=False):
    """Make a Docker engine reachable: install Debian's docker.io and start dockerd if needed."""
    setup_logging(verbose)
    building.engine()


@task(
    iterable=["image", "variant"],
    help={
        "image": IMAGES_HELP,
        "force": "rebuild the named images even when inputs are unchanged",
        "jobs": "build up to N independent images at once (2 siblings: 1.9x faster on 2 cores)",
        "verbose": "show build output",
        "matrix": MATRIX_HELP,
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def build(c, image=None, force=False, jobs=2, verbose=False, matrix=None, variant=None):
    """Build the named images (all by default) and every ancestor they need, parents first."""
    setup_logging(verbose)
    building.build(split_names(image), force, int(jobs), matrix, split_names(variant))


@task(
    iterable=["image", "variant"],
    help={
        "image": IMAGES_HELP,
        "upgrade": "allow newer versions than the current locks",
        "matrix": MATRIX_HELP,
        "variant": "a variant of build-matrix.yaml (repeatable); default: all of them",
    },
)
@one_line_errors
def lock(c, image=None, upgrade=False, matrix=None, variant=None):
    """Regenerate hash-pinned locks of the named images (all by default) and descendants, in
    every variant (all or none)."""
    setup_logging()
    building.lock(split_names(image), upgrade, matrix, split_names(variant))


@task(
    iterable=["image", "variant"],
    help={
        "image": IMAGES_HELP,
        "unit": "also run the linters, unit, engine and publish tests (always with no image)",
        "pytest_args": "extra arguments for pytest",
        "matrix": MATRIX_HELP,
        "jobs": "build up to N independent images, and run up to N test sessions, at once",
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def test(c, image=None, unit=False, pytest_args="", jobs=2, matrix=None, variant=None):
    """Linters and unit tests, build what is missing, engine and publish tests, then each
    image's container tests in each variant (with images named: only theirs, unless --unit)."""
    setup_logging()
    building.test(split_names(image), unit, pytest_args, int(jobs), matrix, split_names(variant))


@task(help={"matrix": MATRIX_HELP})
@one_line_errors
def check(c, matrix=None):
    """Validate build-matrix.yaml and print the build order."""
    building.check(matrix)


@task(
    iterable=["variant"],
    help={
        "skip_cold": "do not time a cold build of the base (keeps the caches)",
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def bench(c, skip_cold=False, variant=None):
    """Measure sizes, build, start-up, push and science numbers per variant; print them and
    write docs/benchmarks.md (with the machine and the date)."""
    setup_logging()
    building.bench(skip_cold, split_names(variant))


@task(
    iterable=["variant"],
    help={
        "suite": "a checkout of jupyter/docker-stacks (e.g. git clone https://github.com/jupyter/"
        "docker-stacks)",
        "image_ref": "test this image instead of our base (built when needed), e.g. to compare",
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def conformance(c, suite="", image_ref="", variant=None):
    """Run docker-stacks' own tests against our base; print passes per file (needs PyPI)."""
    setup_logging()
    building.conformance(suite, image_ref, split_names(variant))


@task
@one_line_errors
def lint(c):
    """ruff, mypy, hadolint, shellcheck and actionlint over the repository."""
    building.lint()


@task(
    iterable=["image", "variant"],
    help={
        "image": IMAGES_HELP,
        "registry": REGISTRY_HELP,
        "retries": RETRY_HELP,
        "retest": "run the container tests even when this image id already passed them",
        "jobs": "build up to N independent images at once",
        "dirty": DIRTY_HELP,
        "allow_unaudited": UNAUDITED_HELP,
        "matrix": MATRIX_HELP,
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def release(
    c,
    image=None,
    registry="",
    retries=4,
    retest=False,
    jobs=2,
    dirty=False,
    allow_unaudited=False,
    matrix=None,
    variant=None,
):
    """Build, test, audit, push, sign, then write inventories, history and profiles."""
    setup_logging()
    publishing.release(
        split_names(image),
        registry,
        int(retries),
        retest,
        int(jobs),
        dirty,
        matrix,
        split_names(variant),
        allow_unaudited=allow_unaudited,
    )


@task(
    iterable=["image", "variant"],
    help={
        "image": IMAGES_HELP,
        "registry": REGISTRY_HELP,
        "retries": RETRY_HELP,
        "dirty": DIRTY_HELP,
        "allow_unaudited": UNAUDITED_HELP,
        "matrix": MATRIX_HELP,
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def push(
    c,
    image=None,
    registry="",
    retries=4,
    dirty=False,
    allow_unaudited=False,
    matrix=None,
    variant=None,
):
    """Push built images that passed their tests and the audit; sign; record the release."""
    setup_logging()
    publishing.push(
        split_names(image),
        registry,
        int(retries),
        dirty,
        matrix,
        split_names(variant),
        allow_unaudited=allow_unaudited,
    )


@task(
    iterable=["variant"],
    help={
        "registry": RECORDED_HELP,
        "release": "a release tag to pin (resolved from the registry, in every variant that "
        "has it); default: the newest of each variant",
        "matrix": MATRIX_HELP,
        "variant": "a variant to offer (repeatable); default: every variant released",
    },
)
@one_line_errors
def profiles(c, registry="", release=None, matrix=None, variant=None):
    """Write the Zero to JupyterHub profileList and DockerSpawner allowed_images of a release."""
    setup_logging()
    publishing.profiles(registry, release, matrix, split_names(variant))


@task
@one_line_errors
def keys(c):
    """Make the site's signing key if absent ($HUBIMAGES_KEYS, or ~/.config/hubimages/keys)."""
    trust.keys()


@task(
    iterable=["ref", "variant"],
    help={
        "ref": "-r REF: HOST[:PORT]/PATH[:TAG][@sha256:DIGEST]; repeat -r, or a comma list "
        "(default: the images of each variant's newest recorded release)",
        "registry": RECORDED_HELP + "; with no reference: its newest recorded releases",
        "release": "with no reference: the images of this release tag, resolved in the registry "
        "in every variant that has it",
        "key": "the public key to trust (PEM); default: the site key's",
        "matrix": MATRIX_HELP,
        "variant": "with no reference: a variant whose release to verify (repeatable); "
        "default: every variant released",
    },
)
@one_line_errors
def verify(c, ref=None, registry="", release=None, key="", matrix=None, variant=None):
    """Check each image's signature, SBOM, provenance and gates in the registry; one line each."""
    trust.verify(split_names(ref), registry, release, key, matrix, split_names(variant))


@task(
    help={
        "registry": RECORDED_HELP,
        "remote": "read the releases from the registry, not from this machine's records",
        "matrix": MATRIX_HELP,
    }
)
@one_line_errors
def history(c, registry="", remote=False, matrix=None):
    """List the releases, newest first: recorded here, or (--remote) found in the registry."""
    publishing.history(registry, remote, matrix)


@task(
    positional=["name", "old", "new"],
    help={
        "name": "the image",
        "old": "the earlier release tag",
        "new": "the later release tag",
        "registry": RECORDED_HELP,
        "matrix": MATRIX_HELP,
    },
)
@one_line_errors
def diff(c, name, old, new, registry="", matrix=None):
    """Package changes (Python and Debian) of an image between two releases."""
    setup_logging()
    publishing.diff(name, old, new, registry, matrix)


@task(
    iterable=["variant"],
    help={
        "since": "a git ref: images whose inputs changed since then (work tree included)",
        "all": "every image (CI on main and on schedule)",
        "github_output": "also write images= and stage-N= lines to the file $GITHUB_OUTPUT names",
        "matrix": MATRIX_HELP,
        "variant": "a variant of build-matrix.yaml (repeatable); default: all of them",
    },
)
@one_line_errors
def affected(c, since="", all=False, github_output=False, matrix=None, variant=None):
    """Print the images whose inputs changed since a git ref, and their descendants, per
    variant."""
    publishing.affected(since, all, github_output, matrix, split_names(variant))


@task(help={"port": "port on 127.0.0.1", "stop": "stop the registry started on that port"})
@one_line_errors
def registry(c, port=5000, stop=False):
    """Start (or --stop) a local registry on 127.0.0.1 to try releases: Debian's docker-registry."""
    publishing.registry(int(port), stop)


# Long options only: invoke's automatic short flags would give --no-build the flag "-" (its
# first free character), shown as a stray `--` in --help.
@task(
    positional=["repo"],
    iterable=["variant"],
    auto_shortflags=False,
    help={
        "repo": "a folder, or a git URL this machine reaches (file://, https://, ...)",
        "on": "the platform image of build-matrix.yaml to build on (built first if needed)",
        "name": "the image name (default: the repository's name)",
        "ref": "branch, tag or commit to build (default: HEAD)",
        "subdir": "build from this folder of the repository",
        "no_build": "print the Dockerfile that would be built, and stop (no engine, no index)",
        "force": "build even when the commit and the platform image are unchanged",
        "matrix": MATRIX_HELP,
        "variant": VARIANT_HELP,
    },
)
@one_line_errors
def repo2docker(
    c,
    repo,
    on="",
    name="",
    ref="",
    subdir="",
    no_build=False,
    force=False,
    matrix=None,
    variant=None,
):
    """Build a scientist's repository (Binder style) onto a platform image with repo2docker."""
    setup_logging()
    environments.repo2docker(
        repo, on, name, ref, subdir, no_build, force, matrix, split_names(variant)
    )


@task(
    help={
        "registry": RECORDED_HELP + "; its profiles are offered",
        "port": "the hub's port on 127.0.0.1",
        "stop": "stop the hub and its servers (users' homes are kept)",
        "auth": "shared-password (default: one person's trials) or oidc (users log in at "
        "`invoke idp`; their tokens reach their sessions)",
        "remove_homes": "with --stop: also remove the users' home volumes",
        "catalogue": "who may list the workflow catalogue: public, or login (launches always "
        "need the login)",
    }
)
@one_line_errors
def hub(c, registry="", port=8000, stop=False, auth="", remove_homes=False, catalogue="public"):
    """Start (or --stop) a real JupyterHub on 127.0.0.1 offering a release's profiles."""
    setup_logging()
    sessions.hub(registry, int(port), stop, auth, remove_homes, catalogue)


@task(
    name="workflows",
    iterable=["workflow", "variant"],
    help={
        "workflow": "a workflow of build-matrix.yaml (all by default; repeatable)",
        "retest": "run even when it passed at this image id with the same inputs",
        "matrix": MATRIX_HELP,
        "variant": "only the workflows that run in this variant (repeatable, or all); "
        "default: every workflow, each in its own variant",
    },
)
@one_line_errors
def workflows_(c, workflow=None, retest=False, matrix=None, variant=None):
    """Run workflows headless on their environments' images (built first); print the results."""
    setup_logging()
    workflows.run_workflows(split_names(workflow), retest, matrix, split_names(variant))


@task(
    iterable=["variant"],
    help={
        "registry": RECORDED_HELP,
        "matrix": MATRIX_HELP,
        "variant": "a variant to offer (repeatable); default: every variant released",
    },
)
@one_line_errors
def catalogue(c, registry="", matrix=None, variant=None):
    """Write the catalogue of environments and workflows (JSON, its schema, an HTML page)."""
    setup_logging()
    workflows.catalogue(registry, matrix, split_names(variant))


@task(
    iterable=["variant"],
    help={
        "profile": "the image the scientist chooses on the hub's form",
        "auth": "shared-password (default) or oidc: log in at an identity provider, work with "
        "Rucio past the access token's lifetime, restart the server",
        "variant": VARIANT_HELP + "; all are offered, the default (or first) one is spawned",
    },
)
@one_line_errors
def e2e(c, profile="sdc1", auth="", variant=None):
    """A scientist's session in a real browser: release, hub, login, JupyterLab, notebook."""
    setup_logging()
    sessions.e2e(profile, auth, split_names(variant))


@task(
    help={
        "stop": "stop it (and remove its network and files)",
        "transfers": "run the test transfer agent once: copy what rules wait for",
        "auth": "userpass (default), or oidc: also accept the tokens of `invoke idp`'s users",
    }
)
@one_line_errors
def rucio_site(c, stop=False, transfers=False, auth="userpass"):
    """Start (or --stop) a real Rucio server with WebDAV storage to point images at."""
    setup_logging()
    local_rucio.rucio(stop, transfers, auth)


@task(help={"stop": "stop it and remove its network (its users and signing key are kept)"})
@one_line_errors
def idp(c, stop=False):
    """Start (or --stop) the site's OpenID Connect provider: test users, short-lived tokens."""
    setup_logging()
    local_idp.idp(stop)
