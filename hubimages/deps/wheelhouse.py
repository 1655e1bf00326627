"""Fetch exactly the locked wheels on the host, once, into a cache shared by every image.

Each lock entry becomes one file: a wheel built on the host (deps.catalog) or the index's file
whose sha256 the lock names, for the best wheel tag the image's Python accepts. Every check that
can be made on the host is made here, so a wrong lock fails before any build starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_version, parse_wheel_filename

from hubimages.core.files import file_sha256
from hubimages.deps.catalog import LocalWheelCatalog
from hubimages.deps.index import IndexFile, PackageIndex
from hubimages.deps.lockfile import Lock, LockedRequirement
from hubimages.errors import HubImagesError
from hubimages.model.spec import Settings

log = logging.getLogger(__name__)

FETCH_WORKERS = 8
OLDEST_GLIBC_MINOR = 17
# The newest manylinux tag uv (pyproject.toml's pin) resolves for; a newer libc runs those
# wheels all the same.
UV_NEWEST_MANYLINUX = 40


def uv_platform(settings: Settings) -> str:
    """uv's --python-platform for the variant: its machine and glibc."""
    minor = min(settings.glibc_minor, UV_NEWEST_MANYLINUX)
    return f"{settings.machine}-manylinux_2_{minor}"


def target_tags(settings: Settings) -> list[Tag]:
    """Wheel tags the variant's Python and glibc accept, best first."""
    major, minor = (int(x) for x in settings.python.split("."))
    arch = settings.machine
    newest = settings.glibc_minor
    platforms = [f"manylinux_2_{v}_{arch}" for v in range(newest, OLDEST_GLIBC_MINOR - 1, -1)]
    platforms += [f"manylinux2014_{arch}", f"linux_{arch}"]
    return [
        *cpython_tags((major, minor), platforms=platforms),
        *compatible_tags((major, minor), platforms=platforms),
    ]


def _version_of(filename: str) -> str | None:
    try:
        return str(parse_wheel_filename(filename)[1])
    except InvalidWheelFilename:
        return None


def choose_wheel(req: LockedRequirement, files: Iterable[IndexFile], tags: list[Tag]) -> IndexFile:
    """The locked file that suits the image best: hash in the lock, wheel, best tag, version."""
    files = tuple(files)
    rank = {tag: i for i, tag in enumerate(tags)}
    best: tuple[int, IndexFile] | None = None
    for entry in files:
        if entry.sha256 not in req.hashes or not entry.filename.endswith(".whl"):
            continue
        _, version, _, file_tags = parse_wheel_filename(entry.filename)
        if canonicalize_version(version) != canonicalize_version(req.version):
            raise HubImagesError(
                f"{req.pin}: the locked hash {entry.sha256[:12]}... is the file "
                f"{entry.filename}, of version {version}: regenerate the lock with `invoke lock`"
            )
        score = min((rank[t] for t in file_tags if t in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, entry)
    if best is None:
        raise HubImagesError(_why_nothing_fits(req, files))
    return best[1]


def _why_nothing_fits(req: LockedRequirement, files: tuple[IndexFile, ...]) -> str:
    wanted = canonicalize_version(req.version)
    of_version = [
        f
        for f in files
        if f.filename.endswith(".whl")
        and (v := _version_of(f.filename))
        and canonicalize_version(v) == wanted
    ]
    sdists = [f for f in files if f.sha256 in req.hashes and not f.filename.endswith(".whl")]
    if not of_version and not sdists:
        return (
            f"{req.pin}: the index has no file of version {req.version}: fix the pin in "
            "requirements.in and run `invoke lock`"
        )
    if of_version and not any(f.sha256 in req.hashes for f in of_version):
        return (
            f"{req.pin}: no locked hash matches a file of version {req.version} on the "
            "index (was the lock edited?): regenerate it with `invoke lock`"
        )
    return (
        f"{req.pin}: no wheel for this platform among the locked hashes (sdist-only?); "
        "pin a version with wheels and rerun `invoke lock`"
    )


def fetch(
    lock: Lock, settings: Settings, folder: Path, index: PackageIndex, catalog: LocalWheelCatalog
) -> list[Path]:
    """Download each locked wheel once into the shared folder; verify every hash."""
    tags = target_tags(settings)
    folder.mkdir(parents=True, exist_ok=True)

    def one(req: LockedRequirement) -> Path:
        local = catalog.wheel_for(req.name, req.version, req.hashes)
        if local is not None:
            return local
        wheel = choose_wheel(req, index.files(req.normalized), tags)
        target = folder / wheel.filename
        if target.is_file() and file_sha256(target) == wheel.sha256:
            return target
        index.download(wheel, target)
        return target

    unique = {r.normalized: r for r in lock.requirements}
    with ThreadPoolExecutor(FETCH_WORKERS) as pool:
        return list(pool.map(one, unique.values()))
