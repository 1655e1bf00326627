"""Which tests an image runs: its ancestors', its stacks', its own and the shared checks; and
the real services some of them run against: services/<folder>/ (e.g. the Rucio server, also
started for admins) and the test-only service images of tests/services/ (part of every suite)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hubimages.core.files import file_sha256, folder_files
from hubimages.model.lineage import included
from hubimages.model.spec import Matrix

CONTAINER_TESTS = Path("tests/containers")
SHARED = "shared"
SERVICES = Path("services")
TEST_SERVICES = Path("tests/services")
UNIT_TESTS = Path("tests/unit")
# The build tool against the real engine, then releases to a real registry on 127.0.0.1.
ENGINE_TESTS = (Path("tests/engine"), Path("tests/publish"))


def container_test_dirs(matrix: Matrix, name: str) -> list[Path]:
    """tests/containers/<member>/ for each folder the image includes, then the shared checks.

    A community environment is someone else's repository on a platform image: it runs the
    shared checks (and tests/containers/<name>/ if the project writes some), not the platform
    image's own tests, which its repository may deliberately change.

    In a variant that is not the default, an image runs its own folder's tests and the shared
    checks; its ancestors' and its stacks' tests run on those images, built in this variant too
    (a variant that excludes a stack excludes what stacks it). What an ancestor's or a stack's
    tests catch on another image is that image's recipe breaking their promise (start.sh,
    hooks, the venv, a stack applied on another parent), and a recipe is the same in every
    variant: the default variant checks that on every image. What differs between variants,
    the Debian packages and the Python packages (the same down a lineage: a lock is
    constrained by its parent's), is tested on the image that brings them, and the shared
    checks import every package of every image.
    """
    root = matrix.root / CONTAINER_TESTS
    if matrix.image(name).environment:
        members = [name]
    elif matrix.variant.default:
        members = included(matrix, name)
    else:
        members = [name]
    dirs = [root / member for member in members]
    return [d for d in [*dirs, root / SHARED] if d.is_dir()]


def service_dirs(matrix: Matrix, name: str) -> list[Path]:
    """services/<member>/ for each folder the image includes that has one."""
    return [d for d in (matrix.root / SERVICES / m for m in included(matrix, name)) if d.is_dir()]


def suite_sha256(matrix: Matrix, name: str) -> str:
    """sha256 of the container tests the image selects, the fixtures they share and the
    services they run against (their own and the test-only ones)."""
    root = matrix.root / CONTAINER_TESTS
    files = sorted(p for p in root.glob("*.py") if p.is_file())
    for folder in [*container_test_dirs(matrix, name), *service_dirs(matrix, name)]:
        files += folder_files(folder)
    if (matrix.root / TEST_SERVICES).is_dir():
        files += folder_files(matrix.root / TEST_SERVICES)
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(matrix.root).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()
