"""What a repository asks for, read the way repo2docker documents it, and what we refuse.

Configuration files live in `binder/` or `.binder/` (not both), else in the repository's root:
`requirements.txt`, `apt.txt`, `postBuild`, `start`, `runtime.txt`, or a `Dockerfile` (then
everything else is ignored); none at all is fine (the repository's files on the platform).
Without a binder folder, a Python package at the root (setup.py, or pyproject.toml with
[project] and [build-system]) is installed too. Specifications that need
conda, R, Julia or nix cannot be honoured on our images: they are refused, by name, rather than
silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hubimages.errors import HubImagesError

UNSUPPORTED = {
    "environment.yml": "a conda environment: our images have no conda; use requirements.txt",
    "environment.yaml": "a conda environment: our images have no conda; use requirements.txt",
    "Pipfile": "Pipenv: use requirements.txt",
    "Pipfile.lock": "Pipenv: use requirements.txt",
    "install.R": "R packages: our images have no R",
    "DESCRIPTION": "an R package: our images have no R",
    "Project.toml": "Julia: our images have no Julia",
    "REQUIRE": "Julia: our images have no Julia",
    "default.nix": "nix: not available on our images",
}
DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


@dataclass(frozen=True)
class RepoConfig:
    root: Path
    binder: Path  # the folder the configuration files are read from
    dockerfile: Path | None = None
    requirements: Path | None = None
    package: bool = False  # install the repository itself as a Python package
    apt_packages: tuple[str, ...] = ()
    post_build: Path | None = None
    start: Path | None = None

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def binder_folder(root: Path) -> Path:
    binder, dotted = root / "binder", root / ".binder"
    if binder.is_dir() and dotted.is_dir():
        raise HubImagesError("the repository has both binder/ and .binder/: keep one")
    return binder if binder.is_dir() else dotted if dotted.is_dir() else root


def read_config(root: Path, python: str) -> RepoConfig:
    """The repository's configuration, checked; one clear error for what is not supported."""
    folder = binder_folder(root)
    for name, why in UNSUPPORTED.items():
        if (folder / name).is_file():
            raise HubImagesError(f"{(folder / name).relative_to(root)}: {why}")
    if (folder / "Dockerfile").is_file():
        return RepoConfig(root, folder, dockerfile=folder / "Dockerfile")
    _check_runtime(root, folder, python)
    # No file at all is valid too (repo2docker's specification): the repository's files on
    # the platform image, which is the default environment here.
    return RepoConfig(
        root,
        folder,
        requirements=_file(folder, "requirements.txt"),
        package=folder == root and _is_python_package(root),
        apt_packages=_apt_packages(root, folder),
        post_build=_file(folder, "postBuild"),
        start=_file(folder, "start"),
    )


def _file(folder: Path, name: str) -> Path | None:
    path = folder / name
    return path if path.is_file() else None


def _check_runtime(root: Path, folder: Path, python: str) -> None:
    path = folder / "runtime.txt"
    if not path.is_file():
        return
    text = path.read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)(?:\.\d+)?", text)
    if match is None:
        raise HubImagesError(
            f"{path.relative_to(root)}: {text!r} is not supported; only "
            f"python-{python} (the platform image's Python) is"
        )
    if f"{match.group(1)}.{match.group(2)}" != python:
        raise HubImagesError(
            f"{path.relative_to(root)}: asks for Python "
            f"{match.group(1)}.{match.group(2)}, but the platform image has "
            f"{python}: build it on an image with that Python, or change "
            "runtime.txt"
        )


def _apt_packages(root: Path, folder: Path) -> tuple[str, ...]:
    path = folder / "apt.txt"
    if not path.is_file():
        return ()
    packages = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        name = line.partition("#")[0].strip()
        if not name:
            continue
        if not DEBIAN_PACKAGE.match(name):
            raise HubImagesError(
                f"{path.relative_to(root)}:{number}: {name!r} is not a Debian "
                "package name (one name per line, no versions or commands)"
            )
        packages.append(name)
    return tuple(sorted(set(packages)))


def _is_python_package(root: Path) -> bool:
    if (root / "setup.py").is_file():
        return True
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise HubImagesError(f"pyproject.toml: {exc}") from None
    return "project" in data and "build-system" in data


BUILDKIT_ONLY = re.compile(r"^\s*(#\s*syntax=|.*--(mount|chmod|link)\b|.*<<-?\s*['\"]?\w+)", re.I)


def check_dockerfile(config: RepoConfig) -> None:
    """A repository's Dockerfile builds here only on the platform image, classic syntax."""
    if config.dockerfile is None:
        return
    where = config.relative(config.dockerfile)
    lines = config.dockerfile.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        if BUILDKIT_ONLY.match(line):
            raise HubImagesError(
                f"{where}:{number}: {line.strip()!r} needs BuildKit, which "
                "this engine does not have: use plain Dockerfile syntax"
            )
    first = next((line.split() for line in lines if line.strip().upper().startswith("FROM ")), None)
    if first is None or first[1] not in ("${BASE_IMAGE}", "$BASE_IMAGE"):
        raise HubImagesError(
            f"{where}: start with `ARG BASE_IMAGE` and `FROM ${{BASE_IMAGE}}`: "
            "the build passes the platform image there, and no other image "
            "can be pulled"
        )
