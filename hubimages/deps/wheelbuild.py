"""Build a declared local wheel on the host: verified sdist, isolated `uv build`, our edits.

`uv build` runs isolated, with no config files, build dependencies no newer than the sdist's
upload and a fixed SOURCE_DATE_EPOCH; deps.wheeledit then makes the bytes reproducible.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from hubimages.core.cache import CacheLayout
from hubimages.core.files import file_sha256
from hubimages.core.tools import uv_command
from hubimages.deps.declarations import LocalWheel
from hubimages.deps.esm import fetch_tarball
from hubimages.deps.index import IndexFile, PackageIndex
from hubimages.deps.wheeledit import rewrite
from hubimages.errors import HubImagesError, display_path

log = logging.getLogger(__name__)

EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
# Build dependencies are taken as they were when the sdist was uploaded, but not from before
# the Python that builds it was released: older setuptools does not run on it (an sdist of
# 2014 without [build-system], like docopt 0.6.2, builds). Fixed dates: rebuilds give the same
# bytes.
PYTHON_RELEASED = {
    (3, 11): "2022-10-24T00:00:00Z",
    (3, 12): "2023-10-02T00:00:00Z",
    (3, 13): "2024-10-07T00:00:00Z",
}
_building = threading.Lock()  # parallel image builds may want the same wheel


def find_built(wheel: LocalWheel, folder: Path) -> list[Path]:
    """Wheels of this declaration already in the folder (any tag)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.whl") if _is_of(p.name, wheel))


def _is_of(filename: str, wheel: LocalWheel) -> bool:
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except ValueError:
        return False
    return name == wheel.normalized and str(version) == wheel.local_version


def ensure(
    wheel: LocalWheel, index: PackageIndex, cache: CacheLayout, rebuild: bool = False
) -> Path:
    """The built wheel in the cache, built from the verified sdist when missing.

    Locking passes rebuild=True, so an edited declaration never pins a stale file.
    """
    with _building:
        if not rebuild and (found := find_built(wheel, cache.local_wheels)):
            return found[0]
        sdist = fetch_sdist(wheel, index, cache.sdists)
        tarball = _inline_tarball(wheel, index, cache)
        return build(wheel, sdist, cache.local_wheels, index, tarball=tarball)


def _inline_tarball(wheel: LocalWheel, index: PackageIndex, cache: CacheLayout) -> Path | None:
    """The npm tarball of the wheel's inline_esm, if it declares one."""
    if wheel.inline_esm is None:
        return None
    try:
        return fetch_tarball(wheel.inline_esm, cache.npm_tarballs, index)
    except HubImagesError as exc:
        raise HubImagesError(
            f"{display_path(wheel.source)}: {wheel.project}: inline_esm: "
            f"{exc}; check its tarball URL and sha256"
        ) from None


def fetch_sdist(wheel: LocalWheel, index: PackageIndex, folder: Path) -> Path:
    """Download the declared sdist once; its sha256 must be the declared one."""
    for candidate in sorted(folder.glob("*")) if folder.is_dir() else []:
        if candidate.name.endswith(".partial") or candidate.name.startswith("."):
            continue
        if _sdist_of(candidate.name, wheel) and file_sha256(candidate) == wheel.sdist_sha256:
            return candidate
    entry = _declared_file(wheel, index)
    if not _sdist_of(entry.filename, wheel):
        raise HubImagesError(
            f"{display_path(wheel.source)}: {wheel.project}: the file with sha256 "
            f"{wheel.sdist_sha256[:12]}... is {entry.filename}, not the {wheel.version} sdist"
        )
    target = folder / entry.filename
    index.download(entry, target)
    return target


def _declared_file(wheel: LocalWheel, index: PackageIndex) -> IndexFile:
    for entry in index.files(wheel.normalized):
        if entry.sha256 == wheel.sdist_sha256:
            return entry
    raise HubImagesError(
        f"{display_path(wheel.source)}: {wheel.project}: no file with sha256 "
        f"{wheel.sdist_sha256[:12]}... on {index.url}; check sdist_sha256"
    )


def _sdist_of(filename: str, wheel: LocalWheel) -> bool:
    try:
        name, version = parse_sdist_filename(filename)
    except ValueError:
        return False
    return name == wheel.normalized and str(version) == wheel.version


def build(
    wheel: LocalWheel,
    sdist: Path,
    out_dir: Path,
    index: PackageIndex,
    exclude_newer: str | None = None,
    tarball: Path | None = None,
) -> Path:
    """Build the sdist in an isolated uv build, apply the edits (and inline the ES module of
    the npm `tarball` where declared), write the wheel atomically."""
    if exclude_newer is None:
        exclude_newer = upload_time(wheel, index)
    with tempfile.TemporaryDirectory(prefix="localwheel-") as tmp:
        built = build_wheel(sdist, Path(tmp), index, exclude_newer, wheel.pin)
        return rewrite(built, wheel, out_dir, tarball)


def build_wheel(
    source: Path, out_dir: Path, index: PackageIndex, exclude_newer: str = "", what: str = ""
) -> Path:
    """`uv build --wheel` of an sdist or a source folder, isolated, into out_dir: the wheel.

    Build dependencies come from the index (no config files of this machine); with
    exclude_newer, as they were then, so a rebuild gives the same bytes.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        *uv_command(),
        "build",
        "--wheel",
        "--no-config",
        "--quiet",
        "--python",
        sys.executable,
        "--default-index",
        index.url,
        "--out-dir",
        str(out_dir),
    ]
    if exclude_newer:
        cmd += ["--exclude-newer", exclude_newer]
    cmd.append(str(source))
    log.info("building %s from %s", what or source.name, source.name)
    result = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env=_build_env(), cwd=out_dir
    )
    built = sorted(out_dir.glob("*.whl"))
    if result.returncode != 0 or len(built) != 1:
        detail = " ".join((result.stderr or result.stdout).strip().splitlines()[-4:])
        raise HubImagesError(f"building {what or source.name} from {source.name} failed: {detail}")
    return built[0]


def upload_time(wheel: LocalWheel, index: PackageIndex) -> str:
    """The cut-off for the build dependencies: the sdist's upload (see above), or none when
    the index does not say."""
    for entry in index.files(wheel.normalized):
        if entry.sha256 == wheel.sdist_sha256:
            oldest = PYTHON_RELEASED.get(sys.version_info[:2], "")
            return max(entry.upload_time, oldest) if entry.upload_time else ""
    return ""


def _build_env() -> dict[str, str]:
    # No UV_* settings of this machine (find-links, indexes): only what the command line says.
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_") or k == "UV_CACHE_DIR"}
    # The host may trust an intercepting proxy's CA that only the system store holds.
    return {**env, "UV_NATIVE_TLS": "1", "SOURCE_DATE_EPOCH": str(EPOCH), "PYTHONHASHSEED": "0"}
