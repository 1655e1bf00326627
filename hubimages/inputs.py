"""Content hash of everything that goes into an image; stored as a label to skip rebuilds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hubimages import RECIPE_VERSION
from hubimages.matrix import Matrix
from hubimages.plan import stages

INPUTS_LABEL = "org.skahub.inputs-hash"
# Files that editors and tests leave in image folders but that never reach an image.
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".ruff_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}


def folder_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file()
        and not IGNORED_PARTS.intersection(p.relative_to(folder).parts)
        and not any(part.endswith(".egg-info") for part in p.relative_to(folder).parts)
        and p.suffix not in IGNORED_SUFFIXES
    )


def input_hash(matrix: Matrix, name: str, parent_id: str) -> str:
    """sha256 over the stage folders' files, the image's lock, its parent and its settings."""
    spec = matrix.image(name)
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    settings = matrix.settings
    add("recipe", RECIPE_VERSION.encode())
    add("parent", parent_id.encode())
    add("spec", json.dumps({
        "name": spec.name, "parent": spec.parent, "source": spec.source_from,
        "stacks": spec.stacks, "display_name": spec.display_name,
        "description": spec.description, "python": settings.python,
        "platform": settings.platform, "index_url": settings.index_url,
    }, sort_keys=True).encode())
    for stage in stages(matrix, name):
        for path in folder_files(stage.folder):
            add(f"{stage.name}/{path.relative_to(stage.folder).as_posix()}", path.read_bytes())
    # The image's own lock sits in its folder, so it is part of the last stage's files.
    return digest.hexdigest()
