"""Which matrix, which namespace, which cache: what a command, a test run or a benchmark works
on. The command line, the tests, bench and the CI scripts open the project here, and only here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.load import load_matrix
from hubimages.model.spec import NAMESPACE, NAMESPACE_ENV, Matrix

CHECKOUT = Path(__file__).resolve().parents[2]  # the repository this tool runs from
MATRIX_FILE = "build-matrix.yaml"


@dataclass(frozen=True)
class Project:
    matrix: Matrix
    cache: CacheLayout

    @property
    def root(self) -> Path:
        """The folder of the matrix file: images/, services/, data/ are found from here."""
        return self.matrix.root


def open_project(matrix_path: str | Path | None = None) -> Project:
    """The matrix of --matrix, or this checkout's, built into $HUBIMAGES_NAMESPACE if set (a
    second checkout on the same engine keeps its images apart); its cache (.cache/ beside the
    matrix, or $HUBIMAGES_CACHE)."""
    if matrix_path:
        loaded = load_matrix(Path(matrix_path))
    else:
        loaded = _with_namespace(load_matrix(CHECKOUT / MATRIX_FILE))
    return Project(matrix=loaded, cache=CacheLayout.for_project(loaded.root))


def _with_namespace(loaded: Matrix) -> Matrix:
    namespace = os.environ.get(NAMESPACE_ENV, "")
    if not namespace:
        return loaded
    if not NAMESPACE.match(namespace):
        raise HubImagesError(
            f"{NAMESPACE_ENV}={namespace!r} is not an image namespace: use lowercase a-z0-9._-/"
        )
    return replace(loaded, settings=replace(loaded.settings, namespace=namespace))
