"""One way to hash a file and one way to replace one."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# Files that editors and tests leave in image folders but that never reach an image.
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".ruff_cache", ".mypy_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}


def folder_files(folder: Path) -> list[Path]:
    """The files of a folder that count: no caches, no compiled Python, no egg-info."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not IGNORED_PARTS.intersection(p.relative_to(folder).parts)
        and not any(part.endswith(".egg-info") for part in p.relative_to(folder).parts)
        and p.suffix not in IGNORED_SUFFIXES
    )


def file_sha256(path: Path) -> str:
    """sha256 of a file (locks, wheels, sdists), read in chunks: wheels can be large."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path: Path, content: str | bytes) -> None:
    """Readers (and a crash) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content.encode() if isinstance(content, str) else content)
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomically(path, json.dumps(data, indent=2) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def write_private(path: Path, content: str | bytes) -> None:
    """Like write_atomically, readable by the owner only (mode 600 from the start): secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:  # mkstemp makes it mode 600
            out.write(content.encode() if isinstance(content, str) else content)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
