"""docker-stacks' own test suite, from a local checkout of jupyter/docker-stacks, against our
base: `invoke conformance --suite PATH`.

Their harness tests `<registry>/<owner>/<image>:latest` with registry docker.io or quay.io; our
base is tagged under a private owner for the run and untagged afterwards, so that no real
upstream tag is ever shadowed. Their test dependencies come from PyPI into a venv of their own
under .cache/, resolved with hashes and no newer than the checkout (the same checkout always
gets the same packages). The conda-specific test files are left out; the suite is not modified:
what our engine needs is in our pytest plugin (conformance_plugin). Not run in CI: it needs PyPI.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docker import DockerClient
from docker.errors import APIError, NotFound

from hubimages.core.cache import CacheLayout
from hubimages.core.git import commit_time
from hubimages.core.tools import uv_command
from hubimages.errors import HubImagesError
from hubimages.verify.conformance_plugin import LABEL
from hubimages.verify.conformance_report import ConformanceReport, file_results

log = logging.getLogger(__name__)

REGISTRY = "quay.io"  # their --registry accepts docker.io or quay.io only
OWNER = "skahub-conformance"
# Their image folders under tests/by_image, parents first, and the files left out of each:
# they check conda, mamba and conda-forge packages, which our venv does not have.
EXCLUDED = {
    "docker-stacks-foundation": (
        "test_package_managers",
        "test_packages",
        "test_outdated",
        "test_python_version",
        "test_rosetta_junk",
        "test_units",
    ),
    "base-notebook": ("test_pandoc",),
}
REQUIREMENTS = "requirements-dev.txt"
NOT_NEEDED = {"pre-commit"}  # their linters' runner; no test imports it
PLUGIN = "hubimages.verify.conformance_plugin"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # where `hubimages` imports from
WORKERS = 2


@dataclass(frozen=True)
class Suite:
    root: Path

    @property
    def requirements(self) -> Path:
        return self.root / REQUIREMENTS

    def folder(self, image: str) -> Path:
        return self.root / "tests" / "by_image" / image


def check_suite(path: Path) -> Suite:
    """The checkout, or one line saying what is missing."""
    suite = Suite(path.resolve())
    clone = "clone https://github.com/jupyter/docker-stacks and pass its folder"
    if not suite.root.is_dir():
        raise HubImagesError(f"--suite {path}: no such folder; {clone}")
    missing = [
        str(p.relative_to(suite.root))
        for p in [
            suite.requirements,
            suite.root / "tests" / "conftest.py",
            *(suite.folder(image) for image in EXCLUDED),
        ]
        if not p.exists()
    ]
    if missing:
        raise HubImagesError(
            f"--suite {path}: not a checkout of jupyter/docker-stacks (missing "
            f"{', '.join(missing)}); {clone}"
        )
    return suite


def suite_requirements(suite: Suite) -> list[str]:
    """Their pinned test dependencies, without the ones the tests do not use."""
    lines = [line.split("#", 1)[0].strip() for line in suite.requirements.read_text().splitlines()]
    return [
        line for line in lines if line and line.split("==")[0].strip().lower() not in NOT_NEEDED
    ]


def suite_date(suite: Suite) -> datetime.datetime:
    """When the checkout was made: its commit, or the requirements file (git archive sets it)."""
    seconds = commit_time(suite.root, "HEAD") or int(suite.requirements.stat().st_mtime)
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def suite_venv(suite: Suite, cache: CacheLayout, index_url: str) -> Path:
    """A venv with their test dependencies, made once per requirements and date."""
    requirements = suite_requirements(suite)
    date = suite_date(suite).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = hashlib.sha256("\n".join([date, *requirements]).encode()).hexdigest()[:16]
    folder = cache.conformance / f"venv-{key}"
    python = folder / "bin" / "python"
    if (folder / "ready").is_file():
        return python
    folder.parent.mkdir(parents=True, exist_ok=True)
    source = folder.parent / f"requirements-{key}.in"
    lock = folder.parent / f"requirements-{key}.lock"
    source.write_text("\n".join(requirements) + "\n")
    log.info("resolving %s of the suite (no package newer than %s)", REQUIREMENTS, date)
    _uv(
        [
            "pip",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--no-header",
            "--index-url",
            index_url,
            "--exclude-newer",
            date,
            str(source),
            "-o",
            str(lock),
        ]
    )
    _uv(["venv", "--quiet", "--allow-existing", str(folder)])
    _uv(
        [
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "--index-url",
            index_url,
            "--python",
            str(python),
            "-r",
            str(lock),
        ]
    )
    (folder / "ready").write_text(lock.read_text())
    return python


def _uv(args: list[str]) -> None:
    done = subprocess.run(
        [*uv_command(), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_NATIVE_TLS": "1"},
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        raise HubImagesError(
            f"uv {args[0]} {args[1]} for the suite's venv failed: "
            f"{last[0] if last else done.returncode}"
        )


def pytest_command(python: Path, suite: Suite, image: str, junit: Path) -> list[str]:
    ignored = [f"--ignore={suite.folder(image) / f'{name}.py'}" for name in EXCLUDED[image]]
    return [
        str(python),
        "-m",
        "pytest",
        "-p",
        PLUGIN,
        "-p",
        "no:cacheprovider",
        "--color=no",
        f"--numprocesses={WORKERS}",
        "-m",
        "not info",
        str(suite.folder(image)),
        *ignored,
        f"--registry={REGISTRY}",
        f"--owner={OWNER}",
        f"--image={image}",
        f"--junitxml={junit}",
    ]


def run_conformance(
    client: DockerClient, image_id: str, suite: Suite, cache: CacheLayout, index_url: str
) -> ConformanceReport:
    """Their suite, folder by folder, against image_id; tags and leftovers removed after."""
    python = suite_venv(suite, cache, index_url)
    results = cache.conformance / "results"
    results.mkdir(parents=True, exist_ok=True)
    tags = [f"{REGISTRY}/{OWNER}/{image}:latest" for image in EXCLUDED]
    report = ConformanceReport(image_id)
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        for tag in tags:
            repository, _, name = tag.rpartition(":")
            client.images.get(image_id).tag(repository, name)
        for image in EXCLUDED:
            junit = results / f"{image}.xml"
            junit.unlink(missing_ok=True)
            log.info(
                "docker-stacks suite: tests/by_image/%s (log: %s)", image, junit.with_suffix(".log")
            )
            with junit.with_suffix(".log").open("w") as out:
                subprocess.run(
                    pytest_command(python, suite, image, junit),
                    cwd=suite.root,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            report.files.extend(file_results(image, junit))
    finally:
        remove_leftovers(client, tags)
    return report


def remove_leftovers(client: DockerClient, tags: list[str]) -> None:
    """The run's tags, and the containers and networks the suite made and did not remove."""
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=1"}):
        _quietly(functools.partial(container.remove, force=True))
    for network in client.networks.list(filters={"label": f"{LABEL}=1"}):
        _quietly(network.remove)
    for tag in tags:
        _quietly(functools.partial(client.images.remove, tag, noprune=True))


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except NotFound:
        pass
    except APIError as error:
        log.warning("cleanup: %s", error)
