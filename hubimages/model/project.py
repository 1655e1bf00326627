"""Which matrix, which variant, which namespace, which cache: what a command, a test run or a
benchmark works on. The command line, the tests, bench and the CI scripts open the project here,
and only here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from hubimages.core.cache import CacheLayout
from hubimages.errors import HubImagesError
from hubimages.model.load import load_matrix
from hubimages.model.spec import NAMESPACE, NAMESPACE_ENV, Matrix, Variant

CHECKOUT = Path(__file__).resolve().parents[2]  # the repository this tool runs from
MATRIX_FILE = "build-matrix.yaml"
ALL_VARIANTS = "all"  # --variant all


@dataclass(frozen=True)
class Project:
    """The matrix as one variant sees it, and that variant's cache."""

    matrix: Matrix
    cache: CacheLayout

    @property
    def root(self) -> Path:
        """The folder of the matrix file: images/, services/, data/ are found from here."""
        return self.matrix.root

    @property
    def variant(self) -> Variant:
        return self.matrix.variant

    def for_variant(self, name: str) -> Project:
        return Project(self.matrix.for_variant(name), self.cache.for_variant(name))

    def variants(self, names: Sequence[str] = ()) -> list[Project]:
        """The variants --variant names (repeatable, or `all`), in matrix order; the default
        variant when none is named. An unknown name fails before anything is done."""
        known = list(self.matrix.variants)
        if not names:
            return [self.for_variant(self.matrix.default_variant.name)]
        if ALL_VARIANTS in names:
            return [self.for_variant(name) for name in known]
        for name in names:
            if name not in known:
                raise HubImagesError(
                    f"--variant {name}: {self.matrix.path.name} has no such variant; "
                    f"known: {', '.join(known)} (or {ALL_VARIANTS})"
                )
        return [self.for_variant(name) for name in known if name in names]


def open_project(matrix_path: str | Path | None = None, variant: str = "") -> Project:
    """The matrix of --matrix, or this checkout's, built into $HUBIMAGES_NAMESPACE if set (a
    second checkout on the same engine keeps its images apart), as `variant` (default: the
    matrix's default variant) sees it; its cache (.cache/ beside the matrix, or
    $HUBIMAGES_CACHE)."""
    if matrix_path:
        loaded = load_matrix(Path(matrix_path))
    else:
        loaded = _with_namespace(load_matrix(CHECKOUT / MATRIX_FILE))
    project = Project(matrix=loaded, cache=CacheLayout.for_project(loaded.root))
    return project.for_variant(variant or loaded.default_variant.name)


def open_variants(matrix_path: str | Path | None, names: Sequence[str]) -> list[Project]:
    """The project once per variant --variant names (the default one when none)."""
    return open_project(matrix_path).variants(names)


def _with_namespace(loaded: Matrix) -> Matrix:
    namespace = os.environ.get(NAMESPACE_ENV, "")
    if not namespace:
        return loaded
    if not NAMESPACE.match(namespace):
        raise HubImagesError(
            f"{NAMESPACE_ENV}={namespace!r} is not an image namespace: use lowercase a-z0-9._-/"
        )
    return replace(loaded, settings=replace(loaded.settings, namespace=namespace))
