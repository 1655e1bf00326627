"""The values build-matrix.yaml describes: settings, images, the matrix."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from hubimages.errors import MatrixError
from hubimages.model.acceptances import Acceptance
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
    """The settings of one variant's build: the matrix's settings, with the variant's Debian
    suite, Python and glibc filled in (Matrix.for_variant)."""

    namespace: str
    python: str  # major.minor of the variant's python3
    platform: str
    debian: DebianSettings
    glibc: str  # major.minor of the variant's libc: the newest manylinux wheels it runs
    index_url: str = "https://pypi.org/simple"
    wheelhouse_port: int = 8765

    @property
    def machine(self) -> str:
        """The uname -m of the target platform (x86_64, aarch64)."""
        return PLATFORMS[self.platform]

    @property
    def glibc_minor(self) -> int:
        return int(self.glibc.split(".")[1])


@dataclass(frozen=True)
class Variant:
    """One value of the matrix's variants axis: a Debian suite and its python3 and glibc.

    Every image is built in every variant the matrix does not exclude it from. The default
    variant's images keep the plain tags (latest, <date>-<sha>); every variant's images carry
    tags that start with `python-<major.minor>` (docs/variants.md)."""

    name: str
    suite: str
    python: str
    glibc: str
    default: bool = False
    excluded: dict[str, str] = field(default_factory=dict, compare=False)  # image -> reason

    @property
    def tag_prefix(self) -> str:
        return f"python-{self.python}"

    @property
    def moving_tag(self) -> str:
        """What `latest` is to the default variant: the tag of its newest build."""
        return "latest" if self.default else self.tag_prefix

    def tag(self, tag: str) -> str:
        """A tag of this variant's images: the default's as it is, the others' prefixed."""
        if self.default:
            return tag
        return self.tag_prefix if tag == "latest" else f"{self.tag_prefix}-{tag}"

    def describe(self) -> str:
        return f"Python {self.python}, Debian {self.suite}"


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


PYTHON_PLACEHOLDER = "{python}"  # in source.from: the variant's Python (python-{python})


def _in_variant(spec: ImageSpec, variant: Variant) -> ImageSpec:
    """An upstream reference may name the variant's Python, as docker-stacks' tags do."""
    if spec.source_from is None or PYTHON_PLACEHOLDER not in spec.source_from:
        return spec
    return replace(spec, source_from=spec.source_from.replace(PYTHON_PLACEHOLDER, variant.python))


@dataclass(frozen=True)
class Matrix:
    """The matrix as one variant sees it: its settings, the images it builds (the ones it
    excludes are left out), and every variant of the axis (to switch with for_variant)."""

    path: Path
    settings: Settings
    images: dict[str, ImageSpec]  # in this variant
    variants: dict[str, Variant]
    variant: Variant
    declared: dict[str, ImageSpec] = field(compare=False)  # every image, in any variant
    accepted: tuple[Acceptance, ...] = ()  # vulnerabilities accepted until a date (acceptances)
    # Every workflow, each in its one variant (docs/workflows.md); variant_workflows: this one's.
    workflows: dict[str, WorkflowSpec] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def images_folder(self) -> Path:
        """Where every image folder lives (and so every local-wheels declaration)."""
        return self.root / IMAGES_FOLDER

    @property
    def default_variant(self) -> Variant:
        return next(v for v in self.variants.values() if v.default)

    @property
    def variant_workflows(self) -> dict[str, WorkflowSpec]:
        """The workflows that run in this variant: each runs in one, its declared variant or
        the default one (model/workflows.py)."""
        return {n: w for n, w in self.workflows.items() if w.variant == self.variant.name}

    def for_variant(self, name: str) -> Matrix:
        """The matrix as the variant `name` sees it."""
        if name not in self.variants:
            known = ", ".join(self.variants)
            raise MatrixError(self.path, None, "variants", f"no variant {name!r}; known: {known}")
        variant = self.variants[name]
        # Declared images in matrix order, with their own source (not another variant's), then
        # an image added to this view only (`invoke repo2docker`'s), which stays in the others.
        pool = {**self.declared, **{n: s for n, s in self.images.items() if n not in self.declared}}
        return replace(
            self,
            settings=replace(
                self.settings,
                python=variant.python,
                glibc=variant.glibc,
                debian=replace(self.settings.debian, suite=variant.suite),
            ),
            images={
                n: _in_variant(s, variant) for n, s in pool.items() if n not in variant.excluded
            },
            variant=variant,
        )

    def image(self, name: str) -> ImageSpec:
        if name not in self.images:
            if name in self.variant.excluded:
                raise MatrixError(
                    self.path,
                    name,
                    None,
                    f"not built in variant {self.variant.name}: {self.variant.excluded[name]}",
                )
            known = ", ".join(self.images)
            raise MatrixError(self.path, name, None, f"unknown image; known images: {known}")
        return self.images[name]

    def build_files(self, name: str) -> dict[str, Path]:
        """What `with-build-files` may fetch while the folder `name` is built, by the path it
        asks for: the folder's own files (under "") and each of its build_folders."""
        spec = self.image(name)
        return {"": spec.folder, **{path: self.root / path for path in spec.build_folders}}

    def local_ref(self, name: str, tag: str = "latest") -> str:
        """The engine's name of a built image: <namespace>/<image>:<tag>, the tag as the
        variant spells it (`latest` of a variant that is not the default: python-3.11)."""
        return f"{self.repository(name)}:{self.variant.tag(tag)}"

    def repository(self, name: str) -> str:
        return f"{self.settings.namespace}/{name}"
