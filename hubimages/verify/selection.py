"""Which tests an image runs: its ancestors', its stacks', its own and the shared checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hubimages.core.files import file_sha256, folder_files
from hubimages.model.lineage import included
from hubimages.model.spec import Matrix

CONTAINER_TESTS = Path("tests/containers")
SHARED = "shared"
# The real services some container tests run (test-only images): part of every suite.
SERVICES = Path("tests/services")
UNIT_TESTS = Path("tests/unit")
# The build tool against the real engine, then releases to a real registry on 127.0.0.1.
ENGINE_TESTS = (Path("tests/engine"), Path("tests/publish"))


def container_test_dirs(matrix: Matrix, name: str) -> list[Path]:
    """tests/containers/<member>/ for each folder the image includes, then the shared checks.

    A community environment is someone else's repository on a platform image: it runs the
    shared checks (and tests/containers/<name>/ if the project writes some), not the platform
    image's own tests, which its repository may deliberately change.
    """
    root = matrix.root / CONTAINER_TESTS
    members = [name] if matrix.image(name).environment else included(matrix, name)
    dirs = [root / member for member in members]
    return [d for d in [*dirs, root / SHARED] if d.is_dir()]


def suite_sha256(matrix: Matrix, name: str) -> str:
    """sha256 of the container tests the image selects and the fixtures and services they
    share."""
    root = matrix.root / CONTAINER_TESTS
    files = sorted(p for p in root.glob("*.py") if p.is_file())
    for folder in container_test_dirs(matrix, name):
        files += folder_files(folder)
    if (matrix.root / SERVICES).is_dir():
        files += folder_files(matrix.root / SERVICES)
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(matrix.root).as_posix()}\0{file_sha256(path)}\n"
                      .encode())
    return digest.hexdigest()
