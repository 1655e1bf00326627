"""build-matrix.yaml's text to a Matrix: every check that needs nothing but the text.

Pure: no file is read or looked at here, so an old matrix from git parses like the current one.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from hubimages.errors import MatrixError
from hubimages.model.acceptances import parse_acceptances
from hubimages.model.checks import check_keys, require_str
from hubimages.model.environments import parse_environments
from hubimages.model.resources import parse_resources
from hubimages.model.settings import parse_settings
from hubimages.model.spec import (
    IMAGE_NAME,
    IMAGE_REFERENCE,
    IMAGES_FOLDER,
    PYTHON_PLACEHOLDER,
    ImageSpec,
    Matrix,
)
from hubimages.model.variants import check_exclusions, parse_variants
from hubimages.model.workflows import parse_workflows
from hubimages.model.yamlfile import YamlError, parse_yaml

IMAGE_KEYS = {"source", "parent", "stacks", "display_name", "description", "tag_packages"}
IMAGE_KEYS |= {"default", "resources", "build_folders"}


def parse_matrix(text: str, path: Path) -> Matrix:
    """Validate the matrix text; raise MatrixError naming file, image and key."""
    try:
        raw = parse_yaml(text)
    except YamlError as problem:
        raise MatrixError(path, None, None, str(problem)) from None
    if not isinstance(raw, dict):
        raise MatrixError(path, None, None, "top level must be a mapping with settings and images")
    top = {"settings", "variants", "images", "environments", "workflows", "vulnerabilities"}
    check_keys(path, None, "", raw, top)
    settings = parse_settings(path, raw.get("settings"))
    images_raw = raw.get("images")
    if not isinstance(images_raw, dict) or not images_raw:
        raise MatrixError(path, None, "images", "must be a non-empty mapping of image names")
    images = {str(name): _image(path, name, spec) for name, spec in images_raw.items()}
    images.update(parse_environments(path, raw.get("environments"), images))
    variants = parse_variants(path, raw.get("variants"))
    default = next(v for v in variants.values() if v.default)
    accepted = parse_acceptances(path, raw.get("vulnerabilities"), set(images), set(variants))
    matrix = Matrix(
        path=path,
        settings=settings,
        images=images,
        variants=variants,
        variant=default,
        declared=images,
        accepted=accepted,
        workflows=parse_workflows(path, raw.get("workflows"), images, variants),
    )
    _check_references(matrix)
    _check_cycles(matrix)
    check_exclusions(matrix)
    return matrix.for_variant(default.name)


def _image(path: Path, name: Any, raw: Any) -> ImageSpec:
    if not isinstance(name, str) or not IMAGE_NAME.match(name):
        raise MatrixError(
            path, str(name), None, "invalid image name: use lowercase letters, digits and . _ -"
        )
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise MatrixError(path, name, None, "must be a mapping of keys")
    check_keys(path, name, "", raw, IMAGE_KEYS)
    parent, source_from = _lineage(path, name, raw)
    default = raw.get("default", False)
    if not isinstance(default, bool):
        raise MatrixError(path, name, "default", "must be true or false")
    return ImageSpec(
        name=name,
        display_name=require_str(path, name, "display_name", raw.get("display_name")),
        description=require_str(path, name, "description", raw.get("description")),
        parent=parent,
        source_from=source_from,
        stacks=_names(path, name, "stacks", raw.get("stacks", []), "image names"),
        tag_packages=_names(
            path, name, "tag_packages", raw.get("tag_packages", []), "package names"
        ),
        default=default,
        folder=path.parent / IMAGES_FOLDER / name,
        resources=parse_resources(path, name, raw.get("resources")),
        build_folders=_build_folders(path, name, raw.get("build_folders", [])),
    )


def _build_folders(path: Path, image: str, value: Any) -> tuple[str, ...]:
    """Repository folders for with-build-files: relative, inside the repository, not images/
    (an image folder is served as itself), and not one inside another."""
    folders = _names(path, image, "build_folders", value, "folders of the repository")
    for folder in folders:
        parts = PurePosixPath(folder).parts
        if folder.startswith("/") or not parts or ".." in parts or "." in folder.split("/"):
            raise MatrixError(
                path,
                image,
                "build_folders",
                f"{folder!r}: give a folder relative to the matrix file, like data/sdc1",
            )
        if parts[0] == IMAGES_FOLDER:
            raise MatrixError(
                path, image, "build_folders", f"{folder!r}: image folders are served as stacks"
            )
    for folder in folders:
        inside = [o for o in folders if o != folder and o.startswith(folder.rstrip("/") + "/")]
        if inside:
            raise MatrixError(
                path, image, "build_folders", f"{inside[0]!r} is inside {folder!r}; keep one"
            )
    return tuple(f.rstrip("/") for f in folders)


def _lineage(path: Path, name: str, raw: dict[str, Any]) -> tuple[str | None, str | None]:
    parent, source = raw.get("parent"), raw.get("source")
    if parent is not None and source is not None:
        raise MatrixError(
            path, name, "source", "an image has either a parent or a source; remove one"
        )
    if parent is None and source is None:
        raise MatrixError(
            path, name, "parent", "missing; give a parent image, or a source for a root image"
        )
    if parent is not None:
        return require_str(path, name, "parent", parent), None
    return None, _source(path, name, source)


def _names(path: Path, image: str, key: str, value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise MatrixError(path, image, key, f"must be a list of {what}")
    if len(set(value)) != len(value):
        raise MatrixError(path, image, key, "lists a name twice; remove the duplicate")
    return tuple(value)


def _source(path: Path, name: str, source: Any) -> str | None:
    if source == "bootstrap":
        return None
    if isinstance(source, dict) and set(source) == {"from"}:
        ref = source["from"]
        if isinstance(ref, str) and IMAGE_REFERENCE.match(ref.replace(PYTHON_PLACEHOLDER, "3.0")):
            return ref
        raise MatrixError(
            path,
            name,
            "source.from",
            f"{ref!r} is not a valid image reference like quay.io/org/image:tag",
        )
    raise MatrixError(
        path, name, "source", "must be 'bootstrap' or a mapping {from: <image reference>}"
    )


def _check_references(matrix: Matrix) -> None:
    for spec in matrix.images.values():
        if spec.parent is not None and spec.parent not in matrix.images:
            raise MatrixError(
                matrix.path,
                spec.name,
                "parent",
                f"unknown parent {spec.parent!r}; define it under images",
            )
        for stack in spec.stacks:
            if stack not in matrix.images:
                raise MatrixError(
                    matrix.path,
                    spec.name,
                    "stacks",
                    f"unknown stack {stack!r}; define it under images",
                )
            if stack == spec.name:
                raise MatrixError(matrix.path, spec.name, "stacks", "an image cannot stack itself")
    defaults = [s.name for s in matrix.images.values() if s.default]
    if len(defaults) > 1:
        raise MatrixError(
            matrix.path,
            defaults[1],
            "default",
            f"only one image may be the default (also {defaults[0]})",
        )


def _check_cycles(matrix: Matrix) -> None:
    """Walk parent and stack edges; a node met again on the current path is a cycle."""
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in done:
            return
        if name in trail:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise MatrixError(matrix.path, name, "parent", f"lineage cycle {cycle}; break it")
        spec = matrix.images[name]
        for dep in ([spec.parent] if spec.parent else []) + list(spec.stacks):
            visit(dep, [*trail, name])
        done.add(name)

    for name in matrix.images:
        visit(name, [])
