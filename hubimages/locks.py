"""Hash-locked requirements: resolve them with uv down the lineage, and read them back."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hubimages.errors import HubImagesError
from hubimages.matrix import Matrix
from hubimages.plan import build_order, descendants, included

log = logging.getLogger(__name__)

REQUIREMENTS_IN = "requirements.in"
LOCK = "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


@dataclass(frozen=True)
class LockedRequirement:
    name: str
    version: str
    hashes: frozenset[str]
    lock: Path | None = field(default=None, compare=False)  # the file it was read from

    @property
    def normalized(self) -> str:
        return normalize(self.name)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_path(matrix: Matrix, name: str) -> Path:
    return matrix.image(name).folder / LOCK


def read_lock(path: Path) -> list[LockedRequirement]:
    """Parse a `--generate-hashes` lock; every entry must be pinned with == and hashed."""
    text = path.read_text()
    entries: list[LockedRequirement] = []
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
        if not match or not hashes:
            raise HubImagesError(
                f"{path.name} entry {line.split()[0]!r}: not pinned with == and --hash; "
                f"regenerate it with `invoke lock`")
        entries.append(LockedRequirement(match.group(1), match.group(2), hashes, path))
    return entries


def file_sha256(path: Path) -> str:
    """sha256 of a file (locks, wheels, sdists), read in chunks: wheels can be large."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def lock_images(matrix: Matrix, names: list[str], upgrade: bool = False) -> list[Path]:
    """Regenerate the locks of the named images (all if none) and of their descendants.

    Each lock is the whole environment of its image: the requirements of every folder it
    includes, resolved together, constrained by the parent's lock so versions agree down
    the lineage. Parents are locked first.
    """
    targets = set(names or matrix.images)
    for name in list(targets):
        targets.update(descendants(matrix, name))
    written = []
    for name in build_order(matrix, targets):
        if name in targets:
            written.append(_lock_one(matrix, name, upgrade))
    return written


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    return [sys.executable, "-m", "uv"]


def _lock_one(matrix: Matrix, name: str, upgrade: bool) -> Path:
    root = matrix.root
    spec = matrix.image(name)
    inputs = [matrix.images[n].folder / REQUIREMENTS_IN for n in included(matrix, name)]
    inputs = [p for p in inputs if p.is_file()]
    out = spec.folder / LOCK
    cmd = [
        *_uv(), "pip", "compile", "--quiet", "--generate-hashes", "--no-header",
        "--python-version", matrix.settings.python,
        "--python-platform", f"{matrix.settings.machine}-manylinux_2_36",
        "--index-url", matrix.settings.index_url,
        # Builds install wheels only (no compilers, no code run at build time): lock wheels only.
        "--only-binary", ":all:",
        "--output-file", str(out.relative_to(root)),
        *(str(p.relative_to(root)) for p in inputs),
    ]
    if spec.parent is not None:
        cmd += ["--constraint", str(lock_path(matrix, spec.parent).relative_to(root))]
    if upgrade:
        cmd.append("--upgrade")
    links = _local_wheels(matrix, name)
    if links is not None:
        cmd += ["--find-links", os.path.relpath(links, root)]
    log.info("%s: locking %s", name, " + ".join(str(p.relative_to(root)) for p in inputs))
    # Relative paths keep the lock's `# via` comments free of this machine's paths.
    result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False,
                            env=_uv_env())
    if result.returncode != 0:
        detail = " ".join(result.stderr.strip().splitlines()[-6:])
        raise HubImagesError(f"images/{name}: locking failed: {detail}")
    header = (f"# Locked by `invoke lock {name}` for Python {matrix.settings.python} on "
              f"{matrix.settings.platform}; do not edit.\n")
    out.write_text(header + out.read_text())
    log.info("%s: %d packages locked", name, len(read_lock(out)))
    return out


def _local_wheels(matrix: Matrix, name: str) -> Path | None:
    """Build the local wheels the image's folders declare (see localwheels); their folder."""
    from hubimages.builder import cache_dir
    from hubimages.localwheels import declared, find_links_for_lock

    wheels = declared(matrix.images[n].folder for n in included(matrix, name))
    return find_links_for_lock(wheels, matrix.settings.index_url, cache_dir(matrix), name)


def _uv_env() -> dict[str, str]:
    # The host may trust an intercepting proxy's CA that only the system store holds.
    return {**os.environ, "UV_NATIVE_TLS": "1"}
