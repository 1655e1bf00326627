"""A hash-locked requirements file, read once into a value that every step of a build shares."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from hubimages.errors import HubImagesError, display_path
from hubimages.model.spec import Matrix

REQUIREMENTS_IN = "requirements.in"
# One lock per variant: requirements.<variant>.lock, resolved for that variant's Python.
LOCK_NAME = re.compile(r"^requirements\.([a-z0-9]+(?:[._-][a-z0-9]+)*)\.lock$")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class LockedRequirement:
    name: str
    version: str
    hashes: frozenset[str]

    @property
    def normalized(self) -> str:
        return normalize(self.name)

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Lock:
    """One image's lock: its bytes (served to the build as they are) and its entries."""

    image: str
    path: Path
    text: bytes
    requirements: tuple[LockedRequirement, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text).hexdigest()

    def versions(self) -> dict[str, str]:
        """Normalized project name -> pinned version."""
        return {r.normalized: r.version for r in self.requirements}


def lock_name(variant: str) -> str:
    """The file name of a variant's lock in an image folder."""
    return f"requirements.{variant}.lock"


def lock_path(matrix: Matrix, name: str) -> Path:
    """The lock of an image in the matrix's variant."""
    return matrix.image(name).folder / lock_name(matrix.variant.name)


def of_other_variant(matrix: Matrix, path: Path) -> bool:
    """Whether a file is another variant's lock: it reaches no image of this variant."""
    match = LOCK_NAME.match(path.name)
    return match is not None and match.group(1) != matrix.variant.name


def load_lock(matrix: Matrix, name: str) -> Lock:
    path = lock_path(matrix, name)
    if not path.is_file():
        raise HubImagesError(
            f"images/{name}/{path.name} is missing: run `invoke lock -i {name}` (every "
            "variant's locks are resolved together)"
        )
    return read_lock(path, name)


def read_lock(path: Path, image: str = "") -> Lock:
    """Parse a `--generate-hashes` lock; every entry must be pinned with == and hashed."""
    data = path.read_bytes()
    return Lock(
        image=image or path.parent.name,
        path=path,
        text=data,
        requirements=parse_lock(data.decode(), path),
    )


def parse_lock(text: str, path: Path) -> tuple[LockedRequirement, ...]:
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
                f"{display_path(path)} entry {line.split()[0]!r}: not pinned with == and "
                "--hash; regenerate it with `invoke lock`"
            )
        entries.append(LockedRequirement(match.group(1), match.group(2), hashes))
    return tuple(entries)
