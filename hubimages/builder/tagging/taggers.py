"""Tag rules: plain functions of the image's spec and facts, each returning its tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubimages.model.spec import ImageSpec

# Short prefixes for the packages hub admins match against (docker-stacks uses the same idea).
PACKAGE_PREFIXES = {"jupyterlab": "lab", "notebook": "notebook", "jupyterhub": "hub"}


@dataclass(frozen=True)
class ImageFacts:
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    release_tag: str = ""  # empty when the build run has no git revision


Tagger = Callable[[ImageSpec, ImageFacts], list[str]]


def latest_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    return ["latest"]


def release_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """The build run's immutable tag: never reused for different content."""
    return [facts.release_tag] if facts.release_tag else []


def python_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    major_minor = ".".join(facts.python.split(".")[:2])
    return [f"python-{major_minor}", f"python-{facts.python}"]


def jupyter_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    return [
        f"{prefix}-{facts.packages[pkg]}"
        for pkg, prefix in PACKAGE_PREFIXES.items()
        if pkg in facts.packages
    ]


def key_package_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """Versions of the packages the matrix names under tag_packages."""
    tags = []
    for pkg in spec.tag_packages:
        version = facts.packages.get(pkg.lower())
        if version:
            tags.append(f"{pkg.lower()}-{version}")
    return tags


TAGGERS: tuple[Tagger, ...] = (
    latest_tagger,
    release_tagger,
    python_tagger,
    jupyter_tagger,
    key_package_tagger,
)
