"""Load and validate build-matrix.yaml: the single source of truth of lineage and settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hubimages.errors import MatrixError

IMAGE_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
NAMESPACE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# An image reference: [registry[:port]/]path[:tag][@sha256:digest]
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
# Debian suites we know the python3 of; the matrix's python must match what the suite ships.
SUITE_PYTHON = {"bookworm": "3.11", "trixie": "3.13"}

SETTINGS_KEYS = {"namespace", "python", "platform", "debian", "index_url", "wheelhouse_port"}
DEBIAN_KEYS = {"suite", "mirror"}
IMAGE_KEYS = {
    "source", "parent", "stacks", "display_name", "description", "tag_packages", "default",
}
PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}


@dataclass(frozen=True)
class DebianSettings:
    suite: str
    mirror: str


@dataclass(frozen=True)
class Settings:
    namespace: str
    python: str
    platform: str
    debian: DebianSettings
    index_url: str = "https://pypi.org/simple"
    wheelhouse_port: int = 8765

    @property
    def machine(self) -> str:
        """The uname -m of the target platform (x86_64, aarch64)."""
        return PLATFORMS[self.platform]


@dataclass(frozen=True)
class ImageSpec:
    name: str
    display_name: str
    description: str
    parent: str | None = None
    source_from: str | None = None  # upstream reference; None with no parent means bootstrap
    stacks: tuple[str, ...] = ()
    tag_packages: tuple[str, ...] = ()
    default: bool = False
    folder: Path = field(default=Path("."), compare=False)

    @property
    def bootstrapped(self) -> bool:
        return self.parent is None and self.source_from is None


@dataclass(frozen=True)
class Matrix:
    path: Path
    settings: Settings
    images: dict[str, ImageSpec]

    @property
    def root(self) -> Path:
        return self.path.parent

    def image(self, name: str) -> ImageSpec:
        if name not in self.images:
            known = ", ".join(self.images)
            raise MatrixError(self.path, name, None, f"unknown image; known images: {known}")
        return self.images[name]


def load_matrix(path: Path) -> Matrix:
    """Parse and validate the matrix; raise MatrixError naming file, image and key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise MatrixError(path, None, None, "file not found; create it or pass --matrix") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MatrixError(path, None, None, f"invalid YAML{where}: fix the syntax") from None
    if not isinstance(raw, dict):
        raise MatrixError(path, None, None, "top level must be a mapping with settings and images")
    _check_keys(path, None, "", raw, {"settings", "images"})
    settings = _load_settings(path, raw.get("settings"))
    images_raw = raw.get("images")
    if not isinstance(images_raw, dict) or not images_raw:
        raise MatrixError(path, None, "images", "must be a non-empty mapping of image names")
    images = {
        name: _load_image(path, name, spec) for name, spec in images_raw.items()
    }
    matrix = Matrix(path=path, settings=settings, images=images)
    _check_references(matrix)
    _check_cycles(matrix)
    _check_folders(matrix)
    return matrix


