"""Which files that reach an image are not committed: such a build is marked dirty."""

from __future__ import annotations

from hubimages.core.git import uncommitted_files
from hubimages.model.lineage import recipe
from hubimages.model.spec import Matrix


def uncommitted_inputs(matrix: Matrix, name: str) -> list[str]:
    """Uncommitted files among the image's recipe folders, the repository folders they
    fetch (build_folders) and the matrix (git paths)."""
    paths = [
        str(root.relative_to(matrix.root))
        for spec in recipe(matrix, name)
        for root in matrix.build_files(spec.name).values()
    ]
    paths.append(str(matrix.path.relative_to(matrix.root)))
    return uncommitted_files(matrix.root, paths)
