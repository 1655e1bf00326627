"""Tag rules: plain functions of the image's spec and facts, each returning its tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubimages.builder.tagging.release_tag import immutable_tags
from hubimages.model.spec import ImageSpec, Variant

# Short prefixes for the packages hub admins match against (docker-stacks uses the same idea).
PACKAGE_PREFIXES = {"jupyterlab": "lab", "notebook": "notebook", "jupyterhub": "hub"}


@dataclass(frozen=True)
class ImageFacts:
    python: str
    variant: Variant  # the matrix variant the image was built in
    packages: dict[str, str] = field(default_factory=dict)
    release_tag: str = ""  # the variant's; empty when the build run has no git revision


Tagger = Callable[[ImageSpec, ImageFacts], list[str]]


def latest_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """latest, or for a variant that is not the default its Python (python-3.11)."""
    return [facts.variant.moving_tag]


def release_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """The build run's immutable tags: never reused for different content."""
    return immutable_tags(facts.variant, facts.release_tag)


def python_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """They name the variant already: the same in every variant."""
    major_minor = ".".join(facts.python.split(".")[:2])
    return [f"python-{major_minor}", f"python-{facts.python}"]


def jupyter_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    return [
        facts.variant.tag(f"{prefix}-{facts.packages[pkg]}")
        for pkg, prefix in PACKAGE_PREFIXES.items()
        if pkg in facts.packages
    ]


def key_package_tagger(spec: ImageSpec, facts: ImageFacts) -> list[str]:
    """Versions of the packages the matrix names under tag_packages."""
    tags = []
    for pkg in spec.tag_packages:
        version = facts.packages.get(pkg.lower())
        if version:
            tags.append(facts.variant.tag(f"{pkg.lower()}-{version}"))
    return tags


TAGGERS: tuple[Tagger, ...] = (
    latest_tagger,
    release_tagger,
    python_tagger,
    jupyter_tagger,
    key_package_tagger,
)
