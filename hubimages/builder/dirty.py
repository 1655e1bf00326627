"""Which files that reach an image are not committed: such a build is marked dirty."""

from __future__ import annotations

from pathlib import Path

from hubimages.core.git import uncommitted_files
from hubimages.deps.lockfile import of_other_variant
from hubimages.model.lineage import recipe
from hubimages.model.spec import Matrix


def uncommitted_inputs(matrix: Matrix, name: str) -> list[str]:
    """Uncommitted files among the image's recipe folders, the repository folders they
    fetch (build_folders) and the matrix (git paths); another variant's locks do not reach
    the image."""
    paths = [
        str(root.relative_to(matrix.root))
        for spec in recipe(matrix, name)
        for root in matrix.build_files(spec.name).values()
    ]
    paths.append(str(matrix.path.relative_to(matrix.root)))
    return [
        path
        for path in uncommitted_files(matrix.root, paths)
        if not of_other_variant(matrix, Path(path))
    ]
