"""Content hash of everything that goes into an image; stored as a label to skip rebuilds."""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath

from hubimages import RECIPE_VERSION
from hubimages.core.files import folder_files
from hubimages.deps.lockfile import of_other_variant
from hubimages.model.lineage import recipe
from hubimages.model.spec import Matrix


def input_hash(matrix: Matrix, name: str, parent_token: str, dirty: bool = False) -> str:
    """sha256 over the recipe folders' files, the image's lock, its parent and its settings.

    The image's own lock sits in its folder, so it is part of the last recipe folder's files;
    the locks of the other variants are not.
    A build from uncommitted files differs from the same files committed, so committing them
    rebuilds the image with a clean tag and labels.
    """
    spec = matrix.image(name)
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    settings = matrix.settings
    add("recipe", RECIPE_VERSION.encode())
    add("parent", parent_token.encode())
    if dirty:
        add("dirty", b"uncommitted files")
    add(
        "spec",
        json.dumps(
            {
                "name": spec.name,
                "parent": spec.parent,
                "source": spec.source_from,
                "stacks": spec.stacks,
                "display_name": spec.display_name,
                "description": spec.description,
                "variant": matrix.variant.name,
                "suite": settings.debian.suite,
                "python": settings.python,
                "glibc": settings.glibc,
                "platform": settings.platform,
                "index_url": settings.index_url,
            },
            sort_keys=True,
        ).encode(),
    )
    for folder in recipe(matrix, name):
        for served, root in matrix.build_files(folder.name).items():
            for path in folder_files(root):
                if of_other_variant(matrix, path):
                    continue
                inner = PurePosixPath(served, path.relative_to(root).as_posix())
                add(f"{folder.name}/{inner}", path.read_bytes())
    return digest.hexdigest()
