"""`invoke lock`: resolve the hash-locked requirements of images down the lineage, in every
variant, all or nothing.

Each lock is the whole environment of its image in one variant: the requirements of every folder
it includes, resolved together for that variant's Python and glibc, constrained by its parent's
lock of the same variant so versions agree down the lineage. Parents are resolved first, in a
scratch copy of the images folder, so a child is constrained by its parent's new lock; the locks
are written only when every one of them, in every variant, resolved.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from hubimages.core.cache import CacheLayout
from hubimages.core.files import write_atomically
from hubimages.core.tools import uv_command
from hubimages.deps.catalog import LocalWheelCatalog
from hubimages.deps.declarations import DECLARATIONS
from hubimages.deps.index import PackageIndex
from hubimages.deps.lockfile import LOCK_NAME, REQUIREMENTS_IN, lock_name, parse_lock
from hubimages.deps.wheelhouse import uv_platform
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order, descendants, included
from hubimages.model.spec import IMAGES_FOLDER, Matrix

# uv's words for a requirement with no wheel, when building from source is off (as here).
SDIST_ONLY = re.compile(r"Wheels are required for `([^`]+)` because building from source")

log = logging.getLogger(__name__)


def lock_targets(matrix: Matrix, names: list[str]) -> list[str]:
    """The named images (all if none) and their descendants, parents first; community
    environments resolve their repository's requirements when they are built, not here."""
    targets = set(names or matrix.images)
    for name in list(targets):
        targets.update(descendants(matrix, name))
    return [
        name
        for name in build_order(matrix, targets)
        if name in targets and not matrix.images[name].environment
    ]


def lock_images(
    views: list[Matrix],
    names: list[str],
    index: PackageIndex,
    cache: CacheLayout,
    upgrade: bool = False,
) -> list[Path]:
    """Resolve every target of every variant (one matrix view each) in a scratch tree; write
    the locks only if all of them resolved."""
    plan = [(matrix, name) for matrix in views for name in lock_targets(matrix, names)]
    with tempfile.TemporaryDirectory(prefix="hubimages-lock-") as tmp:
        scratch = Path(tmp)
        for matrix in views:
            _copy_inputs(matrix, scratch)
        for matrix, name in plan:
            try:
                # A lock sees only the local wheels of the folders its image includes.
                catalog = LocalWheelCatalog.of_folders(
                    (matrix.images[n].folder for n in included(matrix, name)), index, cache
                )
                _resolve(matrix, name, scratch, upgrade, catalog)
            except HubImagesError as exc:
                kept = ", ".join(f"images/{n}/{lock_name(m.variant.name)}" for m, n in plan)
                raise HubImagesError(
                    f"{exc} (variant {matrix.variant.name}; no lock was changed: {kept})"
                ) from None
        return [_install(matrix, scratch, name) for matrix, name in plan]


def _copy_inputs(matrix: Matrix, scratch: Path) -> None:
    """requirements.in and the variant's current locks of every image, at the same relative
    paths. Relative paths keep the locks' `# via` comments free of this machine's paths.
    """
    for spec in matrix.images.values():
        folder = scratch / IMAGES_FOLDER / spec.name
        folder.mkdir(parents=True, exist_ok=True)
        for file in (REQUIREMENTS_IN, lock_name(matrix.variant.name)):
            if (spec.folder / file).is_file():
                shutil.copyfile(spec.folder / file, folder / file)


def stale_locks(matrix: Matrix) -> list[Path]:
    """Locks of variants the matrix no longer has (left for the user to delete)."""
    return sorted(
        path
        for spec in matrix.declared.values()
        if spec.folder.is_dir()
        for path in spec.folder.iterdir()
        if (match := LOCK_NAME.match(path.name)) and match.group(1) not in matrix.variants
    )


def _resolve(
    matrix: Matrix, name: str, scratch: Path, upgrade: bool, catalog: LocalWheelCatalog
) -> None:
    settings = matrix.settings
    spec = matrix.image(name)
    inputs = [
        f"{IMAGES_FOLDER}/{n}/{REQUIREMENTS_IN}"
        for n in included(matrix, name)
        if (scratch / IMAGES_FOLDER / n / REQUIREMENTS_IN).is_file()
    ]
    lock = lock_name(matrix.variant.name)
    out = f"{IMAGES_FOLDER}/{name}/{lock}"
    cmd = [
        *uv_command(),
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--no-header",
        "--python-version",
        settings.python,
        "--python-platform",
        uv_platform(settings),
        "--index-url",
        settings.index_url,
        # Builds install wheels only (no compilers, no code run at build time): lock wheels only.
        "--only-binary",
        ":all:",
        "--output-file",
        out,
        *inputs,
    ]
    if spec.parent is not None:
        cmd += ["--constraint", f"{IMAGES_FOLDER}/{spec.parent}/{lock}"]
    if upgrade:
        cmd.append("--upgrade")
    links = catalog.find_links_for_lock(name)
    if links is not None:
        cmd += ["--find-links", str(links)]
    log.info("%s (%s): locking %s", name, matrix.variant.name, " + ".join(inputs))
    result = subprocess.run(
        cmd,
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_NATIVE_TLS": "1"},
    )
    if result.returncode != 0:
        raise HubImagesError(locking_error(name, result.stderr))
    path = scratch / out
    header = (
        f"# Locked by `invoke lock` for the variant {matrix.variant.name} (Python "
        f"{settings.python}, glibc {settings.glibc}) on {settings.platform}; do not edit.\n"
    )
    path.write_text(header + path.read_text())
    log.info(
        "%s (%s): %d packages resolved",
        name,
        matrix.variant.name,
        len(parse_lock(path.read_text(), path)),
    )


def locking_error(name: str, output: str) -> str:
    """One line: uv's last words, and the fix where we know it (an sdist-only requirement)."""
    detail = " ".join(output.strip().splitlines()[-6:])
    sdist_only = SDIST_ONLY.search(output)
    if sdist_only is None:
        return f"{IMAGES_FOLDER}/{name}: locking failed: {detail}"
    project = sdist_only.group(1)
    return (
        f"{IMAGES_FOLDER}/{name}: locking failed: {project} has no wheel on the index (an sdist "
        f"only) and builds install wheels only: declare it in "
        f"{IMAGES_FOLDER}/{name}/{DECLARATIONS}, built on the host from its pinned sdist "
        "(images/README.md, 'Wheels built on the host'), then lock again"
    )


def _install(matrix: Matrix, scratch: Path, name: str) -> Path:
    lock = lock_name(matrix.variant.name)
    target = matrix.image(name).folder / lock
    write_atomically(target, (scratch / IMAGES_FOLDER / name / lock).read_bytes())
    return target
