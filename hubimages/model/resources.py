"""The `resources:` of an image in build-matrix.yaml: what a user server of it is guaranteed and
may use. The spawner profiles carry them (publish/limits.py): KubeSpawner's guarantees and
limits, DockerSpawner's host config.

    resources:
      cpu_guarantee: 0.5     # CPUs
      cpu_limit: 2
      mem_guarantee: 1G      # bytes, with K, M, G or T (powers of 1024)
      mem_limit: 4G
      pids_limit: 1024       # processes and threads of the server

Every key is required; a guarantee is at most its limit. A community environment gets its
platform image's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubimages.errors import MatrixError

KEYS = ("cpu_guarantee", "cpu_limit", "mem_guarantee", "mem_limit", "pids_limit")
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT])$")


@dataclass(frozen=True)
class Resources:
    cpu_guarantee: float
    cpu_limit: float
    mem_guarantee: int  # bytes
    mem_limit: int
    pids_limit: int


def memory_text(size: int) -> str:
    """Bytes as the spawners read them: the largest unit that divides it (4294967296 -> 4G)."""
    for unit, factor in sorted(UNITS.items(), key=lambda kv: -kv[1]):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _number(path: Path, image: str, key: str, value: Any, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise MatrixError(path, image, f"resources.{key}", "must be a positive number")
    if whole and not isinstance(value, int):
        raise MatrixError(path, image, f"resources.{key}", "must be a whole number")
    return float(value)


def _size(path: Path, image: str, key: str, value: Any) -> int:
    match = SIZE.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise MatrixError(
            path, image, f"resources.{key}", f"{value!r} is not a size like 512M or 4G"
        )
    return int(float(match.group(1)) * UNITS[match.group(2)])


def parse_resources(path: Path, image: str, raw: Any) -> Resources | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise MatrixError(path, image, "resources", f"must be a mapping of {', '.join(KEYS)}")
    for key in raw:
        if key not in KEYS:
            raise MatrixError(
                path, image, f"resources.{key}", f"unknown key; allowed: {', '.join(KEYS)}"
            )
    missing = [key for key in KEYS if key not in raw]
    if missing:
        raise MatrixError(path, image, f"resources.{missing[0]}", "missing; add it")
    found = Resources(
        cpu_guarantee=_number(path, image, "cpu_guarantee", raw["cpu_guarantee"]),
        cpu_limit=_number(path, image, "cpu_limit", raw["cpu_limit"]),
        mem_guarantee=_size(path, image, "mem_guarantee", raw["mem_guarantee"]),
        mem_limit=_size(path, image, "mem_limit", raw["mem_limit"]),
        pids_limit=int(_number(path, image, "pids_limit", raw["pids_limit"], whole=True)),
    )
    if found.cpu_guarantee > found.cpu_limit:
        raise MatrixError(path, image, "resources.cpu_guarantee", "is above cpu_limit")
    if found.mem_guarantee > found.mem_limit:
        raise MatrixError(path, image, "resources.mem_guarantee", "is above mem_limit")
    return found
