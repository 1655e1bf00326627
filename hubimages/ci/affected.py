"""Which images a change touches: what CI builds and tests on a pull request.

A file reaches an image by the same paths the build and the test selection use: its recipe
folders (its stacks and itself) and the repository folders they fetch (build_folders), the
container-test and service folders of what it includes, the matrix.
Every image whose parent chain or stacks go through a touched image is touched too.
"""

from __future__ import annotations

from pathlib import Path

from hubimages.core.git import changed_files, file_at, is_commit
from hubimages.deps.lockfile import of_other_variant
from hubimages.errors import HubImagesError
from hubimages.model.lineage import build_order, descendants, included, recipe
from hubimages.model.parse import parse_matrix
from hubimages.model.spec import Matrix
from hubimages.verify.selection import SERVICES, TEST_SERVICES

MATRIX_FILE = "build-matrix.yaml"
# Code of the build tool itself: any image may come out differently.
TOOL_PATHS = ("hubimages/", "tasks.py", "pyproject.toml", "setup.sh", ".ci/")
CONTAINER_TESTS = "tests/containers/"


def matrix_changes(old: Matrix | None, new: Matrix) -> set[str]:
    """Images whose matrix entry (or the settings or variant that reach every image) changed;
    `new` is one variant's view, compared with the same variant of `old`."""
    if old is not None and new.variant.name in old.variants:
        old = old.for_variant(new.variant.name)
    else:
        old = None  # a new variant: everything in it is new
    if old is None or old.settings != new.settings or old.variant != new.variant:
        return set(new.images)
    return {
        name for name in new.images if old.images.get(name) != new.images[name]
    }  # folder is not compared


def touched_by_file(matrix: Matrix, path: str) -> set[str]:
    """Images a single changed file reaches directly (descendants come later)."""
    parts = Path(path).parts
    if path.startswith(TOOL_PATHS):
        return set(matrix.images)
    if of_other_variant(matrix, Path(path)):
        return set()  # another variant's lock
    local = {
        name
        for name, spec in matrix.images.items()
        if spec.repository is not None and _inside(matrix, spec.repository.url, path)
    }
    if local:
        return local
    fetched = {
        name
        for name in matrix.images
        if any(
            Path(path).is_relative_to(folder)
            for spec in recipe(matrix, name)
            for folder in spec.build_folders
        )
    }
    if fetched:
        return fetched
    if len(parts) >= 3 and parts[0] == "images":
        return {
            name for name in matrix.images if parts[1] in (s.name for s in recipe(matrix, name))
        }
    if len(parts) >= 3 and Path(parts[0]) == SERVICES and parts[1] in matrix.images:
        return {name for name in matrix.images if parts[1] in included(matrix, name)}
    if Path(path).is_relative_to(TEST_SERVICES):
        return set(matrix.images)  # test-only services are part of every suite
    if path.startswith(CONTAINER_TESTS):
        if len(parts) >= 4 and parts[2] in matrix.images:
            return {name for name in matrix.images if parts[2] in included(matrix, name)}
        return set(matrix.images)  # shared checks, conftest, helpers: every image's tests
    return set()


def affected_images(matrix: Matrix, changed: list[str], old_matrix: Matrix | None) -> list[str]:
    """The images touched by the changed paths, and their descendants, in build order."""
    touched: set[str] = set()
    for path in changed:
        if path == MATRIX_FILE:
            touched |= matrix_changes(old_matrix, matrix)
        else:
            touched |= touched_by_file(matrix, path)
    for name in list(touched):
        touched.update(descendants(matrix, name))
    return [name for name in build_order(matrix) if name in touched]


def changed_since(root: Path, since: str) -> tuple[list[str], Matrix | None]:
    """Paths changed since `since` (committed or not) and the matrix as it was there."""
    if not is_commit(root, since):
        raise HubImagesError(
            f"--since {since!r}: not a commit of this repository; fetch it first (in CI: "
            "checkout with fetch-depth: 0) or pass a branch, tag or sha that exists"
        )
    return changed_files(root, since), old_matrix(root, since)


def old_matrix(root: Path, ref: str) -> Matrix | None:
    """The matrix at `ref`, or None when it did not exist or is not valid there."""
    text = file_at(root, ref, MATRIX_FILE)
    if text is None:
        return None
    try:
        return parse_matrix(text, root / MATRIX_FILE)
    except HubImagesError:
        return None  # an invalid matrix there: everything counts as changed


def _inside(matrix: Matrix, repository: str, path: str) -> bool:
    """Whether a changed file lies in an environment's repository kept in this checkout."""
    if "://" in repository or repository.startswith("git@"):
        return False
    folder = (matrix.root / repository).resolve()
    return (matrix.root / path).resolve().is_relative_to(folder)
