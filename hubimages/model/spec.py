"""The values build-matrix.yaml describes: settings, images, the matrix."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hubimages.errors import MatrixError
from hubimages.model.resources import Resources
from hubimages.model.workflow_spec import WorkflowSpec

IMAGE_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# A repository path under a registry host: image names joined by slashes.
# Overrides settings.namespace of the checkout's matrix (a second checkout keeps its images).
NAMESPACE_ENV = "HUBIMAGES_NAMESPACE"
NAMESPACE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
# An image reference: [registry[:port]/]path[:tag][@sha256:digest]
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
PLATFORMS = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
IMAGES_FOLDER = "images"


@dataclass(frozen=True)
class DebianSettings:
    suite: str
    mirror: str
    security_mirror: str = ""  # where <suite>-security lives; "" only when set to none

    def sources(self) -> list[str]:
        """The apt sources of every image: the release, its point updates, its security
        updates (without the last, no image would ever get a security fix)."""
        lines = [
            f"deb {self.mirror} {self.suite} main",
            f"deb {self.mirror} {self.suite}-updates main",
        ]
        if self.security_mirror:
            lines.append(f"deb {self.security_mirror} {self.suite}-security main")
        return lines

    @property
    def mirrors(self) -> list[str]:
        return [m for m in (self.mirror, self.security_mirror) if m]


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
class Repository:
    """A scientist's repository (Binder style), built with repo2docker onto a platform image."""

    url: str  # a git URL the host reaches, or a folder (relative to the matrix file)
    ref: str = ""  # branch, tag or commit; "" is the repository's HEAD
    subdir: str = ""  # build from this folder of the repository


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
    # Folders of the repository (paths relative to the matrix) its Dockerfile may fetch with
    # with-build-files, beside its own folder's files: data written once, e.g. data/sdc1.
    build_folders: tuple[str, ...] = ()
    folder: Path = field(default=Path("."), compare=False)
    repository: Repository | None = None  # set for a community environment
    resources: Resources | None = None  # what its user servers get (model/resources.py)

    @property
    def bootstrapped(self) -> bool:
        return self.parent is None and self.source_from is None

    @property
    def environment(self) -> bool:
        """A community environment: a repository built onto its parent, not a folder here."""
        return self.repository is not None


@dataclass(frozen=True)
class Matrix:
    path: Path
    settings: Settings
    images: dict[str, ImageSpec]
    workflows: dict[str, WorkflowSpec] = field(default_factory=dict)  # docs/workflows.md

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def images_folder(self) -> Path:
        """Where every image folder lives (and so every local-wheels declaration)."""
        return self.root / IMAGES_FOLDER

    def image(self, name: str) -> ImageSpec:
        if name not in self.images:
            known = ", ".join(self.images)
            raise MatrixError(self.path, name, None, f"unknown image; known images: {known}")
        return self.images[name]

    def build_files(self, name: str) -> dict[str, Path]:
        """What `with-build-files` may fetch while the folder `name` is built, by the path it
        asks for: the folder's own files (under "") and each of its build_folders."""
        spec = self.image(name)
        return {"": spec.folder, **{path: self.root / path for path in spec.build_folders}}

    def local_ref(self, name: str, tag: str = "latest") -> str:
        """The engine's name of a built image: <namespace>/<image>:<tag>."""
        return f"{self.repository(name)}:{tag}"

    def repository(self, name: str) -> str:
        return f"{self.settings.namespace}/{name}"