def _check_keys(path: Path, image: str | None, prefix: str, data: dict, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise MatrixError(path, image, f"{prefix}{key}", f"unknown key; allowed: {hint}")


def _require_str(path: Path, image: str | None, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(path, image, key, "must be a non-empty string")
    return value


def _load_settings(path: Path, raw: Any) -> Settings:
    if not isinstance(raw, dict):
        raise MatrixError(path, None, "settings", "must be a mapping")
    _check_keys(path, None, "settings.", raw, SETTINGS_KEYS)
    for key in ("namespace", "python", "platform", "debian"):
        if key not in raw:
            raise MatrixError(path, None, f"settings.{key}", "missing; add it")
    namespace = _require_str(path, None, "settings.namespace", raw["namespace"])
    if not NAMESPACE.match(namespace):
        raise MatrixError(path, None, "settings.namespace",
                          f"invalid image namespace {namespace!r}: use lowercase a-z0-9._-/")
    python = str(raw["python"])
    if not re.fullmatch(r"3\.\d+", python):
        raise MatrixError(path, None, "settings.python", f"{python!r} is not like 3.11")
    platform = raw["platform"]
    if platform not in PLATFORMS:
        raise MatrixError(path, None, "settings.platform",
                          f"{platform!r} unsupported; use one of {', '.join(PLATFORMS)}")
    debian = raw["debian"]
    if not isinstance(debian, dict):
        raise MatrixError(path, None, "settings.debian", "must be a mapping with suite and mirror")
    _check_keys(path, None, "settings.debian.", debian, DEBIAN_KEYS)
    suite = _require_str(path, None, "settings.debian.suite", debian.get("suite"))
    mirror = _require_str(path, None, "settings.debian.mirror", debian.get("mirror"))
    if not re.match(r"^(https?|file)://", mirror):
        raise MatrixError(path, None, "settings.debian.mirror", f"{mirror!r} is not a URL")
    if suite in SUITE_PYTHON and SUITE_PYTHON[suite] != python:
        raise MatrixError(path, None, "settings.python",
                          f"{python} does not match Debian {suite}'s python3 "
                          f"{SUITE_PYTHON[suite]}; set it to {SUITE_PYTHON[suite]}")
    extra: dict[str, Any] = {}
    if "index_url" in raw:
        extra["index_url"] = _require_str(path, None, "settings.index_url", raw["index_url"])
    if "wheelhouse_port" in raw:
        port = raw["wheelhouse_port"]
        if not isinstance(port, int) or not 0 <= port < 65536:
            raise MatrixError(path, None, "settings.wheelhouse_port", "must be a port number")
        extra["wheelhouse_port"] = port
    return Settings(namespace=namespace, python=python, platform=platform,
                    debian=DebianSettings(suite=suite, mirror=mirror.rstrip("/")), **extra)


def _load_image(path: Path, name: Any, raw: Any) -> ImageSpec:
    if not isinstance(name, str) or not IMAGE_NAME.match(name):
        raise MatrixError(path, str(name), None,
                          "invalid image name: use lowercase letters, digits and . _ -")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MatrixError(path, name, None, "must be a mapping of keys")
    _check_keys(path, name, "", raw, IMAGE_KEYS)
    parent = raw.get("parent")
    source = raw.get("source")
    if parent is not None and source is not None:
        raise MatrixError(path, name, "source",
                          "an image has either a parent or a source; remove one")
    if parent is None and source is None:
        raise MatrixError(path, name, "parent",
                          "missing; give a parent image, or a source for a root image")
    source_from = None
    if source is not None:
        source_from = _load_source(path, name, source)
    if parent is not None:
        parent = _require_str(path, name, "parent", parent)
    stacks = raw.get("stacks", [])
    if not isinstance(stacks, list) or not all(isinstance(s, str) for s in stacks):
        raise MatrixError(path, name, "stacks", "must be a list of image names")
    if len(set(stacks)) != len(stacks):
        raise MatrixError(path, name, "stacks", "lists a stack twice; remove the duplicate")
    tag_packages = raw.get("tag_packages", [])
    if not isinstance(tag_packages, list) or not all(isinstance(s, str) for s in tag_packages):
        raise MatrixError(path, name, "tag_packages", "must be a list of package names")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        raise MatrixError(path, name, "default", "must be true or false")
    return ImageSpec(
        name=name,
        display_name=_require_str(path, name, "display_name", raw.get("display_name")),
        description=_require_str(path, name, "description", raw.get("description")),
        parent=parent,
        source_from=source_from,
        stacks=tuple(stacks),
        tag_packages=tuple(tag_packages),
        default=default,
        folder=path.parent / "images" / name,
    )


def _load_source(path: Path, name: str, source: Any) -> str | None:
    if source == "bootstrap":
        return None
    if isinstance(source, dict) and set(source) == {"from"}:
        ref = source["from"]
        if isinstance(ref, str) and IMAGE_REFERENCE.match(ref):
            return ref
        raise MatrixError(path, name, "source.from",
                          f"{ref!r} is not a valid image reference like quay.io/org/image:tag")
    raise MatrixError(path, name, "source",
                      "must be 'bootstrap' or a mapping {from: <image reference>}")


def _check_references(matrix: Matrix) -> None:
    for spec in matrix.images.values():
        if spec.parent is not None and spec.parent not in matrix.images:
            raise MatrixError(matrix.path, spec.name, "parent",
                              f"unknown parent {spec.parent!r}; define it under images")
        for stack in spec.stacks:
            if stack not in matrix.images:
                raise MatrixError(matrix.path, spec.name, "stacks",
                                  f"unknown stack {stack!r}; define it under images")
            if stack == spec.name:
                raise MatrixError(matrix.path, spec.name, "stacks", "an image cannot stack itself")
    defaults = [s.name for s in matrix.images.values() if s.default]
    if len(defaults) > 1:
        raise MatrixError(matrix.path, defaults[1], "default",
                          f"only one image may be the default (also {defaults[0]})")


def _check_cycles(matrix: Matrix) -> None:
    """Walk parent and stack edges; a node met again on the current path is a cycle."""
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = " -> ".join([*trail[trail.index(name):], name])
            raise MatrixError(matrix.path, name, "parent",
                              f"lineage cycle {cycle}; break it")
        state[name] = "active"
        spec = matrix.images[name]
        for dep in ([spec.parent] if spec.parent else []) + list(spec.stacks):
            visit(dep, [*trail, name])
        state[name] = "done"

    for name in matrix.images:
        visit(name, [])


def _check_folders(matrix: Matrix) -> None:
    for spec in matrix.images.values():
        if not spec.folder.is_dir():
            raise MatrixError(matrix.path, spec.name, None,
                              f"folder images/{spec.name}/ is missing; create it")
        if not (spec.folder / "Dockerfile").is_file():
            raise MatrixError(matrix.path, spec.name, None,
                              f"images/{spec.name}/Dockerfile is missing; create it")
