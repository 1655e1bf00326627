"""The `environments:` of build-matrix.yaml: scientists' repositories on platform images.

    environments:
      sdc1-starter:                       # the image name, like an image's
        repository: https://git.example.org/sdc/starter.git   # or a folder, relative to here
        ref: v1.2                         # optional: branch, tag or commit (default: HEAD)
        subdir: binder-env                # optional: build from this folder of the repository
        parent: sdc1                      # the platform image it is built on
        display_name: SDC1 starter kit
        description: The SDC1 starter notebooks and their extra packages.

Each becomes an ImageSpec with a Repository: built by repo2docker after its parent, tested,
released and offered in the spawner profiles like the platform images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hubimages.errors import MatrixError
from hubimages.model.spec import IMAGE_NAME, IMAGES_FOLDER, ImageSpec, Repository

ENVIRONMENT_KEYS = {
    "repository",
    "ref",
    "subdir",
    "parent",
    "display_name",
    "description",
    "default",
}


def parse_environments(path: Path, raw: Any, images: dict[str, ImageSpec]) -> dict[str, ImageSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MatrixError(path, None, "environments", "must be a mapping of environment names")
    return {str(name): _environment(path, name, spec, images) for name, spec in raw.items()}


def _text(path: Path, name: str, key: str, value: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(path, name, key, "must be a non-empty string")
    return value.strip()


def _environment(path: Path, name: Any, raw: Any, images: dict[str, ImageSpec]) -> ImageSpec:
    if not isinstance(name, str) or not IMAGE_NAME.match(name):
        raise MatrixError(
            path,
            str(name),
            None,
            "invalid environment name: use lowercase letters, digits and . _ -",
        )
    if name in images:
        raise MatrixError(path, name, None, "is both an image and an environment; rename one")
    if not isinstance(raw, dict):
        raise MatrixError(path, name, None, "must be a mapping of keys")
    for key in raw:
        if key not in ENVIRONMENT_KEYS:
            raise MatrixError(
                path, name, str(key), f"unknown key; allowed: {', '.join(sorted(ENVIRONMENT_KEYS))}"
            )
    parent = _text(path, name, "parent", raw.get("parent"))
    if parent not in images:
        raise MatrixError(
            path,
            name,
            "parent",
            f"unknown platform image {parent!r}; known images: {', '.join(images)}",
        )
    subdir = _text(path, name, "subdir", raw.get("subdir"), required=False)
    if subdir.startswith("/") or ".." in Path(subdir).parts:
        raise MatrixError(path, name, "subdir", "must be a folder inside the repository")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        raise MatrixError(path, name, "default", "must be true or false")
    repository = Repository(
        url=_text(path, name, "repository", raw.get("repository")),
        ref=_text(path, name, "ref", raw.get("ref"), required=False),
        subdir=subdir,
    )
    return ImageSpec(
        name=name,
        display_name=_text(path, name, "display_name", raw.get("display_name")),
        description=_text(path, name, "description", raw.get("description")),
        parent=parent,
        default=default,
        repository=repository,
        folder=path.parent / IMAGES_FOLDER / name,
        resources=images[parent].resources,  # its platform image's
    )
