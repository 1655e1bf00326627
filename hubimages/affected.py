"""Which images a change touches: what CI builds and tests on a pull request.

A file reaches an image by the same paths the build and the test selection use: the folders of
its stages (its stacks and itself), the container-test folders of what it includes, the matrix.
Every image whose parent chain or stacks go through a touched image is touched too.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml

from hubimages import gitinfo
from hubimages.errors import HubImagesError
from hubimages.matrix import IMAGE_NAME, Matrix, load_matrix
from hubimages.plan import ancestors, build_order, descendants, included, stages

MATRIX_FILE = "build-matrix.yaml"
# Code of the build tool itself: any image may come out differently.
TOOL_PATHS = ("hubimages/", "tasks.py", "pyproject.toml", "setup.sh", ".ci/")
CONTAINER_TESTS = "tests/containers/"


def matrix_changes(old: Matrix | None, new: Matrix) -> set[str]:
    """Images whose matrix entry (or the settings that reach every image) changed."""
    if old is None or old.settings != new.settings:
        return set(new.images)
    return {name for name in new.images
            if old.images.get(name) != new.images[name]}  # folder is not compared


def touched_by_file(matrix: Matrix, path: str) -> set[str]:
    """Images a single changed file reaches directly (descendants come later)."""
    parts = Path(path).parts
    if path.startswith(TOOL_PATHS):
        return set(matrix.images)
    if len(parts) >= 3 and parts[0] == "images":
        return {name for name in matrix.images
                if parts[1] in (s.name for s in stages(matrix, name))}
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
    if not gitinfo.is_commit(root, since):
        raise HubImagesError(
            f"--since {since!r}: not a commit of this repository; fetch it first (in CI: "
            "checkout with fetch-depth: 0) or pass a branch, tag or sha that exists")
    return gitinfo.changed_files(root, since), old_matrix(root, since)


def old_matrix(root: Path, ref: str) -> Matrix | None:
    """The matrix at `ref`, or None when it did not exist or does not load there."""
    text = gitinfo.file_at(root, ref, MATRIX_FILE)
    if text is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            # Validation wants each image folder with a Dockerfile: give it empty ones.
            for name in (yaml.safe_load(text) or {}).get("images", {}) or {}:
                if not IMAGE_NAME.match(str(name)):
                    return None  # an invalid matrix there: everything counts as changed
                (folder / "images" / str(name)).mkdir(parents=True)
                (folder / "images" / str(name) / "Dockerfile").write_text("")
            (folder / MATRIX_FILE).write_text(text)
            return load_matrix(folder / MATRIX_FILE)
        except (HubImagesError, yaml.YAMLError, AttributeError, TypeError, OSError):
            return None


def stages_for_ci(matrix: Matrix, names: list[str]) -> list[list[dict[str, str]]]:
    """Images grouped by lineage depth: a stage's parents are all in earlier stages."""
    depth = max((len(ancestors(matrix, name)) for name in matrix.images), default=0)
    groups: list[list[dict[str, str]]] = [[] for _ in range(depth + 1)]
    for name in names:
        groups[len(ancestors(matrix, name))].append(
            {"image": name, "parent": matrix.images[name].parent or ""})
    return groups


def github_outputs(matrix: Matrix, names: list[str]) -> dict[str, str]:
    """`key=value` outputs for a GitHub Actions job: images, and stage-N lists for matrices."""
    outputs = {"images": json.dumps(names)}
    for index, group in enumerate(stages_for_ci(matrix, names)):
        outputs[f"stage-{index}"] = json.dumps(group)
    return outputs
